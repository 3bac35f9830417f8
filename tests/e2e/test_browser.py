"""End to end, as a person would: ``scripts/develop``, then Debian's Chromium.

The test starts ``scripts/develop`` (simulator, broker, Home Assistant, onboarding, the
config flow) on free ports with a fresh config directory and the simulated clock
frozen (only the test moves it, through the simulator's control API), then drives the
system's Chromium headless with Playwright for Python:

* logs in as the demo user;
* opens the station's device page and reads live values, moves the simulated clock and
  pushes a telemetry message over MQTT, and sees the values change;
* switches the operational mode and a smart load from the UI and sees the simulator
  record the change (its state and its request log);
* performs ``sigen_cloud.battery_command`` from Settings → Tools → Actions in YAML mode
  and sees the simulated battery charge;
* on the station's device page sets the grid export limit (a number) and starts and
  stops manual control (the select), and sees the simulator's settings follow;
* opens Settings → Automations & scenes → Blueprints and finds both shipped blueprints;
* takes screenshots of each step (``tests/artifacts/e2e/``): the device page, its
  controls, the blueprints, the Energy dashboard, the config flow;
* checks that Home Assistant's output went to its own ``home-assistant.log`` only.

Without Chromium the test is skipped with a reason saying how to install it (and a
line at the end of pytest's summary); with ``CI=true`` it fails instead.

Everything started is stopped at the end, on failure too: ``scripts/develop`` on
SIGTERM stops Home Assistant, the simulator and its broker; PIDs it recorded are
checked afterwards and stopped if anything is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sigen_sim.broker import free_port

from .conftest import NO_BROWSER

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts" / "e2e"
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 420.0  # a fresh config directory: Home Assistant's first start
UI_TIMEOUT = 60_000  # ms, for Playwright
WAIT = 60.0  # s, for the simulator and values to follow the UI
BLUEPRINT_NAMES = (
    "Sigen Cloud — charge the battery from the grid when the price is low",
    "Sigen Cloud — stop exporting when the feed-in price is negative",
)
BLUEPRINT_FILES = (
    "sigen_cloud/charge_battery_at_low_price.yaml",
    "sigen_cloud/stop_export_at_negative_price.yaml",
)


def _chromium() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


def require_chromium() -> str:
    """The browser's path; without one: a skip that says how to run the test, and in CI
    (``CI=true``) a failure, since there the test must run."""
    found = _chromium()
    if found is not None:
        return found
    message = (
        f"{NO_BROWSER} ({CHROMIUM} or 'chromium' on PATH), so the browser test "
        "(tests/e2e/test_browser.py) did not run. To run it, install Debian's Chromium "
        "(apt-get install chromium fonts-dejavu-core), or under ../shared/bin/py314 set "
        "PY314_APT='chromium fonts-dejavu-core' as .ci/run does."
    )
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(f"{message} CI is set: the browser test must run there.", pytrace=False)
    pytest.skip(message)


def _pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _poll[T](probe: Callable[[], T | None], limit: float) -> T | None:
    """Poll ``probe`` until it returns something truthy (returned) or ``limit`` s pass."""
    deadline = time.monotonic() + limit
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.5)
    return last


def _wait_until[T](what: str, probe: Callable[[], T | None], limit: float = WAIT) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` if it never does."""
    found = _poll(probe, limit)
    if not found:
        pytest.fail(f"timed out waiting for {what} (last: {found!r})")
    return found


@dataclass
class Develop:
    """A running ``scripts/develop`` and what it wrote in its state file."""

    proc: subprocess.Popen[bytes]
    state: dict[str, Any]
    log: Path
    config: Path

    @property
    def control(self) -> str:
        return str(self.state["sim_control_url"])

    def sim(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (loopback http of our simulator)
            self.control + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
            return json.loads(resp.read())["data"]

    def station(self) -> dict[str, Any]:
        station: dict[str, Any] = self.sim("GET", "state")["stations"][0]
        return station


def _stop(proc: subprocess.Popen[bytes], state_file: Path) -> None:
    """SIGTERM to scripts/develop (it stops its children); then make sure of it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(150)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    state: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        state = json.loads(state_file.read_text())
    for key in ("ha_pid", "sim_pid"):
        pid = state.get(key)
        if isinstance(pid, int) and _pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 60
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def develop(socket_enabled: None, tmp_path: Path) -> Iterator[Develop]:
    """``scripts/develop`` on free ports, a fresh config directory, time frozen."""
    require_chromium()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("Playwright is missing: scripts/setup installs it from requirements_dev.txt")
    config = tmp_path / "config"
    state_file = config / ".sigen-develop.json"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    log = ARTIFACTS / "develop.log"
    argv = [
        str(REPO / "scripts" / "develop"),
        "--port",
        str(free_port()),
        "--sim-port",
        str(free_port()),
        "--time-scale",
        "0",
        "--config",
        str(config),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 (our own script)
            argv, cwd=REPO, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "READY" not in log.read_text(errors="replace"):
            if proc.poll() is not None:
                pytest.fail(
                    f"scripts/develop exited with {proc.returncode}:\n"
                    + log.read_text(errors="replace")[-3000:]
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    "scripts/develop was not ready in time:\n"
                    + log.read_text(errors="replace")[-3000:]
                )
            time.sleep(1)
        yield Develop(proc, json.loads(state_file.read_text()), log, config)
    finally:
        _stop(proc, state_file)
        with contextlib.suppress(OSError):
            shutil.copy(config / "home-assistant.log", ARTIFACTS / "home-assistant.log")


def _navigate(page: Any, path: str) -> None:
    """In-app navigation, as the sidebar does (no reload of the frontend).

    Right after logging in, the frontend may still redirect to its default dashboard
    and undo a navigation made too early: navigate again while it sends us back there.
    """
    where = "() => location.pathname"
    target = path.split("?", 1)[0]

    def arrived() -> bool:
        # The target, a page below it (/energy shows /energy/overview), or a page of
        # the configuration panel it led to (the "add integration" path opens its
        # dialog over the integrations page); never the default dashboard.
        current = str(page.evaluate(where))
        if current == target or current.startswith(target.rstrip("/") + "/"):
            return True
        return target.startswith("/config/") and current.startswith("/config/")

    for _ in range(20):
        page.evaluate(
            "p => { history.pushState(null, '', p);"
            " window.dispatchEvent(new CustomEvent('location-changed')); }",
            path,
        )
        page.wait_for_timeout(1000)
        if not arrived():
            continue
        # Still there a moment later: the frontend's own redirect (to its default
        # dashboard, whatever its path) did not undo the navigation.
        page.wait_for_timeout(1500)
        if arrived():
            return
    raise AssertionError(f"the frontend kept going back to {page.evaluate(where)}, not {path}")


def _row_value(page: Any, name: str) -> str:
    """The state text of the entity row called ``name`` on the current page."""
    row = page.locator("hui-generic-entity-row", has_text=name)
    if not row.count():
        return ""
    return " ".join((row.first.text_content() or "").split())


def _shot(page: Any, name: str, *, full_page: bool = False) -> None:
    page.wait_for_timeout(1000)  # let charts and fonts settle for the picture
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


# An element's text, its shadow roots' included (a timestamp row shows its relative time
# inside hui-timestamp-display's shadow root, which text_content() does not see).
DEEP_TEXT = """element => {
    const walk = node => node.nodeType === Node.TEXT_NODE ? node.textContent
        : ["STYLE", "SCRIPT"].includes(node.nodeName) ? "" : [
            ...(node.shadowRoot ? node.shadowRoot.childNodes : []), ...node.childNodes,
        ].map(walk).join(" ");
    return walk(element).split(/\\s+/).join(" ").trim();
}"""


def _deep_row_text(page: Any, name: str) -> str:
    """The whole text of the entity row called ``name``: its name and its state."""
    row = page.locator("hui-generic-entity-row", has_text=name)
    if not row.count():
        return ""
    return str(row.first.evaluate(DEEP_TEXT))


def _fit_height(page: Any, minimum: int = 1000, maximum: int = 4000) -> None:
    """Make the viewport as tall as the page's cards (within limits): Home Assistant
    scrolls inside its own container, which a full-page screenshot does not see."""
    bottoms = [
        box["y"] + box["height"]
        for card in page.locator("ha-card").all()
        if (box := card.bounding_box()) is not None
    ]
    height = min(maximum, max([minimum, *(int(bottom) + 32 for bottom in bottoms)]))
    page.set_viewport_size({"width": 1280, "height": height})


def _set_export_limit(page: Any, develop: Develop, settings: str) -> float:
    """Type a new grid export limit into its number (the Configuration card); the
    simulator's owner limit follows. Returns the limit set (kW)."""
    before = develop.sim("GET", settings)["exportLimitOwnerKw"]
    target = 4.5 if before != 4.5 else 5.5
    field = page.locator("hui-number-entity-row", has_text="Grid export limit").first
    entry = field.locator("input").first
    entry.fill(str(target))
    entry.press("Enter")
    entry.evaluate("element => element.blur()")  # the row writes on its change event
    _wait_until(
        f"the simulator's grid export limit to become {target} kW",
        lambda: develop.sim("GET", settings)["exportLimitOwnerKw"] == target,
    )
    return target


def _choose_manual_control(page: Any, develop: Develop, settings: str, option: str) -> Any:
    """Pick ``option`` of the Manual control select (the Controls card); return the
    simulator's manual control once it follows."""
    page.locator('ha-picker-field[aria-label="Manual control"]').click()
    page.get_by_role("menuitem", name=option, exact=True).click()
    running = option != "Off"

    def followed() -> Any:
        manual = develop.sim("GET", settings)["manualControl"]
        return manual if manual["active"] is running else None

    return _wait_until(f"the simulator's manual control to follow {option!r}", followed)


def _controls_from_the_device_page(page: Any, develop: Develop, system_id: str) -> None:
    """Issue 17: a limit and manual control, set from the station's device page."""
    settings = f"stations/{system_id}/settings"
    limit = _set_export_limit(page, develop, settings)
    writes = develop.sim("GET", "requests?path_contains=limitation/export")
    assert any(r["method"] != "GET" for r in writes), "no write of the export limit logged"
    _wait_until(
        "the export limit number to show the simulator's read-back",
        lambda: (
            page.locator("hui-number-entity-row", has_text="Grid export limit")
            .first.locator("input")
            .first.input_value()
            == f"{limit:g}"
        ),
    )

    manual = _choose_manual_control(page, develop, settings, "Charge")
    assert manual["mode"] == "charge"
    # The select starts a session of the duration number's value (60 minutes at first).
    assert manual["end"] - manual["start"] == pytest.approx(3600)
    _wait_until(
        "the manual control end to show a time",
        lambda: (
            (text := _deep_row_text(page, "Manual control end"))
            and "Unknown" not in text
            and "Unavailable" not in text
            and re.search(r"\d", text)
        ),
    )
    _fit_height(page, minimum=1600)
    _shot(page, "06-controls")
    # The two cards on their own, for the README: manual control running, the limit set;
    # in a narrow window, where the cards take its width and the names are not cut.
    page.set_viewport_size({"width": 600, "height": 3000})
    page.wait_for_timeout(1500)
    for name, inside in (
        ("06-controls-card", 'ha-picker-field[aria-label="Manual control"]'),
        ("06-configuration-card", "hui-number-entity-row:has-text('Grid export limit')"),
    ):
        card = page.locator("ha-device-entities-card").filter(has=page.locator(inside)).first
        card.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size({"width": 1280, "height": 1000})

    _choose_manual_control(page, develop, settings, "Off")
    _wait_until(
        "the manual control end to be cleared",
        lambda: "Unknown" in _deep_row_text(page, "Manual control end"),
    )
    _shot(page, "07-manual-control-stopped")


# Days of the station's PV production stored as long-term statistics, asked through the
# frontend's websocket connection (recorder/list_statistic_ids, then the daily changes).
STORED_DAYS = """async () => {
    const hass = document.querySelector('home-assistant')?.hass;
    if (!hass) return 0;
    const ids = await hass.callWS({type: 'recorder/list_statistic_ids', statistic_type: 'sum'});
    const pv = ids.map(s => s.statistic_id)
        .find(id => id.startsWith('sigen_cloud:') && id.endsWith('_pv'));
    if (!pv) return 0;
    const start = new Date(Date.now() - 40 * 86400 * 1000).toISOString();
    const rows = await hass.callWS({
        type: 'recorder/statistics_during_period', start_time: start, period: 'day',
        statistic_ids: [pv], types: ['change'],
    });
    return (rows[pv] || []).filter(r => r.change !== null && r.change !== undefined).length;
}"""
MONTH_OF_DAYS = 28  # the import does the newest 31 days first (history_job.py)
HISTORY_TIMEOUT = 150.0  # s: one request every 2.5 s, a day a request


def _energy_dashboard_with_history(page: Any) -> None:
    """The Energy dashboard over the last 30 days once the first set-up's import stored
    the newest month: the README's picture (``UPDATE_SCREENSHOTS=1``)."""
    _wait_until(
        f"{MONTH_OF_DAYS} days of PV production in the long-term statistics",
        lambda: (days := int(page.evaluate(STORED_DAYS))) >= MONTH_OF_DAYS and days,
        HISTORY_TIMEOUT,
    )
    _navigate(page, "/energy")
    page.get_by_text("Energy distribution").first.wait_for()
    # The period selector: its date range opens the picker with the preset ranges.
    page.locator("hui-energy-period-selector .date-range").first.click()
    page.get_by_text("Last 30 days", exact=True).first.click()
    page.locator("hui-energy-period-selector").first.wait_for()
    page.wait_for_timeout(3000)  # the charts load the month's statistics and animate
    _shot(page, "09-energy-dashboard")
    _update_readme_picture(ARTIFACTS / "09-energy-dashboard.png", "energy-dashboard.png")


def _update_readme_picture(shot: Path, name: str) -> None:
    """With ``UPDATE_SCREENSHOTS=1``: ``shot`` becomes the README's picture ``name`` (not
    on every run, which would leave a changed picture in the checkout each time)."""
    if os.environ.get("UPDATE_SCREENSHOTS", "").strip().lower() in ("1", "true", "yes"):
        SCREENSHOTS.mkdir(exist_ok=True)
        shutil.copy(shot, SCREENSHOTS / name)


@pytest.mark.timeout(900)  # a first start of Home Assistant on a slow machine, and the UI
def test_develop_in_a_real_browser(develop: Develop) -> None:
    """Log in, read live values, switch a mode and a smart load, send a battery command,
    set a limit and start and stop manual control."""
    from playwright import sync_api

    state = develop.state
    url = state["ha_url"]
    device_id = state["station_device_ids"][0]
    station = develop.station()
    system_id = station["systemId"]

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT)

            # Log in as the demo user scripts/develop printed.
            page.goto(url + "/")
            page.get_by_role("textbox", name="Username").fill(state["username"])
            page.get_by_role("textbox", name="Password").fill(state["password"])
            _shot(page, "01-login")
            page.get_by_role("button", name="Log in").click()
            page.get_by_text("Overview").first.wait_for()
            # The frontend may send "/" on to the default dashboard: let it settle first.
            with contextlib.suppress(sync_api.TimeoutError):
                page.wait_for_function("() => location.pathname !== '/'", timeout=10_000)

            # The station's device page: live values, then the clock moves and a
            # telemetry message is pushed over MQTT; the values on screen change.
            _navigate(page, f"/config/devices/device/{device_id}")
            page.get_by_text("Sensors").first.wait_for()
            names = ("PV power", "Load power", "Battery power", "Grid power")
            _wait_until(
                "the power sensors to show numbers",
                lambda: all(" kW" in _row_value(page, n) for n in names),
            )
            first = {n: _row_value(page, n) for n in names}
            _shot(page, "02-device-page", full_page=True)
            # Ten simulated minutes at a time (the household load and the sun move on;
            # at some hours nothing does for a while), at most forty: the battery
            # command below starts at Home Assistant's "now" and lasts an hour.
            second: dict[str, str] = {}
            for _ in range(4):
                develop.sim("POST", "advance", {"seconds": 600})
                develop.sim("POST", "telemetry", {"systemId": system_id})
                changed = _poll(lambda: {n: _row_value(page, n) for n in names} != first, 15)
                if changed:
                    second = {n: _row_value(page, n) for n in names}
                    break
            assert second, f"the values on the device page never changed: {first}"
            assert all(" kW" in value for value in second.values()), second

            # Operational mode, from the Controls card.
            before = develop.station()["modeLabel"]
            target = "TOU" if before != "TOU" else "Fully Fed to Grid"
            develop.sim("DELETE", "requests")
            page.locator('ha-picker-field[aria-label="Operational mode"]').click()
            page.get_by_role("menuitem", name=target).click()
            _wait_until(
                f"the simulator to switch to {target}",
                lambda: develop.station()["modeLabel"] == target,
            )
            writes = [
                r for r in develop.sim("GET", "requests?path_contains=mode") if r["method"] != "GET"
            ]
            assert writes, "the mode change reached the simulator without a request?"
            _shot(page, "03-mode-switched")

            # A smart load, from its own device page (linked from the station's).
            load = develop.station()["smartLoads"][0]
            page.get_by_text(load["name"]).first.click()
            page.get_by_text("Controls").first.wait_for()
            develop.sim("DELETE", "requests")
            page.locator("ha-entity-toggle ha-switch").first.click()
            _wait_until(
                f"the simulator to switch {load['name']} {'off' if load['on'] else 'on'}",
                lambda: (
                    next(
                        sl["on"]
                        for sl in develop.station()["smartLoads"]
                        if sl["path"] == load["path"]
                    )
                    is not load["on"]
                ),
            )
            assert any(
                r["method"] == "PATCH" for r in develop.sim("GET", "requests?path_contains=smart")
            ), "no PATCH of the smart load in the simulator's request log"
            _shot(page, "04-smart-load")

            # Settings → Tools → Actions (formerly Developer tools), YAML mode.
            _navigate(page, "/config/tools/action")
            page.get_by_text("YAML mode", exact=True).click()
            editor = page.locator(".cm-content").first
            editor.click()
            page.keyboard.press("Control+A")
            page.keyboard.press("Delete")
            page.keyboard.insert_text(
                "action: sigen_cloud.battery_command\n"
                "data:\n"
                f"  device_id: {device_id}\n"
                "  mode: charge\n"
                "  duration: 60\n"
                "  charging_power: 3\n"
            )
            page.get_by_role("button", name="Perform action").click()
            applied = _wait_until(
                "the simulated battery to receive the command",
                lambda: develop.station()["appliedCommands"],
            )
            assert applied[-1]["systemId"] == system_id
            command = develop.station()["activeCommand"]
            assert command, f"the command is not active now: {applied}"
            assert command["activeMode"] == "charge"
            assert command["chargingPower"] == 3.0
            assert command["duration"] == 60
            _shot(page, "05-battery-command")
            # The battery responds: it charges at 3 kW (the cloud's sign: + = charging),
            # and after a push the station page shows it (Home Assistant's: + = discharge).
            develop.sim("POST", "advance", {"seconds": 60})
            assert develop.station()["batteryPower"] == pytest.approx(3.0)
            develop.sim("POST", "telemetry", {"systemId": system_id})
            _navigate(page, f"/config/devices/device/{device_id}")
            _wait_until(
                "the station page to show the battery charging at 3 kW",
                lambda: "-3.00 kW" in _row_value(page, "Battery power"),
            )

            # The battery and grid settings and manual control (issue 17), from the
            # same page: a limit typed in, manual control started and stopped.
            _controls_from_the_device_page(page, develop, system_id)

            # Settings → Automations & scenes → Blueprints lists both of ours (the
            # frontend asks with the websocket command blueprint/list).
            _navigate(page, "/config/blueprint/dashboard")
            for name in BLUEPRINT_NAMES:
                page.get_by_text(name).first.wait_for()
            for file_name in BLUEPRINT_FILES:
                page.get_by_text(file_name, exact=True).first.wait_for()
            _shot(page, "08-blueprints")

            # Pictures for the README: the Energy dashboard and the config flow.
            _energy_dashboard_with_history(page)
            _navigate(page, "/config/integrations/dashboard/add?domain=sigen_cloud")
            page.get_by_role("button", name="OK").click()
            page.get_by_text("Region").first.wait_for()
            with contextlib.suppress(sync_api.Error):
                page.get_by_text("Advanced", exact=False).first.click(timeout=5000)
            _shot(page, "10-config-flow")
        except BaseException:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    # Home Assistant's console output is not copied into a second, ever-growing log.
    assert (develop.config / "home-assistant.log").is_file()
    assert not (develop.config / "develop-hass.log").exists()

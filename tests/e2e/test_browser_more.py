"""More end to end in a real browser: an EV charger's page, and the UI in German.

Each test starts its own ``scripts/develop`` (free ports, a fresh config directory, the
simulated clock frozen) with one more option, and drives Debian's Chromium headless
with Playwright, as ``tests/e2e/test_browser.py`` does:

* ``--ev-chargers ac,dc`` (issue 20): a car is plugged into the DC charger through the
  simulator's control API; on the charger's device page its Stop and Start charging
  buttons stop and start the simulated charger, and the page shows it charging; on the
  AC charger's page its charging current's slider lowers the simulated current;
* ``--language de`` (issue 22): the station's device page shows the entity names and
  states of ``translations/de.json``;
* the default (issue 18): a schedule written with ``sigen_cloud.set_schedule`` from the
  browser shows in Home Assistant's calendar panel.

Screenshots go to ``tests/artifacts/e2e/<test>/`` (a folder of their own: the main
browser test empties ``tests/artifacts/e2e/`` when it starts); with
``UPDATE_SCREENSHOTS=1`` three of them become the README's pictures
``docs/screenshots/charger.png``, ``device-de.png`` and ``schedule-calendar.png``. Like
the main browser test, without Chromium these are skipped, and fail with ``CI=true``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sigen_sim.broker import free_port

from .test_browser import (
    CHROMIUM_FLAGS,
    DEEP_TEXT,
    REPO,
    START_TIMEOUT,
    UI_TIMEOUT,
    Develop,
    _chromium,
    _fit_height,
    _navigate,
    _stop,
    _wait_until,
    require_chromium,
)

pytestmark = pytest.mark.e2e

ARTIFACTS = REPO / "tests" / "artifacts" / "e2e"
SCREENSHOTS = REPO / "docs" / "screenshots"
# The frontend's hass object: what the UI knows (devices, entities, the user's language).
HASS = "document.querySelector('home-assistant')?.hass"


@contextlib.contextmanager
def _develop(tmp_path: Path, folder: Path, *options: str) -> Iterator[Develop]:
    """``scripts/develop`` with ``options`` on free ports, a fresh config, time frozen;
    stopped at the end (its PIDs checked), Home Assistant's log copied to ``folder``."""
    require_chromium()
    try:
        import playwright.sync_api  # noqa: F401 (only with a browser)
    except ImportError:
        pytest.fail("Playwright is missing: scripts/setup installs it from requirements_dev.txt")
    config = tmp_path / "config"
    state_file = config / ".sigen-develop.json"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log = folder / "develop.log"
    argv = [
        str(REPO / "scripts" / "develop"),
        *("--port", str(free_port()), "--sim-port", str(free_port())),
        *("--time-scale", "0", "--config", str(config), *options),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 (our own script)
            argv, cwd=REPO, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "READY" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"scripts/develop {' '.join(options)} did not get ready "
                    f"(exit code {proc.poll()}):\n" + log.read_text(errors="replace")[-3000:]
                )
            time.sleep(1)
        yield Develop(proc, json.loads(state_file.read_text()), log, config)
    finally:
        _stop(proc, state_file)
        with contextlib.suppress(OSError):
            shutil.copy(config / "home-assistant.log", folder / "home-assistant.log")


@contextlib.contextmanager
def _logged_in(develop: Develop, folder: Path) -> Iterator[Any]:
    """A browser page logged in as the demo user; a picture of it when the test fails."""
    from playwright import sync_api

    state = develop.state
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), args=CHROMIUM_FLAGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(UI_TIMEOUT)
        try:
            page.goto(state["ha_url"] + "/")
            page.get_by_role("textbox", name="Username").fill(state["username"])
            page.get_by_role("textbox", name="Password").fill(state["password"])
            page.get_by_role("button", name="Log in").click()
            page.wait_for_function(f"() => !!{HASS}?.user", timeout=UI_TIMEOUT)
            with contextlib.suppress(sync_api.TimeoutError):
                page.wait_for_function("() => location.pathname !== '/'", timeout=10_000)
            yield page
        except BaseException:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(folder / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def _update_readme_picture(shot: Path, name: str) -> None:
    """With ``UPDATE_SCREENSHOTS=1``: ``shot`` becomes the README's picture ``name`` (not
    on every run, which would leave a changed picture in the checkout each time)."""
    if os.environ.get("UPDATE_SCREENSHOTS", "").strip().lower() in ("1", "true", "yes"):
        SCREENSHOTS.mkdir(exist_ok=True)
        shutil.copy(shot, SCREENSHOTS / name)


def _shot(page: Any, path: Path) -> None:
    """A picture of the page, once charts and fonts settled (no button under the mouse)."""
    page.mouse.move(1, 1)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(path))


def _page_text(page: Any) -> str:
    """All text of the page, inside shadow roots too, in one line."""
    return str(page.locator("home-assistant").evaluate(DEEP_TEXT))


def _row_text(page: Any, tag: str, name: str) -> str:
    """The whole text (shadow roots included) of the first ``tag`` row with ``name``."""
    row = page.locator(tag, has_text=name)
    return str(row.first.evaluate(DEEP_TEXT)) if row.count() else ""


def _press(page: Any, name: str) -> None:
    """Press the button entity called ``name`` (its row's button) on the device page."""
    row = page.locator("hui-button-entity-row", has_text=name).first
    row.locator("ha-button, mwc-button, button").first.click()


def _device_of(page: Any, serial: str) -> str:
    """The device id the frontend knows for the charger ``serial``."""
    return _wait_until(
        f"the frontend to know the charger {serial}",
        lambda: page.evaluate(
            f"s => Object.values({HASS}.devices).find(d => d.serial_number === s)?.id ?? null",
            serial,
        ),
    )


def _ac_current_from_the_ui(
    page: Any, develop: Develop, system_id: str, chargers: list[dict[str, Any]], folder: Path
) -> None:
    """One step less charging current on the AC charger's page; the simulator follows."""
    ac = next(c for c in chargers if c["kind"] == "ac")
    serial, before = ac["serial"], ac["currentA"]
    develop.sim("POST", f"stations/{system_id}/ev/{serial}/car", {"plugged": True, "soc": 50})

    def current() -> float:
        found = develop.sim("GET", f"stations/{system_id}/ev")["chargers"]
        return float(next(c["currentA"] for c in found if c["serial"] == serial))

    device_id = _device_of(page, serial)
    _navigate(page, f"/config/devices/device/{device_id}")
    row = page.locator("hui-number-entity-row", has_text="Charging current").first
    slider = row.get_by_role("slider").first
    slider.focus()
    slider.press("ArrowLeft")
    _wait_until(
        f"the simulated AC charger's current to become {before - 1:g} A",
        lambda: current() == before - 1,
    )
    # What Home Assistant then shows: the number's state, read back from the charger.
    shown = (
        "id => { const h = " + HASS + "; const e = Object.values(h.entities).find("
        "x => x.device_id === id && x.entity_id.startsWith('number.'));"
        " return e ? Number(h.states[e.entity_id].state) : null; }"
    )
    _wait_until(
        "the charging current's state to follow",
        lambda: page.evaluate(shown, device_id) == before - 1,
    )
    _shot(page, folder / "ac-charger.png")


@pytest.mark.timeout(900)  # a first start of Home Assistant on a slow machine, and the UI
def test_charger_device_page(socket_enabled: None, tmp_path: Path) -> None:
    """With a car plugged in, the DC charger's Stop and Start charging buttons stop and
    start the simulated charger; its page shows it charging (issue 20)."""
    folder = ARTIFACTS / "charger"
    with _develop(tmp_path, folder, "--ev-chargers", "ac,dc") as develop:
        system_id = develop.station()["systemId"]
        chargers = develop.sim("GET", f"stations/{system_id}/ev")["chargers"]
        assert sorted(c["kind"] for c in chargers) == ["ac", "dc"], chargers
        serial = next(c["serial"] for c in chargers if c["kind"] == "dc")

        def dc() -> dict[str, Any]:
            found = develop.sim("GET", f"stations/{system_id}/ev")["chargers"]
            return next(c for c in found if c["serial"] == serial)

        # The car comes: the DC charger starts charging it at once (as the real one does).
        develop.sim("POST", f"stations/{system_id}/ev/{serial}/car", {"plugged": True, "soc": 35})
        assert dc()["charging"], dc()
        with _logged_in(develop, folder) as page:
            _navigate(page, f"/config/devices/device/{_device_of(page, serial)}")
            page.locator("hui-button-entity-row", has_text="Stop charging").first.wait_for()

            _press(page, "Stop charging")
            _wait_until("the simulated charger to stop", lambda: not dc()["charging"])
            assert dc()["powerKw"] == 0.0
            _press(page, "Start charging")
            _wait_until("the simulated charger to start", lambda: dc()["charging"])
            assert dc()["powerKw"] > 0, dc()
            # The button reads the charger back: its status and plug follow at once.
            _wait_until(
                "the charger's page to show it charging",
                lambda: "Charging" in _row_text(page, "hui-generic-entity-row", "Status"),
            )
            _fit_height(page)
            _shot(page, folder / "charger-charging.png")

            _press(page, "Stop charging")
            _wait_until("the simulated charger to stop again", lambda: not dc()["charging"])
            _wait_until(
                "the charger's page to show it no longer charging",
                lambda: (
                    (status := _row_text(page, "hui-generic-entity-row", "Status"))
                    and "Charging" not in status
                ),
            )
            _shot(page, folder / "charger-stopped.png")

            # The AC charger: a car plugged in, its charging current lowered by one
            # step from the keyboard on the current's slider.
            _ac_current_from_the_ui(page, develop, system_id, chargers, folder)
    _update_readme_picture(folder / "charger-charging.png", "charger.png")


@pytest.mark.timeout(900)
def test_device_page_in_german(socket_enabled: None, tmp_path: Path) -> None:
    """With Home Assistant and the demo user in German, the station's device page shows
    the names and states of translations/de.json (issue 22)."""
    folder = ARTIFACTS / "german"
    de = json.loads(
        (REPO / "custom_components" / "sigen_cloud" / "translations" / "de.json").read_text()
    )["entity"]
    names = (
        de["select"]["operational_mode"]["name"],  # Betriebsmodus
        de["select"]["manual_control"]["name"],  # Manuelle Steuerung
        de["sensor"]["station_status"]["name"],  # Stationsstatus
    )
    manual_off = de["select"]["manual_control"]["state"]["off"]  # Aus
    with (
        _develop(tmp_path, folder, "--language", "de") as develop,
        _logged_in(develop, folder) as page,
    ):
        assert page.evaluate(f"() => {HASS}.language") == "de"
        device_id = develop.state["station_device_ids"][0]
        _navigate(page, f"/config/devices/device/{device_id}")
        _wait_until(
            f"the device page to show {', '.join(names)}",
            lambda: all(name in _page_text(page) for name in names),
        )
        text = _page_text(page)
        for english in ("Operational mode", "Manual control", "Station status"):
            assert english not in text, f"{english!r} is still English on the page"
        picker = page.locator(f'ha-picker-field[aria-label="{names[1]}"]').first
        _wait_until(
            f"manual control to show its state in German ({manual_off!r})",
            lambda: manual_off in str(picker.evaluate(DEEP_TEXT)).split(),
        )
        # Tall enough for the statuses (Stationsstatus: In Betrieb), not the whole page.
        page.set_viewport_size({"width": 1280, "height": 2000})
        _shot(page, folder / "device-de.png")
    _update_readme_picture(folder / "device-de.png", "device-de.png")


# A week with a night charge, an evening discharge and self-consumption between.
WEEK_SCHEDULE = [
    {
        "days": [1, 2, 3, 4, 5, 6, 7],
        "start": "00:00",
        "end": "06:00",
        "action": "charge",
        "max_charge": 5,
        "charge_cut_off_soc": 90,
    },
    {"days": [1, 2, 3, 4, 5, 6, 7], "start": "06:00", "end": "17:00", "action": "self_consumption"},
    {
        "days": [1, 2, 3, 4, 5],
        "start": "17:00",
        "end": "20:00",
        "action": "discharge",
        "max_discharge": 4,
        "discharge_cut_off_soc": 20,
    },
    {"days": [1, 2, 3, 4, 5], "start": "20:00", "end": "24:00", "action": "self_consumption"},
    {"days": [6, 7], "start": "17:00", "end": "24:00", "action": "self_consumption"},
]


@pytest.mark.timeout(900)
def test_schedule_in_the_calendar(socket_enabled: None, tmp_path: Path) -> None:
    """A schedule written with ``sigen_cloud.set_schedule`` (from the browser, as a script
    would) shows in Home Assistant's calendar panel, the week at a glance (issue 18)."""
    folder = ARTIFACTS / "schedule"
    with _develop(tmp_path, folder) as develop, _logged_in(develop, folder) as page:
        device_id = develop.state["station_device_ids"][0]
        answer = page.evaluate(
            f"""async ([device, periods]) => {{
                const hass = {HASS};
                const result = await hass.callService(
                    'sigen_cloud', 'set_schedule', {{device_id: device, periods}},
                    undefined, false, true);
                return result.response;
            }}""",
            [device_id, WEEK_SCHEDULE],
        )
        assert len(answer["periods"]) == len(WEEK_SCHEDULE), answer
        _navigate(page, "/calendar")
        _wait_until("the calendar panel", lambda: "Battery schedule" in _page_text(page))
        # The 7-day list: each period's whole summary, the week at a glance.
        page.get_by_label("List").first.click()
        _wait_until(
            "the schedule's periods in the calendar",
            lambda: "Charge from grid" in _page_text(page) and "Discharge" in _page_text(page),
        )
        page.set_viewport_size({"width": 1280, "height": 1100})
        _shot(page, folder / "schedule-calendar.png")
    _update_readme_picture(folder / "schedule-calendar.png", "schedule-calendar.png")

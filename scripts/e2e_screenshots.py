"""Refresh the README's screenshots (``docs/screenshots/``) from a running scripts/develop.

    scripts/develop                                      # in one terminal; let it run a while
    .venv/bin/python scripts/e2e_screenshots.py          # in another

It logs in as the demo user with Debian's headless Chromium (Playwright for Python, the
same browser and flags as ``tests/e2e/test_browser.py``) and saves the station's device
page, the Energy dashboard (it needs some minutes of statistics, hence a running
instance rather than the test's fresh one) and the config flow's first step.

Each picture is a screenshot of the viewport, taken once the page has really loaded:
Home Assistant's "Loading..." launch screen gone, the entity cards rendered and their
values in (the device page waits for the live power rows and for the change-message
values of the diagnostic card). The device page is a viewport screenshot too, the
viewport made as tall as its cards (at least 2000 px, at most 4000) instead of a
full-page capture, which Home Assistant's own scrolling container defeats.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parent.parent
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


def navigate(page: Any, path: str) -> None:
    """In-app navigation, as the sidebar does."""
    page.evaluate(
        "p => { history.pushState(null, '', p);"
        " window.dispatchEvent(new CustomEvent('location-changed')); }",
        path,
    )


def wait_loaded(page: Any) -> None:
    """Until Home Assistant's launch screen ("Loading...") is gone."""
    page.wait_for_function("() => !document.getElementById('ha-launch-screen')")


def wait_row_value(page: Any, name: str) -> None:
    """Until the entity row called ``name`` shows a value (not Unavailable/Unknown)."""
    row = page.locator("hui-generic-entity-row", has_text=name).first
    row.wait_for()
    expect(row).not_to_contain_text("Unavailable")
    expect(row).not_to_contain_text("Unknown")


def fit_height(page: Any, minimum: int, maximum: int = 4000) -> None:
    """Make the viewport tall enough for every card of the page (within limits)."""
    bottoms = [
        box["y"] + box["height"]
        for card in page.locator("ha-card").all()
        if (box := card.bounding_box()) is not None
    ]
    height = min(maximum, max([minimum, *(int(b) + 32 for b in bottoms)]))
    page.set_viewport_size({"width": 1280, "height": height})
    page.wait_for_timeout(1000)  # the layout follows the new size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config"), help="scripts/develop's config")
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"), help="where to save")
    parser.add_argument(
        "--device-height",
        type=int,
        default=2000,
        help="least viewport height for the device page (it grows to fit the cards)",
    )
    args = parser.parse_args(argv)
    state_file = Path(args.config) / ".sigen-develop.json"
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        print(f"No running scripts/develop found ({state_file} is missing).", file=sys.stderr)
        return 1
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    url = state["ha_url"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_FLAGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": args.device_height})
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)
            page.goto(url + "/")
            page.get_by_role("textbox", name="Username").fill(state["username"])
            page.get_by_role("textbox", name="Password").fill(state["password"])
            page.get_by_role("button", name="Log in").click()
            page.get_by_text("Overview").first.wait_for()
            wait_loaded(page)

            navigate(page, f"/config/devices/device/{state['station_device_ids'][0]}")
            wait_loaded(page)
            for name in ("PV power", "Battery power", "Charge cut-off", "Backup reserve"):
                wait_row_value(page, name)
            page.wait_for_load_state("networkidle")
            fit_height(page, args.device_height)
            wait_loaded(page)
            page.wait_for_timeout(2000)  # icons settle
            page.screenshot(path=str(out / "device-page.png"))

            # energy-dashboard.png comes from tests/e2e/test_browser.py
            # (UPDATE_SCREENSHOTS=1): it waits for the imported month of history first.
            page.set_viewport_size({"width": 1280, "height": 900})
            navigate(page, "/config/integrations/dashboard/add?domain=sigen_cloud")
            page.get_by_role("button", name="OK").click()
            page.get_by_text("Region").first.wait_for()
            page.get_by_text("Advanced server settings").first.click()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "config-flow.png"))
        finally:
            browser.close()
    print(f"Saved device-page.png and config-flow.png in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

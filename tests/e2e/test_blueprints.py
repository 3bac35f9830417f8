"""The shipped automation blueprints load in Home Assistant and call battery_command right.

Each blueprint under ``blueprints/automation/sigen_cloud/`` is set up as a real
automation (``use_blueprint``) in a test Home Assistant; a price sensor is moved
across the threshold and the ``sigen_cloud.battery_command`` calls are checked.

Settings → Blueprints lists them the way the frontend asks (the websocket command
``blueprint/list``), in a config directory laid out by the very function
``scripts/develop`` uses (``install_blueprints``), also over the directory link an
earlier version made (which hid them: Python 3.13+'s ``glob("**")`` does not follow
a symlinked directory).
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from .conftest import load_develop_ha

REPO = Path(__file__).resolve().parents[2]
BLUEPRINTS = REPO / "blueprints" / "automation" / "sigen_cloud"
PRICE = "sensor.electricity_price"
STATION = "0123456789abcdef0123456789abcdef"


async def _automation(
    hass: HomeAssistant, tmp_path: Path, name: str, inputs: dict[str, Any]
) -> list[Any]:
    """Set the blueprint up as an automation; return the recorded battery commands."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints" / "automation" / "sigen_cloud")
    calls = async_mock_service(hass, "sigen_cloud", "battery_command")
    hass.states.async_set(PRICE, "0.20")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": name,
                "alias": name,
                "use_blueprint": {
                    "path": f"sigen_cloud/{name}.yaml",
                    "input": {"station": STATION, "price_sensor": PRICE, **inputs},
                },
            }
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get(f"automation.{name}")
    assert state is not None
    assert state.state == "on", state
    return calls


async def _price(hass: HomeAssistant, value: str) -> None:
    hass.states.async_set(PRICE, value)
    await hass.async_block_till_done()


SHIPPED = {
    "sigen_cloud/charge_battery_at_low_price.yaml": (
        "Sigen Cloud — charge the battery from the grid when the price is low"
    ),
    "sigen_cloud/stop_export_at_negative_price.yaml": (
        "Sigen Cloud — stop exporting when the feed-in price is negative"
    ),
    "sigen_cloud/sync_tariff.yaml": (
        "Sigen Cloud — keep Sigen's tariff in sync with a price entity"
    ),
}


async def _listed(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, config: Path
) -> dict[str, str]:
    """What Settings → Blueprints shows for automations: path → name (blueprint/list)."""
    hass.config.config_dir = str(config)
    assert await async_setup_component(hass, "automation", {})
    await hass.async_block_till_done()
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "blueprint/list", "domain": "automation"})
    answer = await client.receive_json()
    assert answer["success"], answer
    return {
        path: item["metadata"]["name"]
        for path, item in answer["result"].items()
        if path.startswith("sigen_cloud/")
    }


async def test_settings_lists_the_blueprints_scripts_develop_installs(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, tmp_path: Path
) -> None:
    """A config directory as scripts/develop lays it out: both blueprints listed."""
    config = tmp_path / "config"
    installed = load_develop_ha().install_blueprints(config)
    assert sorted(p.relative_to(config / "blueprints" / "automation") for p in installed) == [
        Path(path) for path in sorted(SHIPPED)
    ]
    for path in installed:
        assert path.is_file()
        assert not path.is_symlink()
    assert await _listed(hass, hass_ws_client, config) == SHIPPED


async def test_the_old_directory_link_is_replaced(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, tmp_path: Path
) -> None:
    """An earlier scripts/develop linked the directory, which Home Assistant never listed
    (Python 3.13+ globbing skips symlinked directories); the next run replaces the link
    with real files, and the repository's blueprints stay where they are."""
    config = tmp_path / "config"
    link = config / "blueprints" / "automation" / "sigen_cloud"
    link.parent.mkdir(parents=True)
    link.symlink_to(BLUEPRINTS, target_is_directory=True)
    hidden = list((config / "blueprints").glob("**/*.yaml"))
    assert hidden == [], "a symlinked directory is globbed again: the cause is gone"

    load_develop_ha().install_blueprints(config)
    assert not link.is_symlink()
    assert sorted(p.name for p in BLUEPRINTS.glob("*.yaml")) == sorted(
        Path(path).name for path in SHIPPED
    )
    assert await _listed(hass, hass_ws_client, config) == SHIPPED


def test_install_blueprints_follows_the_repository(tmp_path: Path) -> None:
    """A blueprint edited in the repository is copied again at the next run, an
    unchanged copy is left alone, and a per-file link becomes a copy (nothing is ever
    written through a link into the repository)."""
    source = tmp_path / "repo" / "blueprints"
    folder = source / "automation" / "sigen_cloud"
    folder.mkdir(parents=True)
    for name, text in (("a.yaml", "a: 1\n"), ("b.yaml", "b: 1\n"), ("c.yaml", "c: 1\n")):
        (folder / name).write_text(text)
    config = tmp_path / "config"
    develop_ha = load_develop_ha()
    copies = develop_ha.install_blueprints(config, source)
    a, b, c = copies
    (folder / "a.yaml").write_text("a: 2\n")
    c.unlink()
    c.symlink_to(folder / "c.yaml")
    unchanged = b.stat().st_mtime_ns

    assert develop_ha.install_blueprints(config, source) == copies
    assert a.read_text() == "a: 2\n"
    assert b.stat().st_mtime_ns == unchanged
    assert not c.is_symlink()
    assert c.read_text() == "c: 1\n"
    assert (folder / "c.yaml").read_text() == "c: 1\n"


def test_blueprints_exist() -> None:
    assert sorted(p.name for p in BLUEPRINTS.glob("*.yaml")) == [
        "charge_battery_at_low_price.yaml",
        "stop_export_at_negative_price.yaml",
        "sync_tariff.yaml",
    ]


async def test_charge_at_low_price(hass: HomeAssistant, tmp_path: Path) -> None:
    calls = await _automation(
        hass,
        tmp_path,
        "charge_battery_at_low_price",
        {"price_threshold": 0.1, "charging_power": 4.5, "duration": 30},
    )
    await _price(hass, "0.15")  # still expensive: nothing
    assert calls == []
    await _price(hass, "0.05")  # cheap: charge from the grid
    await _price(hass, "0.04")  # still cheap: renewed
    await _price(hass, "unavailable")  # no price: nothing
    await _price(hass, "0.30")  # expensive again: back to self-consumption
    assert [c.data for c in calls] == [
        {
            "device_id": STATION,
            "mode": "charge",
            "charge_priority": "grid",
            "charging_power": 4.5,
            "duration": 30,
        },
        {
            "device_id": STATION,
            "mode": "charge",
            "charge_priority": "grid",
            "charging_power": 4.5,
            "duration": 30,
        },
        {"device_id": STATION, "mode": "self_consumption", "duration": 30},
    ]


@pytest.mark.parametrize("charge_from_pv", [True, False])
async def test_stop_export_at_negative_price(
    hass: HomeAssistant, tmp_path: Path, charge_from_pv: bool
) -> None:
    calls = await _automation(
        hass,
        tmp_path,
        "stop_export_at_negative_price",
        {"charge_from_pv": charge_from_pv},
    )
    await _price(hass, "0.01")  # positive: nothing
    assert calls == []
    await _price(hass, "-0.02")  # negative: no export
    await _price(hass, "0.03")  # positive again: the limit goes
    limited: dict[str, Any] = {
        "device_id": STATION,
        "mode": "self_consumption",
        "max_sell_power": 0,
        "duration": 60,
    }
    if charge_from_pv:
        limited["charge_priority"] = "pv"
    assert [c.data for c in calls] == [
        limited,
        {"device_id": STATION, "mode": "self_consumption", "duration": 60},
    ]


@pytest.mark.parametrize("sell", ["", "sensor.feed_in_price"])
async def test_sync_tariff(hass: HomeAssistant, tmp_path: Path, sell: str) -> None:
    """set_tariff from the price entity when it changes (its forecast too) and daily."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints" / "automation" / "sigen_cloud")
    calls = async_mock_service(hass, "sigen_cloud", "set_tariff")
    hass.states.async_set(PRICE, "0.20", {"raw_today": [], "raw_tomorrow": []})
    inputs = {"station": STATION, "price_entity": PRICE, "daily_time": "03:00:00"}
    if sell:
        inputs["sell_price_entity"] = sell
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "sync_tariff",
                "alias": "sync_tariff",
                "use_blueprint": {"path": "sigen_cloud/sync_tariff.yaml", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get("automation.sync_tariff")
    assert state is not None
    assert state.state == "on", state
    await _price(hass, "0.25")  # the price moved
    assert len(calls) == 1
    hass.states.async_set(PRICE, "0.25", {"raw_today": [], "raw_tomorrow": [{"value": 1}]})
    await hass.async_block_till_done()  # tomorrow's prices came
    assert len(calls) == 2
    await _price(hass, "unavailable")  # no prices: nothing
    assert len(calls) == 2
    at_three = dt_util.start_of_local_day() + timedelta(days=1, hours=3)
    async_fire_time_changed(hass, at_three)  # daily, but still no prices: nothing
    await hass.async_block_till_done()
    expected: dict[str, Any] = {"device_id": STATION, "price_entity": PRICE}
    if sell:
        expected["sell_price_entity"] = sell
    assert [c.data for c in calls] == [expected] * 2
    hass.states.async_set(PRICE, "0.22", {"raw_today": [], "raw_tomorrow": []})
    await hass.async_block_till_done()  # back
    async_fire_time_changed(hass, at_three + timedelta(days=1))  # the next day's sync
    await hass.async_block_till_done()
    assert [c.data for c in calls] == [expected] * 4
    # Off: the daily timer goes.
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": "automation.sync_tariff"}, blocking=True
    )

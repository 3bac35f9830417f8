"""The shipped automation blueprints load in Home Assistant and call battery_command right.

Each blueprint under ``blueprints/automation/sigen_cloud/`` is set up as a real
automation (``use_blueprint``) in a test Home Assistant; a price sensor is moved
across the threshold and the ``sigen_cloud.battery_command`` calls are checked.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_mock_service

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


def test_blueprints_exist() -> None:
    assert sorted(p.name for p in BLUEPRINTS.glob("*.yaml")) == [
        "charge_battery_at_low_price.yaml",
        "stop_export_at_negative_price.yaml",
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

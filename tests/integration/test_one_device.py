"""One physical system is one Home Assistant device (issue 14, the northbound system id).

The app API's ``stationCode`` is the northbound/MQTT ``systemId``; ``stationSnCode`` is
a numeric, station-id-like serial that is never the system id. Whether the home data
carries ``stationCode`` or not (then the northbound system list is matched), the home
station and its MQTT system must end up as one device, fed by both paths.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import DOMAIN
from sigen_sim.app_api.stations import station_home

from .conftest import wait_for


@pytest.mark.parametrize(
    "in_home",
    [
        pytest.param(True, marks=pytest.mark.sim_config(stations=2, station_code_in_home=True)),
        pytest.param(False, marks=pytest.mark.sim_config(stations=2, station_code_in_home=False)),
    ],
    ids=["stationCode-in-home", "no-stationCode"],
)
async def test_each_system_is_one_device(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    device_registry: dr.DeviceRegistry,
    in_home: bool,
) -> None:
    """Two systems on the account: two station devices, never a third for the home
    station's MQTT side, and the home station receives its system's telemetry."""
    home, other = sim_mqtt.stations
    assert home.sn_code.isdigit()
    assert home.sn_code != home.system_id
    assert ("stationCode" in station_home(home)) is in_home

    stations = mqtt_entry.runtime_data.stations
    assert set(stations) == {str(home.station_id), other.system_id}
    assert stations[str(home.station_id)].system_id == home.system_id

    devices = [
        device
        for device in dr.async_entries_for_config_entry(device_registry, mqtt_entry.entry_id)
        if any(
            domain == DOMAIN and "_smart_load_" not in ident and "_device_" not in ident
            for domain, ident in device.identifiers
        )
    ]
    assert sorted(device.serial_number or "" for device in devices) == sorted(
        [home.system_id, other.system_id]
    )
    assert len(devices) == 2

    await sim_mqtt.publish_telemetry(home.system_id)
    await wait_for(
        hass, lambda: stations[str(home.station_id)].view().telemetry is not None, "home telemetry"
    )

"""Safe writes of the battery and grid settings (issue 17).

One write at a time per station, each shown at once and read back; a failed write goes
back to the cloud's value, one the cloud accepted but did not apply shows what the
cloud reports with one warning; bad values fail with translated messages naming the
range; a rate limit slows the settings' polling down; a setting the station does not
report has no entity.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from homeassistant.components.number import DOMAIN as NUMBER_DOMAIN
from homeassistant.components.number import NumberEntity
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.sigen_cloud.const import CONTROLS_INTERVAL, DOMAIN
from custom_components.sigen_cloud.coordinator.control_writes import soc_level

from .controls_helpers import (
    BACKUP_SOC,
    CHARGE_CUT_OFF,
    DISCHARGE_CUT_OFF,
    EXPORT_LIMIT,
    EXPORT_LIMITATION,
    IMPORT_LIMIT,
    IMPORT_LIMITATION,
    PEAK_SHAVING_SOC,
    PV_LIMIT,
    controls_of,
    refresh_controls,
    set_number,
    state,
    switch,
    value,
)
from .platform_helpers import FROZEN_SIM, setup_entry, unload
from .test_diagnostics import dump, forbidden

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)

# The paths of the settings and the manual control (not of the modes).
SETTING_PATHS = (
    "energy-profile/battery",
    "energy-profile/grid",
    "energy-profile/solar",
    "energy-profile/parallel",
    "energy-profile/instant",
)


@pytest.fixture
async def controls_entry(hass: HomeAssistant, sim: Any) -> Any:
    """The demo account with the numbers and switches of its settings."""
    entry = await setup_entry(hass, sim, Platform.NUMBER, Platform.SWITCH)
    yield entry
    await unload(hass, entry)


def number_entity(hass: HomeAssistant, entity_id: str) -> NumberEntity:
    """A number entity itself (to call it as another integration's code would)."""
    entity = hass.data["entity_components"][NUMBER_DOMAIN].get_entity(entity_id)
    assert isinstance(entity, NumberEntity)
    return entity


def record_states(hass: HomeAssistant, entity_id: str) -> list[str]:
    """Every state ``entity_id`` takes from now on."""
    seen: list[str] = []

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            seen.append(new.state)

    async_track_state_change_event(hass, entity_id, changed)
    return seen


def warnings(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    """The warnings logged so far that contain ``text``."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and text in r.getMessage()
    ]


async def test_quick_writes_do_not_undo_each_other(
    hass: HomeAssistant, sim: Any, controls_entry: MockConfigEntry
) -> None:
    """Two SOC levels changed at once: the second write reads the first one's result."""
    sim.faults.set_latency(0.05)  # long enough for two read-modify-writes to overlap
    await asyncio.gather(
        number_entity(hass, CHARGE_CUT_OFF).async_set_native_value(90),
        number_entity(hass, BACKUP_SOC).async_set_native_value(30),
        number_entity(hass, PEAK_SHAVING_SOC).async_set_native_value(25),
    )
    await hass.async_block_till_done()
    station = sim.stations[0]
    assert (station.charge_cutoff_soc, station.backup_cutoff_soc) == (90, 30)
    assert station.peak_shaving_cutoff_soc == 25
    assert (value(hass, CHARGE_CUT_OFF), value(hass, BACKUP_SOC)) == (90, 30)
    assert value(hass, PEAK_SHAVING_SOC) == 25
    # One after the other: read, write, read back; never two at once. The peak-shaving
    # SOC is the peak-shaving setting's (issue 18), kept in step with the levels' one.
    seen = [
        f"{request.method} {'level' if 'battery/level' in request.path else 'peak'}"
        for request in sim.requests()
        if "battery/level" in request.path or "peak/shaving" in request.path
    ][-11:]
    level = ["GET level", "PUT level", "GET level"]
    peak = ["GET peak", "POST peak", "GET level", "GET level", "GET peak"]
    assert seen in ([*level, *level, *peak], [*level, *peak, *level], [*peak, *level, *level])

    # A switch and its limit (two platforms) at once: neither undoes the other.
    await asyncio.gather(
        switch(hass, EXPORT_LIMITATION, on=True), set_number(hass, EXPORT_LIMIT, 2.5)
    )
    limit = station.settings.export_limit
    assert (limit.enabled, limit.owner_kw) == (True, 2.5)
    assert state(hass, EXPORT_LIMITATION) == STATE_ON
    assert value(hass, EXPORT_LIMIT) == 2.5


async def test_failed_write_goes_back(
    hass: HomeAssistant, sim: Any, controls_entry: MockConfigEntry
) -> None:
    """The new value shows at once and goes back to the cloud's when the write fails."""
    sim.faults.http_error("battery/level", 500, method="PUT")
    seen = record_states(hass, CHARGE_CUT_OFF)
    with pytest.raises(HomeAssistantError) as err:
        await set_number(hass, CHARGE_CUT_OFF, 80)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "cloud_refused"
    assert seen == ["80", "100"]
    assert sim.stations[0].charge_cutoff_soc == 100

    sim.faults.clear()
    sim.faults.http_error("grid/limitation/import", 503, method="PUT")
    seen = record_states(hass, IMPORT_LIMITATION)
    with pytest.raises(HomeAssistantError):
        await switch(hass, IMPORT_LIMITATION, on=True)
    assert seen == [STATE_ON, STATE_OFF]
    assert not sim.stations[0].settings.import_limit.enabled

    sim.faults.clear()
    sim.faults.rate_limit("solar/limit", 1201, method="PUT")
    with pytest.raises(HomeAssistantError) as err:
        await set_number(hass, PV_LIMIT, 4)
    assert err.value.translation_key == "rate_limited"
    assert value(hass, PV_LIMIT) == 10.3


async def test_accepted_but_not_applied(
    hass: HomeAssistant,
    sim: Any,
    controls_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A write the cloud acknowledges without applying shows the cloud's value, warned once."""
    sim.faults.not_applied("battery/level")
    seen = record_states(hass, DISCHARGE_CUT_OFF)
    await set_number(hass, DISCHARGE_CUT_OFF, 20)
    assert seen == ["20", "5"]
    assert sim.stations[0].discharge_cutoff_soc == 5
    (warning,) = warnings(caplog, "did not apply")
    assert "discharge cut-off SOC of 20 %" in warning

    sim.faults.clear()
    sim.faults.not_applied("grid/limitation/export")
    await switch(hass, EXPORT_LIMITATION, on=True)
    assert state(hass, EXPORT_LIMITATION) == STATE_OFF
    assert len(warnings(caplog, "did not apply")) == 2


async def test_read_back_failure_shows_the_write(
    hass: HomeAssistant, sim: Any, controls_entry: MockConfigEntry
) -> None:
    """The write went through but its read-back failed: shown as written, then polled."""
    sim.faults.http_error("solar/limit", 500, method="GET", count=1)
    polls = sim.count("solar/limit", "GET")
    await set_number(hass, PV_LIMIT, 4)
    assert sim.stations[0].settings.pv_limit_kw == 4.0
    assert value(hass, PV_LIMIT) == 4.0
    await hass.async_block_till_done()
    assert sim.count("solar/limit", "GET") >= polls + 2  # the read-back, then a poll
    assert controls_of(controls_entry).last_update_success


async def test_values_out_of_range(hass: HomeAssistant, controls_entry: MockConfigEntry) -> None:
    """Out of range: Home Assistant's check, ours, and the library's, each translated."""
    # The action checks the range (the charge cut-off not below the discharge cut-off).
    with pytest.raises(ServiceValidationError) as err:
        await set_number(hass, CHARGE_CUT_OFF, 3)
    assert err.value.translation_key == "out_of_range"
    assert err.value.translation_placeholders["min_value"] == "5"

    # Called directly, the entity checks it too, naming the range.
    with pytest.raises(ServiceValidationError) as err:
        await number_entity(hass, CHARGE_CUT_OFF).async_set_native_value(150)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "value_out_of_range"
    assert err.value.translation_placeholders | {"entity": ""} == {
        "entity": "",
        "value": "150",
        "min": "5",
        "max": "100",
        "unit": "%",
    }
    assert "from 5 to 100 %" in str(err.value)
    assert value(hass, CHARGE_CUT_OFF) == 100

    # Both cut-offs at once, each fine alone: the library refuses the second one.
    results = await asyncio.gather(
        number_entity(hass, DISCHARGE_CUT_OFF).async_set_native_value(60),
        number_entity(hass, CHARGE_CUT_OFF).async_set_native_value(50),
        return_exceptions=True,
    )
    assert results[0] is None
    refused = results[1]
    assert isinstance(refused, ServiceValidationError)
    assert refused.translation_key == "invalid_request"
    assert "must not be below the discharge cut-off SOC (60 %)" in str(refused)
    await hass.async_block_till_done()
    assert (value(hass, CHARGE_CUT_OFF), value(hass, DISCHARGE_CUT_OFF)) == (100, 60)


async def test_rate_limit_slows_the_settings_refresh(
    hass: HomeAssistant, sim: Any, controls_entry: MockConfigEntry
) -> None:
    """A rate-limited read keeps the settings shown and polls them less often."""
    controls = controls_of(controls_entry)
    assert controls.update_interval == CONTROLS_INTERVAL
    sim.faults.rate_limit("grid/limitation/import", 1201, method="GET")
    await refresh_controls(hass, controls_entry)
    assert controls.last_update_success
    assert controls.update_interval is not None
    assert controls.update_interval >= 2 * CONTROLS_INTERVAL
    assert value(hass, IMPORT_LIMIT) == 15.0
    assert state(hass, IMPORT_LIMITATION) == STATE_OFF

    sim.faults.clear()
    await refresh_controls(hass, controls_entry)
    assert controls.update_interval == CONTROLS_INTERVAL


async def test_settings_the_station_does_not_report(hass: HomeAssistant, sim: Any) -> None:
    """No entity for a setting the cloud refuses on the first read; unavailable later."""
    sim.faults.http_error("solar/limit", 404, method="GET")
    entry = await setup_entry(hass, sim, Platform.NUMBER, Platform.SWITCH)
    assert hass.states.get(PV_LIMIT) is None
    assert value(hass, CHARGE_CUT_OFF) == 100

    sim.faults.http_error("grid/limitation/import", 404, method="GET")
    await refresh_controls(hass, entry)
    assert state(hass, IMPORT_LIMIT) == STATE_UNAVAILABLE
    assert state(hass, IMPORT_LIMITATION) == STATE_UNAVAILABLE
    assert value(hass, EXPORT_LIMIT) == 10.0

    # A failing cloud (5xx) makes every setting unavailable until it answers again.
    sim.faults.clear()
    for area in SETTING_PATHS:
        sim.faults.http_error(area, 500, method="GET")
    await refresh_controls(hass, entry)
    assert state(hass, CHARGE_CUT_OFF) == STATE_UNAVAILABLE
    sim.faults.clear()
    await refresh_controls(hass, entry)
    assert value(hass, IMPORT_LIMIT) == 15.0
    assert hass.states.get(PV_LIMIT) is None  # decided on the first read
    await unload(hass, entry)


async def test_no_settings_at_all(hass: HomeAssistant, sim: Any) -> None:
    """A station that offers none of the settings: no entities, nothing fails."""
    for area in SETTING_PATHS:
        sim.faults.http_error(area, 404, method="GET")
    entry = await setup_entry(hass, sim, Platform.NUMBER, Platform.SWITCH)
    assert hass.states.get(CHARGE_CUT_OFF) is None
    assert hass.states.get(EXPORT_LIMITATION) is None
    await refresh_controls(hass, entry)
    assert controls_of(entry).last_update_success
    await unload(hass, entry)


async def test_write_through_the_coordinator(
    hass: HomeAssistant, sim: Any, controls_entry: MockConfigEntry
) -> None:
    """The coordinator's write is what the actions use too: read back, shown."""
    await controls_of(controls_entry).async_write(soc_level("backup", 45))
    await hass.async_block_till_done()
    assert sim.stations[0].backup_cutoff_soc == 45
    assert value(hass, BACKUP_SOC) == 45


async def test_diagnostics_include_the_settings(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sim: Any,
    controls_entry: MockConfigEntry,
) -> None:
    """The settings and the manual control are in the diagnostics, with nothing secret."""
    result, text = await dump(hass, hass_client, controls_entry)
    for secret in forbidden(sim, controls_entry):
        assert secret not in text, secret
    station = result["coordinator"]["stations"][0]
    controls = station["controls"]
    assert controls["soc_levels"]["charge_cut_off"] == 100
    assert controls["export_limit"]["installer_limit"] == 10.0
    assert controls["manual"]["active"] is False
    assert station["last_update_success"]["controls"] is True

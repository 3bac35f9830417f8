"""Battery commands over MQTT (developer credentials): the fields and the sending.

``sigen_cloud.battery_command`` and ``sigen_cloud.battery_schedule`` with developer
credentials publish the library's checked commands on the MQTT channel; without them a
command for now goes through manual control instead (:mod:`.services_manual`).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any, Final

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID, ATTR_MODE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .data import SigenConfigEntry, StationRuntime
from .helpers import sigen_errors
from .services_fields import (
    choice,
    local_time,
    power_kw,
    start_time,
    validation_error,
    whole_minutes,
)
from .sigen import (
    BATTERY_MODES,
    MAX_COMMAND_POWER_KW,
    MAX_COMMANDS_PER_BATCH,
    MAX_DURATION_MIN,
    PAST_TOLERANCE_S,
    BatteryCommand,
    validate_commands,
)

ATTR_START_TIME: Final = "start_time"
ATTR_DURATION: Final = "duration"
ATTR_CHARGING_POWER: Final = "charging_power"
ATTR_PV_POWER: Final = "pv_power"
ATTR_MAX_SELL_POWER: Final = "max_sell_power"
ATTR_MAX_PURCHASE_POWER: Final = "max_purchase_power"
ATTR_CHARGE_PRIORITY: Final = "charge_priority"
ATTR_DISCHARGE_PRIORITY: Final = "discharge_priority"
ATTR_COMMANDS: Final = "commands"

# The options services.yaml offers; the library takes them in any case ("pv" is "PV").
CHARGE_PRIORITIES: Final = ("pv", "grid")
DISCHARGE_PRIORITIES: Final = ("pv", "battery")

COMMAND_FIELDS: Final = {
    vol.Required(ATTR_MODE): choice(ATTR_MODE, BATTERY_MODES),
    vol.Optional(ATTR_START_TIME): start_time(ATTR_START_TIME),
    vol.Required(ATTR_DURATION): whole_minutes(ATTR_DURATION, 1, MAX_DURATION_MIN),
    vol.Optional(ATTR_CHARGING_POWER): power_kw(ATTR_CHARGING_POWER, MAX_COMMAND_POWER_KW),
    vol.Optional(ATTR_PV_POWER): power_kw(ATTR_PV_POWER, MAX_COMMAND_POWER_KW),
    vol.Optional(ATTR_MAX_SELL_POWER): power_kw(ATTR_MAX_SELL_POWER, MAX_COMMAND_POWER_KW),
    vol.Optional(ATTR_MAX_PURCHASE_POWER): power_kw(ATTR_MAX_PURCHASE_POWER, MAX_COMMAND_POWER_KW),
    vol.Optional(ATTR_CHARGE_PRIORITY): choice(
        ATTR_CHARGE_PRIORITY, CHARGE_PRIORITIES, optional=True
    ),
    vol.Optional(ATTR_DISCHARGE_PRIORITY): choice(
        ATTR_DISCHARGE_PRIORITY, DISCHARGE_PRIORITIES, optional=True
    ),
}

BATTERY_COMMAND_SCHEMA: Final = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): cv.string, **COMMAND_FIELDS}
)
BATTERY_SCHEDULE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_COMMANDS): vol.All(
            cv.ensure_list, vol.Length(min=1), [vol.Schema(COMMAND_FIELDS)]
        ),
    }
)


def check_times(items: list[dict[str, Any]], starts: list[datetime], now: datetime) -> None:
    """Refuse starts in the past and overlapping commands, in the user's local time.

    The library checks the same rules (as a backstop) but speaks in epoch seconds and
    list indices; here one command has no number and a schedule's are counted from 1.
    """
    earliest = now - timedelta(seconds=PAST_TOLERANCE_S)
    minutes = str(int(PAST_TOLERANCE_S // 60))
    for number, start in enumerate(starts, 1):
        if start < earliest:
            if len(starts) == 1:
                raise validation_error(
                    "start_in_past", start=local_time(start), now=local_time(now), minutes=minutes
                )
            raise validation_error(
                "schedule_start_in_past",
                number=str(number),
                start=local_time(start),
                now=local_time(now),
                minutes=minutes,
            )
    ordered = sorted(range(len(starts)), key=starts.__getitem__)
    for first, second in itertools.pairwise(ordered):
        end = starts[first] + timedelta(minutes=items[first][ATTR_DURATION])
        if starts[second] < end:
            low, high = sorted((first, second))
            raise validation_error(
                "commands_overlap",
                first=str(low + 1),
                second=str(high + 1),
                first_start=local_time(starts[low]),
                first_end=local_time(starts[low] + timedelta(minutes=items[low][ATTR_DURATION])),
                second_start=local_time(starts[high]),
            )


def _build_command(system_id: str, data: dict[str, Any], start: datetime) -> BatteryCommand:
    priority = data.get(ATTR_CHARGE_PRIORITY)
    discharge_priority = data.get(ATTR_DISCHARGE_PRIORITY)
    return BatteryCommand(
        system_id=system_id,
        active_mode=BATTERY_MODES[data[ATTR_MODE]],
        start_time=int(start.timestamp()),
        duration=data[ATTR_DURATION],
        charging_power=data.get(ATTR_CHARGING_POWER),
        pv_power=data.get(ATTR_PV_POWER),
        max_sell_power=data.get(ATTR_MAX_SELL_POWER),
        max_purchase_power=data.get(ATTR_MAX_PURCHASE_POWER),
        charge_priority_type=priority.upper() if priority else None,
        discharge_priority_type=discharge_priority.upper() if discharge_priority else None,
    )


async def async_send_commands(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    station: StationRuntime,
    items: list[dict[str, Any]],
) -> None:
    """Check ``items`` (start times, overlaps, the library's rules) and publish them."""
    mqtt = entry.runtime_data.mqtt
    if mqtt is None:
        raise validation_error("no_developer_credentials")
    if station.system_id is None:
        raise validation_error("no_system_id", station=station.station_id)
    if len(items) > MAX_COMMANDS_PER_BATCH:
        raise validation_error(
            "too_many_commands", count=str(len(items)), max=str(MAX_COMMANDS_PER_BATCH)
        )
    now = dt_util.utcnow()
    starts = [
        dt_util.as_utc(item.get(ATTR_START_TIME) or now).replace(microsecond=0) for item in items
    ]
    check_times(items, starts, now)
    async with sigen_errors(hass, entry):
        commands = validate_commands(
            [
                _build_command(station.system_id, item, start)
                for item, start in zip(items, starts, strict=True)
            ],
            now=now.timestamp(),
        )
        await mqtt.send_battery_commands(commands)

"""The TOU charge/discharge schedule as a calendar: the week at a glance.

One calendar entity per app API station, "Battery schedule". Each period of the
schedule becomes an event on every day it applies to, in the station's time zone
(the cloud counts the schedule in station local time), summarised in the user's
language: "Charge from grid (max 10 kW, to 90 %)". The calendar is read-only; the
schedule is written with ``sigen_cloud.set_schedule``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, override

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN
from .coordinator.schedule import SigenScheduleCoordinator
from .entity import SigenEntity, SigenEntityDescription, async_track_stations

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import SigenConfigEntry, StationRuntime
    from .sigen import SchedulePeriod

PARALLEL_UPDATES = 0

SCHEDULE_KEY: Final = "battery_schedule"
#: The longest stretch ``event`` looks ahead for the next period.
LOOK_AHEAD: Final = timedelta(days=8)
#: The texts of a summary, in English (the user's language replaces them when known).
ENGLISH: Final = {
    "charge": "Charge from grid",
    "discharge": "Discharge",
    "self_consumption": "Self-consumption",
    "other": "Schedule mode {code}",
    "power": "max {power} kW",
    "charge_soc": "to {soc} %",
    "discharge_soc": "down to {soc} %",
}


@dataclass(frozen=True, kw_only=True)
class SigenCalendarEntityDescription(CalendarEntityDescription, SigenEntityDescription):
    """A calendar entity of a station."""


SCHEDULE = SigenCalendarEntityDescription(key=SCHEDULE_KEY, translation_key=SCHEDULE_KEY)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a schedule calendar per app API station, now and as stations appear."""

    @callback
    def add_station(station: StationRuntime) -> None:
        if station.schedule is not None:
            async_add_entities([SigenScheduleCalendar(station.schedule, station, SCHEDULE)])

    async_track_stations(entry, add_station)


def _number(value: float) -> str:
    """A number as a summary shows it: ``10``, ``2.5``."""
    return f"{value:g}"


def summary(period: SchedulePeriod, texts: dict[str, str]) -> str:
    """``"Charge from grid (max 10 kW, to 90 %)"``: the action and its limits."""
    action = period.action
    if isinstance(action, str) and action in texts:
        title = texts[action]
    else:
        title = texts["other"].replace("{code}", str(action))
    details: list[str] = []
    if action == "charge":
        power = period.max_charge if period.max_charge is not None else period.max_pack_charge
        soc, soc_text = period.charge_cut_off_soc, "charge_soc"
    elif action == "discharge":
        power = period.max_discharge
        if power is None:
            power = period.max_pack_discharge
        soc, soc_text = period.discharge_cut_off_soc, "discharge_soc"
    else:
        power, soc, soc_text = None, None, ""
    if power is not None:
        details.append(texts["power"].replace("{power}", _number(power)))
    if soc is not None:
        details.append(texts[soc_text].replace("{soc}", str(soc)))
    return f"{title} ({', '.join(details)})" if details else title


def events_between(
    periods: tuple[SchedulePeriod, ...],
    start: datetime,
    end: datetime,
    texts: dict[str, str],
) -> list[CalendarEvent]:
    """Every period's occurrence overlapping ``start``-``end`` (aware, in the station's zone)."""
    zone = start.tzinfo
    day = start.date() - timedelta(days=1)
    events: list[CalendarEvent] = []
    while day <= end.date():
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        for period in periods:
            first, last = period.start_minutes, period.end_minutes
            if first is None or last is None or day.isoweekday() not in period.days:
                continue
            begins = midnight + timedelta(minutes=first)
            ends = midnight + timedelta(minutes=last)
            if begins < end and ends > start:
                events.append(CalendarEvent(start=begins, end=ends, summary=summary(period, texts)))
        day += timedelta(days=1)
    return sorted(events, key=lambda event: event.start)


class SigenScheduleCalendar(SigenEntity[SigenScheduleCoordinator], CalendarEntity):
    """The station's TOU schedule as events, in the station's time zone."""

    entity_description: SigenCalendarEntityDescription

    def __init__(
        self,
        coordinator: SigenScheduleCoordinator,
        station: StationRuntime,
        description: SigenCalendarEntityDescription,
    ) -> None:
        """The calendar of ``station``'s schedule; summaries in English until added."""
        super().__init__(coordinator, station, description)
        self._texts = dict(ENGLISH)

    @override
    async def async_added_to_hass(self) -> None:
        """Load the summaries' texts in Home Assistant's language."""
        await super().async_added_to_hass()
        translations = await async_get_translations(
            self.hass, self.hass.config.language, "entity", {DOMAIN}
        )
        prefix = f"component.{DOMAIN}.entity.calendar.{SCHEDULE_KEY}.state_attributes.summary."
        for key in ENGLISH:
            text = translations.get(f"{prefix}state.{key}")
            if text:
                self._texts[key] = text

    @property
    def event(self) -> CalendarEvent | None:
        """The period running now, else the next one within a week."""
        now = self.coordinator.local_now()
        events = events_between(self.coordinator.periods, now, now + LOOK_AHEAD, self._texts)
        return events[0] if events else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The periods' occurrences between ``start_date`` and ``end_date``."""
        zone = self.coordinator.time_zone
        return events_between(
            self.coordinator.periods,
            start_date.astimezone(zone),
            end_date.astimezone(zone),
            self._texts,
        )

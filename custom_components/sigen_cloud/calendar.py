"""The TOU charge/discharge schedule as a calendar: the week at a glance.

One calendar entity per app API station, "Battery schedule". Each period of the
schedule becomes an event on every day it applies to, in the station's time zone
(the cloud counts the schedule in station local time), summarised in the user's
language: "Charge from grid (max 10 kW, to 90 %)". The calendar is read-only; the
schedule is written with ``sigen_cloud.set_schedule``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Final, override

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN
from .coordinator.schedule import SigenScheduleCoordinator
from .entity import SigenEntity, SigenEntityDescription, async_track_stations
from .sigen.models._periods import DAY_MINUTES

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import SigenConfigEntry, StationRuntime
    from .sigen import SchedulePeriod

PARALLEL_UPDATES = 0

SCHEDULE_KEY: Final = "battery_schedule"
#: The longest stretch ``event`` looks ahead for the next period.
LOOK_AHEAD: Final = timedelta(days=8)
#: Where the summaries' texts are translated: ``selector.schedule_summary.options``,
#: the category HA offers for texts an integration generates (calendars have no
#: attribute whose states could carry them).
SUMMARY_KEY: Final = "schedule_summary"
#: The texts of a summary, in English (the user's language replaces them when known).
ENGLISH: Final = {
    "charge": "Charge from grid",
    "discharge": "Discharge",
    "self_consumption": "Self-consumption",
    "other": "Unknown mode {code}",
    "unknown": "Unknown mode",
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

    await async_track_stations(entry, add_station)


def _number(value: float) -> str:
    """A number as a summary shows it: ``10``, ``2.5``."""
    return f"{value:g}"


def summary(period: SchedulePeriod, texts: dict[str, str]) -> str:
    """``"Charge from grid (max 10 kW, to 90 %)"``: the action and its limits."""
    action = period.action
    if isinstance(action, str) and action in texts:
        title = texts[action]
    elif action is None:
        title = texts["unknown"]
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


def _instant(day: date, minute: int, zone: tzinfo) -> datetime:
    """Wall-clock ``minute`` (0-2880) after ``day``'s midnight in ``zone``, as a real instant.

    Built from the date and time in the zone and checked through UTC. A time in a
    spring-forward gap never shows on the station's clock (Berlin's jumps from 02:00 to
    03:00 on the last Sunday of March): a boundary there is the gap's end, so the period
    before it ends at 03:00 and one inside it has no length. Every comparison is then of
    instants (Python compares two times of one zone by their wall clocks).
    """
    day += timedelta(days=minute // DAY_MINUTES)
    minute %= DAY_MINUTES
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    for _ in range(DAY_MINUTES):
        real = wall.astimezone(UTC).astimezone(zone)
        if real.replace(tzinfo=None) == wall.replace(tzinfo=None):
            return real
        wall += timedelta(minutes=1)
    return wall.astimezone(UTC).astimezone(zone)  # pragma: no cover - no such zone


def occurrence(period: SchedulePeriod, day: date, zone: tzinfo) -> tuple[datetime, datetime] | None:
    """When ``period`` runs starting on ``day`` (station zone), if it does and lasts at all.

    An end of ``"00:00"`` is the day's end (the model reads it as 1440); an end before
    the start rolls over into the next day; a period nothing is left of (one inside a
    spring-forward gap, one ending as it starts) has no occurrence.
    """
    first, last = period.start_minutes, period.end_minutes
    if first is None or last is None or day.isoweekday() not in period.days:
        return None
    if last < first:
        last += DAY_MINUTES
    begins, ends = _instant(day, first, zone), _instant(day, last, zone)
    if ends.timestamp() <= begins.timestamp():
        return None
    return begins, ends


def events_between(
    periods: tuple[SchedulePeriod, ...],
    start: datetime,
    end: datetime,
    zone: tzinfo,
    texts: dict[str, str],
) -> list[CalendarEvent]:
    """Every period's occurrence overlapping ``start``-``end`` (aware, any zone).

    The events are in the station's ``zone``; a period is counted in its local time.
    """
    since, until = start.timestamp(), end.timestamp()
    day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date()
    events: list[tuple[float, CalendarEvent]] = []
    while day <= last_day:
        for period in periods:
            found = occurrence(period, day, zone)
            if found is None:
                continue
            begins, ends = found
            if begins.timestamp() < until and ends.timestamp() > since:
                event = CalendarEvent(start=begins, end=ends, summary=summary(period, texts))
                events.append((begins.timestamp(), event))
        day += timedelta(days=1)
    return [event for _, event in sorted(events, key=lambda item: item[0])]


class SigenScheduleCalendar(SigenEntity[SigenScheduleCoordinator], CalendarEntity):
    """The station's TOU schedule as events, in the station's time zone."""

    entity_description: SigenCalendarEntityDescription

    def __init__(
        self,
        coordinator: SigenScheduleCoordinator,
        station: StationRuntime,
        description: SigenCalendarEntityDescription,
    ) -> None:
        """The calendar of ``station``'s schedule; summaries in English until loaded."""
        super().__init__(coordinator, station, description)
        self._texts = dict(ENGLISH)
        self._language: str | None = None

    @override
    async def async_added_to_hass(self) -> None:
        """Load the summaries' texts in HA's language, and again when it changes."""
        await super().async_added_to_hass()
        await self._async_load_texts()
        self.async_on_remove(
            self.hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, self._async_config_changed)
        )

    async def _async_load_texts(self) -> None:
        """The summaries' texts in HA's language, loaded when it is not the one known."""
        language = self.hass.config.language
        if language == self._language:
            return
        translations = await async_get_translations(self.hass, language, "selector", {DOMAIN})
        prefix = f"component.{DOMAIN}.selector.{SUMMARY_KEY}.options."
        self._texts = {key: translations.get(prefix + key) or text for key, text in ENGLISH.items()}
        self._language = language

    async def _async_config_changed(self, _event: Event) -> None:
        """HA's settings changed: a new language shows in the summary at once."""
        if self.hass.config.language != self._language:
            await self._async_load_texts()
            self.async_write_ha_state()

    @property
    def event(self) -> CalendarEvent | None:
        """The period running now, else the next one within a week."""
        now = self.coordinator.local_now()
        events = events_between(
            self.coordinator.periods, now, now + LOOK_AHEAD, self.coordinator.time_zone, self._texts
        )
        return events[0] if events else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The periods' occurrences between ``start_date`` and ``end_date``."""
        await self._async_load_texts()
        return events_between(
            self.coordinator.periods, start_date, end_date, self.coordinator.time_zone, self._texts
        )

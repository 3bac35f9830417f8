"""The app's time-of-use (TOU) charge/discharge schedule: read it, replace it whole.

The cloud has no partial update (§7.8 of the API notes): ``set_schedule`` sends every
period, so a caller changing one reads the schedule, edits it and writes it back. A
schedule is checked whole before anything is sent: at least one and at most 24 periods,
times ``"HH:MM"`` (the last ending ``"24:00"``; an end ``"00:00"`` is taken as that),
weekdays 1 (Monday) … 7, powers 0 … 100 kW, SOCs 0 … 100 %, and on every weekday it
names the periods tile the day (no gap, no overlap; what the app's backend expects).
A bad schedule raises :class:`ScheduleValidationError` naming the period (1-based, in
the order given).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from .._envelope import parse_each
from ..errors import SigenValidationError
from ..models._periods import (
    DAY_MINUTES,
    check_day_periods,
    check_days,
    check_time,
    format_hhmm,
)
from ..models.schedule import (
    ACTION_CODES,
    MAX_SCHEDULE_PERIODS,
    MAX_SCHEDULE_POWER_KW,
    POWER_FIELDS,
    SOC_FIELDS,
    SchedulePeriod,
)
from ._settings import SettingsArea, StationRef, check_number, check_whole

_READ: Final = "device/dischargesetting"
_SAVE: Final = "device/dischargesetting/batch/save"
#: The largest ``dischargeType`` taken as a number (an unknown code read is written back).
_MAX_CODE: Final = 99

#: Weekday names a friendly period may use beside the numbers (ISO: 1 = Monday).
WEEKDAY_NAMES: Final = {
    name: number
    for number, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ),
        start=1,
    )
    for name in names
}
#: The keys of a friendly period.
FRIENDLY_KEYS: Final = frozenset({"days", "start", "end", "action", *POWER_FIELDS, *SOC_FIELDS})

type PeriodInput = SchedulePeriod | Mapping[str, Any]


class ScheduleValidationError(SigenValidationError):
    """A schedule that cannot be sent; ``period`` is the bad one (1-based), if one is."""

    def __init__(self, message: str, period: int | None = None) -> None:
        """``message`` says what is wrong and what is allowed."""
        super().__init__(message)
        self.period = period


def _day_numbers(days: object) -> object:
    """``days`` with weekday names (``"mon"``, ``"Monday"``) turned into numbers."""
    if isinstance(days, str) and days.strip().lower() in WEEKDAY_NAMES:
        return WEEKDAY_NAMES[days.strip().lower()]
    if isinstance(days, list | tuple | set | frozenset):
        return [
            WEEKDAY_NAMES.get(day.strip().lower(), day) if isinstance(day, str) else day
            for day in days
        ]
    return days


def _action_code(action: object, where: str) -> int:
    """The ``dischargeType`` of an action name, or an int code read earlier."""
    if isinstance(action, str) and action.strip().lower() in ACTION_CODES:
        return ACTION_CODES[action.strip().lower()]
    if isinstance(action, int) and not isinstance(action, bool) and 0 <= action <= _MAX_CODE:
        return action  # a code the library does not know, read from the cloud: kept
    allowed = ", ".join(ACTION_CODES)
    raise SigenValidationError(f"{where}: action must be one of {allowed}, got {action!r}")


def _fields_of(item: PeriodInput, where: str) -> dict[str, Any]:
    """The friendly fields of a :class:`SchedulePeriod` or a mapping (unknown keys refused)."""
    if isinstance(item, SchedulePeriod):
        return {**item.friendly(), "action": item.discharge_type}
    if not isinstance(item, Mapping):
        raise SigenValidationError(
            f"{where} must be a SchedulePeriod or a mapping, got {type(item).__name__}"
        )
    unknown = sorted(str(key) for key in item if key not in FRIENDLY_KEYS)
    if unknown:
        allowed = ", ".join(sorted(FRIENDLY_KEYS))
        raise SigenValidationError(f"{where}: unknown field {unknown[0]} (allowed: {allowed})")
    missing = [key for key in ("days", "start", "end", "action") if item.get(key) is None]
    if missing:
        raise SigenValidationError(f"{where}: {missing[0]} is required")
    return dict(item)


def _checked(item: PeriodInput, number: int) -> SchedulePeriod:
    """One period checked, as a :class:`SchedulePeriod` (``currType`` kept when given)."""
    where = f"Period {number}"
    try:
        fields = _fields_of(item, where)
        days = check_days(_day_numbers(fields["days"]), where)
        start = check_time(fields["start"], where)
        end = check_time(fields["end"], where, end=True) or DAY_MINUTES  # "00:00": day's end
        body: dict[str, Any] = {"dischargeType": _action_code(fields["action"], where)}
        for name, key in POWER_FIELDS.items():
            value = fields.get(name)
            if value is not None:
                label = f"{where}: {name}"
                body[key] = check_number(label, value, 0.0, MAX_SCHEDULE_POWER_KW, "kW")
        for name, key in SOC_FIELDS.items():
            value = fields.get(name)
            if value is not None:
                body[key] = check_whole(f"{where}: {name}", value, 0, 100, "%")
    except ScheduleValidationError:
        raise
    except SigenValidationError as err:
        raise ScheduleValidationError(str(err), number) from err
    curr_type = item.curr_type if isinstance(item, SchedulePeriod) else None
    return SchedulePeriod.build(
        body,
        days=days,
        start=format_hhmm(start),
        end=format_hhmm(end),
        curr_type=curr_type,
    )


def check_schedule(periods: Sequence[PeriodInput]) -> list[SchedulePeriod]:
    """Every period checked and the day tiling verified; sorted by start, then first day."""
    if not isinstance(periods, list | tuple):
        raise ScheduleValidationError("The schedule must be a list of periods")
    if not periods:
        raise ScheduleValidationError("The schedule needs at least one period")
    if len(periods) > MAX_SCHEDULE_PERIODS:
        raise ScheduleValidationError(
            f"The schedule may have at most {MAX_SCHEDULE_PERIODS} periods, got {len(periods)}"
        )
    checked = [_checked(item, number) for number, item in enumerate(periods, start=1)]
    spans = [(p.days, p.start_minutes or 0, p.end_minutes or 0) for p in checked]
    try:
        check_day_periods(spans, tile_day=True)
    except SigenValidationError as err:
        raise ScheduleValidationError(str(err), _period_named(str(err))) from err
    return sorted(checked, key=lambda p: (p.start_minutes or 0, min(p.days)))


def _period_named(message: str) -> int | None:
    """The period number a day-tiling message starts with (``"Period 3 ..."``), if any."""
    words = message.split()
    if len(words) > 1 and words[0] == "Period" and words[1].rstrip(":").isdigit():
        return int(words[1].rstrip(":"))
    return None


class ScheduleApi(SettingsArea):
    """A station's TOU schedule (app API); the home station by default."""

    async def get_schedule(self, *, station_id: StationRef | None = None) -> list[SchedulePeriod]:
        """The schedule's periods as the cloud lists them (``[]`` when it has none).

        An unreadable period is logged and skipped, never the whole schedule.
        """
        sid = await self._station(station_id)
        what = f"Reading the TOU schedule of station {sid}"
        reply = await self._get(_READ, sid, what)
        return parse_each(what, reply.items(), SchedulePeriod.from_dict, "period")

    async def set_schedule(
        self, periods: Sequence[PeriodInput], *, station_id: StationRef | None = None
    ) -> list[SchedulePeriod]:
        """Replace the whole schedule with ``periods`` (checked first); returns what was sent.

        Each period is a :class:`SchedulePeriod` or a mapping with the keys ``days``
        (weekday numbers 1 = Monday … 7, or names), ``start``, ``end`` (``"HH:MM"``,
        ``"24:00"``, or ``"00:00"``, as the day's end), ``action`` (``"charge"``,
        ``"discharge"``, ``"self_consumption"``) and optionally the powers ``max_buy``,
        ``max_sell``, ``max_charge``, ``max_discharge``, ``max_pack_charge``,
        ``max_pack_discharge`` (kW, 0 … 100) and ``charge_cut_off_soc``,
        ``discharge_cut_off_soc`` (%); a limit left out is the system's default.
        """
        checked = check_schedule(periods)
        sid = await self._station(station_id)
        body = [period.to_wire(sid) for period in checked]
        what = f"Saving the TOU schedule ({len(body)} periods) of station {sid}"
        await self._request("POST", _SAVE, what=what, json=body)
        return [SchedulePeriod.from_dict(item) for item in body]

"""The app's time-of-use (TOU) charge/discharge schedule: one :class:`SchedulePeriod` each.

``GET device/dischargesetting/{stationId}`` lists the periods and
``POST device/dischargesetting/batch/save`` replaces them all (§7.8 of the API notes).
A period names its weekdays (``whichDay``, ISO numbers: 1 = Monday, see
:mod:`._periods`), its start and end in station local time (the last ends ``"24:00"``,
which some clouds write ``"00:00"``: an end of ``"00:00"`` is read as ``"24:00"``),
what the battery does (``dischargeType`` 0 charge from the grid, 1 discharge,
3 self-consumption; any other code is kept as the number read) and its limits: powers in
kW and the grid charge/discharge cut-off SOCs in %. A limit left out (``None``) is the
system's default. The cloud expects the periods of each day to tile it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .._parse import parse_id, parse_int, parse_limit_kw, parse_rounded_int
from ._base import SigenModel, wire
from ._periods import DAY_MINUTES, format_days, format_hhmm, parse_days, parse_hhmm

#: What the battery does in a period, by the cloud's ``dischargeType``.
SCHEDULE_ACTIONS: Final = {0: "charge", 1: "discharge", 3: "self_consumption"}
#: The ``dischargeType`` of each action name.
ACTION_CODES: Final = {name: code for code, name in SCHEDULE_ACTIONS.items()}
#: The most periods the cloud takes in one schedule.
MAX_SCHEDULE_PERIODS: Final = 24
#: The range of a period's power limits (kW) and cut-off SOCs (%).
MAX_SCHEDULE_POWER_KW: Final = 100.0
#: ``currType`` when the period read had none (its meaning is unknown; the app's 1).
DEFAULT_CURR_TYPE: Final = 1

#: The power limits: model field -> wire key (kW; ``None`` = the system's default).
POWER_FIELDS: Final = {
    "max_buy": "maxBuyPower",
    "max_sell": "maxSellPower",
    "max_charge": "maxChargePower",
    "max_discharge": "maxDischargePower",
    "max_pack_charge": "maxPackChargePower",
    "max_pack_discharge": "maxPackDischargePower",
}
#: The cut-off SOCs: model field -> wire key (%; ``None`` = the system's default).
SOC_FIELDS: Final = {
    "charge_cut_off_soc": "gridChargeCutOffSoc",
    "discharge_cut_off_soc": "gridDischargeCutOffSoc",
}


def parse_clock(value: object) -> str | None:
    """``"HH:MM"`` normalised (``"6:00"`` → ``"06:00"``), else ``None``."""
    minutes = parse_hhmm(value)
    return None if minutes is None else format_hhmm(minutes)


def parse_end_clock(value: object) -> str | None:
    """An end ``"HH:MM"`` normalised; ``"00:00"`` is the day's end, ``"24:00"``.

    The app writes the day's end ``"24:00"``, some clouds ``"00:00"`` (as peak shaving's
    periods may): a period never ends at the midnight it starts from.
    """
    minutes = parse_hhmm(value)
    if minutes is None:
        return None
    return format_hhmm(DAY_MINUTES if minutes == 0 else minutes)


def action_of(code: int | None) -> str | int | None:
    """The action name of a ``dischargeType`` (an unknown code stays the number)."""
    if code is None:
        return None
    return SCHEDULE_ACTIONS.get(code, code)


@dataclass(frozen=True)
class SchedulePeriod(SigenModel):
    """One period of the TOU schedule (station local time).

    ``days`` are ISO weekdays (1 = Monday … 7 = Sunday); ``start``/``end`` are
    ``"HH:MM"`` (``end`` may be ``"24:00"``); ``action`` is ``"charge"`` (from the
    grid), ``"discharge"`` or ``"self_consumption"``, or the cloud's number for a code
    the library does not know. Powers in kW and SOCs in %; ``None`` is the system's
    default (the cloud's null, or its "no limit" sentinel).
    """

    WHAT = "a TOU schedule period"

    days: frozenset[int] = wire("whichDay", parse_days, default=frozenset())
    start: str | None = wire("startTime", parse_clock)
    end: str | None = wire("endTime", parse_end_clock)
    discharge_type: int | None = wire("dischargeType", parse_int)
    max_buy: float | None = wire("maxBuyPower", parse_limit_kw)
    max_sell: float | None = wire("maxSellPower", parse_limit_kw)
    max_charge: float | None = wire("maxChargePower", parse_limit_kw)
    max_discharge: float | None = wire("maxDischargePower", parse_limit_kw)
    max_pack_charge: float | None = wire("maxPackChargePower", parse_limit_kw)
    max_pack_discharge: float | None = wire("maxPackDischargePower", parse_limit_kw)
    charge_cut_off_soc: int | None = wire("gridChargeCutOffSoc", parse_rounded_int)
    discharge_cut_off_soc: int | None = wire("gridDischargeCutOffSoc", parse_rounded_int)
    curr_type: int | None = wire("currType", parse_int)
    station_id: str | None = wire("stationId", parse_id)

    @property
    def action(self) -> str | int | None:
        """``"charge"``, ``"discharge"``, ``"self_consumption"``, or an unknown code."""
        return action_of(self.discharge_type)

    @property
    def start_minutes(self) -> int | None:
        """The start as minutes since midnight."""
        return parse_hhmm(self.start)

    @property
    def end_minutes(self) -> int | None:
        """The end as minutes since midnight (``"24:00"`` and ``"00:00"`` are 1440).

        An end before the start (``"22:00"``-``"06:00"``, which a cloud may hold though
        the app never writes it) is on the next day.
        """
        minutes = parse_hhmm(self.end)
        return DAY_MINUTES if minutes == 0 else minutes

    def holds(self, weekday: int, minute: int) -> bool:
        """Whether the period applies at ``minute`` of ISO ``weekday``.

        A period crossing midnight holds from its start on its days to its end on
        the day after.
        """
        start, end = self.start_minutes, self.end_minutes
        if start is None or end is None:
            return False
        if end > start:
            return weekday in self.days and start <= minute < end
        yesterday = (weekday - 2) % 7 + 1
        return (weekday in self.days and minute >= start) or (
            yesterday in self.days and minute < end
        )

    def to_wire(self, station_id: str | int) -> dict[str, Any]:
        """The app's period object, every field of §7.8 (``currType`` as read, else 1)."""
        sid = str(station_id)
        body: dict[str, Any] = {
            "currType": DEFAULT_CURR_TYPE if self.curr_type is None else self.curr_type,
            "dischargeType": self.discharge_type,
            "startTime": self.start,
            "endTime": self.end,
            "stationId": int(sid) if sid.isdigit() else sid,
            "whichDay": format_days(self.days),
        }
        for name, key in POWER_FIELDS.items():
            body[key] = getattr(self, name)
        for name, key in SOC_FIELDS.items():
            body[key] = getattr(self, name)
        return body

    def friendly(self) -> dict[str, Any]:
        """The period with readable keys (what :meth:`ScheduleApi.set_schedule` takes)."""
        return {
            "days": sorted(self.days),
            "start": self.start,
            "end": self.end,
            "action": self.action,
            **{name: getattr(self, name) for name in (*POWER_FIELDS, *SOC_FIELDS)},
        }

"""Peak shaving of the app API (§7.7): read, and write the whole schedule.

The cloud takes only the whole setting (``controlMode``, ``shavingSOC`` and every
period) in one ``POST``, so :meth:`PeakShavingArea.set_peak_shaving` reads what it is
not given and sends it back unchanged (the periods as the cloud gave them, even those
the library cannot read). Everything is checked before anything is sent:
the SOC is a whole percent 0-100, a period's peak power 0-100 kW in steps of 0.1 kW,
its times ``"HH:MM"`` and its days ISO weekdays, and periods on the same weekday must
not overlap (they need not cover the day).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from ..errors import SigenValidationError
from ..models import PeakShaving, PeakShavingPeriod
from ..models._periods import check_day_periods, check_days, check_time, format_hhmm
from ._settings import SettingsArea, StationRef, body_station_id, check_bool, check_whole

_PATH: Final = "device/dischargesetting/peak/shaving"
#: The peak power a period may ask for (kW), as the app offers it, and its step.
MAX_PEAK_POWER_KW: Final = 100.0
PEAK_POWER_STEP_KW: Final = 0.1
#: The most periods one schedule may hold (a guard against runaway input).
MAX_PERIODS: Final = 48
#: Where an answer may hold its periods (as :class:`PeakShaving` reads them).
_PERIOD_KEYS: Final = ("settingList", "settings", "periods")


def check_peak_power(value: object, where: str) -> float:
    """A period's peak power: 0-100 kW in steps of 0.1 kW."""
    wanted = (
        f"{where}: peak power must be a number from 0 to {MAX_PEAK_POWER_KW:g} kW "
        f"in steps of {PEAK_POWER_STEP_KW:g} kW, got {value!r}"
    )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SigenValidationError(wanted)
    power = float(value)
    tenths = power / PEAK_POWER_STEP_KW
    if (
        not math.isfinite(power)
        or not 0.0 <= power <= MAX_PEAK_POWER_KW
        or abs(tenths - round(tenths)) > 1e-6
    ):
        raise SigenValidationError(wanted)
    return round(power, 1) + 0.0


def _field(item: Mapping[str, Any], where: str, *names: str) -> Any:
    """The first of ``names`` that ``item`` holds, else an error naming the first."""
    for name in names:
        if name in item:
            return item[name]
    raise SigenValidationError(f"{where}: {names[0]} is missing")


def check_period(item: object, number: int) -> PeakShavingPeriod:
    """A period as given (a :class:`PeakShavingPeriod` or a mapping), checked.

    A mapping holds ``days`` (``[1, 2]``, ``"1,2"`` or ``"1-5"``; 1 = Monday),
    ``start`` and ``end`` (``"HH:MM"``, the end up to ``"24:00"``) and ``peak_power``
    (kW; ``peak_power_kw`` too).
    """
    where = f"Period {number}"
    if isinstance(item, PeakShavingPeriod):
        days: object = list(item.days)
        start: object = item.start
        end: object = item.end
        power: object = item.peak_power_kw
    elif isinstance(item, Mapping):
        days = _field(item, where, "days")
        start = _field(item, where, "start")
        end = _field(item, where, "end")
        power = _field(item, where, "peak_power", "peak_power_kw")
    else:
        raise SigenValidationError(
            f"{where} must be a mapping with days, start, end and peak_power, got {item!r}"
        )
    checked_days = check_days(days, where)
    first = check_time(start, where)
    last = check_time(end, where, end=True)
    return PeakShavingPeriod(
        tuple(sorted(checked_days)),
        format_hhmm(first),
        format_hhmm(last),
        check_peak_power(power, where),
    )


def check_periods(periods: object) -> tuple[PeakShavingPeriod, ...]:
    """Every period checked, and none overlapping another on the same weekday."""
    if isinstance(periods, str | bytes | Mapping) or not isinstance(periods, Iterable):
        raise SigenValidationError(f"periods must be a list of periods, got {periods!r}")
    checked = tuple(check_period(item, number) for number, item in enumerate(periods, start=1))
    if len(checked) > MAX_PERIODS:
        raise SigenValidationError(
            f"A peak-shaving schedule holds at most {MAX_PERIODS} periods, got {len(checked)}"
        )
    check_day_periods(
        (frozenset(period.days), period.start_minute, period.end_minute) for period in checked
    )
    return checked


class PeakShavingArea(SettingsArea):
    """Peak shaving of a station; :class:`~.grid.GridApi` offers it."""

    async def get_peak_shaving(self, *, station_id: StationRef | None = None) -> PeakShaving:
        """Whether peak shaving is on, its SOC (%) and its weekly periods."""
        sid = await self._station(station_id)
        what = f"Reading the peak shaving of station {sid}"
        reply = await self._get(_PATH, sid, what)
        return PeakShaving.build(reply.object(), read_at=datetime.now(UTC))

    async def set_peak_shaving(
        self,
        *,
        enabled: bool | None = None,
        soc: int | None = None,
        periods: Iterable[PeakShavingPeriod | Mapping[str, Any]] | None = None,
        station_id: StationRef | None = None,
    ) -> PeakShaving:
        """Switch peak shaving, set its SOC (0-100 %) and/or replace its periods.

        What is left out is read first and written back as it is (the cloud takes only
        the whole schedule); ``periods=[]`` removes every period. Returns what was
        written.
        """
        if enabled is not None:
            check_bool("enabled", enabled)
        if soc is not None:
            soc = check_whole("The peak-shaving SOC", soc, 0, 100, "%")
        checked = None if periods is None else check_periods(periods)
        sid = await self._station(station_id)
        setting_list: object = None
        if checked is not None:
            setting_list = [period.to_payload() for period in checked]
        if enabled is None or soc is None or checked is None:
            current = await self.get_peak_shaving(station_id=sid)
            enabled = current.enabled if enabled is None else enabled
            soc = current.soc if soc is None else soc
            if setting_list is None:
                setting_list = _raw_setting_list(current)
        if soc is None:
            raise SigenValidationError(
                "The cloud reports no peak-shaving SOC to keep: give soc (0-100 %)"
            )
        body = {"controlMode": 1 if enabled else 0, "shavingSOC": soc, "settingList": setting_list}
        word = "Enabling" if enabled else "Disabling"
        count = len(setting_list) if isinstance(setting_list, list) else 0
        await self._request(
            "POST",
            _PATH,
            what=f"{word} peak shaving ({soc} %, {count} periods) of station {sid}",
            json={"stationId": body_station_id(sid), **body},
        )
        if checked is not None:
            return PeakShaving.build(body, periods=checked)
        return PeakShaving.build(body)


def _raw_setting_list(current: PeakShaving) -> object:
    """The periods exactly as the cloud gave them, to be sent back untouched.

    The parsed periods lack those the library cannot read (skipped) or could round
    (a peak power): rewriting the list from them would delete or change periods the
    owner set in the app. An answer without periods sends none.
    """
    for key in _PERIOD_KEYS:
        if key in current.raw:
            return copy.deepcopy(current.raw[key])
    return []

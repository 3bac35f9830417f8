"""The library's value parsers: one set of rules for the REST models and MQTT data.

The cloud sends the same kind of value in many spellings (``12``, ``"12"``,
``"12.0"``, ``"4.79 kWh"``, ``"1,234.5"``, ``"on"``, ``"enable"``), and the two APIs
and the MQTT push do not agree among themselves. Every parser here accepts all the
spellings seen on any path and never raises: a missing or unreadable value is
``None``, never 0 (the caller decides whether a missing value matters). Every zero a
parser gives is ``+0.0`` (a ``-0.0`` would show as "-0.00 kW").
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from .const import MANUAL_CONTROL_MODES, UNLIMITED_POWER_THRESHOLD_KW

_LOGGER = logging.getLogger(__name__)

#: How deep :func:`decode_nested_json` follows nested JSON strings and containers.
MAX_JSON_DEPTH: Final = 32
#: Epoch values beyond this are milliseconds, not seconds (year 5138 in seconds).
MS_THRESHOLD: Final = 100_000_000_000
#: Epoch seconds of 3000-01-01: a later instant is garbage, not a time.
_EPOCH_LIMIT_S: Final = 32_503_680_000
#: Longest status text kept (a status is a short word or code).
_MAX_STATUS_CHARS: Final = 64

#: A number (with an optional sign, fraction and exponent), then an optional unit.
_NUMBER_RE = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*)?$")
_POWER_FACTORS: Final = {"w": 0.001, "kw": 1.0, "mw": 1000.0, "gw": 1_000_000.0}
_ENERGY_FACTORS: Final = {"wh": 0.001, "kwh": 1.0, "mwh": 1000.0, "gwh": 1_000_000.0}
_TRUE_WORDS: Final = frozenset({"true", "on", "yes", "y", "enable", "enabled"})
_FALSE_WORDS: Final = frozenset({"false", "off", "no", "n", "disable", "disabled"})
_GRID_STATUS_WORDS: Final = {"ongrid": 0, "on_grid": 0, "offgrid": 1, "off_grid": 1}
#: Manual control's mode names (the library's, the app's labels) squashed → the library's.
_MANUAL_MODE_WORDS: Final = {
    **{name.replace("_", ""): name for name in MANUAL_CONTROL_MODES},
    "charging": "charge",
    "discharging": "discharge",
    "holdbattery": "hold",
    "selfconsumption": "self_consumption",
}
_MANUAL_MODE_BY_CODE: Final = {int(code): name for name, code in MANUAL_CONTROL_MODES.items()}


# --------------------------------------------------------------------------- numbers


def plus_zero(value: float) -> float:
    """``value`` with a zero always as ``+0.0`` (``-0.0`` would show as "-0.00 kW").

    The one rule of both paths (REST models, MQTT telemetry): every parsed, converted
    or negated zero is ``+0.0``.
    """
    return value + 0.0  # IEEE 754: -0.0 + 0.0 == +0.0, any other value is unchanged


def _split_text(text: str) -> tuple[float, str] | None:
    """``(number, unit)`` of a text: a leading number, then anything as its unit.

    A first word Python reads as a float wins (``"1740.0 W"``); else a number with
    thousands commas or a unit glued to it (``"1,234.5 kWh"``, ``"4.79kWh"``).
    """
    text = text.strip()
    if "," in text:
        text = text.replace(",", "")
    head, _, rest = text.partition(" ")
    try:
        return float(head), rest.strip()
    except ValueError:
        pass
    match = _NUMBER_RE.match(text)
    if match is None:
        return None
    try:
        return float(match.group(1)), (match.group(2) or "").strip()
    except ValueError:  # pragma: no cover - the regex only matches valid floats
        return None


def _split_number(value: object) -> tuple[float, str] | None:
    """``(number, unit)`` for numbers and strings like ``"4.79 kWh"``; else ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            parsed: tuple[float, str] | None = (float(value), "")
        except OverflowError:  # an int beyond a float's range (10**309): no usable number
            return None
    elif isinstance(value, str):
        parsed = _split_text(value)
    else:
        return None
    if parsed is None or not math.isfinite(parsed[0]):
        return None
    return plus_zero(parsed[0]), parsed[1]


def parse_number(value: object, *, limit: float = math.inf) -> float | None:
    """Return ``value`` as a float, or ``None`` if it holds no usable number.

    Accepts numbers and numeric strings with or without a unit: ``"4.79 kWh"`` → 4.79,
    ``"-4151.0"`` → -4151.0, ``"1,234.5"`` → 1234.5, ``12`` → 12.0. ``None``, ``""``,
    ``"--"``, booleans, NaN, infinities and magnitudes beyond ``limit`` give ``None``,
    never 0. The unit is dropped as is; use :func:`parse_power_kw` or
    :func:`parse_energy_kwh` to convert one.
    """
    number: float
    if type(value) is str:
        try:  # the common case first: a plain number as text (MQTT sends every value so)
            number = float(value)
        except ValueError:
            parsed = _split_text(value)
            if parsed is None:
                return None
            number = parsed[0]
    elif type(value) is float:  # the app API's usual case
        number = value
    else:
        parsed = _split_number(value)
        if parsed is None:
            return None
        number = parsed[0]
    if not -limit <= number <= limit or not math.isfinite(number):  # NaN fails both
        return None
    return number + 0.0  # never -0.0 (see plus_zero)


def parse_int(value: object, *, limit: float = math.inf) -> int | None:
    """Return ``value`` as an int (``"6.0"`` → 6), or ``None``; fractions are not rounded."""
    number = parse_number(value, limit=limit)
    if number is None or not number.is_integer():
        return None
    return int(number)


def _parse_with_unit(value: object, factors: Mapping[str, float], default: str) -> float | None:
    """The number of ``value`` converted by its unit (``default`` when it has none)."""
    parsed = _split_number(value)
    if parsed is None:
        return None
    number, unit = parsed
    unit = (unit or default).replace(" ", "").lower()
    factor = factors.get(unit)
    if factor is None:
        _LOGGER.debug("Unknown unit %r, keeping the number as it is", unit)
        factor = factors[default]
    return plus_zero(number * factor)


def parse_power_kw(value: object) -> float | None:
    """Return a power in kW: ``"0.00 kW"`` → 0.0, ``"500 W"`` → 0.5, ``1.5`` → 1.5 (kW)."""
    return _parse_with_unit(value, _POWER_FACTORS, "kw")


def parse_energy_kwh(value: object) -> float | None:
    """Return an energy in kWh: ``"4.79 kWh"`` → 4.79, ``"1.2 MWh"`` → 1200.0."""
    return _parse_with_unit(value, _ENERGY_FACTORS, "kwh")


def parse_limit_kw(value: object) -> float | None:
    """A power limit in kW (as :func:`parse_power_kw`); the cloud's "no limit" is ``None``.

    The cloud says "no limit" / "depends on the system" with ``"4294967.295"`` (any
    spelling of a number at or above :data:`~.const.UNLIMITED_POWER_THRESHOLD_KW`);
    shown as a number it would be 4.29 GW.
    """
    power = parse_power_kw(value)
    if power is None or power >= UNLIMITED_POWER_THRESHOLD_KW:
        return None
    return power


def parse_rounded_int(value: object) -> int | None:
    """``value`` rounded to an int (``"94.6"`` → 95), or ``None``: whole-% settings."""
    number = parse_number(value, limit=1e15)
    return None if number is None else round(number)


def parse_milli(value: object, *, limit: float = math.inf) -> float | None:
    """A thousandth of the number of ``value`` (W → kW, Wh → kWh), 6 decimals.

    For fields whose name states the unit (MQTT's ``pvPowerW``): a unit in the text
    is dropped, not converted, as :func:`parse_number` does.
    """
    number = parse_number(value, limit=limit)
    return None if number is None else plus_zero(round(number / 1000.0, 6))


def negate(value: float | None) -> float | None:
    """``-value`` (``0.0`` for zero, never ``-0.0``); ``None`` stays ``None``."""
    if value is None:
        return None
    return -value if value else 0.0


# --------------------------------------------------------------------------- flags, text


def parse_bool(value: object) -> bool | None:
    """Return ``value`` as a bool, else ``None``.

    True: ``True``, 1 (also ``"1"``, ``"1.0"``), ``"true"``, ``"on"``, ``"yes"``,
    ``"y"``, ``"enable"``, ``"enabled"``; false: their opposites and 0. Case and
    surrounding spaces do not matter; any other number or word is ``None``.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_WORDS:
            return True
        if text in _FALSE_WORDS:
            return False
    number = parse_number(value)
    if number in (0.0, 1.0):
        return number == 1.0
    return None


def parse_str(value: object) -> str | None:
    """Return ``value`` as a non-empty string (integral numbers are formatted), else ``None``."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer() and not math.isinf(value):
        return str(int(value))
    return None


def parse_id(value: object) -> str | None:
    """An identifier: :func:`parse_str` without surrounding spaces (``12`` → ``"12"``)."""
    text = parse_str(value)
    return None if text is None else text.strip()


def parse_str_list(value: object) -> list[str]:
    """Return the non-empty strings of a list (anything else gives ``[]``)."""
    if not isinstance(value, list):
        return []
    return [text for item in value if (text := parse_str(item)) is not None]


def parse_int_list(value: object) -> list[int] | None:
    """The integers of a list (others dropped), one number as a list of it, else ``None``."""
    if isinstance(value, list):
        return [number for item in value if (number := parse_int(item)) is not None]
    number = parse_int(value)
    return None if number is None else [number]


def parse_status(value: object) -> str | None:
    """A status code or word as text: ``1`` and ``"1.0"`` become ``"1"``, words stay.

    A text whose first word is a whole number is that number (``"1 W"`` → ``"1"``);
    other texts are stripped and cut at 64 characters; a fraction (``"1.5"``) stays as
    sent in a text and is ``None`` as a number.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        number = parse_int(text.split(maxsplit=1)[0]) if text else None
        return str(number) if number is not None else text[:_MAX_STATUS_CHARS] or None
    number = parse_int(value)
    return None if number is None else str(number)


def parse_grid_status(value: object) -> int | None:
    """``onOffGridStatus``: 0 on grid, 1 off grid (numbers kept; "onGrid"/"offGrid" mapped)."""
    if isinstance(value, str):
        word = _GRID_STATUS_WORDS.get(value.strip().lower())
        if word is not None:
            return word
    return parse_int(value)


def manual_mode_name(text: str) -> str | None:
    """The library's name of a manual-control mode spelt any way, else ``None``.

    Case, spaces, ``_`` and ``-`` do not matter (``"Self-Consumption"`` is
    ``"self_consumption"``); the app's labels ("Charging", "Hold Battery") are known.
    """
    squashed = re.sub(r"[\s_-]", "", text).lower()
    return _MANUAL_MODE_WORDS.get(squashed)


def parse_manual_mode(value: object) -> str | None:
    """Manual control's ``mode``, the cloud's code (``"0"`` … ``"3"``) or a name, as a name.

    An unknown code, ``""`` or anything else is ``None``.
    """
    code = parse_int(value)
    if code is not None:
        return _MANUAL_MODE_BY_CODE.get(code)
    if isinstance(value, str):
        return manual_mode_name(value)
    return None


def parse_reason_code(value: object) -> int:
    """An MQTT reason code (a paho ``ReasonCode`` has ``value``, or an int); -1 if unknown."""
    number = parse_int(getattr(value, "value", value))
    return -1 if number is None else number


# --------------------------------------------------------------------------- time


def parse_epoch(value: object) -> datetime | None:
    """Epoch seconds or milliseconds (told apart by size) as an aware UTC datetime.

    Before 1970 or after the year 3000 gives ``None``.
    """
    number = parse_number(value, limit=1e15)
    if number is None:
        return None
    if number > MS_THRESHOLD:
        number /= 1000.0
    if not 0 < number < _EPOCH_LIMIT_S:
        return None
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_timestamp_text(value: object) -> str | None:
    """A timestamp as the cloud sent it, as text (a number keeps its digits)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value.strip()[:_MAX_STATUS_CHARS] or None
    return None


# --------------------------------------------------------------------------- JSON, names


def decode_nested_json(data: object, _depth: int = 0) -> Any:
    """Decode the cloud's (sometimes double-encoded) ``data`` into plain Python.

    ``data`` may be an object, a JSON string holding an object or list, or a list of
    JSON strings; containers are walked recursively, so a JSON string inside a dict
    value (like a device's ``attrMap``) is decoded too. Strings that are not JSON
    objects or lists stay strings (``"pfh24"`` and ``"123"`` are left alone). Past
    :data:`MAX_JSON_DEPTH` levels the value is returned as it is.
    """
    if _depth >= MAX_JSON_DEPTH:
        return data
    if isinstance(data, str):
        return _decode_json_text(data, _depth)
    if isinstance(data, list):
        return [decode_nested_json(item, _depth + 1) for item in data]
    if isinstance(data, dict):
        return {key: decode_nested_json(value, _depth + 1) for key, value in data.items()}
    return data


def _decode_json_text(data: str, depth: int) -> Any:
    """A JSON object, list or string held in ``data``, decoded; other text as it is."""
    text = data.strip()
    if len(text) < 2 or (text[0], text[-1]) not in (("{", "}"), ("[", "]"), ('"', '"')):
        return data
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        return data
    if isinstance(decoded, str) and decoded == data:
        return data
    return decode_nested_json(decoded, depth + 1)


def method_suffix(label: str) -> str:
    """Turn a mode label or load name into a method-name suffix.

    Lower-cased, spaces and dashes become ``_``, every other character that is not an
    ASCII letter, digit or ``_`` is dropped: ``"Sigen AI Mode"`` → ``"sigen_ai_mode"``,
    ``"Maximum Self-Powered"`` → ``"maximum_self_powered"``.
    """
    text = label.strip().lower().replace(" ", "_").replace("-", "_")
    return re.sub(r"[^a-z0-9_]", "", text)

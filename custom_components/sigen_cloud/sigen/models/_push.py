"""Decoding of MQTT push payloads into the item objects the push models read.

The cloud sends a list of items, each ``{"deviceType": "system", "systemId": ...,
"statisticsTime": ..., "value": {...}}``; known variants are a single object instead
of a list, JSON text or bytes, and ``value`` as JSON text. A malformed item is skipped
with a reason; the reasons of one payload are logged as one warning.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from .._parse import parse_id

# Payloads larger than this are refused outright (a real message is about 2 kB).
MAX_PAYLOAD_BYTES = 1_000_000
# Items per payload beyond this are ignored (a real message holds one per system).
MAX_ITEMS = 1000
#: Longest system id accepted (real ones have 15 characters).
_MAX_SYSTEM_ID_CHARS = 128
_SYSTEM_ID_KEYS = ("systemId", "system_id", "snCode")


def loads(payload: bytes | bytearray | str, what: str) -> Any:
    """JSON text to Python; raises ``ValueError`` with a short reason."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"{what} payload too large ({len(payload)} bytes)")
    if isinstance(payload, bytes | bytearray):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"{what} payload is not UTF-8 text") from err
    try:
        return json.loads(payload)
    except RecursionError as err:
        raise ValueError(f"{what} payload is nested too deeply") from err
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} payload is not JSON ({err.msg})") from err
    except ValueError as err:  # e.g. integers with too many digits
        raise ValueError(f"{what} payload is not usable JSON ({err})") from err


def _item(item: object, index: int, what: str, skipped: list[str]) -> dict[str, Any] | None:
    """One item of a payload as a dict (decoded when it is JSON text), else ``None``."""
    decoded = item
    if isinstance(item, str | bytes | bytearray):
        try:
            decoded = loads(item, what)
        except ValueError as err:
            skipped.append(f"item {index}: {err}")
            return None
    if not isinstance(decoded, Mapping):
        skipped.append(f"item {index} is a {type(decoded).__name__}, not an object")
        return None
    return dict(decoded)


def items(payload: Any, what: str, skipped: list[str]) -> list[dict[str, Any]]:
    """The item dicts of a payload (list, single object, JSON text or bytes)."""
    if isinstance(payload, bytes | bytearray | str):
        try:
            payload = loads(payload, what)
        except ValueError as err:
            skipped.append(str(err))
            return []
    if isinstance(payload, Mapping):
        payload = [payload]
    if not isinstance(payload, list):
        skipped.append(f"{what} payload is a {type(payload).__name__}, not a list of objects")
        return []
    result = [
        decoded
        for index, item in enumerate(payload[:MAX_ITEMS])
        if (decoded := _item(item, index, what, skipped)) is not None
    ]
    if len(payload) > MAX_ITEMS:
        skipped.append(f"{len(payload) - MAX_ITEMS} items beyond the first {MAX_ITEMS}")
    return result


def item_values(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``value`` object of an item (decoded when it is JSON text); the item if flat."""
    value = item.get("value", item if "value" not in item else None)
    if isinstance(value, str | bytes | bytearray):
        try:
            value = loads(value, "value")
        except ValueError:
            return None
    if not isinstance(value, Mapping):
        return None
    return dict(value)


def system_id_of(item: Mapping[str, Any], values: Mapping[str, Any]) -> str | None:
    """The system id of an item: from the item, else from its values (text or integer)."""
    for source in (item, values):
        for key in _SYSTEM_ID_KEYS:
            candidate = source.get(key)
            if isinstance(candidate, float):
                continue  # a float is no id (and would lose digits)
            text = parse_id(candidate)
            if text and len(text) <= _MAX_SYSTEM_ID_CHARS:
                return text
    return None


def system_item(
    item: Mapping[str, Any], index: int, skipped: list[str]
) -> tuple[str, dict[str, Any]] | None:
    """The system id and ``value`` object of a system-level item, else ``None``.

    A device-level item is not ours and not an error; an item without a usable
    ``value`` or a system id is noted in ``skipped``.
    """
    device_type = item.get("deviceType")
    if device_type is not None and (
        not isinstance(device_type, str) or device_type.lower() != "system"
    ):
        return None
    values = item_values(item)
    if values is None:
        skipped.append(f"item {index} has no usable 'value' object")
        return None
    system_id = system_id_of(item, values)
    if system_id is None:
        skipped.append(f"item {index} has no systemId")
        return None
    return system_id, values


def parse_guarded[T](
    what: str,
    payload: Any,
    parse_item: Callable[[dict[str, Any], int, list[str]], T | None],
    logger: logging.Logger,
) -> list[T]:
    """Every item ``parse_item`` reads; never raises, warns once about the skipped ones."""
    skipped: list[str] = []
    results: list[T] = []
    try:
        for index, item in enumerate(items(payload, what, skipped)):
            parsed = parse_item(item, index, skipped)
            if parsed is not None:
                results.append(parsed)
    except Exception as err:  # a parser must never raise
        skipped.append(f"unexpected {type(err).__name__}")
    if skipped:
        shown = "; ".join(reason[:200] for reason in skipped[:3])
        more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
        logger.warning("Skipped malformed %s data: %s%s", what, shown, more)
    return results


def merge_raw(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``new`` over ``old``, their ``value`` objects merged too."""
    merged = {**old, **new}
    old_value, new_value = old.get("value"), new.get("value")
    if isinstance(old_value, Mapping) and isinstance(new_value, Mapping):
        merged["value"] = {**old_value, **new_value}
    return merged

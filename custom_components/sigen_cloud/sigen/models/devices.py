"""A station's alarm list and device tree (app API, §7.16 and §7.17 of the API notes).

Two record field sets of ``device/alarm/page`` are seen and both are read: one with
``alarmName``, ``cause``, ``fixSuggest``, ``alarmLevel``, ``deviceSnCode`` and the
sub-code ``chlidAlarmCode`` (sic), the other with ``alarmDesc`` and ``alarmType``.
Whether ``alarmTime`` is in seconds or milliseconds is unknown: :func:`parse_epoch`
tells them apart by size. Whether recovered alarms are listed is unknown too; a
record that says it recovered (``recovered``/``status``/``alarmStatus``, or a
``recoverTime``) has ``active`` false.

The device tree (``device/devicetreepanel/topology``) nests nodes in ``nodeList``;
:func:`devices_in_tree` flattens it, each node knowing its parent's serial. The app
API's model and firmware keys are unknown: plausible keys and the northbound names
(``pn``, ``firmwareVersion``) are read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from .._parse import parse_epoch, parse_id, parse_int, parse_str
from ..errors import SigenAPIError
from ._base import SigenModel, wire

_LOGGER = logging.getLogger(__name__)

type DeviceKind = Literal["aio", "inverter", "battery", "dc_charger", "ac_charger", "gateway"]

#: ``deviceType`` codes of the topology (§7.17).
DEVICE_KINDS: Final[dict[int, DeviceKind]] = {
    2: "aio",
    3: "inverter",
    4: "battery",
    5: "dc_charger",
    8: "gateway",
}
#: How deep a tree is followed (a loop or a hostile answer ends there).
MAX_TREE_DEPTH: Final = 8
#: Statuses that say an alarm recovered (case-insensitive text, or these numbers).
_RECOVERED_WORDS: Final = frozenset({"recovery", "recovered", "cleared", "closed", "resolved"})


def _parse_recovered(value: object) -> bool | None:
    """Whether a record's status says it recovered (``None``: it does not say)."""
    if isinstance(value, bool):
        return value
    text = parse_str(value)
    if text is None:
        return None
    lowered = text.lower()
    if lowered in _RECOVERED_WORDS:
        return True
    if lowered in {"generation", "active", "open", "raised"}:
        return False
    return None


@dataclass(frozen=True)
class AlarmRecord(SigenModel):
    """One alarm of the station's alarm list.

    ``time`` is an aware UTC datetime (``alarmTime`` in s or ms); ``name`` the alarm's
    name or description; ``device_serial`` the device it concerns (``None`` when the
    record does not say). ``active`` is false only when the record says it recovered.
    ``level`` is the record's ``alarmLevel``; ``alarm_type`` its ``alarmType`` (a kind
    of alarm, not a level: the field set that has it names no level).
    """

    WHAT = "an alarm record"

    code: str = wire("alarmCode", parse_id, "code", required="alarm code (alarmCode)")
    id: str | None = wire("id", parse_id, "alarmId")
    sub_code: str | None = wire("chlidAlarmCode", parse_id, "childAlarmCode", "subAlarmCode")
    name: str | None = wire("alarmName", parse_str, "alarmDesc", "alarmReasonIdName")
    cause: str | None = wire("cause", parse_str, "alarmReasonIdName")
    fix_suggestion: str | None = wire("fixSuggest", parse_str, "fixSuggestion")
    level: int | None = wire("alarmLevel", parse_int, "level")
    alarm_type: int | None = wire("alarmType", parse_int)
    device_serial: str | None = wire("deviceSnCode", parse_id, "rawDeviceSnCode", "snCode")
    time: datetime | None = wire("alarmTime", parse_epoch, "changeTime", "createTime")
    time_text: str | None = wire("alarmTimeStr", parse_str)
    recovered: bool | None = wire("recovered", _parse_recovered, "status", "alarmStatus")
    recovered_at: datetime | None = wire("recoverTime", parse_epoch, "recoveryTime")

    @property
    def active(self) -> bool:
        """Whether the alarm is still raised (a listed record without a recovery is)."""
        return not (self.recovered or self.recovered_at is not None)


def _parse_kind(value: object) -> DeviceKind | None:
    code = parse_int(value)
    return None if code is None else DEVICE_KINDS.get(code)


@dataclass(frozen=True)
class DeviceNode(SigenModel):
    """A device of the station's tree: its serial, kind, model, firmware and state.

    ``kind`` follows ``deviceType`` (2 AIO, 3 inverter, 4 battery, 5 DC charger, 8
    gateway; an AC charger is told by its description; ``None`` for another code).
    ``parent_serial`` is the serial of the node holding it (``None`` at the top).
    ``online`` is ``communicateStatus`` 2 (1 offline; ``None`` when not sent).
    """

    WHAT = "a device node"

    serial: str = wire("snCode", parse_id, "showSnCode", "serialNumber", required="serial (snCode)")
    device_type: int | None = wire("deviceType", parse_int)
    type_name: str | None = wire("deviceTypeDesc", parse_str)
    shown_serial: str | None = wire("showSnCode", parse_id)
    model: str | None = wire("deviceModel", parse_str, "model", "productModel", "pn", "modelName")
    firmware: str | None = wire(
        "firmwareVersion", parse_str, "softwareVersion", "firmware", "version", "swVersion"
    )
    status: int | None = wire("deviceStatus", parse_int)
    communicate_status: int | None = wire("communicateStatus", parse_int)
    kind: DeviceKind | None = None
    parent_serial: str | None = None

    @property
    def online(self) -> bool | None:
        """Whether the device talks to the cloud (``communicateStatus`` 2)."""
        return {1: False, 2: True}.get(self.communicate_status or 0)

    @classmethod
    def _derive(cls, values: dict[str, Any]) -> None:
        if values.get("kind") is None:
            values["kind"] = _kind_of(values.get("device_type"), values.get("type_name"))


def _kind_of(device_type: int | None, type_name: str | None) -> DeviceKind | None:
    """The kind of a node: its ``deviceType``, else what its description says."""
    if device_type is not None and device_type in DEVICE_KINDS:
        return DEVICE_KINDS[device_type]
    text = (type_name or "").lower().replace(" ", "")
    if "evac" in text or ("ac" in text and ("charger" in text or "evse" in text)):
        return "ac_charger"
    if "evdc" in text or ("dc" in text and ("charger" in text or "evse" in text)):
        return "dc_charger"
    return None


def devices_in_tree(what: str, data: object) -> list[DeviceNode]:
    """Every readable node of a topology answer, parents before their children.

    ``data`` is the object with ``nodeList`` (a bare list of nodes is read too). A node
    that is not an object or has no serial is skipped (logged once per answer), its
    children still read; a serial seen twice is kept once.
    """
    found: list[DeviceNode] = []
    seen: set[str] = set()
    skipped = 0
    pending: list[tuple[object, str | None, int]] = [(data, None, 0)]
    while pending:
        item, parent, depth = pending.pop(0)
        if depth > MAX_TREE_DEPTH:
            continue
        if isinstance(item, list):
            pending[:0] = [(child, parent, depth) for child in item]
            continue
        if not isinstance(item, dict):
            skipped += 1
            continue
        serial = parent
        is_root = depth == 0 and "nodeList" in item and "snCode" not in item
        if not is_root:
            try:
                node = DeviceNode.build(item, parent_serial=parent)
            except SigenAPIError:
                skipped += 1
            else:
                serial = node.serial
                if serial not in seen:
                    seen.add(serial)
                    found.append(node)
        children = item.get("nodeList")
        if isinstance(children, list):
            pending[:0] = [(child, serial, depth + 1) for child in children]
    if skipped:
        _LOGGER.warning("%s: skipped %d unreadable device node(s)", what, skipped)
    return found


__all__ = ["DEVICE_KINDS", "AlarmRecord", "DeviceKind", "DeviceNode", "devices_in_tree"]

"""Operational modes of the app API: the station's modes, its current one, switching.

Finding a mode's label is pure (:func:`label_of`, :func:`find_by_name`): it works on a
mode list the caller already has, so that reading the current mode is one request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from .._envelope import Reply, expect_list, parse_each
from .._parse import method_suffix
from ..const import APP_DEFAULT_PROFILE_ID
from ..errors import SigenValidationError
from ..models import CurrentMode, OperationalMode
from ._transport import AppTransport


def label_of(modes: Sequence[OperationalMode], mode: int, profile_id: int) -> str | None:
    """The label of ``mode`` (with ``profile_id`` for a custom profile) among ``modes``."""
    if profile_id != APP_DEFAULT_PROFILE_ID:
        for item in modes:
            if item.is_profile and item.profile_id == profile_id:
                return item.label
    for item in modes:
        if not item.is_profile and item.value == mode:
            return item.label
    return None


def with_label(current: CurrentMode, modes: Sequence[OperationalMode]) -> CurrentMode:
    """``current`` with its label looked up in ``modes`` (``None`` when not there)."""
    return replace(current, label=label_of(modes, current.mode, current.profile_id))


def describe(current: CurrentMode) -> str:
    """The current mode's label, or ``"Unknown mode <n>"`` when it has none."""
    if current.label is not None:
        return current.label
    if current.profile_id != APP_DEFAULT_PROFILE_ID:
        return f"Unknown mode {current.mode} (profile {current.profile_id})"
    return f"Unknown mode {current.mode}"


def check_mode(mode: object, profile_id: object) -> None:
    """Raise :class:`SigenValidationError` unless both are integers."""
    if isinstance(mode, bool) or not isinstance(mode, int):
        raise SigenValidationError(f"The operational mode must be an integer, got {mode!r}")
    if isinstance(profile_id, bool) or not isinstance(profile_id, int):
        raise SigenValidationError(f"The profile id must be an integer, got {profile_id!r}")


def find_by_name[T](items: Sequence[T], name: str, name_of: Callable[[T], str]) -> T | None:
    """The item named ``name`` (case-insensitive), else ``None``.

    The method-name form of a name (``"sigen_ai_mode"``) matches too.
    """
    wanted = name.strip().casefold()
    for item in items:
        if name_of(item).strip().casefold() == wanted:
            return item
    for item in items:
        if method_suffix(name_of(item)) == method_suffix(name):
            return item
    return None


def _parse_modes(reply: Reply) -> list[OperationalMode]:
    """The modes of an answer: a plain list, or the default modes then the profiles."""
    items: list[tuple[Callable[[Any], OperationalMode], Any]]
    if isinstance(reply.data, list):
        items = [(OperationalMode.from_dict, item) for item in reply.data]
    else:
        body = reply.object()
        defaults = expect_list(reply.what, body.get("defaultWorkingModes"), reply.answer)
        profiles = expect_list(reply.what, body.get("energyProfileItems"), reply.answer)
        items = [(OperationalMode.from_default, item) for item in defaults]
        items += [(OperationalMode.from_profile, item) for item in profiles]
    return parse_each(reply.what, items, lambda pair: pair[0](pair[1]), "mode")


class ModesApi:
    """A station's operational modes (app API). Holds no state."""

    def __init__(self, transport: AppTransport) -> None:
        """Send through ``transport``."""
        self._request = transport.request

    async def get_all(self, station_id: str) -> list[OperationalMode]:
        """All modes: the default ones, then the custom energy profiles (mode 9)."""
        reply = await self._request(
            "GET",
            f"device/energy-profile/mode/all/{quote(station_id, safe='')}",
            what=f"Reading the operational modes of station {station_id}",
        )
        return _parse_modes(reply)

    async def get_current(
        self, station_id: str, known: Sequence[OperationalMode] = ()
    ) -> CurrentMode:
        """The current mode (value, profile id), one request.

        Its label is looked up in ``known`` (the station's modes the caller has); with
        none, or a mode not among them, ``label`` is ``None``.
        """
        reply = await self._request(
            "GET",
            f"device/energy-profile/mode/current/{quote(station_id, safe='')}",
            what=f"Reading the current operational mode of station {station_id}",
        )
        return with_label(CurrentMode.from_dict(reply.object()), known)

    async def switch(
        self,
        station_id: str,
        mode: int,
        profile_id: int = APP_DEFAULT_PROFILE_ID,
        *,
        label: str | None = None,
    ) -> None:
        """Switch the station's mode.

        A default mode's value with ``profile_id=-1``, or 9 with a custom profile's id;
        ``label`` only names the mode in errors.
        """
        check_mode(mode, profile_id)
        what = f"Switching station {station_id} to the operational mode " + (
            repr(label) if label else f"{mode} (profile {profile_id})"
        )
        await self._request(
            "PUT",
            "device/energy-profile/mode",
            what=what,
            json={
                # The app API sends and expects the station id as a number.
                "stationId": int(station_id) if station_id.isdigit() else station_id,
                "operationMode": mode,
                "profileId": profile_id,
            },
        )

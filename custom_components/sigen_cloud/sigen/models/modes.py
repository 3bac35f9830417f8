"""The station's operational modes: the ones it offers and the one it is in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from .._parse import method_suffix, parse_int, parse_str
from ..const import APP_DEFAULT_PROFILE_ID, APP_MODE_CUSTOM_PROFILE
from ._base import SigenModel, first_parsed, require_mapping, wire

MODE_METHOD_PREFIX = "set_operational_mode_"


@dataclass(frozen=True)
class OperationalMode(SigenModel):
    """One operational mode the station can be switched to.

    Default modes (``defaultWorkingModes``: ``{"label", "value"}``) have
    ``profile_id == -1``; custom energy profiles (``energyProfileItems``: ``{"name",
    "profileId", "value"}``, value 9) have ``is_profile`` set and their own
    ``profile_id``. ``method_name`` is the dynamic method of :class:`Sigen` that selects
    it (``set_operational_mode_<label>``).
    """

    WHAT = "an operational mode"

    label: str = wire("label", parse_str, "name", required="label")
    value: int = wire("value", parse_int, required="integer value")
    profile_id: int = APP_DEFAULT_PROFILE_ID
    is_profile: bool = False
    method_name: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a default-mode or a profile item (detected by ``profileId``)."""
        raw = require_mapping(cls.WHAT, data)
        if "profileId" in raw:
            return cls.from_profile(raw)
        return cls.from_default(raw)

    @classmethod
    def from_default(cls, data: Mapping[str, Any]) -> Self:
        """Build from a ``defaultWorkingModes`` item (``value`` is often a string)."""
        return cls.build(require_mapping(cls.WHAT, data))

    @classmethod
    def from_profile(cls, data: Mapping[str, Any]) -> Self:
        """Build from an ``energyProfileItems`` item (a custom profile, mode 9).

        The profile's ``name`` comes before a ``label``; without a ``value`` it is 9.
        """
        raw = require_mapping("an energy profile", data)
        profile_id = parse_int(raw.get("profileId"))
        if profile_id is None:
            raise cls.unreadable(raw, "profileId", "integer profileId")
        value = parse_int(raw.get("value"))
        return cls.build(
            raw,
            label=first_parsed(raw, ("name", "label"), parse_str),
            value=APP_MODE_CUSTOM_PROFILE if value is None else value,
            profile_id=profile_id,
            is_profile=True,
        )

    @classmethod
    def _derive(cls, values: dict[str, Any]) -> None:
        """The dynamic method's name follows the label."""
        values["method_name"] = MODE_METHOD_PREFIX + method_suffix(values["label"])


@dataclass(frozen=True)
class CurrentMode(SigenModel):
    """The station's current mode.

    ``mode`` (int), ``profile_id`` (-1 for default modes) and ``label`` when the mode
    is among the known ones.
    """

    WHAT = "the current mode"

    mode: int = wire("currentMode", parse_int, required=True)
    profile_id: int = wire("currentProfileId", parse_int, default=APP_DEFAULT_PROFILE_ID)
    label: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], label: str | None = None) -> Self:
        """Build from ``mode/current`` (``currentMode``, ``currentProfileId``)."""
        return cls.build(require_mapping(cls.WHAT, data), label=label)

"""Grid settings of the app API: export/import limitation, connection current, PV limit.

The owner may only lower a limit below the installer's ceiling; each model gives the
limit in force (the owner's, else the effective one the cloud reports) beside that
ceiling. Values come as text (``"17.000"`` kW, ``"32.0"`` A), an unset owner value as
``""`` or ``null``, and "no limit" as ``"4294967.295"`` (``None`` here).
"""

from __future__ import annotations

from dataclasses import dataclass

from .._parse import parse_bool, parse_limit_kw, parse_number
from ._base import SigenModel, wire


@dataclass(frozen=True)
class GridLimit(SigenModel):
    """The grid export or import limitation.

    ``enabled`` (``enable``), ``limit`` in kW (the owner's ``maxLimitationOwner``, else
    the effective ``maxLimitation``) and ``installer_limit`` in kW, the ceiling
    (``maxLimitationInstaller``; ``None`` when the cloud gives none).
    """

    WHAT = "the grid limitation"

    enabled: bool = wire("enable", parse_bool, "enabled", default=False)
    limit: float | None = wire("maxLimitationOwner", parse_limit_kw, "maxLimitation")
    installer_limit: float | None = wire("maxLimitationInstaller", parse_limit_kw)


@dataclass(frozen=True)
class GridCurrentLimit(SigenModel):
    """The grid connection current limit ("Max Grid Connection Current"), amperes.

    ``enabled`` (``enable``), ``limit`` in A (the owner's ``ownerSetLimitation``, ``""``
    until the owner lowers it, else the effective ``currentLimitation``) and
    ``installer_limit`` in A, the ceiling (``installerSetLimitation``).
    """

    WHAT = "the grid connection current limit"

    enabled: bool = wire("enable", parse_bool, "enabled", default=False)
    limit: float | None = wire("ownerSetLimitation", parse_number, "currentLimitation")
    installer_limit: float | None = wire("installerSetLimitation", parse_number)


@dataclass(frozen=True)
class PvLimit(SigenModel):
    """The PV (solar) power limit, kW (``powerLimit``); ``None`` is no limit."""

    WHAT = "the PV power limit"

    limit: float | None = wire("powerLimit", parse_limit_kw)

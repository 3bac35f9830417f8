"""Instant manual control of the app API: whether it runs, in which mode, until when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .._parse import parse_bool, parse_epoch, parse_manual_mode
from ._base import SigenModel, wire


@dataclass(frozen=True)
class ManualControl(SigenModel):
    """The station's instant manual control (``instant/manunal``, the cloud's spelling).

    ``active`` is the cloud's ``enable``, the one key that tells whether manual control
    runs: after a stop the cloud keeps the last session's ``mode`` and ``ends_at``.
    ``mode`` is ``"charge"``, ``"discharge"``, ``"hold"`` or ``"self_consumption"``
    (the cloud's codes ``"0"`` … ``"3"``; ``None`` when unknown) and ``ends_at`` an
    aware UTC datetime (the cloud's ``endTime``, epoch seconds as text).
    """

    WHAT = "the manual control"

    active: bool = wire("enable", parse_bool, "enabled", default=False)
    mode: str | None = wire("mode", parse_manual_mode)
    ends_at: datetime | None = wire("endTime", parse_epoch)

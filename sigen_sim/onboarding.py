"""Onboarding of systems for the northbound API and MQTT (owner approval included).

A northbound onboard of a system is pending (code 1116) until its owner approves it
(``sim.approve_onboarding``, the control API, or ``SimConfig.auto_approve``); only
onboarded systems get telemetry and accept instructions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .config import SimConfig

OnboardState = Literal["pending", "approved"]


class Onboarding:
    """Who asked for which system and whether its owner approved."""

    def __init__(self, config: SimConfig, known: Callable[[str], bool]) -> None:
        """Approval needed unless ``config.auto_approve``; ``known``: a system of the account."""
        self.config = config  # read at each onboard: tests switch auto_approve on the fly
        self.known = known
        self.states: dict[str, OnboardState] = {}
        self.onboarded: set[str] = set()

    def onboard(self, system_id: str) -> tuple[bool, list[int]]:
        """Northbound onboard of one system: (result, codeList)."""
        if not self.known(system_id):
            return False, [1106]
        if self.config.auto_approve:
            self.states[system_id] = "approved"
        if self.states.get(system_id) == "approved":
            self.onboarded.add(system_id)
            return True, []
        self.states[system_id] = "pending"
        return False, [1116]

    def offboard(self, system_id: str) -> tuple[bool, list[int]]:
        """Northbound offboard of one system: (result, codeList)."""
        if not self.known(system_id):
            return False, [1106]
        self.onboarded.discard(system_id)
        return True, []

    def approve(self, system_id: str) -> None:
        """The owner accepts the onboarding request (a pending onboard completes)."""
        if not self.known(system_id):
            raise KeyError(f"No simulated system {system_id!r}")
        was_pending = self.states.get(system_id) == "pending"
        self.states[system_id] = "approved"
        if was_pending:
            self.onboarded.add(system_id)

    def reset(self, system_id: str | None = None) -> None:
        """Forget onboarding and approval of one system, or of all."""
        if system_id is None:
            self.states.clear()
            self.onboarded.clear()
        else:
            self.states.pop(system_id, None)
            self.onboarded.discard(system_id)

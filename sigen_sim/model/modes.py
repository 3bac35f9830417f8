"""Operational modes as the app API numbers them, and their labels."""

from __future__ import annotations

MODE_MSC = 0  # Maximum Self-Powered
MODE_AI = 1  # Sigen AI Mode
MODE_TOU = 2
MODE_FFG = 5  # Fully Fed to Grid
MODE_VPP = 6
MODE_REMOTE_EMS = 7
MODE_NBI = 8
MODE_CUSTOM = 9

DEFAULT_WORKING_MODES: list[tuple[str, int]] = [
    ("Sigen AI Mode", MODE_AI),
    ("Maximum Self-Powered", MODE_MSC),
    ("TOU", MODE_TOU),
    ("Fully Fed to Grid", MODE_FFG),
    ("Remote EMS Mode", MODE_REMOTE_EMS),
]
ALL_MODES = {MODE_MSC, MODE_AI, MODE_TOU, MODE_FFG, MODE_VPP, MODE_REMOTE_EMS, MODE_NBI}
REMOTE_MODES = {MODE_VPP, MODE_REMOTE_EMS, MODE_NBI}


def mode_label(mode: int, profile_id: int, profiles: list[tuple[str, int]]) -> str:
    """The name the app shows for a mode (a custom profile's own name for mode 9)."""
    if mode == MODE_CUSTOM:
        return next((n for n, pid in profiles if pid == profile_id), "Custom")
    names = dict((v, k) for k, v in DEFAULT_WORKING_MODES)
    names.update({MODE_VPP: "VPP", MODE_NBI: "North Bound"})
    return names.get(mode, str(mode))

"""Shared test set-up: make the integration importable and load the simulator fixtures."""

from __future__ import annotations

import custom_components  # noqa: F401  (lets Home Assistant find custom_components/sigen_cloud)

pytest_plugins = ["sigen_sim.pytest_plugin"]

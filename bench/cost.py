"""Import time of the integration, in fresh interpreters."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from .harness import median

ROOT = Path(__file__).resolve().parent.parent

# What Home Assistant has imported anyway before it loads a custom integration with
# these platforms: the integration's own cost is measured on top of it.
HA_PRELOAD = (
    "homeassistant.core",
    "homeassistant.config_entries",
    "homeassistant.helpers.config_validation",
    "homeassistant.helpers.update_coordinator",
    "homeassistant.helpers.entity_platform",
    "homeassistant.helpers.aiohttp_client",
    "homeassistant.helpers.device_registry",
    "homeassistant.helpers.issue_registry",
    "homeassistant.components.sensor",
    "homeassistant.components.binary_sensor",
    "homeassistant.components.number",
    "homeassistant.components.select",
    "homeassistant.components.switch",
    "homeassistant.components.event",
    "aiohttp",
)
# The recorder, which the integration's statistics import (after_dependencies) and which
# Home Assistant sets up before it wherever it runs (default_config has it): the
# integration's import is also timed with it loaded, so that its own share shows.
RECORDER = (
    "homeassistant.components.recorder",
    "homeassistant.components.recorder.models",
    "homeassistant.components.recorder.statistics",
)
OURS = (
    "custom_components.sigen_cloud",
    "custom_components.sigen_cloud.sensor",
    "custom_components.sigen_cloud.binary_sensor",
    "custom_components.sigen_cloud.number",
    "custom_components.sigen_cloud.select",
    "custom_components.sigen_cloud.switch",
    "custom_components.sigen_cloud.event",
)

_TIMER = """
import sys, time
for name in {preload!r}:
    __import__(name)
t0 = time.perf_counter()
for name in {ours!r}:
    __import__(name)
print(time.perf_counter() - t0)
"""

_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _run(code: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own interpreter, fixed code)
        [sys.executable, *extra, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )


def import_time(runs: int = 5) -> dict[str, Any]:
    """Seconds to import the integration and its platforms on top of what Home Assistant
    has loaded anyway (median of fresh interpreters), the library alone, and where the
    time goes (``-X importtime`` self times)."""
    on_top = [
        float(_run(_TIMER.format(preload=HA_PRELOAD, ours=OURS)).stdout.split()[-1])
        for _ in range(runs)
    ]
    with_recorder = [
        float(_run(_TIMER.format(preload=HA_PRELOAD + RECORDER, ours=OURS)).stdout.split()[-1])
        for _ in range(runs)
    ]
    library = [
        float(_run(_TIMER.format(preload=(), ours=("sigen",))).stdout.split()[-1])
        for _ in range(runs)
    ]
    # Where it goes: -X importtime of the integration on top of the preload.
    code = "\n".join(f"import {m}" for m in HA_PRELOAD) + "\nimport sys\n"
    code += "sys.stderr.write('=== ours\\n')\n" + "\n".join(f"import {m}" for m in OURS)
    trace = _run(code, "-X", "importtime").stderr.split("=== ours\n", 1)[-1]
    by_group: dict[str, float] = {}
    modules: list[tuple[str, float]] = []
    for match in _LINE.finditer(trace):
        self_us, name = int(match.group(1)), match.group(4)
        if name.startswith("custom_components"):
            group = "integration + library"
        elif name.split(".")[0] in {"aiomqtt", "paho", "Crypto"}:
            group = "dependencies (aiomqtt, paho, pycryptodome)"
        elif name.startswith("homeassistant"):
            group = "Home Assistant modules not yet loaded"
        else:
            group = "other (stdlib, ...)"
        by_group[group] = by_group.get(group, 0.0) + self_us / 1e6
        modules.append((name, self_us / 1e6))
    modules.sort(key=lambda item: -item[1])
    return {
        "integration_on_top_of_ha_s": median(on_top),
        "integration_on_top_of_ha_runs": on_top,
        "integration_on_top_of_ha_and_recorder_s": median(with_recorder),
        "integration_on_top_of_ha_and_recorder_runs": with_recorder,
        "library_alone_s": median(library),
        "self_time_by_group_s": by_group,
        "slowest_modules": modules[:10],
    }

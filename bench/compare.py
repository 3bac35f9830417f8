"""Every figure of two (or three) results JSONs side by side, as a Markdown table.

``python -m bench.compare BEFORE.json AFTER.json [SAME_DATA.json]`` prints one row per
figure: before, after and, when given, after measured on the data ``BEFORE`` read
(``python -m bench --baseline-data``), with the change of the like-for-like pair in per
cent. bench/README.md's before-and-after table is made with it. A figure missing from
a file shows as ``-``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

type Getter = Callable[[dict[str, Any]], float | None]


def _get(*path: str) -> Getter:
    def get(results: dict[str, Any]) -> float | None:
        node: Any = results
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return float(node) if isinstance(node, int | float) else None

    return get


def _endpoints(results: dict[str, Any]) -> list[str]:
    return sorted(results.get("steady", {}).get("default", {}).get("by_endpoint", {}))


# (label, getter, unit, scale, lower is better); unit "" is a count.
Row = tuple[str, Getter, str, float, bool]


def _rows(files: list[dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    for key, name in (
        ("ours_ha", "start-up in HA (`async_setup_entry` → every entity has a state)"),
        ("ours_library", "library `async_initialize()`"),
        ("peer_init", "peer 3.0.3 `async_initialize()` (not our code: a noise gauge)"),
        ("peer_same_data", "peer 3.0.3 init + energy flow + current mode (noise gauge)"),
    ):
        rows += [
            (f"1-2 {name}: time", _get("startup", key, "seconds_median"), "ms", 1e3, True),
            (
                f"1-2 {name}: time, +2 RTT per new connection",
                _get("startup", f"{key}+handshakes", "seconds_median"),
                "ms",
                1e3,
                True,
            ),
            (f"1-2 {name}: requests", _get("startup", key, "requests"), "", 1, True),
            (f"1-2 {name}: TCP connections", _get("startup", key, "connections"), "", 1, True),
        ]
    steady = ("steady", "default")
    rows.append(("3 steady hour: requests", _get(*steady, "requests"), "", 1, True))
    endpoints = sorted({e for results in files for e in _endpoints(results)})
    rows += [
        (f"3 steady hour: `{e}`", _get(*steady, "by_endpoint", e), "", 1, True) for e in endpoints
    ]
    rows += [
        ("3 steady hour: app logins", _get(*steady, "logins", "app_login"), "", 1, True),
        ("3 steady hour: northbound logins", _get(*steady, "logins", "nb_login"), "", 1, True),
        (
            "3 steady hour: new TCP connections (15 s keep-alive)",
            _get(*steady, "new_connections"),
            "",
            1,
            True,
        ),
        (
            "3 steady hour: new TCP connections (90 s keep-alive)",
            _get("steady", "keepalive_90s", "new_connections"),
            "",
            1,
            True,
        ),
        ("3 steady hour: MQTT disconnections", _get(*steady, "mqtt_disconnects"), "", 1, True),
    ]
    tokens = ("steady", "tokens_20min")
    rows += [
        ("3 tokens living 20 min: requests", _get(*tokens, "requests"), "", 1, True),
        (
            "3 tokens living 20 min: app token refreshes",
            _get(*tokens, "logins", "app_refresh"),
            "",
            1,
            True,
        ),
        (
            "3 tokens living 20 min: northbound logins",
            _get(*tokens, "logins", "nb_login"),
            "",
            1,
            True,
        ),
        (
            "3 tokens living 20 min: MQTT disconnections",
            _get(*tokens, "mqtt_disconnects"),
            "",
            1,
            True,
        ),
        ("4 push latency p50", _get("push", "p50_ms"), "ms", 1, True),
        ("4 push latency p99", _get("push", "p99_ms"), "ms", 1, True),
        ("4 push latency max", _get("push", "max_ms"), "ms", 1, True),
        ("4 push messages lost", _get("push", "lost"), "", 1, True),
    ]
    for n in ("1", "10", "100"):
        ha = ("throughput", "home_assistant", n)
        rows += [
            (
                f"5 {n} station(s): parse alone, msg/s",
                _get("throughput", "parse", n, "per_second"),
                "/s",
                1,
                False,
            ),
            (
                f"5 {n} station(s): into HA in-process, msg/s",
                _get(*ha, "in_process", "per_second"),
                "/s",
                1,
                False,
            ),
            (
                f"5 {n} station(s): into HA via broker, msg/s",
                _get(*ha, "via_broker", "per_second"),
                "/s",
                1,
                False,
            ),
            (
                f"5 {n} station(s): CPU per message into HA",
                _get(*ha, "in_process", "cpu_ms_per_message"),
                "µs",
                1e3,
                True,
            ),
        ]
    rows += [
        (
            "6 import of the integration + platforms on top of HA",
            _get("cost", "import", "integration_on_top_of_ha_s"),
            "ms",
            1e3,
            True,
        ),
        (
            "6 the same, with HA's recorder loaded too",
            _get("cost", "import", "integration_on_top_of_ha_and_recorder_s"),
            "ms",
            1e3,
            True,
        ),
        (
            "6 import of the library alone",
            _get("cost", "import", "library_alone_s"),
            "ms",
            1e3,
            True,
        ),
        (
            "6 memory per config entry, app account only",
            _get("cost", "memory_per_entry", "poll", "bytes_median"),
            "KiB",
            1 / 1024,
            True,
        ),
        (
            "6 memory per config entry, with push",
            _get("cost", "memory_per_entry", "push", "bytes_median"),
            "KiB",
            1 / 1024,
            True,
        ),
        (
            "6 CPU per message, parse alone (1 station)",
            _get("throughput", "parse", "1", "cpu_us_per_message"),
            "µs",
            1,
            True,
        ),
    ]
    for n in ("1", "10", "50"):
        rows += [
            (f"7 {n} station(s): start-up", _get("scale", n, "seconds_median"), "ms", 1e3, True),
            (
                f"7 {n} station(s): start-up, 100 ms broker RTT",
                _get("scale", n, "seconds_median_mqtt_rtt"),
                "ms",
                1e3,
                True,
            ),
            (f"7 {n} station(s): requests", _get("scale", n, "requests"), "", 1, True),
            (f"7 {n} station(s): TCP connections", _get("scale", n, "connections"), "", 1, True),
            (
                f"7 {n} station(s): memory",
                _get("scale", n, "memory_bytes"),
                "KiB",
                1 / 1024,
                True,
            ),
        ]
    return rows


def _cell(value: float | None, unit: str, scale: float) -> str:
    if value is None:
        return "-"
    shown = value * scale
    text = f"{shown:,.2f}" if unit == "ms" and shown < 10 else f"{shown:,.0f}"
    return f"{text} {unit}".rstrip() if unit not in {"", "/s"} else text


def _change(before: float | None, after: float | None, lower_is_better: bool) -> str:
    if before is None or after is None:
        return ""
    if before == after:
        return "="
    if before == 0:
        return "worse" if (after > before) == lower_is_better else "better"
    pct = (after - before) / before * 100
    better = (after < before) == lower_is_better
    return f"{pct:+.0f} % ({'better' if better else 'worse'})"


def table(files: list[dict[str, Any]]) -> str:
    """The Markdown table: before, after[, same data], and the like-for-like change."""
    header = ["figure", "before", "after"]
    if len(files) > 2:
        header.append("after, same data as before")
    header.append("change (like for like)")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, get, unit, scale, lower in _rows(files):
        values = [get(results) for results in files]
        if all(value is None for value in values):
            continue
        cells = [_cell(value, unit, scale) for value in values]
        change = _change(values[0], values[-1], lower)
        lines.append("| " + " | ".join([label, *cells, change]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table of the files named on the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("same_data", type=Path, nargs="?")
    args = parser.parse_args(argv)
    paths = [args.before, args.after] + ([args.same_data] if args.same_data else [])
    print(table([json.loads(path.read_text()) for path in paths]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Markdown tables of a results JSON, and the README's results section from them.

``python -m bench.report [results.json] [--readme bench/README.md]`` prints the tables;
with ``--readme`` it also replaces the part of the README between the
``<!-- results:start -->`` and ``<!-- results:end -->`` markers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .__main__ import RESULTS

START, END = "<!-- results:start -->", "<!-- results:end -->"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _startup(s: dict[str, Any]) -> str:
    rows = []
    names = (
        ("ours_ha", "**ours**: `async_setup_entry` → every entity has a state (HA)"),
        ("ours_restart", "**ours, restart** (the last run's session stored): the same"),
        ("ours_library", "ours: library `Sigen.async_initialize()`"),
        ("peer_init", "peer 3.0.3: `async_initialize()`"),
        ("peer_same_data", "peer 3.0.3: `async_initialize()` + energy flow + current mode"),
    )
    for key, label in names:
        if key not in s:
            continue
        plain, hs = s[key], s[f"{key}+handshakes"]
        rows.append(
            [
                label,
                _ms(plain["seconds_median"]),
                _ms(hs["seconds_median"]),
                str(plain["requests"]),
                str(plain["connections"]),
            ]
        )
    ratio_ha = s["peer_same_data"]["seconds_median"] / s["ours_ha"]["seconds_median"]
    ratio_ha_hs = (
        s["peer_same_data+handshakes"]["seconds_median"] / s["ours_ha+handshakes"]["seconds_median"]
    )
    ratio_lib = s["peer_init"]["seconds_median"] / s["ours_library"]["seconds_median"]
    ratio_lib_hs = (
        s["peer_init+handshakes"]["seconds_median"] / s["ours_library+handshakes"]["seconds_median"]
    )
    rows.append(
        [
            "ratio peer / ours (same data; library init)",
            f"{ratio_ha:.2f}x; {ratio_lib:.2f}x",
            f"{ratio_ha_hs:.2f}x; {ratio_lib_hs:.2f}x",
            "",
            "",
        ]
    )
    if "ours_restart" in s:
        peer, peer_hs = s["peer_same_data"], s["peer_same_data+handshakes"]
        rows.append(
            [
                "restart / peer (same data; target ≤ 0.25), app logins per restart",
                f"{s['ours_restart']['seconds_median'] / peer['seconds_median']:.2f}",
                f"{s['ours_restart+handshakes']['seconds_median'] / peer_hs['seconds_median']:.2f}",
                f"{s['ours_restart']['logins']['app_login']} logins",
                "",
            ]
        )
    return _table(
        [
            f"start-up, {s['latency_s'] * 1000:.0f} ms per request (median of {s['reps']})",
            "time",
            "time, +2 RTT per new TCP/TLS connection",
            "requests",
            "TCP connections",
        ],
        rows,
    )


def _steady(st: dict[str, Any]) -> str:
    d = st["default"]
    k = st.get("keepalive_15s") or st["keepalive_90s"]
    k_label = "as with 15 s" if "keepalive_15s" in st else "with 90 s"
    endpoints = sorted(set(d["by_endpoint"]) | set(k["by_endpoint"]))
    rows = [[f"`{e}`", str(d["by_endpoint"].get(e, 0))] for e in endpoints]
    rows += [
        ["**requests in total**", f"**{d['requests']}**"],
        [
            "app logins / token refreshes",
            f"{d['logins']['app_login']} / {d['logins']['app_refresh']}",
        ],
        ["northbound logins", str(d["logins"]["nb_login"])],
        [
            f"new TCP connections (the entry's session; {k_label} keep-alive)",
            f"{d['new_connections']}; {k['new_connections']}",
        ],
        ["MQTT disconnections", str(d["mqtt_disconnects"])],
        ["telemetry messages pushed", str(d["telemetry_pushed"])],
    ]
    if (t := st.get("tokens_20min")) is not None:
        rows.append(
            [
                "with tokens living 20 min: requests; app logins / refreshes; northbound "
                "logins; MQTT disconnections",
                f"{t['requests']}; {t['logins']['app_login']} / {t['logins']['app_refresh']}; "
                f"{t['logins']['nb_login']}; {t['mqtt_disconnects']}",
            ]
        )
    return _table([f"steady state, {d['simulated_minutes']} simulated minutes", "count"], rows)


def _push(p: dict[str, Any]) -> str:
    return _table(
        ["push latency, broker → sensor state", "value"],
        [
            ["messages (one at a time)", f"{p['messages']:,}"],
            ["p50", f"{p['p50_ms']:.2f} ms"],
            ["p99", f"{p['p99_ms']:.2f} ms"],
            ["max", f"{p['max_ms']:.2f} ms"],
            ["lost", str(p["lost"])],
        ],
    )


def _throughput(t: dict[str, Any]) -> str:
    rows = []
    for n, parse in t["parse"].items():
        ha = t["home_assistant"][n]
        rows.append(
            [
                n,
                f"{ha['entities']:,}",
                f"{parse['per_second']:,.0f}",
                f"{ha['in_process']['per_second']:,.0f}",
                f"{ha['via_broker']['per_second']:,.0f}",
                f"{ha['in_process']['cpu_ms_per_message'] * 1000:,.0f} µs",
            ]
        )
    return _table(
        [
            "stations",
            "entities",
            "parse alone, msg/s",
            "into HA states, in-process, msg/s",
            "into HA states, via broker, msg/s",
            "CPU per message into HA",
        ],
        rows,
    )


def _cost(c: dict[str, Any], t: dict[str, Any] | None) -> str:
    imp = c["import"]
    groups = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in imp["self_time_by_group_s"].items())
    rows = [
        [
            "import of the integration + platforms, on top of what HA has loaded",
            _ms(imp["integration_on_top_of_ha_s"]),
        ],
        ["  where it goes (`-X importtime` self times)", groups],
        [
            "  the same, with Home Assistant's recorder loaded too (as it is wherever HA runs)",
            _ms(imp["integration_on_top_of_ha_and_recorder_s"])
            if "integration_on_top_of_ha_and_recorder_s" in imp
            else "-",
        ],
        [
            "import of the library alone (`import sigen`, aiohttp included)",
            _ms(imp["library_alone_s"]),
        ],
    ]
    for key, label in (("poll", "app account only"), ("push", "with developer credentials (push)")):
        m = c["memory_per_entry"][key]
        rows.append(
            [
                f"memory added by one config entry, {label}",
                f"{m['bytes_median'] / 1024:,.0f} KiB ({m['entities']} entities)",
            ]
        )
    if t is not None and "1" in t["parse"]:
        rows.append(
            [
                "CPU per telemetry message: parse alone; into HA states (1 station)",
                f"{t['parse']['1']['cpu_us_per_message']:.0f} µs; "
                f"{t['home_assistant']['1']['in_process']['cpu_ms_per_message'] * 1000:.0f} µs",
            ]
        )
    if "cpu_profile" in c:
        share = c["cpu_profile"]["share"]
        rows.append(
            [
                "  where the CPU of a message goes (cProfile own time)",
                ", ".join(f"{k} {v * 100:.0f} %" for k, v in share.items()),
            ]
        )
    return _table(["cost", "value"], rows)


def _scale(sc: dict[str, Any]) -> str:
    rows = []
    for n, d in sc.items():
        if not n.isdigit():
            continue
        rows.append(
            [
                n,
                f"{d['entities']:,}",
                _ms(d["seconds_median"]),
                _ms(d["seconds_median_mqtt_rtt"]),
                str(d["requests"]),
                f"{d['memory_bytes'] / 1024:,.0f} KiB",
            ]
        )
    return _table(
        [
            "stations (with push)",
            "entities",
            "start-up, loopback broker",
            "start-up, 100 ms broker RTT",
            "requests",
            "memory",
        ],
        rows,
    )


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    parts = [
        f"Measured {m['utc']} UTC on {m['nproc']} x {m['cpu']}, Python {m['python']}, "
        f"Home Assistant {m['home_assistant']}, aiohttp {m['aiohttp']}, {m['mosquitto']}; "
        f"load average {m['loadavg_at_start'][0]} at the start, "
        f"{m.get('loadavg_at_end', ['?'])[0]} at the end; "
        f"wall time {sum(results.get('wall_s', {}).values()):.0f} s.",
    ]
    if left_out := results.get("left_out"):
        parts[0] += f" Only the baseline's data (`--baseline-data`): without {', '.join(left_out)}."
    if "startup" in results:
        parts += ["#### 1-2. Start-up against the peer", _startup(results["startup"])]
    if "steady" in results:
        parts += ["#### 3. Steady state", _steady(results["steady"])]
    if "push" in results:
        parts += ["#### 4. Push latency", _push(results["push"])]
    if "throughput" in results:
        parts += ["#### 5. Throughput", _throughput(results["throughput"])]
    if "cost" in results:
        parts += ["#### 6. Cost", _cost(results["cost"], results.get("throughput"))]
    if "scale" in results:
        parts += ["#### 7. Scale", _scale(results["scale"])]
    return "\n\n".join(parts) + "\n"


def update_readme(readme: Path, text: str) -> None:
    content = readme.read_text()
    start, end = content.index(START) + len(START), content.index(END)
    readme.write_text(content[:start] + "\n" + text + content[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("results", nargs="?", type=Path, default=RESULTS)
    parser.add_argument("--readme", type=Path, help="README to update between the markers")
    args = parser.parse_args(argv)
    text = markdown(json.loads(args.results.read_text()))
    print(text)
    if args.readme:
        update_readme(args.readme, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the benchmarks: ``python -m bench`` (``--quick`` for a tiny smoke run).

Prints a table and writes every figure as JSON (``bench/results/latest.json``).
See bench/README.md for what each figure means and what limits it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from . import cost, history, push, startup, steady
from .baseline import baseline_data
from .harness import LATENCY, median

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
ALL = ("startup", "scale", "steady", "push", "throughput", "cost", "history")


def machine() -> dict[str, Any]:
    import aiohttp
    from homeassistant.const import __version__ as ha_version

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    try:
        mosquitto = subprocess.run(
            ["/usr/sbin/mosquitto", "-h"], capture_output=True, text=True, check=False
        ).stdout.splitlines()[0]
    except (OSError, IndexError):
        mosquitto = "unknown"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "home_assistant": ha_version,
        "aiohttp": aiohttp.__version__,
        "mosquitto": mosquitto,
        "loadavg_at_start": [round(x, 2) for x in load],
        "utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


async def _reps[T](n: int, fn: Callable[[], Awaitable[T]]) -> list[T]:
    return [await fn() for _ in range(n)]


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median seconds; requests and connections of the last run (they do not vary)."""
    last = runs[-1]
    out = {
        "seconds_median": median([r["seconds"] for r in runs]),
        "seconds_runs": [round(r["seconds"], 4) for r in runs],
        "requests": last["requests"],
        "connections": last["connections"],
        "by_endpoint": last.get("by_endpoint"),
    }
    for key in ("complete", "entities", "unavailable", "logins"):
        if key in last:
            out[key] = last[key]
    return out


async def bench_startup(quick: bool) -> dict[str, Any]:
    reps = 1 if quick else 5
    out: dict[str, Any] = {"latency_s": LATENCY, "reps": reps}
    # Warm-up: imports, HA's first-use caches (not counted).
    await startup.ours_once(latency=0.0)
    await startup.peer_once(latency=0.0)
    for handshakes in (False, True):
        tag = "+handshakes" if handshakes else ""
        out[f"ours_ha{tag}"] = _summary(
            await _reps(reps, lambda h=handshakes: startup.ours_once(handshakes=h))
        )
        # A restart: the last run's session stored (issue 21).
        out[f"ours_restart{tag}"] = _summary(
            await _reps(reps, lambda h=handshakes: startup.ours_once(handshakes=h, restart=True))
        )
        out[f"ours_library{tag}"] = _summary(
            await _reps(reps, lambda h=handshakes: startup.ours_library_once(handshakes=h))
        )
        out[f"peer_init{tag}"] = _summary(
            await _reps(reps, lambda h=handshakes: startup.peer_once(handshakes=h))
        )
        out[f"peer_same_data{tag}"] = _summary(
            await _reps(reps, lambda h=handshakes: startup.peer_once(handshakes=h, same_data=True))
        )
    return out


async def bench_scale(quick: bool) -> dict[str, Any]:
    reps = 1 if quick else 3
    sizes = (1, 2) if quick else (1, 10, 50)
    out: dict[str, Any] = {"latency_s": LATENCY, "mqtt_rtt_s": LATENCY, "reps": reps}
    for n in sizes:
        row = _summary(await _reps(reps, lambda n=n: startup.ours_once(n, developer=True)))
        slow = _summary(
            await _reps(reps, lambda n=n: startup.ours_once(n, developer=True, mqtt_rtt=LATENCY))
        )
        row["seconds_median_mqtt_rtt"] = slow["seconds_median"]
        row["seconds_runs_mqtt_rtt"] = slow["seconds_runs"]
        # One frame per allocation: 16 would take minutes for 2,000 entities; the
        # simulator's share is then told apart by file only (a few tens of KiB).
        mem = await startup.ours_once(n, developer=True, latency=0.0, memory=True, memory_frames=1)
        row["memory_bytes"] = mem["memory_bytes"]
        row["memory_top"] = mem["memory_top"]
        out[str(n)] = row
    return out


async def bench_steady(quick: bool) -> dict[str, Any]:
    minutes = 5 if quick else 60
    return {
        "default": await steady.steady_hour(minutes),
        # The connections' keep-alive of Home Assistant's shared session (15 s): what
        # the entry's own session (issue 21) saves.
        "keepalive_15s": await steady.steady_hour(minutes, keepalive=15.0),
        # Tokens that expire within the hour: renewals without logging in again.
        "tokens_20min": await steady.steady_hour(
            minutes, access_token_lifetime=1200.0, nb_token_lifetime=1200.0
        ),
    }


async def bench_push(quick: bool) -> dict[str, Any]:
    return await push.push_latency(50 if quick else 10_000)


async def bench_throughput(quick: bool) -> dict[str, Any]:
    sizes = (1, 2) if quick else (1, 10, 100)
    out: dict[str, Any] = {"parse": {}, "home_assistant": {}}
    for n in sizes:
        out["parse"][str(n)] = push.parse_throughput(n, 500 if quick else 20_000)
    for n in sizes:
        out["home_assistant"][str(n)] = await push.ha_throughput(
            n, budget=0.3 if quick else 3.0, max_messages=200 if quick else 20_000
        )
    return out


async def bench_cost(quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"import": cost.import_time(1 if quick else 5)}
    memory: dict[str, Any] = {}
    for developer in (False, True):
        runs = [
            await startup.ours_once(developer=developer, latency=0.0, memory=True)
            for _ in range(1 if quick else 3)
        ]
        memory["push" if developer else "poll"] = {
            "bytes_median": median([r["memory_bytes"] for r in runs]),
            "bytes_runs": [r["memory_bytes"] for r in runs],
            "entities": runs[-1]["entities"],
            "top": runs[-1]["memory_top"],
        }
    out["memory_per_entry"] = memory
    out["cpu_profile"] = await push.cpu_profile(200 if quick else 2000)
    return out


BENCHES: dict[str, Callable[[bool], Awaitable[dict[str, Any]]]] = {
    "startup": bench_startup,
    "scale": bench_scale,
    "steady": bench_steady,
    "push": bench_push,
    "throughput": bench_throughput,
    "cost": bench_cost,
    "history": history.run,
}


# --------------------------------------------------------------------------- table


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str]] = []
    s = results.get("startup")
    if s:
        for tag, label in (("", ""), ("+handshakes", " (+TCP/TLS handshakes)")):
            ours, lib = s[f"ours_ha{tag}"], s[f"ours_library{tag}"]
            peer_i, peer_d = s[f"peer_init{tag}"], s[f"peer_same_data{tag}"]
            rows.append(
                (
                    f"1 start-up, 100 ms/request{label}: HA setup → all states",
                    f"{_ms(ours['seconds_median'])}, {ours['requests']} req, "
                    f"{ours['connections']} conn",
                    f"{_ms(peer_d['seconds_median'])}, {peer_d['requests']} req, "
                    f"{peer_d['connections']} conn (init+flow+mode); "
                    f"ratio {peer_d['seconds_median'] / ours['seconds_median']:.2f}x",
                )
            )
            if f"ours_restart{tag}" in s:
                rs = s[f"ours_restart{tag}"]
                rows.append(
                    (
                        f"1 restart (stored session){label}: HA setup → all states",
                        f"{_ms(rs['seconds_median'])}, {rs['requests']} req, "
                        f"{rs['connections']} conn, {rs['logins']['app_login']} logins",
                        f"ratio ours / peer (init+flow+mode) "
                        f"{rs['seconds_median'] / peer_d['seconds_median']:.2f}",
                    )
                )
            rows.append(
                (
                    f"2 library async_initialize{label}",
                    f"{_ms(lib['seconds_median'])}, {lib['requests']} req, "
                    f"{lib['connections']} conn",
                    f"{_ms(peer_i['seconds_median'])}, {peer_i['requests']} req, "
                    f"{peer_i['connections']} conn; "
                    f"ratio {peer_i['seconds_median'] / lib['seconds_median']:.2f}x",
                )
            )
    st = results.get("steady")
    if st:
        for key, label in (
            ("default", ""),
            ("keepalive_15s", " (keep-alive 15 s, as HA's shared session)"),
            ("tokens_20min", " (tokens live 20 min)"),
        ):
            if key not in st:
                continue
            d = st[key]
            rows.append(
                (
                    f"3 steady state, {d['simulated_minutes']} sim. min{label}",
                    f"{d['requests']} req, {d['logins']['app_login']} app logins, "
                    f"{d['logins']['app_refresh']} refreshes, {d['logins']['nb_login']} nb "
                    f"logins, {d['new_connections']} new conn, "
                    f"{d['mqtt_disconnects']} MQTT drops",
                    "",
                )
            )
    p = results.get("push")
    if p:
        rows.append(
            (
                f"4 push latency broker → state ({p['messages']} msgs)",
                f"p50 {p['p50_ms']:.2f} ms, p99 {p['p99_ms']:.2f} ms, lost {p['lost']}",
                "",
            )
        )
    t = results.get("throughput")
    if t:
        for n, d in t["parse"].items():
            h = t["home_assistant"][n]
            rows.append(
                (
                    f"5 throughput, {n} station(s)",
                    f"parse {d['per_second']:,.0f}/s; into HA {h['in_process']['per_second']:,.0f}"
                    f"/s in-process, {h['via_broker']['per_second']:,.0f}/s via broker",
                    "",
                )
            )
    c = results.get("cost")
    if c:
        imp = c["import"]
        rows.append(
            (
                "6 import time (on top of HA / library alone)",
                f"{_ms(imp['integration_on_top_of_ha_s'])} / {_ms(imp['library_alone_s'])}",
                "",
            )
        )
        for key, d in c["memory_per_entry"].items():
            rows.append(
                (
                    f"6 memory per config entry ({key})",
                    f"{d['bytes_median'] / 1024:.0f} KiB ({d['entities']} entities)",
                    "",
                )
            )
    if t:
        h1 = t["home_assistant"].get("1")
        if h1:
            rows.append(
                (
                    "6 CPU per telemetry message (1 station, in-process)",
                    f"{h1['in_process']['cpu_ms_per_message'] * 1000:.0f} µs; parse alone "
                    f"{t['parse']['1']['cpu_us_per_message']:.0f} µs",
                    "",
                )
            )
    sc = results.get("scale")
    if sc:
        for n, d in sc.items():
            if not n.isdigit():
                continue
            rows.append(
                (
                    f"7 scale, {n} station(s), with push",
                    f"{_ms(d['seconds_median'])} ({_ms(d['seconds_median_mqtt_rtt'])} with "
                    f"100 ms MQTT RTT), {d['requests']} req, "
                    f"{d['memory_bytes'] / 1024:.0f} KiB, {d['entities']} entities",
                    "",
                )
            )
    hi = results.get("history")
    if hi:
        imp = hi["import"]
        rows.append(
            (
                f"8 history import, {imp['days']} days (issue 19)",
                f"{imp['requests']} req, {imp['rate_limited']} rate-limited, "
                f"{imp['simulated_seconds'] / 60:.1f} min simulated, {imp['real_seconds']:.1f} s "
                f"real, peak {imp['peak_memory_bytes'] / 2**20:.0f} MiB",
                f"cloud allows {hi['allowed_per_window']}/{hi['window_seconds']:.0f} s",
            )
        )
        acc = hi["accuracy"]
        for label, key in (
            ("integrated", "integrated_error_pct"),
            ("cloud-fed", "cloud_fed_error_pct"),
        ):
            worst = max(acc[key].values(), key=abs)
            rows.append((f"8 day accuracy, {label} counters", f"worst {worst:+.3f} %", ""))
    width = max((len(r[0]) for r in rows), default=10)
    lines = [f"{'figure':<{width}}  ours  |  peer"]
    lines += [f"{a:<{width}}  {b}" + (f"  |  {c}" if c else "") for a, b, c in rows]
    return "\n".join(lines)


async def main_async(names: list[str], quick: bool, everything: bool = True) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "quick": quick}
    for name in names:
        t0 = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        with contextlib.nullcontext([]) if everything else baseline_data() as left_out:
            results[name] = await BENCHES[name](quick)
        if left_out:
            results["left_out"] = left_out
        results.setdefault("wall_s", {})[name] = round(time.perf_counter() - t0, 1)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in load]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run (default all): {ALL}"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument(
        "--baseline-data",
        action="store_true",
        help="stations with the coordinators of bench/README.md's baseline only: the "
        "data it read (no settings, EV, forecast, history added since)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON output file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    # Home Assistant warns about every custom integration; that is not news here.
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)
    # paho counts publishes waiting for PUBACK; the throughput run keeps 50 in flight.
    logging.getLogger("mqtt").addFilter(lambda r: "pending publish" not in r.getMessage())
    names = list(args.names) or list(ALL)
    if unknown := [n for n in names if n not in BENCHES]:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {ALL}")
    results = asyncio.run(main_async(names, args.quick, everything=not args.baseline_data))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(table(results))
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

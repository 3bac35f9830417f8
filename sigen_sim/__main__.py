"""``python -m sigen_sim``: run the simulated Sigen cloud until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from .app_api import SHARDS
from .simulator import SimConfig, Simulator

_LOGGER = logging.getLogger("sigen_sim")


def _ev_chargers(text: str) -> tuple[str, ...]:
    """``--ev-chargers``: a comma-separated subset of ac and dc, in that order."""
    kinds = {part.strip().lower() for part in text.split(",") if part.strip()}
    if unknown := kinds - {"ac", "dc"}:
        raise argparse.ArgumentTypeError(
            f"unknown charger {', '.join(sorted(unknown))} (choose from ac, dc)"
        )
    return tuple(kind for kind in ("ac", "dc") if kind in kinds)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(
        prog="python -m sigen_sim",
        description="A local simulator of the Sigen cloud (app API, northbound API, MQTT).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    parser.add_argument("--stations", type=int, default=1, help="number of stations (default 1)")
    parser.add_argument(
        "--shard",
        choices=SHARDS,
        default="eu",
        help="the shard (region) holding the account; the others refuse its login (default eu)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="simulated seconds per real second (default 1; 0 freezes time)",
    )
    parser.add_argument(
        "--mqtt",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the MQTT broker and publisher (default on)",
    )
    parser.add_argument(
        "--require-client-cert",
        action="store_true",
        help="the broker requires a client certificate (mutual TLS)",
    )
    parser.add_argument(
        "--mqtt-port",
        type=int,
        default=0,
        help="the MQTT broker's TLS port (default: a free one)",
    )
    parser.add_argument(
        "--state-dir",
        help=(
            "write the certificates and credentials.json into this directory; a valid set "
            "of certificates already there (certs/) is reused"
        ),
    )
    parser.add_argument(
        "--new-certs",
        action="store_true",
        help="make new certificates even when --state-dir holds valid ones",
    )
    parser.add_argument(
        "--auto-approve", action="store_true", help="approve northbound onboarding immediately"
    )
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="switch off the northbound rate limits"
    )
    parser.add_argument(
        "--nb-password-form",
        choices=("plain", "aes"),
        default="plain",
        help="the form of the password the northbound password login accepts (default plain)",
    )
    parser.add_argument(
        "--nb-rest-msc-ffg-only",
        action="store_true",
        help="the northbound REST mode switch accepts only MSC and FFG (default: also NBI)",
    )
    parser.add_argument(
        "--telemetry-shape",
        choices=("captured", "official"),
        default="captured",
        help=(
            'MQTT telemetry as captured from the real broker: the "PV power" key and only '
            "the changed fields after the first message (default), or as documented: "
            "pvPowerW and every field in every message (official)"
        ),
    )
    parser.add_argument(
        "--ev-chargers",
        type=_ev_chargers,
        default=(),
        metavar="ac,dc",
        help="EV chargers at every station: ac, dc or ac,dc (default none)",
    )
    parser.add_argument("--seed", type=int, default=1234, help="random seed of the model")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)


def write_state(sim: Simulator, state_dir: Path) -> dict[str, Any]:
    """Write certificates (when MQTT runs) and ``credentials.json`` (mode 0600)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    creds: dict[str, Any] = {
        "api_url": sim.api_url,
        "nb_url": sim.nb_url,
        "control_url": sim.control_url,
        "username": sim.username,
        "password": sim.password,
        "shard": sim.shard,
        "app_key": sim.app_key,
        "app_secret": sim.app_secret,
        "app_identifier": sim.app_identifier,
        "station_ids": [s.station_id for s in sim.stations],
        "system_ids": [s.system_id for s in sim.stations],
        "mqtt": None,
    }
    if sim.mqtt is not None:
        certs = sim.certs
        ca = state_dir / "ca.pem"
        cert = state_dir / "client.pem"
        key = state_dir / "client.key"
        _write_private(ca, certs.ca_pem)
        _write_private(cert, certs.client_cert_pem)
        _write_private(key, certs.client_key_pem)
        creds["mqtt"] = {
            "host": sim.mqtt_host,
            "port": sim.mqtt_port,
            "require_client_cert": sim.config.require_client_cert,
            "ca_cert_path": str(ca),
            "client_cert_path": str(cert),
            "client_key_path": str(key),
        }
    _write_private(state_dir / "credentials.json", json.dumps(creds, indent=2) + "\n")
    return creds


def banner(sim: Simulator) -> str:
    """What the simulator prints at start: URLs, credentials, certificate files."""
    lines = [
        "Sigen cloud simulator running",
        f"  app API:        {sim.api_url}",
        f"  northbound API: {sim.nb_url}openapi/",
        f"  control API:    {sim.control_url}",
    ]
    if sim.mqtt is not None:
        mtls = " (client certificate required)" if sim.config.require_client_cert else ""
        lines.append(f"  MQTT (TLS):     {sim.mqtt_host}:{sim.mqtt_port}{mtls}")
        if sim.config.cert_dir:
            how = "reused from" if sim.mqtt.certs_reused else "new in"
            lines.append(f"  certificates:   {how} {sim.config.cert_dir}")
    lines += [
        "Demo credentials",
        f"  username:       {sim.username}",
        f"  password:       {sim.password}",
        f"  region (shard): {sim.shard}",
        f"  app key:        {sim.app_key}",
        f"  app secret:     {sim.app_secret}",
        f"  app identifier: {sim.app_identifier}",
        "  stations:       " + ", ".join(f"{s.station_id} ({s.system_id})" for s in sim.stations),
        "Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)


def cert_dir(args: argparse.Namespace) -> str | None:
    """Where the certificates live: ``STATE_DIR/certs`` (emptied first with --new-certs)."""
    if not args.state_dir or not args.mqtt:
        return None
    directory = Path(args.state_dir) / "certs"
    if args.new_certs and directory.exists():
        for path in directory.iterdir():
            if path.is_file():
                path.unlink()
    return str(directory)


async def run(args: argparse.Namespace) -> int:
    """Run a simulator configured by ``args`` until SIGINT/SIGTERM; the exit status."""
    config = SimConfig(
        host=args.host,
        port=args.port,
        stations=args.stations,
        shard=args.shard,
        time_scale=args.time_scale,
        mqtt=args.mqtt,
        require_client_cert=args.require_client_cert,
        auto_approve=args.auto_approve,
        nb_rate_limits=not args.no_rate_limits,
        nb_password_form=args.nb_password_form,
        nb_rest_msc_ffg_only=args.nb_rest_msc_ffg_only,
        seed=args.seed,
        telemetry_shape=args.telemetry_shape,
        mqtt_port=args.mqtt_port,
        cert_dir=cert_dir(args),
        state_dir=args.state_dir,
        ev_chargers=args.ev_chargers,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    sim = Simulator(config)
    try:
        await sim.start()
    except Exception as err:
        print(f"The simulator could not start: {err}", file=sys.stderr)
        return 1
    try:
        if args.state_dir:
            write_state(sim, Path(args.state_dir))
        print(banner(sim), flush=True)
        if args.state_dir:
            print(f"State written to {args.state_dir}", flush=True)
        await stop.wait()
    finally:
        await sim.stop()
        print("Simulator stopped.", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m sigen_sim``: parse the options, set up logging, run."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.stations < 1:
        print("--stations must be at least 1", file=sys.stderr)
        return 2
    if not 0 <= args.mqtt_port < 65536:
        print("--mqtt-port must be a TCP port number (0: a free one)", file=sys.stderr)
        return 2
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

"""The body of ``scripts/develop``: the simulator, Home Assistant, onboarding, the flow.

Run through ``scripts/develop`` (which sets up ``.venv`` first). It

1. starts the simulated Sigen cloud (``python -m sigen_sim``, with its MQTT broker,
   mutual TLS and automatic onboarding approval) as a child process;
2. writes a small Home Assistant configuration into ``config/`` (kept between runs,
   ignored by git) that loads this checkout's ``custom_components`` and listens on
   127.0.0.1 only, and starts ``hass`` as a second child process;
3. completes onboarding through Home Assistant's own HTTP API with a demo user, turns
   on advanced mode for that user, and adds Sigen Cloud through its real config flow
   (server URL of the simulator, developer credentials, PEM certificates), or, on a
   later run, reuses the entry as it is: the simulator keeps its state directory
   (``config/.sigen-sim``: certificates reused while valid), its HTTP port and its broker
   port between runs, so the entry's stored server URL, broker and certificates still
   match; only when one of them changed does it go through the reconfigure flow;
4. configures the Energy dashboard with the stations' cloud counters (their history since
   commissioning and today's hours, as external statistics; issue 19) (first run only);
5. prints where to look and waits; Ctrl-C or SIGTERM stops Home Assistant, then the
   simulator and its broker, each by PID, and waits for them.

At import it needs the standard library only, so ``scripts/develop --help`` answers
before ``scripts/setup`` has made ``.venv`` (aiohttp and the simulator are imported
where they are used).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

REPO = Path(__file__).resolve().parent.parent
BLUEPRINTS = REPO / "blueprints"
DOMAIN = "sigen_cloud"
DEMO_NAME = "Demo"
DEMO_USER = "demo"
DEMO_PASSWORD = "sigen-demo-password"  # noqa: S105 (a throwaway local demo account)
STATE_FILE = ".sigen-develop.json"
SIM_DIR = ".sigen-sim"
HA_START_TIMEOUT = 300.0
SIM_START_TIMEOUT = 60.0
# Set up by onboarding, useless offline (weather, radio, text-to-speech services).
ONLINE_ONLY = ("met", "radio_browser", "google_translate")
RESTART_EXIT_CODE = 100  # what hass exits with for a restart
# Earlier versions wrote Home Assistant's console output here, a copy of
# home-assistant.log that was never rotated; it is removed at the start.
OLD_CONSOLE_LOG = "develop-hass.log"
CONSOLE_TAIL_LINES = 200  # of Home Assistant's console output, shown when it exits

CONFIGURATION_YAML = """\
# Written by scripts/develop on every run: edits here are overwritten.
homeassistant:
  name: Sigen demo
  latitude: 53.35
  longitude: -6.26
  elevation: 10
  unit_system: metric
  currency: EUR
  country: IE
  language: en
  time_zone: Europe/Dublin

# http (127.0.0.1 only, --port) lives in .storage/http since Home Assistant 2026.10:
# scripts/develop writes it there before each start (YAML would be migrated only once).

# A small offline set instead of default_config: the UI, settings, Energy, history.
frontend:
config:
energy:
history:
recorder:
  purge_keep_days: 7
search:
diagnostics:
repairs:
automation: !include automations.yaml

logger:
  default: warning
  logs:
    homeassistant.setup: info
    homeassistant.bootstrap: info
    custom_components.sigen_cloud: debug
"""


def _energy_statistics(keys: dict[str, str]) -> dict[str, str]:
    """What the Energy dashboard counts for a station.

    The cloud's counters as the integration's external statistics (history and live
    hours, issue 19); for a station without them (push-only), the integrated sensors,
    an estimate.
    """
    if "statistics" in keys:
        prefix = keys["statistics"]
        kinds = ("pv", "grid_import", "grid_export", "battery_charge", "battery_discharge")
        return {kind: f"{prefix}_{kind}" for kind in kinds}
    return {
        "pv": keys["solar_energy"],
        "grid_import": keys["grid_import_energy"],
        "grid_export": keys["grid_export_energy"],
        "battery_charge": keys["battery_charge_energy"],
        "battery_discharge": keys["battery_discharge_energy"],
    }


class DevelopError(Exception):
    """Something a person has to look at; the message says what."""


EV_CHARGER_KINDS = ("ac", "dc")


def _ev_chargers(text: str) -> tuple[str, ...]:
    """``--ev-chargers``: a comma-separated subset of ac and dc, in that order."""
    kinds = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = kinds - set(EV_CHARGER_KINDS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown charger {', '.join(sorted(unknown))} (choose from ac, dc)"
        )
    return tuple(kind for kind in EV_CHARGER_KINDS if kind in kinds)


def _language(text: str) -> str:
    """``--language``: a language code as Home Assistant writes it (de, pt-BR, zh-Hans)."""
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,4})?", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a language code such as de or pt-BR")
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description=(
            "Start the Sigen cloud simulator and Home Assistant with Sigen Cloud set up "
            "against it (onboarding and the config flow done for you)."
        ),
        epilog=(
            "It runs scripts/setup first (a .venv with Home Assistant; the first time takes "
            "a few minutes). The config directory is kept: a second run reuses it. Logs: "
            "<config>/home-assistant.log and <config>/sigen-sim.log. Ctrl-C stops everything."
        ),
    )
    parser.add_argument(
        "--port", type=int, default=8123, help="Home Assistant's port (default 8123)"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="simulated seconds per real second (default 1; 60 = an hour a minute)",
    )
    parser.add_argument("--stations", type=int, default=1, help="number of stations (default 1)")
    parser.add_argument(
        "--sim-port",
        type=int,
        default=0,
        help="the simulator's HTTP port (default: the last run's, else a free one)",
    )
    parser.add_argument(
        "--mqtt-port",
        type=int,
        default=0,
        help="the simulator's MQTT broker port (default: the last run's, else a free one)",
    )
    parser.add_argument(
        "--ev-chargers",
        type=_ev_chargers,
        default=(),
        metavar="ac,dc",
        help=(
            "EV chargers at every simulated station: ac, dc or ac,dc (default none); "
            "plug a car in through the simulator's control API "
            "(POST /_sim/stations/{systemId}/ev/{serial}/car)"
        ),
    )
    parser.add_argument(
        "--language",
        default="en",
        type=_language,
        help=(
            "Home Assistant's language (its core config, so entity names are created in "
            "it) and the demo user's, e.g. de (default en)"
        ),
    )
    parser.add_argument(
        "--config",
        default=str(REPO / "config"),
        help="Home Assistant's config directory (default: config/ in the repository)",
    )
    args = parser.parse_args(argv)
    if args.stations < 1:
        parser.error("--stations must be at least 1")
    if args.time_scale < 0:
        parser.error("--time-scale must not be negative")
    if not 0 < args.port < 65536:
        parser.error("--port must be a TCP port number")
    for option in ("sim_port", "mqtt_port"):
        if not 0 <= getattr(args, option) < 65536:
            parser.error(f"--{option.replace('_', '-')} must be a TCP port number")
    return args


# --------------------------------------------------------------------------- helpers


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)


def load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children of all its threads, recursively)."""
    found: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                text = Path(f"/proc/{current}/task/{tid}/children").read_text()
            except OSError:
                continue
            for child in text.split():
                found.append(int(child))
                stack.append(int(child))
    return found


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def install_blueprints(config: Path, source: Path = BLUEPRINTS) -> list[Path]:
    """Copy the repository's blueprints into ``config/blueprints/`` as real files.

    Home Assistant finds blueprints with ``Path.glob("**/*.yaml")``, which since
    Python 3.13 does not descend into a symlinked directory: the directory link that
    earlier versions of scripts/develop made (``blueprints/automation/sigen_cloud``)
    hid both blueprints from Settings → Blueprints. Such a link is replaced by a real
    directory; each file is copied again when the repository's version differs (edit
    the repository's file, run scripts/develop again). Returns the files it laid out.
    """
    target_root = config / "blueprints"
    laid_out: list[Path] = []
    for blueprint in sorted(source.rglob("*.yaml")):
        target = target_root / blueprint.relative_to(source)
        folder = config
        for part in target.relative_to(config).parts[:-1]:
            folder /= part
            if folder.is_symlink():  # the link only, never what it points to
                folder.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        if not target.is_file() or target.read_bytes() != blueprint.read_bytes():
            shutil.copyfile(blueprint, target)
        laid_out.append(target)
    return laid_out


# --------------------------------------------------------------------------- processes


class Child:
    """A child process started in its own session, stopped by PID.

    Its output goes to ``log`` (appended), or, with ``log=None``, to memory: the last
    ``tail_lines`` lines are kept (``console_tail()``) for when it exits unexpectedly.
    Home Assistant runs that way: everything it prints is also in its own
    ``home-assistant.log`` (rotated at each start), so a file copy would only grow.
    """

    def __init__(
        self,
        name: str,
        argv: list[str],
        log: Path | None,
        env: dict[str, str],
        *,
        tail_lines: int = CONSOLE_TAIL_LINES,
    ) -> None:
        self.name = name
        self.log = log
        self.console: deque[str] = deque(maxlen=tail_lines)
        handle: IO[bytes] | None = log.open("ab") if log is not None else None
        try:
            self.proc = subprocess.Popen(  # noqa: S603 (our own argv, no shell)
                argv,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=handle if handle is not None else subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            if handle is not None:
                handle.close()
        self.pid = self.proc.pid
        self._reader: threading.Thread | None = None
        if log is None:
            self._reader = threading.Thread(
                target=self._read_console, name=f"{name} output", daemon=True
            )
            self._reader.start()

    def _read_console(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        with stream:
            for line in iter(stream.readline, b""):
                self.console.append(line.decode(errors="replace").rstrip("\n"))

    def console_tail(self, lines: int = 30) -> str:
        """The last lines the child printed (``log=None``), once its output is read."""
        if self._reader is not None and not self.running():
            self._reader.join(5)
        return "\n".join(list(self.console)[-lines:]) or "(no output)"

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float) -> None:
        """SIGTERM, wait; SIGKILL what is left; then any process it left behind."""
        below = descendants(self.pid) if self.running() else []
        if self.running():
            print(f"Stopping {self.name} (PID {self.pid}) ...", flush=True)
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"{self.name} did not stop in {timeout:.0f} s; killing it", flush=True)
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait()
        for pid in below:  # e.g. the simulator's mosquitto
            deadline = time.monotonic() + 10
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if pid_alive(pid):
                print(f"Stopping PID {pid} left behind by {self.name}", flush=True)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 10
                while pid_alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if pid_alive(pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------- Home Assistant API


class HomeAssistantAPI:
    """Just enough of Home Assistant's HTTP and websocket APIs."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url
        self.client_id = f"{url}/"
        self.redirect_uri = f"{url}/?auth_callback=1"
        self.token: str | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._msg_id = 0

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self.session.request(
            method, self.url + path, headers=self._auth, **kwargs
        ) as resp:
            text = await resp.text()
            if resp.status >= 400:
                raise DevelopError(f"{method} {path} answered {resp.status}: {text[:500]}")
            return json.loads(text) if text else None

    async def wait_ready(self, alive: Any, limit: float) -> None:
        """Until the HTTP server answers (the frontend's manifest is served)."""
        import aiohttp  # noqa: PLC0415 (see the module's doc)

        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if not alive():
                raise DevelopError("Home Assistant exited while starting")
            with contextlib.suppress(aiohttp.ClientError):
                async with self.session.get(self.url + "/manifest.json") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(1)
        raise DevelopError(f"Home Assistant did not answer within {limit:.0f} s")

    async def wait_running(self, limit: float) -> None:
        """Until Home Assistant has finished starting (its state is RUNNING)."""
        deadline = time.monotonic() + limit
        while (await self.request("GET", "/api/config")).get("state") != "RUNNING":
            if time.monotonic() > deadline:
                raise DevelopError(f"Home Assistant did not finish starting in {limit:.0f} s")
            await asyncio.sleep(1)

    async def onboarding_steps(self) -> dict[str, bool]:
        """Onboarding's steps and whether each is done (all done: the API is gone)."""
        async with self.session.get(self.url + "/api/onboarding") as resp:
            if resp.status == 404:
                return {}
            if resp.status != 200:
                raise DevelopError(f"GET /api/onboarding answered {resp.status}")
            return {s["step"]: s["done"] for s in await resp.json()}

    async def _token_from_code(self, code: str) -> None:
        data = await self.request(
            "POST",
            "/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
        )
        self.token = data["access_token"]

    async def onboard(self, language: str = "en") -> bool:
        """Complete every open onboarding step; True when the user was created now."""
        steps = await self.onboarding_steps()
        created = False
        if not steps.get("user", True):
            answer = await self.request(
                "POST",
                "/api/onboarding/users",
                json={
                    "client_id": self.client_id,
                    "name": DEMO_NAME,
                    "username": DEMO_USER,
                    "password": DEMO_PASSWORD,
                    "language": language,
                },
            )
            await self._token_from_code(answer["auth_code"])
            created = True
        else:
            await self.login()
        if not steps.get("core_config", True):
            await self.request("POST", "/api/onboarding/core_config", json={})
        if not steps.get("analytics", True):
            await self.request("POST", "/api/onboarding/analytics", json={})
        if not steps.get("integration", True):
            await self.request(
                "POST",
                "/api/onboarding/integration",
                json={"client_id": self.client_id, "redirect_uri": self.redirect_uri},
            )
        return created

    async def login(self) -> None:
        """The login flow a browser goes through, with the demo user."""
        flow = await self.request(
            "POST",
            "/auth/login_flow",
            json={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.redirect_uri,
            },
        )
        result = await self.request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            json={"username": DEMO_USER, "password": DEMO_PASSWORD, "client_id": self.client_id},
        )
        if result.get("type") != "create_entry":
            raise DevelopError(
                f"cannot log in as {DEMO_USER!r}: {result.get('errors') or result}. "
                "Delete the config directory to start from scratch."
            )
        await self._token_from_code(result["result"])

    async def ws(self, msg_type: str, **payload: Any) -> Any:
        """One websocket command; its result."""
        if self._ws is None:
            self._ws = await self.session.ws_connect(self.url + "/api/websocket")
            await self._ws.receive_json()  # auth_required
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            answer = await self._ws.receive_json()
            if answer.get("type") != "auth_ok":
                raise DevelopError(f"websocket authentication failed: {answer}")
        self._msg_id += 1
        await self._ws.send_json({"id": self._msg_id, "type": msg_type, **payload})
        while True:
            answer = await self._ws.receive_json(timeout=60)
            if answer.get("id") == self._msg_id and answer.get("type") == "result":
                break
        if not answer.get("success"):
            raise DevelopError(f"{msg_type} failed: {answer.get('error')}")
        return answer.get("result")

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def flow_step(self, path: str, flow: dict[str, Any], user_input: dict[str, Any]) -> Any:
        if flow.get("type") != "form":
            raise DevelopError(f"the config flow did not show a form: {flow}")
        answer = await self.request("POST", f"{path}/{flow['flow_id']}", json=user_input)
        if answer.get("type") == "form" and answer.get("step_id") == flow.get("step_id"):
            raise DevelopError(
                f"the config flow's step {flow.get('step_id')!r} refused the input: "
                f"{answer.get('errors')}"
            )
        return answer


# --------------------------------------------------------------------------- the run


class Develop:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.config = Path(args.config).resolve()
        self.state_path = self.config / STATE_FILE
        self.state = load_json(self.state_path)
        self.sim_dir = self.config / SIM_DIR
        self.ha_url = f"http://127.0.0.1:{args.port}"
        self.sim: Child | None = None
        self.hass: Child | None = None
        self.creds: dict[str, Any] = {}
        self.stop = asyncio.Event()

    # -- config directory
    def write_config(self) -> None:
        self.config.mkdir(parents=True, exist_ok=True)
        yaml = CONFIGURATION_YAML.replace("  language: en\n", f"  language: {self.args.language}\n")
        (self.config / "configuration.yaml").write_text(yaml, encoding="utf-8")
        self.write_http_store()
        automations = self.config / "automations.yaml"
        if not automations.exists():
            automations.write_text("[]\n", encoding="utf-8")
        self._link(self.config / "custom_components" / DOMAIN, REPO / "custom_components" / DOMAIN)
        install_blueprints(self.config)
        (self.config / OLD_CONSOLE_LOG).unlink(missing_ok=True)

    def write_http_store(self) -> None:
        """Home Assistant's stored HTTP config: 127.0.0.1 only, on --port, confirmed.

        Home Assistant 2026.10 keeps the HTTP server's settings in ``.storage/http`` (a
        confirmed "stable" config and an unconfirmed "pending" one that reverts after
        five minutes). Home Assistant is not running here, so the file is written as the
        confirmed config directly; without it the server would bind every interface.
        """
        from homeassistant.components.http.config import (  # noqa: PLC0415
            HTTP_STORAGE_SCHEMA,
            STORAGE_MINOR_VERSION,
            STORAGE_VERSION,
        )

        path = self.config / ".storage" / "http"
        wanted = dict(
            HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": self.args.port})
        )
        data = load_json(path).get("data") or {}
        stable = {
            k: v
            for k, v in (data.get("stable") or {}).items()
            if k not in ("created_at", "error", "error_message")
        }
        if stable == wanted and data.get("pending") is None and data.get("yaml_migration_done"):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        store = {
            "version": STORAGE_VERSION,
            "minor_version": STORAGE_MINOR_VERSION,
            "key": "http",
            "data": {
                "stable": {
                    **wanted,
                    "created_at": datetime.now(UTC).isoformat(),
                    "error": None,
                    "error_message": None,
                },
                "pending": None,
                "yaml_migration_done": True,
            },
        }
        write_private(path, json.dumps(store, indent=2) + "\n")

    @staticmethod
    def _link(link: Path, target: Path) -> None:
        if not target.exists():
            return
        link.parent.mkdir(parents=True, exist_ok=True)
        wanted = os.path.relpath(target, link.parent)
        if link.is_symlink() and os.readlink(link) == wanted:
            return
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.exists():
            raise DevelopError(f"{link} exists and is not a symlink; move it away")
        link.symlink_to(wanted)

    # -- simulator
    def _port(self, option: str, avoid: set[int]) -> int:
        """``--sim-port``/``--mqtt-port`` if given, else the last run's if free, else any."""
        given = int(getattr(self.args, option) or 0)
        if given:
            return given
        last = int(self.state.get(option) or 0)
        if last and last not in avoid and port_is_free(last):
            return last
        # Below the ephemeral range, as the simulator's broker port: kept across runs.
        from sigen_sim.broker import free_port  # noqa: PLC0415 (see the module's doc)

        while (port := free_port()) in avoid:
            pass
        return port

    def sim_port(self) -> int:
        return self._port("sim_port", {self.args.port})

    async def start_sim(self) -> None:
        port = self.sim_port()
        mqtt_port = self._port("mqtt_port", {self.args.port, port})
        for what, number in (("HTTP", port), ("MQTT", mqtt_port)):
            if not port_is_free(number):
                raise DevelopError(f"the simulator's {what} port {number} is in use")
        if mqtt_port == port:
            raise DevelopError("--sim-port and --mqtt-port must differ")
        creds_file = self.sim_dir / "credentials.json"
        creds_file.unlink(missing_ok=True)
        argv = [
            sys.executable,
            "-m",
            "sigen_sim",
            "--port",
            str(port),
            "--mqtt-port",
            str(mqtt_port),
            "--stations",
            str(self.args.stations),
            "--time-scale",
            str(self.args.time_scale),
            "--state-dir",
            str(self.sim_dir),
            "--require-client-cert",
            "--auto-approve",
        ]
        if self.args.ev_chargers:
            argv += ["--ev-chargers", ",".join(self.args.ev_chargers)]
        env = dict(os.environ)
        env["PATH"] = env.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"
        sim_log = self.config / "sigen-sim.log"
        self.sim = Child("the simulator", argv, sim_log, env)
        deadline = time.monotonic() + SIM_START_TIMEOUT
        while not creds_file.exists():
            if not self.sim.running():
                raise DevelopError("the simulator exited while starting:\n" + tail(sim_log))
            if time.monotonic() > deadline:
                raise DevelopError("the simulator did not start within a minute")
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.1)  # the file is written in one go; be safe anyway
        self.creds = load_json(creds_file)
        if not self.creds.get("mqtt"):
            raise DevelopError("the simulator runs without MQTT; is mosquitto installed?")
        self.state["sim_port"] = port
        self.state["mqtt_port"] = mqtt_port

    def developer_input(self) -> dict[str, Any]:
        mqtt = self.creds["mqtt"]
        return {
            "app_key": self.creds["app_key"],
            "app_secret": self.creds["app_secret"],
            "app_identifier": self.creds["app_identifier"],
            "ca_cert": Path(mqtt["ca_cert_path"]).read_text(encoding="utf-8"),
            "client_cert": Path(mqtt["client_cert_path"]).read_text(encoding="utf-8"),
            "client_key": Path(mqtt["client_key_path"]).read_text(encoding="utf-8"),
            "advanced": {"mqtt_host": mqtt["host"], "mqtt_port": mqtt["port"]},
        }

    def stored_entry_matches(self, entry_id: str) -> bool | None:
        """Whether the entry's stored data already points at this run's simulator.

        Compares the server URL, the account, the developer credentials, the broker's
        host and port and the three certificates with what Home Assistant keeps in
        ``.storage/core.config_entries``; None when that cannot be read.
        """
        stored = load_json(self.config / ".storage" / "core.config_entries")
        entries = (stored.get("data") or {}).get("entries")
        if not isinstance(entries, list):
            return None
        entry = next(
            (e for e in entries if isinstance(e, dict) and e.get("entry_id") == entry_id), None
        )
        if entry is None or not isinstance(entry.get("data"), dict):
            return None
        data: dict[str, Any] = entry["data"]
        wanted = self.developer_input()
        advanced = wanted.pop("advanced")
        wanted.update(advanced)
        wanted["server_url"] = self.creds["api_url"]
        wanted["username"] = self.creds["username"]

        def norm(value: Any) -> Any:
            return value.strip() if isinstance(value, str) else value

        return all(norm(data.get(key)) == norm(value) for key, value in wanted.items())

    def fingerprint(self) -> str:
        text = json.dumps(
            [self.creds["api_url"], self.creds["username"], self.developer_input()],
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()

    # -- Home Assistant
    async def start_hass(self) -> None:
        if not port_is_free(self.args.port):
            raise DevelopError(
                f"port {self.args.port} is in use (another Home Assistant?); "
                "choose another with --port"
            )
        hass = Path(sys.executable).with_name("hass")
        argv = [str(hass), "-c", str(self.config), "--skip-pip", "--log-no-color"]
        # Its console output is what it writes to home-assistant.log too: kept in
        # memory only (the last lines are shown if it exits), not in a second file.
        self.hass = Child("Home Assistant", argv, None, dict(os.environ))

    async def add_or_update_entry(self, api: HomeAssistantAPI) -> str:
        entries = await api.request(
            "GET", "/api/config/config_entries/entry", params={"domain": DOMAIN}
        )
        fingerprint = self.fingerprint()
        account = {
            "region": "eu",
            "advanced": {"server_url": self.creds["api_url"]},
        }
        path = "/api/config/config_entries/flow"
        if entries:
            entry_id = str(entries[0]["entry_id"])
            matches = self.stored_entry_matches(entry_id)
            if matches is None:  # Home Assistant's storage unreadable: what we last set
                matches = self.state.get("fingerprint") == fingerprint
            if matches:
                if entries[0].get("state") in ("setup_retry", "setup_error", "not_loaded"):
                    await api.request("POST", f"/api/config/config_entries/entry/{entry_id}/reload")
                print("Sigen Cloud is already set up for this simulator; reusing it.", flush=True)
                self.state["fingerprint"] = fingerprint
                return entry_id
            print("Reconfiguring Sigen Cloud for this run's simulator ...", flush=True)
            flow = await api.request(
                "POST",
                path,
                json={"handler": DOMAIN, "entry_id": entry_id, "show_advanced_options": True},
            )
            flow = await api.flow_step(path, flow, account)
            result = await api.flow_step(path, flow, self.developer_input())
            if result.get("type") != "abort" or result.get("reason") != "reconfigure_successful":
                raise DevelopError(f"reconfiguring the entry failed: {result}")
        else:
            print("Adding Sigen Cloud through its config flow ...", flush=True)
            flow = await api.request(
                "POST", path, json={"handler": DOMAIN, "show_advanced_options": True}
            )
            flow = await api.flow_step(
                path,
                flow,
                {
                    "username": self.creds["username"],
                    "password": self.creds["password"],
                    **account,
                },
            )
            result = await api.flow_step(path, flow, self.developer_input())
            if result.get("type") != "create_entry":
                raise DevelopError(f"the config flow did not create an entry: {result}")
            entry_id = str(result["result"]["entry_id"])
        self.state["fingerprint"] = fingerprint
        return entry_id

    async def remove_online_only_entries(self, api: HomeAssistantAPI) -> None:
        """Onboarding adds a few integrations that need the internet; drop them here."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            entries = await api.request("GET", "/api/config/config_entries/entry")
            found = [e for e in entries if e["domain"] in ONLINE_ONLY]
            for entry in found:
                await api.request("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")
            if found:
                return
            await asyncio.sleep(1)

    async def wait_entities(self, api: HomeAssistantAPI, entry_id: str) -> list[dict[str, Any]]:
        """The entry's registry entries, once it is loaded and its energy sensors exist."""
        deadline = time.monotonic() + 120
        while True:
            entries = await api.request(
                "GET", "/api/config/config_entries/entry", params={"domain": DOMAIN}
            )
            state = next((e["state"] for e in entries if e["entry_id"] == entry_id), None)
            registry = await api.ws("config/entity_registry/list")
            mine = [e for e in registry if e.get("config_entry_id") == entry_id]
            keys = {e.get("translation_key") for e in mine}
            if state == "loaded" and {"solar_energy", "grid_import_energy"} <= keys:
                return mine
            if state in ("setup_error", "setup_retry", "failed_unload") or (
                time.monotonic() > deadline
            ):
                raise DevelopError(
                    f"Sigen Cloud did not set up (state {state}); see "
                    f"{self.config / 'home-assistant.log'}"
                )
            await asyncio.sleep(1)

    async def configure_energy(self, api: HomeAssistantAPI, entities: list[dict[str, Any]]) -> None:
        """The Energy dashboard with the integration's sensors, unless already configured."""
        with contextlib.suppress(DevelopError):
            prefs = await api.ws("energy/get_prefs")
            if prefs and prefs.get("energy_sources"):
                return
        by_device: dict[str, dict[str, str]] = {}
        for entry in entities:
            if entry.get("device_id") and entry.get("translation_key"):
                by_device.setdefault(entry["device_id"], {})[entry["translation_key"]] = entry[
                    "entity_id"
                ]
                if entry["translation_key"] == "pv_production_today":
                    # The station's external statistics (issue 19): its history since
                    # commissioning, imported at set-up, and today's hours as they end.
                    station = entry["unique_id"].removesuffix("_pv_production_today").lower()
                    by_device[entry["device_id"]]["statistics"] = f"{DOMAIN}:{station}"
        sources: list[dict[str, Any]] = []
        consumption: list[dict[str, Any]] = []
        for keys in by_device.values():
            if "grid_import_energy" in keys:
                stats = _energy_statistics(keys)
                # A fixed price works only on sensor entities: the Energy dashboard refuses
                # it on external statistics (it would need a cost statistic instead).
                external = ":" in stats["grid_import"]
                sources.append(
                    {
                        "type": "grid",
                        "stat_energy_from": stats["grid_import"],
                        "stat_energy_to": stats["grid_export"],
                        "stat_cost": None,
                        "entity_energy_price": None,
                        "number_energy_price": None if external else 0.30,
                        "stat_compensation": None,
                        "entity_energy_price_export": None,
                        "number_energy_price_export": None if external else 0.08,
                        "stat_rate": keys["grid_power"],
                        "cost_adjustment_day": 0,
                    }
                )
                sources.append(
                    {
                        "type": "solar",
                        "stat_energy_from": stats["pv"],
                        "stat_rate": keys["pv_power"],
                        "config_entry_solar_forecast": None,
                    }
                )
                battery = {
                    "type": "battery",
                    "stat_energy_from": stats["battery_discharge"],
                    "stat_energy_to": stats["battery_charge"],
                    "stat_rate": keys["battery_power"],
                }
                if "battery_soc" in keys:
                    battery["stat_soc"] = keys["battery_soc"]
                sources.append(battery)
            if "smart_load_energy_lifetime" in keys:
                item = {"stat_consumption": keys["smart_load_energy_lifetime"]}
                if "smart_load_power" in keys:
                    item["stat_rate"] = keys["smart_load_power"]
                consumption.append(item)
        await api.ws("energy/save_prefs", energy_sources=sources, device_consumption=consumption)
        print(
            "Energy dashboard configured with the stations' cloud counters and history.",
            flush=True,
        )

    async def setup(self) -> None:
        self.write_config()
        await self.start_sim()
        await self.start_hass()
        assert self.hass is not None
        import aiohttp  # noqa: PLC0415 (see the module's doc)

        async with aiohttp.ClientSession() as session:
            api = HomeAssistantAPI(session, self.ha_url)
            try:
                first = not (self.config / ".storage" / "onboarding").exists()
                print(
                    "Waiting for Home Assistant"
                    + (" (the first start takes a minute) ..." if first else " ..."),
                    flush=True,
                )
                try:
                    await api.wait_ready(self.hass.running, HA_START_TIMEOUT)
                except DevelopError:
                    if not self.hass.running():
                        raise DevelopError(self.exited(self.hass, " while starting")) from None
                    raise
                created = await api.onboard(self.args.language)
                await api.wait_running(HA_START_TIMEOUT)
                if created:
                    print(f"Onboarding done: created the user {DEMO_USER!r}.", flush=True)
                    await self.remove_online_only_entries(api)
                await api.ws("frontend/set_user_data", key="core", value={"showAdvanced": True})
                # The demo user's profile language (the frontend's texts and states).
                await api.ws(
                    "frontend/set_user_data",
                    key="language",
                    value={"language": self.args.language, "number_format": "language"},
                )
                # A development Home Assistant in a venv is a "Core" installation, which
                # Home Assistant flags as deprecated; that repair is noise here.
                with contextlib.suppress(DevelopError):
                    await api.ws(
                        "repairs/ignore_issue",
                        domain="homeassistant",
                        issue_id="deprecated_method",
                        ignore=True,
                    )
                entry_id = await self.add_or_update_entry(api)
                entities = await self.wait_entities(api, entry_id)
                await self.configure_energy(api, entities)
                devices = await api.ws("config/device_registry/list")
                stations = [
                    d["id"]
                    for d in devices
                    if entry_id in d.get("config_entries", []) and d.get("via_device_id") is None
                ]
            finally:
                await api.close()
        self.state.update(
            {
                "ha_url": self.ha_url,
                "username": DEMO_USER,
                "password": DEMO_PASSWORD,
                "entry_id": entry_id,
                "station_device_ids": stations,
                "sim_api_url": self.creds["api_url"],
                "sim_control_url": self.creds["control_url"],
                "ha_pid": self.hass.pid,
                "sim_pid": self.sim.pid if self.sim else None,
            }
        )
        write_private(self.state_path, json.dumps(self.state, indent=2) + "\n")
        self.banner(stations)

    def banner(self, stations: list[str]) -> None:
        lines = [
            "",
            "Sigen Cloud is running in Home Assistant (READY)",
            f"  Home Assistant: {self.ha_url}",
            f"  user:           {DEMO_USER}",
            f"  password:       {DEMO_PASSWORD}",
        ]
        for number, station in enumerate(stations):
            label = "station device:" if number == 0 else "               "
            lines.append(f"  {label} {self.ha_url}/config/devices/device/{station}")
        lines += [
            f"  Energy:         {self.ha_url}/energy",
            f"  simulator:      {self.creds['api_url']} (control API {self.creds['control_url']})",
            f"  logs:           {self.config / 'home-assistant.log'}, "
            f"{self.config / 'sigen-sim.log'}",
            f"  PIDs:           Home Assistant {self.hass.pid if self.hass else '?'}, "
            f"simulator {self.sim.pid if self.sim else '?'}",
            "Press Ctrl-C to stop Home Assistant, the simulator and its MQTT broker.",
            "",
        ]
        print("\n".join(lines), flush=True)

    async def watch(self) -> None:
        while not self.stop.is_set():
            if self.hass is not None and self.hass.proc.poll() == RESTART_EXIT_CODE:
                print("Home Assistant asked for a restart; starting it again.", flush=True)
                await self.start_hass()
                self.state["ha_pid"] = self.hass.pid
                write_private(self.state_path, json.dumps(self.state, indent=2) + "\n")
            for child in (self.hass, self.sim):
                if child is not None and not child.running():
                    print(self.exited(child) + "; stopping.", flush=True)
                    return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), 1)

    def exited(self, child: Child, when: str = "") -> str:
        """What to say when a child exited: its code, its log, its last output."""
        text = f"{child.name} exited{when} (code {child.proc.returncode})"
        if child.log is not None:
            return f"{text}. Log: {child.log}"
        return (
            f"{text}. Log: {self.config / 'home-assistant.log'}; its last output:\n"
            + child.console_tail()
        )

    def shutdown(self) -> None:
        if self.hass is not None:
            self.hass.stop(timeout=90)
        if self.sim is not None:
            self.sim.stop(timeout=30)
        if self.hass is not None or self.sim is not None:
            print("Stopped.", flush=True)


async def main_async(args: argparse.Namespace) -> int:
    develop = Develop(args)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, develop.stop.set)
    try:
        setup = asyncio.ensure_future(develop.setup())
        stopper = asyncio.ensure_future(develop.stop.wait())
        done, _ = await asyncio.wait({setup, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if setup not in done:
            setup.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await setup
            return 130
        stopper.cancel()
        setup.result()
        await develop.watch()
    except DevelopError as err:
        print(f"develop: {err}", file=sys.stderr, flush=True)
        return 1
    else:
        return 0
    finally:
        await asyncio.to_thread(develop.shutdown)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

"""Shared test set-up: make the integration importable, load the simulator fixtures, and
guard every test against leaked secrets.

The secrets guard (issue 7): the whole suite runs with the ``sigen``, ``sigen_sim``,
``custom_components.sigen_cloud`` and ``aiomqtt`` loggers at DEBUG. A handler on the root
logger formats every record that reaches it (from any logger, Home Assistant's
included) and looks for a known secret in it: the password, app secret and full e-mail
of every simulator created during the test (current and configured), every token the
simulator issued (``sim.tokens``), the private keys of its certificates (each PEM body
line) and its broker's internal password. A test that logged one fails in its teardown
report, with the offending logger and a redacted excerpt. The check is done when the
record is emitted (one regular expression over the formatted text; nothing is kept),
so it costs little and holds no memory. A test that must log a secret on purpose (there
should be none) takes ``@pytest.mark.allow_secrets_in_logs``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

import custom_components  # noqa: F401  (lets Home Assistant find custom_components/sigen_cloud)
from sigen_sim import mqtt_side as _mqtt_side
from sigen_sim import simulator as _simulator

from .snapshot_report import SnapshotMismatch, trim_report

pytest_plugins = ["sigen_sim.pytest_plugin", "pytester"]

DEBUG_LOGGERS = ("sigen", "sigen_sim", "custom_components.sigen_cloud", "aiomqtt")
# Defaults of SimConfig: secrets even when a test made no simulator.
STATIC_SECRETS = ("demo-password", "sim-app-secret", "demo@sigen.invalid")
MIN_SECRET_LENGTH = 8  # shorter strings would match by accident


@dataclass
class _Source:
    """The secrets of one simulator (and of its MQTT side once it has one)."""

    sim: Any
    fixed: set[str] = field(default_factory=set)


_SOURCES: list[_Source] = []


def _pem_body_lines(pem: str) -> set[str]:
    return {
        line.strip()
        for line in pem.splitlines()
        if line.strip() and not line.startswith("-----") and len(line.strip()) >= 16
    }


def _register_simulator(sim: Any) -> None:
    _SOURCES.append(_Source(sim))


def _register_mqtt_side(side: Any) -> None:
    owner = getattr(side, "sim", None)
    source = next((s for s in _SOURCES if s.sim is owner), None)
    if source is None:
        source = _Source(owner)
        _SOURCES.append(source)
    certs = side.certs
    for pem in (
        certs.client.key_pem,
        certs.server.key_pem,
        certs.ca_key_pem,
        certs.other_host_server.key_pem,
        certs.wrong_server.key_pem,
    ):
        source.fixed |= _pem_body_lines(pem)
    source.fixed.add(side.broker.publisher_password)


def _wrap_init(cls: type, register: Any) -> None:
    original = cls.__init__
    if getattr(original, "_secrets_guard", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        register(self)

    __init__._secrets_guard = True  # type: ignore[attr-defined]
    cls.__init__ = __init__  # type: ignore[misc]


_wrap_init(_simulator.Simulator, _register_simulator)
_wrap_init(_mqtt_side.MqttSide, _register_mqtt_side)


def _issued_tokens(sim: Any) -> list[str]:
    """Every token the simulator issued, expired ones included."""
    store = getattr(sim, "tokens", None)
    issued = getattr(store, "issued", None)
    if callable(issued):
        return list(issued())
    return list(getattr(store, "_tokens", {}))


class SecretsGuard(logging.Handler):
    """Flags every log record whose formatted text holds a known secret."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.offenders: list[tuple[str, str, str]] = []  # (logger, secret kind, excerpt)
        self._version: tuple[Any, ...] | None = None
        self._pattern: re.Pattern[str] | None = None
        self._kinds: dict[str, str] = {}
        self._formatter = logging.Formatter()

    def _secrets(self) -> dict[str, str]:
        found: dict[str, str] = dict.fromkeys(STATIC_SECRETS, "demo credential")
        for source in _SOURCES:
            sim = source.sim
            if sim is not None:
                config = getattr(sim, "config", None)
                for value, kind in (
                    (getattr(sim, "password", None), "password"),
                    (getattr(config, "password", None), "password"),
                    (getattr(sim, "app_secret", None), "app secret"),
                    (getattr(sim, "username", None), "e-mail"),
                ):
                    if isinstance(value, str):
                        found[value] = kind
                for token in _issued_tokens(sim):
                    found[token] = "token"
            for value in source.fixed:
                found.setdefault(value, "certificate key or broker password")
        return {k: v for k, v in found.items() if len(k) >= MIN_SECRET_LENGTH}

    def _current_pattern(self) -> re.Pattern[str] | None:
        version = tuple(
            (
                id(s.sim),
                len(getattr(getattr(s.sim, "tokens", None), "_tokens", ())),
                getattr(s.sim, "password", None),
                len(s.fixed),
            )
            for s in _SOURCES
        )
        if version != self._version:
            self._version = version
            self._kinds = self._secrets()
            alternatives = sorted(self._kinds, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, alternatives)))
        return self._pattern

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a bad format string is not this guard's business
            text = f"{record.msg!s} {record.args!r}"
        if record.exc_info:
            text += "\n" + self._formatter.formatException(record.exc_info)
        elif record.exc_text:
            text += "\n" + record.exc_text
        if record.stack_info:
            text += "\n" + record.stack_info
        pattern = self._current_pattern()
        if pattern is None:
            return
        match = pattern.search(text)
        if match is None:
            return
        kind = self._kinds.get(match.group(0), "secret")
        start = max(0, match.start() - 60)
        excerpt = pattern.sub(
            lambda m: f"<{self._kinds.get(m.group(0), 'secret')}>", text[start : match.end() + 60]
        )
        self.offenders.append((record.name, kind, excerpt))


_GUARD = SecretsGuard()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_secrets_in_logs: do not fail this test for a secret in a log record"
    )


def _install_guard() -> None:
    root = logging.getLogger()
    if _GUARD not in root.handlers:
        root.addHandler(_GUARD)
    for name in DEBUG_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    # The test harness's mock Store logs every write in full at DEBUG; Home Assistant's
    # own Store never logs the data it writes. Its echo of an entry's stored session (its
    # tokens, issue 21) would trip the guard in every tier that raises log levels.
    logging.getLogger("pytest_homeassistant_custom_component.common").setLevel(logging.INFO)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Start each test with no offenders and only the simulators still running."""
    _SOURCES[:] = [s for s in _SOURCES if getattr(s.sim, "_started", False)]
    _GUARD.offenders.clear()
    _install_guard()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """After the teardown (every fixture finished), fail the test for a leaked secret.

    A snapshot mismatch (``tests/snapshot_report.py``) is reported short: its message
    (the entity, the difference, the command that updates the snapshots) and the
    captured logs without their DEBUG and INFO records.
    """
    report = yield
    if (
        call.when == "call"
        and report.failed
        and call.excinfo is not None
        and call.excinfo.errisinstance(SnapshotMismatch)
    ):
        trim_report(report, call.excinfo)
    if call.when != "teardown" or not _GUARD.offenders:
        return report
    offenders, _GUARD.offenders = list(_GUARD.offenders), []
    if item.get_closest_marker("allow_secrets_in_logs") is not None:
        return report
    lines = [f"{len(offenders)} log record(s) contain a secret (shown as <kind>):"]
    lines += [f"  {name}: {kind}: {excerpt!r}" for name, kind, excerpt in offenders[:10]]
    if report.passed:
        report.outcome = "failed"
        report.longrepr = "\n".join(lines)
    return report

"""A snapshot mismatch says which entity differs and what to run, without the flood of
captured DEBUG logs (``tests/snapshot_report.py``, wired in ``tests/conftest.py``).

The failing test runs in a pytest of its own (pytester, a subprocess) with this
suite's ``tests/conftest.py`` as a plugin: what a contributor sees is what is checked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .snapshot_report import quiet_log

REPO = Path(__file__).resolve().parent.parent

INNER_TEST = """
import logging

from tests.snapshot_report import assert_snapshot

STATE = {STATE!r}


def test_entities(snapshot):
    log = logging.getLogger("sigen.client")
    for number in range(300):
        log.debug("request %s answered", number)
    log.warning("one thing worth seeing")
    assert_snapshot(
        {{"state": "on"}},
        snapshot,
        name="switch.immersion-state",
        what="switch.immersion: its state",
    )
    assert_snapshot(
        {{"state": STATE}},
        snapshot,
        name="sensor.pv_power-state",
        what="sensor.pv_power: its state",
    )
"""


def _inner(pytester: pytest.Pytester, state: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_inner=INNER_TEST.format(STATE=state))
    return pytester.runpytest_subprocess(
        "-p", "tests.conftest", "-p", "no:cacheprovider", "-p", "no:randomly", *args
    )


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytest with this repository importable and the suite's asyncio settings."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    return pytester


def test_a_snapshot_mismatch_names_the_entity_and_the_update_command(
    inner: pytest.Pytester,
) -> None:
    _inner(inner, "8.2", "--snapshot-update").assert_outcomes(passed=1)
    result = _inner(inner, "9.1")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "sensor.pv_power: its state differs from the snapshot 'sensor.pv_power-state'",
            "(stored in *__snapshots__*test_inner.ambr; - snapshot, + now):",
            "*-*'state': '8.2',",
            "*+*'state': '9.1',",
            "If the new value is right, update the snapshots of this test file:",
            "  scripts/test *test_inner.py --snapshot-update",
            "*test_inner.py:*: in test_entities",
            "(300 DEBUG/INFO log records of this test left out*",
        ]
    )
    assert "switch.immersion" not in out.split("snapshot report summary")[0]
    assert "one thing worth seeing" in out  # warnings stay
    assert "request 299 answered" not in out
    assert "Traceback" not in out
    assert "AssertionError" not in out
    assert len(out.splitlines()) < 60, out


def test_other_failures_keep_their_logs(inner: pytest.Pytester) -> None:
    """Only snapshot failures are trimmed: any other failure shows every record."""
    inner.makepyfile(
        test_other="""
        import logging

        def test_fails():
            logging.getLogger("sigen.client").debug("a clue at debug level")
            assert 1 == 2
        """
    )
    result = inner.runpytest_subprocess("-p", "tests.conftest", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert "a clue at debug level" in result.stdout.str()


def test_quiet_log_keeps_warnings_with_their_continuation_lines() -> None:
    text = "\n".join(
        [
            "DEBUG    sigen:a.py:1 noise",
            "  noise continued",
            "ERROR    sigen:a.py:2 it broke",
            "Traceback (most recent call last):",
            "  boom",
            "INFO:homeassistant.setup:Setting up x",
            "WARNING:homeassistant.loader:custom integration",
        ]
    )
    assert quiet_log(text) == (
        "ERROR    sigen:a.py:2 it broke\n"
        "Traceback (most recent call last):\n"
        "  boom\n"
        "WARNING:homeassistant.loader:custom integration",
        2,
    )

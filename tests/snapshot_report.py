"""Snapshot failures that say which entity differs and what to run.

A plain ``assert value == snapshot`` inside a helper module (``platform_helpers.py``
is not rewritten by pytest) fails with a bare ``AssertionError`` under hundreds of
lines of captured DEBUG logs. :func:`assert_snapshot` fails instead with a
:class:`SnapshotMismatch` naming the value (the entity), the snapshot, its file, the
difference, and the command that updates the snapshots of that test file. The report
hook in ``tests/conftest.py`` then shows just that message (no traceback) and keeps
only the WARNING-and-above records of the captured logs and stderr
(:func:`trim_report`): the
DEBUG records of a whole integration set-up say nothing about a changed snapshot.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.terminal import disable_color

REPO = Path(__file__).resolve().parent.parent
# The start of a record: in a "Captured log" section (pytest's default log_format,
# "INFO     name:file.py:1 message") and in "Captured stderr" (the root handler of Home
# Assistant's test harness, "INFO:name:message").
_RECORD = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)[ :]")
_TRIMMED = ("Captured log", "Captured stderr")
_QUIET_LEVELS = ("DEBUG", "INFO")


class SnapshotMismatch(AssertionError):
    """A value differs from its stored snapshot; the message says which and what to run."""


def _relative(path: str | Path) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def update_command(snapshot: SnapshotAssertion) -> str:
    """The command that rewrites the snapshots of the test file ``snapshot`` belongs to."""
    return f"scripts/test {_relative(snapshot.test_location.filepath)} --snapshot-update"


def assert_snapshot(actual: Any, snapshot: SnapshotAssertion, *, name: str, what: str) -> None:
    """Compare ``actual`` with the snapshot ``name``; on a difference raise a
    :class:`SnapshotMismatch` that starts with ``what`` (e.g. the entity id)."""
    if actual == snapshot(name=name):
        return
    result = snapshot.executions[snapshot.num_executions - 1]
    with disable_color():
        diff = snapshot.get_assert_diff()
    lines = [
        f"{what} differs from the snapshot {name!r}",
        f"(stored in {_relative(result.snapshot_location)}; - snapshot, + now):",
        *(f"  {line}" for line in diff),
        "If the new value is right, update the snapshots of this test file:",
        f"  {update_command(snapshot)}",
    ]
    raise SnapshotMismatch("\n".join(lines))


def quiet_log(text: str) -> tuple[str, int]:
    """``text`` of a captured log without its DEBUG and INFO records (a record's
    continuation lines go with it); also the number of records left out."""
    kept: list[str] = []
    dropped = 0
    keep = True
    for line in text.splitlines():
        if match := _RECORD.match(line):
            keep = match.group(1) not in _QUIET_LEVELS
            dropped += not keep
        if keep:
            kept.append(line)
    return "\n".join(kept), dropped


def trim_report(report: pytest.TestReport, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Make a snapshot failure's report short: the mismatch message with the test's
    line, and the captured logs (and log lines on stderr) without DEBUG and INFO
    records."""
    location = ""
    test_path = Path(str(report.fspath)).resolve()
    for entry in reversed(excinfo.traceback):
        if Path(str(entry.path)).resolve() == test_path:
            location = f"{_relative(entry.path)}:{entry.lineno + 1}: in {report.head_line}"
            break
    sections: list[tuple[str, str]] = []
    dropped = 0
    for title, content in report.sections:
        text = content
        if title.startswith(_TRIMMED):
            text, left_out = quiet_log(content)
            if title.startswith("Captured log"):  # stderr holds the same records again
                dropped += left_out
            if not text.strip():
                continue
        sections.append((title, text))
    report.sections = sections
    note = (
        f"\n({dropped} DEBUG/INFO log records of this test left out: for a snapshot "
        "failure the difference above is what changed)"
        if dropped
        else ""
    )
    report.longrepr = f"{excinfo.value}\n\n{location}{note}".rstrip()

"""Running a README's Python examples as written (issue 14).

A block is taken verbatim, only its URLs, hosts, ports, certificate paths and sleeps
are replaced (:func:`point_at` insists that each replaced text is there, so a README
edit breaks the test instead of passing silently), and it runs with top-level
``await`` (:func:`run_block`), as a user types it into ``python -m asyncio``.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import contextlib
import inspect
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest

from sigen._http import SessionOwner

_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(markdown: str) -> list[str]:
    """The text of every fenced ```python block of ``markdown``, in order."""
    return [match.group(1) for match in _PYTHON_BLOCK.finditer(markdown)]


def point_at(block: str, replacements: Mapping[str, str]) -> str:
    """``block`` with each key replaced by its value (every occurrence).

    Fails when a key is not in the block: the README changed and the test must follow.
    """
    for old, new in replacements.items():
        assert old in block, f"the README example no longer contains {old!r}"
        block = block.replace(old, new)
    return block


async def run_block(source: str, namespace: dict[str, Any], name: str = "<README>") -> None:
    """Execute ``source`` in ``namespace``, awaiting its top-level ``await``s."""
    code = compile(source, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # noqa: S307 - the README's own example
    if inspect.iscoroutine(result):
        await result


async def wait_until(predicate: Callable[[], object], what: str, limit: float = 30.0) -> None:
    """Poll a condition; the bound only turns a hang into a readable failure (no
    timing is asserted)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class RecordingPrint:
    """Stands in for ``print`` in an example's namespace: prints and keeps each line.

    ``printed`` is a :class:`threading.Event`, so a test can also wait for a line an
    example prints in another thread (one that calls ``asyncio.run``).
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.printed = threading.Event()

    def __call__(self, *args: Any, sep: str | None = " ", **kwargs: Any) -> None:
        builtins.print(*args, sep=sep, **kwargs)
        self.lines.append((" " if sep is None else sep).join(str(arg) for arg in args))
        self.printed.set()


@contextlib.asynccontextmanager
async def recorded_clients(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[SessionOwner]]:
    """Every REST client (``Sigen``, ``NorthboundClient``) made inside, closed at the end.

    An example may drop a client without closing it (the original README replaces
    ``nb`` by a second client); the test still leaves no session open.
    """
    made: list[SessionOwner] = []
    original = SessionOwner.__init__

    def record(self: SessionOwner, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(SessionOwner, "__init__", record)
    try:
        yield made
    finally:
        monkeypatch.setattr(SessionOwner, "__init__", original)
        for client in made:
            await client.close()

"""Shared by the end-to-end tests: ``scripts/develop_ha.py`` as a module, and a loud
line in pytest's summary when the browser test could not run for want of Chromium."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
# The start of the skip reason of tests/e2e/test_browser.py without a browser.
NO_BROWSER = "Chromium is not installed"


def load_develop_ha() -> ModuleType:
    """``scripts/develop_ha.py`` (the body of ``scripts/develop``), imported once."""
    name = "develop_ha"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "develop_ha.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly, at the end of the run, that the browser test was skipped and why."""
    reasons = [
        _skip_reason(report)
        for report in terminalreporter.stats.get("skipped", [])
        if NO_BROWSER in _skip_reason(report)
    ]
    if not reasons:
        return
    terminalreporter.write_sep("!", "the browser test did NOT run", red=True, bold=True)
    terminalreporter.write_line(reasons[0].removeprefix("Skipped: "), red=True)

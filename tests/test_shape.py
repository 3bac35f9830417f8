"""The shape that holds the growth (issue 16), kept true by a test: no module of the
library, the integration or the simulator over 400 lines and no class over 300, and a dev
container that gives a contributor the same Python and tools as CI."""

from __future__ import annotations

import ast
import json
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("custom_components/sigen_cloud", "sigen_sim")
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 300


def _sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (REPO / package).rglob("*.py"))


def test_no_module_over_400_lines() -> None:
    too_long = {
        str(path.relative_to(REPO)): lines
        for path in _sources()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


def test_no_class_over_300_lines() -> None:
    too_long: dict[str, int] = {}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                size = node.end_lineno - node.lineno + 1
                if size > MAX_CLASS_LINES:
                    too_long[f"{path.relative_to(REPO)}:{node.name}"] = size
    assert too_long == {}


@pytest.fixture(name="devcontainer")
def devcontainer_fixture() -> dict[str, object]:
    return json.loads((REPO / ".devcontainer.json").read_text(encoding="utf-8"))


def test_the_dev_container_brings_python_314_and_runs_setup(
    devcontainer: dict[str, object],
) -> None:
    image = str(devcontainer["image"])
    assert image.startswith("mcr.microsoft.com/devcontainers/python:3.14")
    assert devcontainer["postCreateCommand"] == "scripts/setup"
    assert 8123 in devcontainer["forwardPorts"]  # type: ignore[operator]


def test_the_dev_container_installs_what_ci_asks_for(devcontainer: dict[str, object]) -> None:
    """The Debian packages CI asks py314 for are the ones the container installs."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    wanted = next(
        line.split(":-", 1)[1].rstrip('}"').split()
        for line in ci.splitlines()
        if line.startswith("export PY314_APT=")
    )
    installed = set(shlex.split(str(devcontainer["onCreateCommand"])))
    assert set(wanted) <= installed

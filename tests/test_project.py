"""The project's own metadata agrees with itself: the license in the SPDX form (no
setuptools deprecation banner at each install), one minimum Home Assistant version
everywhere (the one the suite runs on), and a reason for every skip in the summary."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from homeassistant.const import __version__ as HA_VERSION

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _major_minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def test_license_is_an_spdx_expression_with_its_file() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"  # a string: the TOML table form is deprecated
    for name in project["license-files"]:
        assert (REPO / name).is_file()
    assert "MIT License" in (REPO / "LICENSE").read_text(encoding="utf-8")
    # The SPDX form needs setuptools 77 or newer in the build environment.
    assert "setuptools>=77" in PYPROJECT["build-system"]["requires"]


def test_one_minimum_home_assistant_version_the_tested_one() -> None:
    """hacs.json, both blueprints and the README name the version the suite runs on."""
    tested = _major_minor(HA_VERSION)
    hacs = json.loads((REPO / "hacs.json").read_text(encoding="utf-8"))
    assert _major_minor(hacs["homeassistant"]) == tested
    blueprints = sorted((REPO / "blueprints").rglob("*.yaml"))
    assert len(blueprints) == 2
    for path in blueprints:
        text = re.sub(r"!input \S+", "null", path.read_text(encoding="utf-8"))
        meta = yaml.safe_load(text)["blueprint"]
        assert _major_minor(meta["homeassistant"]["min_version"]) == tested, path.name
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    stated = re.findall(r"Home Assistant (\d{4}\.\d+) or newer", readme)
    assert stated
    assert {_major_minor(v) for v in stated} == {tested}


def test_every_skip_says_why_in_the_summary() -> None:
    """pytest's summary lists each skip with its reason (addopts -rs); the only skip of
    the suite, the soak run, says how to run it."""
    assert "-rs" in PYPROJECT["tool"]["pytest"]["ini_options"]["addopts"].split()
    soak = "tests/reliability/test_broker_outages.py::test_integration_push_survives_long_outages"
    result = subprocess.run(  # noqa: S603 (this interpreter, our test)
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--no-cov", soak],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"SKIPPED \[1\] .*: a soak run of hours: scripts/soak --ha", result.stdout), (
        result.stdout
    )

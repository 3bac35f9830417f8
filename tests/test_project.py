"""The project's own metadata agrees with itself: the license in the SPDX form (no
setuptools deprecation banner at each install), one minimum Home Assistant version
everywhere (the one the suite runs on), a reason for every skip in the summary, and
documentation whose relative links all lead somewhere inside the repository."""

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
    """hacs.json, the three blueprints and the README name the version the suite runs on."""
    tested = _major_minor(HA_VERSION)
    hacs = json.loads((REPO / "hacs.json").read_text(encoding="utf-8"))
    assert _major_minor(hacs["homeassistant"]) == tested
    blueprints = sorted((REPO / "blueprints").rglob("*.yaml"))
    assert len(blueprints) == 3
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


# The Markdown pages of the repository (not those of installed packages).
DOCS = sorted(
    [REPO / "README.md", *(REPO / "docs").glob("*.md"), *REPO.glob("*/README.md")],
    key=lambda path: path.relative_to(REPO).as_posix(),
)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<img\b[^>]*\bsrc=\"([^\"]+)\"")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _prose(text: str) -> str:
    """Markdown without code blocks and inline code (links inside code are not links)."""
    return _INLINE_CODE.sub("", _FENCE.sub("", text))


def _anchors(path: Path) -> set[str]:
    """The heading anchors GitHub makes for a Markdown file (duplicates get -1, -2...)."""
    anchors: set[str] = set()
    for heading in _HEADING.findall(_FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, number = slug, 0
        while candidate in anchors:
            number += 1
            candidate = f"{slug}-{number}"
        anchors.add(candidate)
    return anchors


def test_relative_links_in_the_docs_lead_to_files_of_the_repository() -> None:
    """Every relative link (and image) in the README and docs/ names a file or folder of
    the repository, and its #anchor a heading of that file; none leaves the repository."""
    assert REPO / "docs" / "architecture.md" in DOCS
    broken: list[str] = []
    for doc in DOCS:
        for match in _LINK.finditer(_prose(doc.read_text(encoding="utf-8"))):
            target = match.group(1) or match.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                continue  # https:, mailto: ...
            where = f"{doc.relative_to(REPO)}: {target}"
            path_part, _, anchor = target.partition("#")
            resolved = (doc.parent / path_part).resolve() if path_part else doc
            if not resolved.is_relative_to(REPO):
                broken.append(f"{where} (outside the repository)")
            elif not resolved.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{where} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_readme_links_the_contributor_docs() -> None:
    """The README's Contributing section leads to the architecture map and reliability."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Contributing\n", 1)[1].split("\n## ", 1)[0]
    assert "](docs/architecture.md)" in section
    assert "](docs/reliability.md)" in section


def test_the_docs_name_no_file_outside_the_repository() -> None:
    """docs/ describes the project from inside the repository: no path into ../shared
    (notes kept beside the checkout, which a reader of the repository does not have)."""
    pages = sorted((REPO / "docs").glob("*.md"))
    assert pages
    for page in pages:
        assert "../shared" not in page.read_text(encoding="utf-8"), page.name


def test_quality_scale_parses_and_claims_platinum() -> None:
    """quality_scale.yaml is valid YAML (Home Assistant's hassfest reads it) and every
    rule is done, or exempt with a reason: the Platinum claim holds rule by rule."""
    path = REPO / "custom_components" / "sigen_cloud" / "quality_scale.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    assert len(rules) >= 50
    for name, rule in rules.items():
        assert rule["status"] in ("done", "exempt"), name
        assert str(rule.get("comment", "")).strip(), f"{name} gives no reason"

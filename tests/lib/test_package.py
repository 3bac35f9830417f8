"""The library as a package: ``import sigen`` works on its own, exports what the
contract names, ships ``py.typed`` and never imports Home Assistant."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import sigen

PACKAGE_DIR = Path(sigen.__file__).parent
REPO = Path(__file__).resolve().parents[2]


def test_public_names() -> None:
    from sigen import NBMode, NorthboundClient, Sigen, SigenMQTT, TelemetryData

    assert Sigen.__module__ == "sigen.client"
    assert NorthboundClient.__module__ == "sigen.northbound"
    assert SigenMQTT.__module__ == "sigen.mqtt"
    assert TelemetryData.__module__ == "sigen.telemetry"
    assert NBMode.VPP == 6
    for name in sigen.__all__:
        assert getattr(sigen, name) is not None, name
    assert isinstance(sigen.__version__, str)


def test_installed_from_the_integration() -> None:
    """``pip install -e .`` maps ``sigen`` onto custom_components/sigen_cloud/sigen."""
    assert PACKAGE_DIR == REPO / "custom_components" / "sigen_cloud" / "sigen"
    assert (PACKAGE_DIR / "py.typed").is_file()


def _library_modules() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


@pytest.mark.parametrize("path", _library_modules(), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_no_home_assistant_and_relative_imports_only(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside the package
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top != "homeassistant", f"{path.name} imports {name}"
            assert top not in ("sigen", "custom_components"), (
                f"{path.name} imports {name}: use a relative import"
            )


def test_import_in_a_clean_interpreter() -> None:
    code = (
        "import sys\n"
        "from sigen import Sigen, NorthboundClient, SigenMQTT, TelemetryData, NBMode\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'homeassistant')\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_everything_imported_by_init_is_exported() -> None:
    """mypy --strict treats names missing from ``__all__`` as private to the package."""
    tree = ast.parse((PACKAGE_DIR / "__init__.py").read_text(encoding="utf-8"))
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.level
        for alias in node.names
    }
    assert imported <= set(sigen.__all__), sorted(imported - set(sigen.__all__))


def test_every_subpackage_is_packaged() -> None:
    """A wheel holds only the packages pyproject names: each area package must be listed."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    roots = {name: REPO / path for name, path in setuptools["package-dir"].items()}
    found = {
        ".".join((name, *init.parent.relative_to(root).parts))
        for name, root in roots.items()
        for init in root.rglob("__init__.py")
    }
    assert found == set(setuptools["packages"])

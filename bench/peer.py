"""The peer: the unmaintained ``sigen`` 3.0.3 from PyPI, loaded beside our ``sigen``.

Its module is also called ``sigen``, so it is never installed: the wheel is downloaded
into ``bench/.cache/peer`` (git-ignored) with ``pip download --no-deps``, its single
``sigen.py`` extracted and imported under the name ``sigen_peer``.
"""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

VERSION = "3.0.3"
CACHE = Path(__file__).resolve().parent / ".cache" / "peer"
MODULE_NAME = "sigen_peer"

_module: ModuleType | None = None


def _wheel() -> Path:
    wheels = sorted(CACHE.glob(f"sigen-{VERSION}-*.whl"))
    if wheels:
        return wheels[0]
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603  (fixed arguments)
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            f"sigen=={VERSION}",
            "-d",
            str(CACHE),
        ],
        check=True,
    )
    wheels = sorted(CACHE.glob(f"sigen-{VERSION}-*.whl"))
    if not wheels:
        raise RuntimeError(f"pip download left no sigen {VERSION} wheel in {CACHE}")
    return wheels[0]


def source_path() -> Path:
    """The peer's ``sigen.py``, downloaded and extracted on first use."""
    target = CACHE / f"sigen_peer_{VERSION.replace('.', '_')}.py"
    if not target.exists():
        with zipfile.ZipFile(_wheel()) as wheel:
            target.write_bytes(wheel.read("sigen.py"))
    return target


def load() -> ModuleType:
    """Import the peer as ``sigen_peer`` (once)."""
    global _module  # noqa: PLW0603
    if _module is not None:
        return _module
    path = source_path()
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    # The peer calls logging.basicConfig(level=INFO) at import; that does nothing when the
    # root logger already has a handler, so give it a silent one for the duration.
    root = logging.getLogger()
    guard = logging.NullHandler()
    added = not root.handlers
    if added:
        root.addHandler(guard)
    try:
        sys.modules[MODULE_NAME] = module
        spec.loader.exec_module(module)
    finally:
        if added:
            root.removeHandler(guard)
    logging.getLogger(MODULE_NAME).setLevel(logging.WARNING)
    _module = module
    return module


def client(module: ModuleType, username: str, password: str, base_url: str) -> Any:
    """A peer client pointed at ``base_url``: it reads ``self.BASE_URL`` for every URL,
    which its constructor takes from the ``REGION_BASE_URLS`` table."""
    api = module.Sigen(username, password, region="eu")
    api.BASE_URL = base_url
    return api

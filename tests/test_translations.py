"""Every language the integration ships keeps up with en.json (issue 22).

Home Assistant shows an integration's texts in the user's language when the integration
ships that language, and falls back to English key by key when a key is missing: a
language that misses a key, or carries a key en.json dropped, shows a stale or mixed
text without any error. So for each language of issue 22: the file exists, it has every
key of en.json and none that en.json lacks, each text keeps the same ``{name}``
placeholders as the English one (a renamed or dropped placeholder would raise when Home
Assistant formats the message), and every value is a non-empty string. Each check is
parametrized per language, so a failure names the language and the keys.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

TRANSLATIONS = (
    Path(__file__).resolve().parent.parent / "custom_components" / "sigen_cloud" / "translations"
)
LANGUAGES = ("de", "nl", "fr", "it", "es", "pl", "cs", "sv", "da", "pt", "zh-Hans", "ja")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Key path (``config.step.user.title``) -> leaf value."""
    if not isinstance(node, dict):
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else key))
    return flat


def _load(name: str) -> dict[str, Any]:
    path = TRANSLATIONS / f"{name}.json"
    if not path.is_file():
        pytest.fail(f"{name}: translations/{name}.json does not exist")
    return _flatten(json.loads(path.read_text(encoding="utf-8")))


ENGLISH = _load("en")


def _placeholders(text: Any) -> set[str]:
    return set(PLACEHOLDER.findall(text)) if isinstance(text, str) else set()


def _report(language: str, problem: str, keys: list[str]) -> str:
    shown = "\n  ".join(keys[:40])
    more = f"\n  ... and {len(keys) - 40} more" if len(keys) > 40 else ""
    return f"{language}: {len(keys)} {problem}:\n  {shown}{more}"


def test_english_is_the_source() -> None:
    """en.json itself: non-empty strings only, so the other checks compare against texts."""
    bad = [key for key, value in ENGLISH.items() if not isinstance(value, str) or not value]
    assert not bad, _report("en", "keys without a text", bad)


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_file_exists(language: str) -> None:
    assert (TRANSLATIONS / f"{language}.json").is_file(), (
        f"{language}: translations/{language}.json does not exist"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_english_key_is_translated(language: str) -> None:
    translated = _load(language)
    missing = sorted(set(ENGLISH) - set(translated))
    assert not missing, _report(language, "keys of en.json missing", missing)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_key_that_english_lacks(language: str) -> None:
    translated = _load(language)
    extra = sorted(set(translated) - set(ENGLISH))
    assert not extra, _report(language, "keys that en.json lacks", extra)


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_placeholders_as_english(language: str) -> None:
    translated = _load(language)
    differ = [
        f"{key}: en {sorted(_placeholders(text))} vs {sorted(_placeholders(translated[key]))}"
        for key, text in ENGLISH.items()
        if key in translated and _placeholders(text) != _placeholders(translated[key])
    ]
    assert not differ, _report(language, "texts with other placeholders than en.json", differ)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_value_is_a_non_empty_string(language: str) -> None:
    translated = _load(language)
    empty = sorted(
        key for key, value in translated.items() if not isinstance(value, str) or not value.strip()
    )
    assert not empty, _report(language, "keys without a text", empty)

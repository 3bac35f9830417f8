"""Checks of the config flow's results against translations/en.json.

Every form a flow of ours shows must have its step, its fields (and their
descriptions), its errors and its placeholders in the translations; every abort its
reason. ``check_flow_translations`` wraps Home Assistant's flow manager so that each
step of each flow a test runs is checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowManager, FlowResultType, section

from custom_components.sigen_cloud.const import DOMAIN

TRANSLATIONS: dict[str, Any] = json.loads(
    (
        Path(__file__).parents[2] / "custom_components" / DOMAIN / "translations" / "en.json"
    ).read_text(encoding="utf-8")
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fields_translated(schema: Any, texts: Mapping[str, Any], where: str) -> None:
    for marker, value in schema.schema.items():
        key = str(marker)
        if isinstance(value, section):
            sections = texts.get("sections") or {}
            assert key in sections, f"{where}: section {key} has no translation"
            assert sections[key].get("name"), f"{where}: section {key} has no name"
            _fields_translated(value.schema, sections[key], f"{where}.{key}")
            continue
        assert key in (texts.get("data") or {}), f"{where}: field {key} has no label"
        assert key in (texts.get("data_description") or {}), (
            f"{where}: field {key} has no data_description"
        )


def _placeholders_given(texts: list[str], result: Mapping[str, Any], where: str) -> None:
    given = set(result.get("description_placeholders") or {})
    wanted = {name for text in texts for name in _PLACEHOLDER.findall(text)}
    assert wanted <= given, f"{where}: placeholders {sorted(wanted - given)} not given"


def check_flow_result(result: Mapping[str, Any]) -> None:
    """Assert that a result of one of our config flows is fully translated."""
    config = TRANSLATIONS["config"]
    if result["type"] is FlowResultType.FORM:
        step_id = result["step_id"]
        assert step_id in config["step"], f"step {step_id} has no translation"
        step = config["step"][step_id]
        assert step.get("title"), f"step {step_id} has no title"
        texts = [step.get("description", "")]
        for field, error in (result.get("errors") or {}).items():
            assert error in config["error"], f"{step_id}: error {error} ({field}) untranslated"
            texts.append(config["error"][error])
        if result.get("data_schema") is not None:
            _fields_translated(result["data_schema"], step, step_id)
        _placeholders_given(texts, result, step_id)
    elif result["type"] is FlowResultType.ABORT:
        reason = result["reason"]
        assert reason in config["abort"], f"abort reason {reason} has no translation"
        _placeholders_given([config["abort"][reason]], result, f"abort {reason}")


@pytest.fixture(autouse=True)
def check_flow_translations() -> Iterator[None]:
    """Check every step result of a Sigen Cloud flow against the translations."""
    original = FlowManager._async_handle_step

    async def handle_step(self: FlowManager, flow: Any, step_id: str, user_input: Any) -> Any:
        result = await original(self, flow, step_id, user_input)
        if flow.handler == DOMAIN:
            check_flow_result(result)
        return result

    with patch.object(FlowManager, "_async_handle_step", handle_step):
        yield


@pytest.fixture(autouse=True)
async def no_entry_setup(hass: HomeAssistant) -> AsyncIterator[AsyncMock]:
    """The flows are tested on their own; entries they create are not set up (and are
    unloaded before the patch ends: a reconfigure reloads its entry). Autouse where a
    test module imports it."""
    with (
        patch("custom_components.sigen_cloud.async_setup_entry", return_value=True) as mock,
        patch("custom_components.sigen_cloud.async_unload_entry", return_value=True),
    ):
        yield mock
        for entry in hass.config_entries.async_loaded_entries(DOMAIN):
            await hass.config_entries.async_unload(entry.entry_id)


def section_collapsed(result: Mapping[str, Any], name: str = "advanced") -> bool:
    """Whether a form shows its section ``name`` collapsed."""
    for marker, value in result["data_schema"].schema.items():
        if str(marker) == name and isinstance(value, section):
            return bool(value.options["collapsed"])
    raise AssertionError(f"the form has no section {name}")


def suggested_values(result: Mapping[str, Any]) -> dict[str, Any]:
    """The suggested values of a form (sections as nested dicts)."""

    def values(schema: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for marker, value in schema.schema.items():
            if isinstance(value, section):
                out[str(marker)] = values(value.schema)
            elif isinstance(marker.description, Mapping) and (
                "suggested_value" in marker.description
            ):
                out[str(marker)] = marker.description["suggested_value"]
        return out

    return values(result["data_schema"])

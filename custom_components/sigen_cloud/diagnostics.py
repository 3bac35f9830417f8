"""Diagnostics of Sigen Cloud: entry and coordinator data, every secret and serial redacted."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .const import (
    CONF_APP_IDENTIFIER,
    CONF_APP_KEY,
    CONF_APP_SECRET,
    CONF_CA_CERT,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
)
from .data import SigenConfigEntry

# Keys redacted wherever they appear (entry data, models, raw cloud payloads).
TO_REDACT = {
    CONF_USERNAME,
    CONF_PASSWORD,
    CONF_APP_KEY,
    CONF_APP_SECRET,
    CONF_APP_IDENTIFIER,
    CONF_CA_CERT,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    "title",
    "unique_id",
    "email",
    "access_token",
    "accessToken",
    "refresh_token",
    "token",
    "station_id",
    "stationId",
    "system_id",
    "systemId",
    "sn_code",
    "snCode",
    "station_sn",
    "stationSnCode",
    "ac_sn_list",
    "acSnList",
    "dc_sn_list",
    "dcSnList",
    "systemName",
    "name",
    "addr",
    "address",
    "latitude",
    "longitude",
}


def _plain(value: Any) -> Any:
    """Dataclasses, enums and datetimes as JSON-friendly values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _scrub(value: Any, secrets: list[str]) -> Any:
    """Replace any known secret or identifier that hides inside a longer text."""
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
    return value


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SigenConfigEntry
) -> dict[str, Any]:
    """Everything useful to debug the entry, with nothing that identifies the owner."""
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    secrets = [str(v) for v in entry.data.values() if isinstance(v, str) and len(v) >= 4]
    for station_id, station in coordinator.data.stations.items():
        secrets.append(station_id)
        if station.system_id:
            secrets.append(station.system_id)
        if station.info is not None and station.info.sn_code:
            secrets.append(station.info.sn_code)
    secrets.extend(
        token
        for token in (
            getattr(runtime.northbound, "access_token", None),
            entry.unique_id,
        )
        if isinstance(token, str) and token
    )
    # Longest first, so that a secret containing another one is replaced whole.
    secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    stations = [_plain(station) for station in coordinator.data.stations.values()]
    mqtt = runtime.mqtt
    result = {
        "entry": {
            "title": entry.title,
            "unique_id": entry.unique_id,
            "data": dict(entry.data),
            "options": dict(entry.options),
        },
        "coordinator": {
            "last_update_success": coordinator.last_update_success,
            "update_interval": str(coordinator.update_interval),
            "developer_credentials": runtime.northbound is not None,
            "mqtt": {
                "running": runtime.mqtt_task is not None and not runtime.mqtt_task.done(),
                "connected": bool(getattr(mqtt, "connected", False)),
                "onboarding": _plain(getattr(mqtt, "onboarding", {}) or {}),
            },
            "mqtt_connected": coordinator.data.mqtt_connected,
            "stations": stations,
        },
    }
    redacted = async_redact_data(result, TO_REDACT)
    # Onboarding results are keyed by system id: redact the keys too.
    onboarding = redacted["coordinator"]["mqtt"]["onboarding"]
    redacted["coordinator"]["mqtt"]["onboarding"] = list(onboarding.values())
    return _scrub(redacted, secrets)  # type: ignore[no-any-return]

"""Diagnostics of Sigen Cloud: entry and coordinator data, every secret and serial redacted."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
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
from .data import SigenConfigEntry, StationRuntime

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
    "serial",
    "serial_number",
    "dcSnCode",
    "showSnCode",
    "shown_serial",
    "parent_serial",
    "device_serial",
    "deviceSnCode",
    "rawDeviceSnCode",
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
    if isinstance(value, Mapping):
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


def _station(station: StationRuntime) -> dict[str, Any]:
    """One station: its account entry and each coordinator's data and health."""
    view = station.view()
    ev_data = None if station.ev is None else station.ev.data
    return {
        "station_id": station.station_id,
        "system_id": station.system_id,
        "info": _plain(station.info),
        "energy_flow": _plain(view.energy_flow),
        "last_poll": _plain(view.last_poll),
        "settings": _plain(view.settings),
        "smart_loads": _plain(station.smart_loads.data if station.smart_loads else None),
        # The owner's battery and grid settings and the manual control: no secrets in
        # them (their raw payloads' station ids are redacted like everywhere).
        "controls": _plain(view.controls),
        "push": _plain(view.push),
        # The EV chargers as a list (their serials are redacted wherever they appear).
        "ev_chargers": _plain(list(ev_data.chargers.values()) if ev_data else []),
        "forecast": _forecast(station),
        # The TOU schedule (issue 18): each period's days, times, action and limits.
        "schedule": (
            [period.friendly() for period in station.schedule.periods]
            if station.schedule is not None
            else None
        ),
        # The alarm list and the device tree (issue 18; serials redacted like the chargers').
        "devices": _plain(station.devices.data if station.devices else None),
        "last_update_success": {
            kind: coordinator.last_update_success
            for kind, coordinator in (
                ("live", station.live),
                ("settings", station.settings),
                ("smart_loads", station.smart_loads),
                ("controls", station.controls),
                ("ev", station.ev),
                ("forecast", station.forecast),
                ("schedule", station.schedule),
                ("devices", station.devices),
            )
            if coordinator is not None
        },
    }


def _forecast(station: StationRuntime) -> dict[str, Any] | None:
    """The AI forecast in brief, the tariff plan and the price summary.

    Of the forecast, when it was made and each series' length and span: the series
    themselves are the sensors'.
    """
    if station.forecast is None:
        return None
    data = station.forecast.current
    forecast = data.forecast
    series = {}
    if forecast is not None:
        for name in ("pv", "load", "soc"):
            points = getattr(forecast, name)
            series[name] = {
                "points": len(points),
                "from": points[0].time.isoformat() if points else None,
                "to": points[-1].time.isoformat() if points else None,
            }
    plan = data.plan
    return {
        "made_at": _plain(forecast.made_at) if forecast is not None else None,
        "series": series,
        "plan": None
        if plan is None
        else {
            "currency": plan.currency,
            "provider_name": plan.provider_name,
            "plan_name": plan.plan_name,
            "buy": [_plain(slot) for slot in plan.buy],
            "sell": [_plain(slot) for slot in plan.sell],
        },
        "price_cost": [_plain(cost) for cost in data.price_cost],
    }


def _secrets(entry: SigenConfigEntry) -> list[str]:
    """Every identifier and secret of the entry, longest first."""
    runtime = entry.runtime_data
    secrets = [str(v) for v in entry.data.values() if isinstance(v, str) and len(v) >= 4]
    for station_id, station in runtime.stations.items():
        secrets.append(station_id)
        if station.system_id:
            secrets.append(station.system_id)
        if station.info is not None and station.info.sn_code:
            secrets.append(station.info.sn_code)
        if station.ev is not None:
            secrets.extend(charger.serial for charger in station.ev.listed)
        if station.devices is not None and station.devices.data is not None:
            secrets.extend(node.serial for node in station.devices.data.tree or ())
    if runtime.northbound is not None and runtime.northbound.access_token:
        secrets.append(runtime.northbound.access_token)
    if entry.unique_id:
        secrets.append(entry.unique_id)
    # Longest first, so that a secret containing another one is replaced whole.
    return sorted({s for s in secrets if s}, key=len, reverse=True)


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SigenConfigEntry
) -> dict[str, Any]:
    """Everything useful to debug the entry, with nothing that identifies the owner."""
    runtime = entry.runtime_data
    push, mqtt = runtime.push, runtime.mqtt
    result = {
        "entry": {
            "title": entry.title,
            "unique_id": entry.unique_id,
            "data": dict(entry.data),
            "options": dict(entry.options),
        },
        "coordinator": {
            "last_update_success": all(c.last_update_success for c in runtime.coordinators()),
            "update_interval": str(runtime.account.update_interval),
            "developer_credentials": runtime.northbound is not None,
            "mqtt": {
                "running": push.task is not None and not push.task.done(),
                "connected": mqtt is not None and mqtt.connected,
                "onboarding": _plain(mqtt.onboarding if mqtt is not None else {}),
            },
            "mqtt_connected": push.connected,
            "stations": [_station(station) for station in runtime.stations.values()],
        },
    }
    redacted = async_redact_data(result, TO_REDACT)
    # Onboarding results are keyed by system id: redact the keys too.
    onboarding = redacted["coordinator"]["mqtt"]["onboarding"]
    redacted["coordinator"]["mqtt"]["onboarding"] = list(onboarding.values())
    return _scrub(redacted, _secrets(entry))  # type: ignore[no-any-return]

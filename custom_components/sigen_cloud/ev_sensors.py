"""Sensors and the plug binary sensor of the EV chargers (issue 20).

The power is signed as the Energy dashboard reads a bidirectional device: + while the
charger charges the car (the home consumes), - while a V2X session discharges the car
into the home. The energy counters are the charger's own: the lifetime energy into
and out of cars (``total_increasing``), and the session's energy (``total``: it starts
again at 0 with each car plugged in); the Energy dashboard takes them as individual
devices. sensor.py and binary_sensor.py add these through :func:`async_setup_ev_sensors`
and :func:`async_setup_ev_binary_sensors`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .energy import ENERGY_COUNTER_KWH, POWER_KW
from .ev_entity import (
    SigenChargerEntity,
    SigenChargerEntityDescription,
    async_track_chargers,
    wanted,
)
from .sigen.models.ev import DC_STATUSES, DISCHARGING_BELOW_KW

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime
    from .models import ChargerData

CHARGER_STATUS_OPTIONS: Final = ["idle", "ready", "preparing", "charging", "discharging"]


def charger_status(data: ChargerData) -> str | None:
    """The charger's status: the DC charger's own, the AC charger's from its power."""
    state = data.dc_state
    if state is None:
        if data.power is None:
            return None
        return "charging" if data.power > abs(DISCHARGING_BELOW_KW) else "idle"
    if state.discharging:
        return "discharging"
    if state.run_state_name == "charging":
        return "charging"
    return None if state.status is None else DC_STATUSES.get(state.status)


def _v2x_end(data: ChargerData) -> datetime | None:
    """When the running V2X session ends (``None`` while none runs).

    The cloud's word that a session runs decides, not Home Assistant's clock.
    """
    session = data.v2x
    return session.ends_at if session is not None and session.timed else None


def _lifetime(data: ChargerData, *, charged: bool) -> float | None:
    """The DC charger's lifetime energy into (``charged``) or out of cars (kWh)."""
    totals = data.dc_totals
    if totals is not None:
        return totals.charged if charged else totals.discharged
    state = data.dc_state
    return state.total_charge_energy if charged and state is not None else None


@dataclass(frozen=True, kw_only=True)
class SigenChargerSensorEntityDescription(SensorEntityDescription, SigenChargerEntityDescription):
    """A sensor of a charger."""

    value_fn: Callable[[ChargerData], StateType | datetime]


def _sensor(
    key: str,
    value_fn: Callable[[ChargerData], StateType | datetime],
    *,
    has_fn: Callable[[ChargerData], bool] | None = None,
    **kwargs: Any,
) -> SigenChargerSensorEntityDescription:
    """A charger sensor; by default it exists while its value is known (first read)."""
    return SigenChargerSensorEntityDescription(
        key=key,
        translation_key=f"charger_{key}",
        value_fn=value_fn,
        has_fn=has_fn or (lambda d: value_fn(d) is not None),
        **kwargs,
    )


CHARGER_SENSORS: tuple[SigenChargerSensorEntityDescription, ...] = (
    _sensor(
        "status",
        charger_status,
        device_class=SensorDeviceClass.ENUM,
        options=CHARGER_STATUS_OPTIONS,
        has_fn=lambda d: d.dc_state is not None or d.power is not None,
    ),
    _sensor("power", lambda d: d.power, has_fn=lambda _d: True, **POWER_KW),
    _sensor(
        "session_energy",
        lambda d: d.dc_state.session_energy if d.dc_state else None,
        **{**ENERGY_COUNTER_KWH, "state_class": SensorStateClass.TOTAL},
    ),
    _sensor(
        "energy_charged",
        lambda d: _lifetime(d, charged=True),
        kinds=("dc",),
        **ENERGY_COUNTER_KWH,
    ),
    _sensor(
        "energy_discharged",
        lambda d: _lifetime(d, charged=False),
        kinds=("dc",),
        **ENERGY_COUNTER_KWH,
    ),
    _sensor(
        "car_soc",
        lambda d: d.dc_state.vehicle_soc if d.dc_state else None,
        kinds=("dc",),
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        has_fn=lambda d: d.dc_state is not None,
    ),
    _sensor(
        "ac_charge_mode",
        lambda d: d.ac_mode.mode if d.ac_mode else None,
        kinds=("ac",),
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    _sensor(
        "v2x_end",
        _v2x_end,
        kinds=("dc",),
        device_class=SensorDeviceClass.TIMESTAMP,
        has_fn=lambda d: d.v2x is not None,
    ),
)


@dataclass(frozen=True, kw_only=True)
class SigenChargerBinarySensorEntityDescription(
    BinarySensorEntityDescription, SigenChargerEntityDescription
):
    """A binary sensor of a charger."""

    value_fn: Callable[[ChargerData], bool | None]


CHARGER_PLUG = SigenChargerBinarySensorEntityDescription(
    key="plug",
    translation_key="charger_plug",
    device_class=BinarySensorDeviceClass.PLUG,
    kinds=("dc",),
    value_fn=lambda d: d.dc_state.plugged if d.dc_state else None,
    has_fn=lambda d: d.dc_state is not None and d.dc_state.plugged is not None,
)


@callback
def async_setup_ev_sensors(
    hass: HomeAssistant, entry: SigenConfigEntry, add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the sensors of every charger, now and as chargers appear."""

    @callback
    def add(station: StationRuntime, data: ChargerData, via: str) -> None:
        add_entities(
            SigenChargerSensor(station, data.serial, description, via)
            for description in CHARGER_SENSORS
            if wanted(description, data)
        )

    async_track_chargers(hass, entry, add)


@callback
def async_setup_ev_binary_sensors(
    hass: HomeAssistant, entry: SigenConfigEntry, add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the plug sensor of every charger that reports its plug, now and later."""

    @callback
    def add(station: StationRuntime, data: ChargerData, via: str) -> None:
        if wanted(CHARGER_PLUG, data):
            add_entities([SigenChargerBinarySensor(station, data.serial, CHARGER_PLUG, via)])

    async_track_chargers(hass, entry, add)


class SigenChargerSensor(SigenChargerEntity, SensorEntity):
    """A sensor of an EV charger."""

    entity_description: SigenChargerSensorEntityDescription

    @property
    @override
    def native_value(self) -> StateType | datetime:
        """The description's value of the charger's latest data."""
        data = self.data
        value = None if data is None else self.entity_description.value_fn(data)
        return value + 0.0 if isinstance(value, float) else value


class SigenChargerBinarySensor(SigenChargerEntity, BinarySensorEntity):
    """The plug of a DC charger."""

    entity_description: SigenChargerBinarySensorEntityDescription

    @property
    @override
    def is_on(self) -> bool | None:
        """Whether a car is plugged in."""
        data = self.data
        return None if data is None else self.entity_description.value_fn(data)

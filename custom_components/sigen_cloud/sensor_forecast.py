"""Sensors of Sigen's AI forecast and of the prices (the station's forecast coordinator).

The forecast sensors show the forecast for now (the 15-minute point in force, else the
next one) and carry the whole series in an attribute in the shape energy optimizers
read from solar-forecast integrations: ``forecast`` is a list of ``{"datetime": ISO,
"value": …}``; the PV sensor also carries Solcast's ``detailedForecast`` (``{"period_start":
ISO, "pv_estimate": kW}``), which most optimizers read. The series change hourly and
are large: they are kept out of the recorder.

The price sensors show the tariff plan's buy and sell price of the current 30-minute
slot. The cloud keeps prices in cents per kWh (``currencyCode`` ``"Cent"``, a hundredth
of the account's currency, which it does not name); they are shown in Home Assistant's
currency per kWh (``EUR/kWh``: the cents divided by 100).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, UnitOfEnergy
from homeassistant.core import callback
from homeassistant.helpers.event import async_track_time_change

from .energy import POWER_KW
from .entity import SigenEntity, SigenEntityDescription

if TYPE_CHECKING:
    from .coordinator import SigenForecastCoordinator
    from .data import StationRuntime
    from .sigen import ForecastPoint, TariffSlot

#: The attributes holding a series (not recorded).
SERIES_ATTRIBUTES = frozenset({"forecast", "detailedForecast", "today"})
#: Cents (the cloud's unit) per unit of the currency.
CENTS_PER_UNIT = 100.0

type ValueFn = Callable[[SigenForecastCoordinator], float | None]
type AttrsFn = Callable[[SigenForecastCoordinator], Mapping[str, Any] | None]


def _series(points: tuple[ForecastPoint, ...], time_key: str, value_key: str) -> list[Any]:
    """A series as a list of ``{time_key: ISO, value_key: value}``."""
    return [{time_key: p.time.isoformat(), value_key: p.value} for p in points]


def _now_value(coordinator: SigenForecastCoordinator, series: str) -> float | None:
    """The value of the point in force now, else of the next point."""
    forecast = coordinator.current.forecast
    if forecast is None:
        return None
    now = coordinator.local_now()
    value = forecast.at(series, now)
    if value is not None:
        return value
    points: tuple[ForecastPoint, ...] = getattr(forecast, series)
    return next((p.value for p in points if p.time > now), None)


def _series_attrs(series: str) -> AttrsFn:
    """The attributes of a forecast sensor: its series, and when it was made."""

    def attrs(coordinator: SigenForecastCoordinator) -> Mapping[str, Any] | None:
        forecast = coordinator.current.forecast
        if forecast is None:
            return None
        points: tuple[ForecastPoint, ...] = getattr(forecast, series)
        made = forecast.made_at.isoformat() if forecast.made_at is not None else None
        found: dict[str, Any] = {"made_at": made, "forecast": _series(points, "datetime", "value")}
        if series == "pv":
            found["detailedForecast"] = _series(points, "period_start", "pv_estimate")
        return found

    return attrs


def _remaining_today(coordinator: SigenForecastCoordinator) -> float | None:
    """The PV energy forecast from now to the station's midnight (kWh)."""
    forecast = coordinator.current.forecast
    if forecast is None:
        return None
    return round(forecast.pv_energy_remaining_today(coordinator.local_now()), 3)


def _price(direction: str) -> ValueFn:
    """The plan's price of the current slot, in the currency per kWh."""

    def value(coordinator: SigenForecastCoordinator) -> float | None:
        cents = coordinator.price_now(direction)
        return None if cents is None else round(cents / CENTS_PER_UNIT, 5)

    return value


def _slot_times(slot: TariffSlot, day: datetime) -> tuple[str, str]:
    """A slot's start and end on the station-local ``day`` (midnight), as ISO texts."""
    return (
        (day + timedelta(minutes=slot.start)).isoformat(),
        (day + timedelta(minutes=slot.end)).isoformat(),
    )


def _price_attrs(direction: str) -> AttrsFn:
    """Today's slots of the plan (``today``: ``{"start", "end", "value"}``) and the tax."""

    def attrs(coordinator: SigenForecastCoordinator) -> Mapping[str, Any] | None:
        data = coordinator.current
        midnight = coordinator.local_now().replace(hour=0, minute=0, second=0, microsecond=0)
        slots = () if data.plan is None else getattr(data.plan, direction)
        today = []
        for slot in slots:
            start, end = _slot_times(slot, midnight)
            today.append(
                {"start": start, "end": end, "value": round(slot.price / CENTS_PER_UNIT, 5)}
            )
        rates = (cost.fixed_tax_rate for cost in data.price_cost)
        tax = next((rate for rate in rates if rate is not None), None)
        return {"today": today, "tax_rate": tax}

    return attrs


def _has_forecast(coordinator: SigenForecastCoordinator) -> bool:
    return coordinator.current.forecast is not None


def _has_prices(coordinator: SigenForecastCoordinator) -> bool:
    data = coordinator.current
    return data.plan is not None or bool(data.price_cost)


@dataclass(frozen=True, kw_only=True)
class SigenForecastSensorEntityDescription(SensorEntityDescription, SigenEntityDescription):
    """A sensor of the forecast coordinator: its value, attributes and whether it has data.

    ``currency``: the unit is Home Assistant's currency per kWh.
    """

    forecast_value_fn: ValueFn
    attrs_fn: AttrsFn = lambda _coordinator: None
    has_data_fn: Callable[[SigenForecastCoordinator], bool] = _has_forecast
    currency: bool = False


def _power_forecast(key: str, series: str) -> SigenForecastSensorEntityDescription:
    return SigenForecastSensorEntityDescription(
        key=key,
        translation_key=key,
        **POWER_KW,
        forecast_value_fn=lambda c: _now_value(c, series),
        attrs_fn=_series_attrs(series),
    )


def _price_sensor(key: str, direction: str) -> SigenForecastSensorEntityDescription:
    return SigenForecastSensorEntityDescription(
        key=key,
        translation_key=key,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        forecast_value_fn=_price(direction),
        attrs_fn=_price_attrs(direction),
        has_data_fn=_has_prices,
        currency=True,
    )


FORECAST_SENSORS: tuple[SigenForecastSensorEntityDescription, ...] = (
    _power_forecast("pv_power_forecast", "pv"),
    _power_forecast("load_power_forecast", "load"),
    SigenForecastSensorEntityDescription(
        key="battery_soc_forecast",
        translation_key="battery_soc_forecast",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        forecast_value_fn=lambda c: _now_value(c, "soc"),
        attrs_fn=_series_attrs("soc"),
    ),
    SigenForecastSensorEntityDescription(
        key="pv_energy_remaining_today",
        translation_key="pv_energy_remaining_today",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        forecast_value_fn=_remaining_today,
    ),
    _price_sensor("buy_price", "buy"),
    _price_sensor("sell_price", "sell"),
)


def forecast_sensors(station: StationRuntime) -> list[SensorEntity]:
    """The forecast and price sensors of a station with a forecast coordinator.

    A part the station did not report at the first read has no sensors.
    """
    coordinator = station.forecast
    if coordinator is None:
        return []
    return [
        SigenForecastSensor(coordinator, station, description)
        for description in FORECAST_SENSORS
        if not coordinator.last_update_success or description.has_data_fn(coordinator)
    ]


class SigenForecastSensor(SigenEntity["SigenForecastCoordinator"], SensorEntity):
    """A forecast or price sensor; it moves on every 15 minutes between the hourly polls."""

    entity_description: SigenForecastSensorEntityDescription
    _unrecorded_attributes = SERIES_ATTRIBUTES

    @override
    async def async_added_to_hass(self) -> None:
        """Also write the state at every quarter hour (the next point, the next slot)."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_track_time_change(self.hass, self._async_tick, minute=(0, 15, 30, 45), second=0)
        )

    @callback
    def _async_tick(self, _now: datetime) -> None:
        self.async_write_ha_state()

    @property
    @override
    def available(self) -> bool:
        """Available while the coordinator is and holds the sensor's part."""
        return super().available and self.entity_description.has_data_fn(self.coordinator)

    @property
    @override
    def native_unit_of_measurement(self) -> str | None:
        """The description's unit; a price's is Home Assistant's currency per kWh."""
        if self.entity_description.currency:
            return f"{self.hass.config.currency}/{UnitOfEnergy.KILO_WATT_HOUR}"
        return super().native_unit_of_measurement

    @property
    @override
    def native_value(self) -> float | None:
        """The description's value of the coordinator's data."""
        return self.entity_description.forecast_value_fn(self.coordinator)

    @property
    @override
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The series (forecast) or today's slots and tax (prices)."""
        return self.entity_description.attrs_fn(self.coordinator)

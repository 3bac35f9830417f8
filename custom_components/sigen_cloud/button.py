"""Buttons of the Sigen Cloud integration: start and stop charging on a DC charger.

A press writes through the station's EV coordinator (one write at a time per station,
read back; see ev_entity.py), so the charger's status and power follow at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant, callback

from .coordinator.ev_writes import charging
from .ev_entity import (
    SigenChargerEntity,
    SigenChargerEntityDescription,
    async_track_chargers,
    wanted,
)

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import SigenConfigEntry, StationRuntime
    from .models import ChargerData

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SigenChargerButtonEntityDescription(ButtonEntityDescription, SigenChargerEntityDescription):
    """A button of a charger; ``start``: whether it starts charging (else stops)."""

    start: bool


CHARGER_BUTTONS: tuple[SigenChargerButtonEntityDescription, ...] = (
    SigenChargerButtonEntityDescription(
        key="start_charging",
        translation_key="charger_start_charging",
        kinds=("dc",),
        has_fn=lambda d: d.dc_state is not None,
        start=True,
    ),
    SigenChargerButtonEntityDescription(
        key="stop_charging",
        translation_key="charger_stop_charging",
        kinds=("dc",),
        has_fn=lambda d: d.dc_state is not None,
        start=False,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the buttons of every DC charger, now and as chargers appear."""

    @callback
    def add(station: StationRuntime, data: ChargerData, via: str) -> None:
        async_add_entities(
            SigenChargerButton(station, data.serial, description, via)
            for description in CHARGER_BUTTONS
            if wanted(description, data)
        )

    async_track_chargers(hass, entry, add)


class SigenChargerButton(SigenChargerEntity, ButtonEntity):
    """Start or stop charging the car on a DC charger."""

    entity_description: SigenChargerButtonEntityDescription

    @override
    async def async_press(self) -> None:
        """Send the start or stop, then read the charger back."""
        await self.async_write_charger(None, charging(self.entity_description.start))

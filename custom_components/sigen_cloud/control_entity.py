"""The base of the entities that show and change a station's settings and manual control.

They follow the station's controls coordinator. A change shows at once (the new value
is pending while its write runs), then the entity shows what the cloud reports: the
read-back after the write, or the value from before when the write failed. A setting
the station does not report on the first read has no entity; one it stops reporting
later makes its entity unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN
from .coordinator import SigenControlsCoordinator
from .entity import SigenEntity, SigenEntityDescription
from .helpers import sigen_errors
from .models import ControlsData

if TYPE_CHECKING:
    from .coordinator.control_writes import ControlWrite
    from .data import StationRuntime
    from .view import StationView

NO_CONTROLS: Final = ControlsData()


def controls_of(view: StationView) -> ControlsData:
    """The station's settings (empty before the first read, or for a push-only station)."""
    return view.controls or NO_CONTROLS


def has(part: str) -> Callable[[StationView], bool]:
    """Whether the station reports one part of its settings (``exists_fn``/``available_fn``)."""

    def has_part(view: StationView) -> bool:
        return getattr(controls_of(view), part) is not None

    return has_part


def check_range(entity_id: str, value: float, low: float, high: float, unit: str) -> None:
    """Refuse a value outside ``low`` … ``high``, naming the range (translated)."""
    if low <= value <= high:
        return
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="value_out_of_range",
        translation_placeholders={
            "entity": entity_id,
            "value": f"{value:g}",
            "min": f"{low:g}",
            "max": f"{high:g}",
            "unit": unit,
        },
    )


class SigenControlEntity(SigenEntity[SigenControlsCoordinator]):
    """An entity of a station's settings; ``pending`` is its value while it is written."""

    def __init__(
        self, station: StationRuntime, description: SigenEntityDescription, *, push: bool = False
    ) -> None:
        """Follow the station's controls coordinator (app API stations have one).

        With ``push``, also the station's push (a range from the MQTT system data).
        """
        assert station.controls is not None
        super().__init__(
            station.controls, station, description, also=(station.push,) if push else ()
        )
        self.pending: object | None = None
        self.writing = False

    @property
    def controls(self) -> ControlsData:
        """The settings as the cloud last reported them."""
        return self.coordinator.data or NO_CONTROLS

    async def async_write_control(self, shown: object, write: ControlWrite) -> None:
        """Show ``shown`` at once, write, and show the cloud's value after.

        The library's errors become translated Home Assistant errors; a value out of
        range (the library's check) is the user's, naming the range.
        """
        self.pending, self.writing = shown, True
        self.async_write_ha_state()
        try:
            async with sigen_errors(self.hass, self.coordinator.config_entry):
                await self.coordinator.async_write(write)
        finally:
            self.pending, self.writing = None, False
            self.async_write_ha_state()

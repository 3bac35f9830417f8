"""A coordinator's own subscribers beside its data listeners (alarm events, for one).

An event that is not the coordinator's data (an alarm raised or cleared) goes to its
own subscribers: each gets a remover of its own, and a subscriber that removes itself
(or another) while being called does not disturb the others.
"""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import CALLBACK_TYPE, callback


class Subscribers[T]:
    """The callables that want every ``T`` from now on."""

    def __init__(self) -> None:
        """Start with none."""
        self._listeners: dict[int, Callable[[T], None]] = {}
        self._last = 0

    @callback
    def async_add(self, listener: Callable[[T], None]) -> CALLBACK_TYPE:
        """Call ``listener`` with every item from now on; returns the remover."""
        self._last += 1
        key = self._last
        self._listeners[key] = listener

        @callback
        def remove() -> None:
            self._listeners.pop(key, None)

        return remove

    @callback
    def async_call(self, item: T) -> None:
        """Hand ``item`` to every subscriber known now."""
        for listener in list(self._listeners.values()):
            listener(item)

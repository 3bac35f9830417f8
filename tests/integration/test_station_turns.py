"""The platforms add the stations one at a time, the event loop getting turns between.

An installer's account of 50 stations is 2,000 entities; added back to back they kept
the loop (and with it the MQTT handshake beside them) waiting for most of a second
(issue 21). Every platform of an entry takes its turn at adding one station, and other
work runs between two turns; stations that come or go meanwhile are followed.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from custom_components.sigen_cloud.entity import async_track_stations


class _Account:
    """The account coordinator's part that ``async_track_stations`` uses."""

    def __init__(self, station_ids: list[str]) -> None:
        self.stations: dict[str, Any] = {sid: f"runtime {sid}" for sid in station_ids}
        self.listeners: list[Callable[[], None]] = []

    def async_add_listener(self, update: Callable[[], None]) -> Callable[[], None]:
        self.listeners.append(update)
        return lambda: self.listeners.remove(update)

    def changed(self) -> None:
        for update in list(self.listeners):
            update()


class _Entry:
    def __init__(self, account: _Account) -> None:
        self.runtime_data = type("Runtime", (), {"account": account})()
        self.unloads: list[Callable[[], None]] = []

    def async_on_unload(self, func: Callable[[], None]) -> None:
        self.unloads.append(func)


async def test_platforms_take_turns_and_the_loop_runs_between() -> None:
    account = _Account(["s1", "s2", "s3"])
    entry = _Entry(account)
    events: list[str] = []
    stop = asyncio.Event()

    async def other_work() -> None:
        while not stop.is_set():
            events.append("tick")
            await asyncio.sleep(0)

    ticker = asyncio.create_task(other_work())
    await asyncio.gather(
        *(
            async_track_stations(
                entry,  # type: ignore[arg-type]
                lambda station, p=platform: events.append(f"{p} {station}"),
            )
            for platform in ("sensor", "switch")
        )
    )
    stop.set()
    await ticker

    adds = [e for e in events if e != "tick"]
    assert sorted(adds) == sorted(
        f"{p} runtime {s}" for p in ("sensor", "switch") for s in ("s1", "s2", "s3")
    )
    # Never two stations added without the loop running something else between them.
    for before, after in itertools.pairwise(events):
        assert before == "tick" or after == "tick", events


async def test_stations_that_come_or_go_during_the_turns() -> None:
    account = _Account(["s1", "s2", "s3"])
    entry = _Entry(account)
    added: list[Any] = []

    def add_station(station: Any) -> None:
        added.append(station)
        if station == "runtime s1":
            # The account changes while the platform is still adding its stations.
            del account.stations["s2"]
            account.stations["s0"] = "runtime s0"
            account.changed()

    await async_track_stations(entry, add_station)  # type: ignore[arg-type]
    assert sorted(added) == ["runtime s0", "runtime s1", "runtime s3"]

    # Later changes are followed as before, each station once.
    account.stations["s4"] = "runtime s4"
    account.changed()
    account.changed()
    assert added.count("runtime s4") == 1
    assert len(added) == 4

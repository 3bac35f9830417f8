"""Load: 100 stations' telemetry at 10 messages per second each (simulated clock), through
the real broker into one listener. CI runs three phases of one simulated second (3 500
messages with the warm-up); ``scripts/soak`` runs ten minutes. Asserts only on bounds: nothing lost,
no growth of the library's memory between the first and the last phase, no task left.
Timings are printed, never asserted."""

from __future__ import annotations

import pytest

from sigen_sim import Simulator

from .load import run_load

STATIONS = 100
# Memory the library, aiomqtt and paho may still hold after the last phase compared with
# the first (allocator noise, caches of bounded size); a leak of one object per message
# would be several hundred KiB here.
GROWTH_BOUND = 128 * 1024


@pytest.mark.sim_config(stations=STATIONS, time_scale=0, telemetry_interval=0, nb_rate_limits=False)
async def test_hundred_stations_ten_messages_per_second(sim_mqtt: Simulator) -> None:
    result = await run_load(sim_mqtt, seconds_per_phase=1.0, phases=3)
    print(result.report())
    assert result.lost == 0
    assert result.sent == 3 * 10 * STATIONS + 5 * STATIONS
    assert result.memory_growth() < GROWTH_BOUND, result.report()
    assert result.phases[-1].tasks <= result.phases[0].tasks, result.report()
    assert result.tasks_after == result.tasks_before

"""Pytest fixtures for the simulator: ``sim``, ``sim_mqtt``, ``sim_mtls`` (and ``sim_config``).

Load with ``pytest_plugins = ["sigen_sim.pytest_plugin"]``. Each fixture starts a fresh
simulator on free loopback ports and stops everything (broker included) in teardown,
also when the test fails. They enable sockets themselves (pytest-socket's
``socket_enabled``). Tune the configuration per test with a marker::

    @pytest.mark.sim_config(time_scale=0, nb_rate_limits=False)
    async def test_x(sim): ...

or override the ``sim_config`` fixture in a module or conftest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .simulator import SimConfig, Simulator


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``sim_config`` marker."""
    config.addinivalue_line(
        "markers", "sim_config(**kwargs): SimConfig fields for the sim/sim_mqtt/sim_mtls fixtures"
    )


@pytest.fixture
def sim_config(request: pytest.FixtureRequest) -> SimConfig:
    """The configuration the ``sim*`` fixtures start with.

    Every ``sim_config`` marker applies (module, class, function), the closest winning
    field by field.
    """
    kwargs: dict[str, Any] = {}
    # module/class markers first, then closer ones override them field by field
    for marker in reversed(list(request.node.iter_markers("sim_config"))):
        kwargs.update(marker.kwargs)
    return SimConfig(**kwargs)


async def _start(config: SimConfig) -> Simulator:
    simulator = Simulator(config)
    await simulator.start()  # stops what it started itself when start fails
    return simulator


@pytest.fixture
async def sim(socket_enabled: None, sim_config: SimConfig) -> AsyncIterator[Simulator]:
    """App + northbound API, no MQTT (fast)."""
    simulator = await _start(dataclasses.replace(sim_config, mqtt=False))
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def sim_mqtt(socket_enabled: None, sim_config: SimConfig) -> AsyncIterator[Simulator]:
    """With the MQTT broker (TLS, server certificate only)."""
    config = dataclasses.replace(sim_config, mqtt=True, require_client_cert=False)
    simulator = await _start(config)
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def sim_mtls(socket_enabled: None, sim_config: SimConfig) -> AsyncIterator[Simulator]:
    """With the MQTT broker requiring a client certificate (mutual TLS)."""
    config = dataclasses.replace(sim_config, mqtt=True, require_client_cert=True)
    simulator = await _start(config)
    try:
        yield simulator
    finally:
        await simulator.stop()

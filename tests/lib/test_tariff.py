"""``sigen.tariff`` (TariffApi) on a fake transport and against the simulator (issue 20).

Answers are the shapes of §7.13-§7.15 (``fixtures/tariff.json``): the price summary as
an object or a list, a plan with the older ``"23:30-00:00"`` slot, spike loads as a list
or a page, event ids as text or numbers. Every refused plan names its problem and sends
nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from typing import Any

import pytest

from sigen import Sigen, SigenValidationError, SpikeLoad, StationInfo, TariffSlot
from sigen.app import TariffApi
from sigen_sim import Simulator

from .settings_fakes import HOME, FakeHome, fixture, make, sent

TARIFF = fixture("tariff")
DAY = [10.0 + index for index in range(48)]


def area(*bodies: Any, home: FakeHome | None = None) -> tuple[TariffApi, Any]:
    return make(TariffApi, *(b if b == "ok" else TARIFF[b] for b in bodies), home=home)


async def test_price_cost_object() -> None:
    tariff, transport = area("price_cost_object")
    (cost,) = await tariff.get_price_cost()
    assert (cost.direction, cost.fixed_tax_rate, cost.tax_mode, cost.negative_price_tax) == (
        2,
        0.25,
        0,
        False,
    )
    assert [(fee.name, fee.fixed_value, fee.apply_tax) for fee in cost.fees] == [
        ("Grid fee", 0.1, True)
    ]
    assert transport.calls[0][2]["params"] == {"stationId": HOME}


async def test_price_cost_list() -> None:
    tariff, _ = area("price_cost_list")
    costs = await tariff.get_price_cost()
    assert [(c.direction, c.price_cost, c.fixed_tax_rate) for c in costs] == [
        (0, 21.5, 0.2),
        (2, 8.0, None),
    ]


async def test_plan_none_and_old_midnight() -> None:
    tariff, _ = area("plan_none", "plan_old_midnight")
    empty = await tariff.get_plan()
    assert (empty.buy, empty.sell, empty.currency) == ((), (), None)
    plan = await tariff.get_plan()
    assert [slot.label for slot in plan.buy] == ["00:00-00:30", "23:30-24:00"]
    assert plan.price_at("buy", time(23, 45)) == 30.5
    assert plan.price_at("sell", datetime(2026, 1, 1, 23, 59)) == -2.0
    assert plan.price_at("buy", time(12, 0)) is None
    assert (plan.currency, plan.provider_name, plan.plan_name) == (
        "Cent",
        "Amber",
        "SAPN TOU 30-min",
    )


async def test_set_tariff_from_48_prices() -> None:
    tariff, transport = area("ok")
    plan = await tariff.set_tariff(DAY, [0.055] * 48, unit="currency/kWh")
    ((method, path, body),) = sent(transport)
    assert (method, path, body["stationId"], body["priceMode"]) == (
        "POST",
        "device/stationelecsetprice/save",
        int(HOME),
        1,
    )
    static = body["buyPrice"]["staticPricing"]
    assert body["buyPrice"]["dynamicPricing"] is None
    assert static["currencyCode"] == "Cent"
    ranges = static["combinedPrices"][0]["weekPrices"][0]["timeRange"]
    assert ranges[0] == {"timeRange": "00:00-00:30", "price": 1000.0}
    assert ranges[-1] == {"timeRange": "23:30-24:00", "price": 5700.0}
    sell = body["sellPrice"]["staticPricing"]["combinedPrices"][0]["weekPrices"][0]["timeRange"]
    assert sell[5]["price"] == 5.5
    assert plan.price_at("sell", time(2, 0)) == 5.5
    assert len(plan.buy) == 48


async def test_set_tariff_from_slots_in_any_order() -> None:
    slots: list[Any] = [
        (f"{h:02d}:{m:02d}", f"{(h * 60 + m + 30) // 60:02d}:{(m + 30) % 60:02d}", 12.345)
        for h in range(24)
        for m in (0, 30)
    ]
    slots.reverse()
    slots[0] = TariffSlot(1410, 1440, -3.0)
    tariff, transport = area("ok")
    plan = await tariff.set_tariff(slots, DAY)
    assert plan.buy[0].price == 12.35
    assert plan.buy[-1].price == -3.0
    assert plan.buy[-1].label == "23:30-24:00"
    assert len(sent(transport)) == 1


@pytest.mark.parametrize(
    ("buy", "message"),
    [
        ([1.0] * 47, "The buy prices must be 48 half-hourly prices from 00:00 to 24:00, got 47"),
        (
            [("00:00", "01:00", 5.0)],
            "The buy slot 00:00-01:00 is 60 minutes long; the cloud takes only 30-minute slots",
        ),
        ([("00:00", "00:15", 5.0)], "is 15 minutes long"),
        ([("00:00", "00:30", 1.0), ("00:00", "00:30", 2.0)], "The buy slot 00:00-00:30 overlaps"),
        ([("00:30", "01:00", 1.0)], "The buy slots leave 00:00-00:30 without a price"),
        ([("00:00", "00:30", 1.0)], "The buy slots leave 00:30-24:00 without a price"),
        ([("0:00", "25:00", 1.0)], "times must be 'HH:MM' from 00:00 to 24:00"),
        ([("00:00", "00:30", "1")], "must be a number from -100000 to 100000 cent/kWh"),
        ([[1.0, 2.0]], "A buy slot must be a TariffSlot"),
        ("cheap", "must be 48 half-hourly prices or a list of slots"),
        ([], "must be 48 half-hourly prices or a list of slots"),
        ([float("nan")] * 48, "The buy price of slot 0 must be a number"),
        ([100001.0] * 48, "from -100000 to 100000 cent/kWh, got 100001.0"),
    ],
)
async def test_set_tariff_refused_before_sending(buy: Any, message: str) -> None:
    tariff, transport = area()
    with pytest.raises(SigenValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await tariff.set_tariff(buy, DAY)
    assert transport.calls == []


async def test_a_price_in_the_wrong_unit() -> None:
    tariff, transport = area()
    with pytest.raises(
        SigenValidationError, match=r"Unknown price unit 'EUR/MWh'; allowed: cent/kWh"
    ):
        await tariff.set_tariff(DAY, DAY, unit="EUR/MWh")
    with pytest.raises(SigenValidationError, match=r"from -1000 to 1000 currency/kWh, got 2000"):
        await tariff.set_tariff([2000.0] * 48, DAY, unit="currency/kWh")
    with pytest.raises(SigenValidationError, match="The plan name must be text"):
        await tariff.set_tariff(DAY, DAY, plan_name="")
    assert transport.calls == []


# --------------------------------------------------------------------------- spike loads


class DublinHome(FakeHome):
    station = StationInfo.from_dict({"stationId": HOME, "timeZoneName": "Europe/Dublin"})


async def test_add_spike_load_in_station_time() -> None:
    tariff, transport = area("ok", home=DublinHome())
    await tariff.add_spike_load(datetime(2026, 4, 4, 12, 15, tzinfo=UTC), 180, 10)
    assert sent(transport) == [
        (
            "POST",
            "prediction/aipv/prediction/modify/predictLoad",
            {
                "stationId": int(HOME),
                "loadType": 4,
                "startTime": "13:15",
                "startDate": "2026-04-04",
                "duration": 180,
                "power": 10.0,
            },
        )
    ]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("13:15", 60, 1), {}, "start must be a datetime"),
        ((datetime(2026, 1, 1), 0, 1), {}, r"duration must be a whole number from 1 to 1440"),
        ((datetime(2026, 1, 1), 60, 0), {}, r"power must be a number above 0 to 100 kW"),
        (
            (datetime(2026, 1, 1), 60, 1),
            {"load_type": 28},
            r"type must be a whole number from 0 to 27",
        ),
    ],
)
async def test_spike_load_refused(args: Any, kwargs: dict[str, Any], message: str) -> None:
    tariff, transport = area()
    with pytest.raises(SigenValidationError, match=message):
        await tariff.add_spike_load(*args, **kwargs)
    assert transport.calls == []


@pytest.mark.parametrize("name", ["spikes", "spikes_paged"])
async def test_list_spike_loads(name: str) -> None:
    tariff, transport = area(name)
    (spike,) = await tariff.list_spike_loads()
    assert isinstance(spike, SpikeLoad)
    assert spike.event_id.startswith("20416037306919403")
    assert spike.load_name in ("Car Charging", "Other")
    assert transport.calls[0][1] == f"prediction/aipv/prediction/get/automationLoadRecord/{HOME}"


async def test_remove_spike_load() -> None:
    tariff, transport = area("spikes", "ok")
    (spike,) = await tariff.list_spike_loads()
    await tariff.remove_spike_load(spike)
    assert transport.calls[1][2]["params"] == {"stationId": HOME, "eventId": "2041603730691940352"}


@pytest.mark.parametrize("event_id", ["", "abc", 2041603730691940352, None])
async def test_remove_spike_load_refused(event_id: Any) -> None:
    tariff, transport = area()
    with pytest.raises(SigenValidationError, match="event id must be a string of digits"):
        await tariff.remove_spike_load(event_id)
    assert transport.calls == []


# --------------------------------------------------------------------------- simulator


@pytest.fixture
async def api(socket_enabled: None, sim: Simulator) -> AsyncIterator[Sigen]:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as client:
        await client.get_station_info()
        yield client


@pytest.mark.sim_config(time_scale=0, start_time=1779235200.0)  # 2026-05-20 01:00 Dublin
async def test_sim_the_tariff_drives_tou(sim: Simulator, api: Sigen) -> None:
    station = sim.stations[0]
    await api.set_operational_mode(2)  # TOU: charges 01:00-05:00 without a plan
    assert (await api.get_energy_flow()).battery_power == -5.0  # charging at full power
    prices = [30.0] * 48
    prices[40:48] = [5.0] * 8  # 20:00-24:00 is cheapest
    written = await api.tariff.set_tariff(prices, [8.0] * 48)
    assert station.pricing.buy == prices
    assert await api.tariff.get_plan() == written
    flow = await api.get_energy_flow()
    assert flow.battery_power is not None
    assert flow.battery_power > -5.0
    await sim.advance(19 * 3600)  # 20:00, a cheap slot
    assert (await api.get_energy_flow()).battery_power == -5.0
    (cost,) = await api.tariff.get_price_cost()
    assert cost.price_cost == 5.0
    assert cost.fixed_tax_rate == 0.25


@pytest.mark.sim_config(time_scale=0)
async def test_sim_spike_loads(sim: Simulator, api: Sigen) -> None:
    await api.tariff.add_spike_load(datetime(2026, 4, 4, 13, 15), 180, 10)
    (spike,) = await api.tariff.list_spike_loads()
    assert (spike.start_date, spike.start_time, spike.duration, spike.power) == (
        "2026-04-04",
        "13:15",
        180,
        10.0,
    )
    await api.tariff.remove_spike_load(spike.event_id)
    assert await api.tariff.list_spike_loads() == []

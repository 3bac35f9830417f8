"""``sigen.battery`` (BatteryApi) on a fake transport: SOC levels, power limits, export.

Answers are the shapes of §7.1, §7.3 and §7.4 of the API notes (``fixtures/battery_*``):
strings of whole percent or kW, decimals, numbers, the "no limit" sentinel. Each check
of an argument has its own test, and none of them sends anything.
"""

from __future__ import annotations

from typing import Any

import pytest

from sigen import BatteryPowerLimits, Sigen, SigenAppClient, SocLevels
from sigen.app import BatteryApi
from sigen.app.battery import KEEP
from sigen.errors import SigenAPIError, SigenError, SigenValidationError

from .settings_fakes import HOME, FakeHome, envelope, fixture, make, sent

LEVELS = f"device/energy-profile/battery/level/{HOME}"
LIMITS = f"device/energy-profile/battery/limit/{HOME}"
EXPORT = f"device/energy-profile/battery/export/limitation/{HOME}"

# --------------------------------------------------------------------------- SOC levels


async def test_soc_levels() -> None:
    battery, transport = make(BatteryApi, fixture("battery_soc_levels"))
    levels = await battery.get_soc_levels()
    assert levels == SocLevels(charge_cut_off=99, discharge_cut_off=1, peak_shaving=11, backup=4)
    assert levels.raw["chargeSOC"] == "99"
    assert sent(transport) == [("GET", LEVELS, None)]


@pytest.mark.parametrize("variant", ["decimal_strings", "numbers", "mqtt_keys"])
async def test_soc_levels_in_every_spelling(variant: str) -> None:
    battery, _ = make(BatteryApi, envelope(fixture("battery_soc_levels_variants")[variant]))
    levels = await battery.get_soc_levels()
    assert (levels.charge_cut_off, levels.discharge_cut_off) == (95, 10)
    assert (levels.peak_shaving, levels.backup) == (20, 5)
    assert isinstance(levels.charge_cut_off, int)


async def test_soc_level_missing_is_none() -> None:
    battery, _ = make(BatteryApi, envelope({"chargeSOC": "90", "dischargeSOC": ""}))
    levels = await battery.get_soc_levels()
    assert (levels.charge_cut_off, levels.discharge_cut_off, levels.backup) == (90, None, None)


async def test_set_one_level_reads_the_others_first() -> None:
    battery, transport = make(BatteryApi, fixture("battery_soc_levels"), "ok")
    written = await battery.set_soc_levels(backup=20)
    assert sent(transport) == [
        ("GET", LEVELS, None),
        (
            "PUT",
            "device/energy-profile/battery/level",
            {
                "stationId": int(HOME),
                "chargeSOC": "99",
                "dischargeSOC": "1",
                "peakShavingSOC": "11",
                "backupSOC": "20",
            },
        ),
    ]
    assert written == SocLevels(charge_cut_off=99, discharge_cut_off=1, peak_shaving=11, backup=20)


async def test_set_two_levels_keeps_the_read_ones() -> None:
    battery, transport = make(BatteryApi, fixture("battery_soc_levels"), "ok")
    await battery.set_soc_levels(charge_cut_off=90, discharge_cut_off=10.0)  # type: ignore[arg-type]
    body = sent(transport)[1][2]
    assert body["chargeSOC"] == "90"
    assert body["dischargeSOC"] == "10"  # a whole float is a whole percent
    assert (body["peakShavingSOC"], body["backupSOC"]) == ("11", "4")


async def test_set_all_four_levels_reads_nothing() -> None:
    battery, transport = make(BatteryApi, "ok")
    await battery.set_soc_levels(
        charge_cut_off=100, discharge_cut_off=0, peak_shaving=0, backup=100
    )
    assert [call[0] for call in sent(transport)] == ["PUT"]
    assert sent(transport)[0][2]["backupSOC"] == "100"


async def test_level_out_of_range() -> None:
    battery, transport = make(BatteryApi)
    with pytest.raises(SigenValidationError, match=r"charge cut-off.*from 1 to 100 %, got 101"):
        await battery.set_soc_levels(charge_cut_off=101)
    with pytest.raises(SigenValidationError, match=r"discharge cut-off.*from 0 to 99 %, got 100"):
        await battery.set_soc_levels(discharge_cut_off=100)
    with pytest.raises(SigenValidationError, match=r"backup SOC.*from 0 to 100 %, got -1"):
        await battery.set_soc_levels(backup=-1)
    assert transport.calls == []


async def test_level_not_whole() -> None:
    battery, transport = make(BatteryApi)
    with pytest.raises(SigenValidationError, match=r"peak-shaving SOC.*whole number.*got 10.5"):
        await battery.set_soc_levels(peak_shaving=10.5)  # type: ignore[arg-type]
    with pytest.raises(SigenValidationError, match="whole number"):
        await battery.set_soc_levels(backup=True)  # a bool is not a percentage
    with pytest.raises(SigenValidationError, match="whole number"):
        await battery.set_soc_levels(backup="20")  # type: ignore[arg-type]
    assert transport.calls == []


async def test_no_level_given() -> None:
    battery, transport = make(BatteryApi)
    with pytest.raises(SigenValidationError, match="Give at least one SOC level"):
        await battery.set_soc_levels()
    assert transport.calls == []


async def test_charge_cut_off_below_discharge_cut_off() -> None:
    battery, transport = make(BatteryApi)
    with pytest.raises(
        SigenValidationError, match=r"charge cut-off SOC \(20 %\) must not be below"
    ):
        await battery.set_soc_levels(
            charge_cut_off=20, discharge_cut_off=30, peak_shaving=0, backup=0
        )
    assert transport.calls == []


async def test_equal_cut_offs_are_allowed() -> None:
    battery, transport = make(BatteryApi, "ok")
    await battery.set_soc_levels(charge_cut_off=50, discharge_cut_off=50, peak_shaving=0, backup=0)
    assert sent(transport)[0][2]["chargeSOC"] == sent(transport)[0][2]["dischargeSOC"] == "50"


async def test_charge_cut_off_below_the_read_discharge_cut_off() -> None:
    body = envelope(
        {"chargeSOC": "90", "dischargeSOC": "40", "peakShavingSOC": "0", "backupSOC": "0"}
    )
    battery, transport = make(BatteryApi, body)
    with pytest.raises(SigenValidationError, match=r"\(30 %\) must not be below .*\(40 %\)"):
        await battery.set_soc_levels(charge_cut_off=30)
    assert [call[0] for call in sent(transport)] == ["GET"]  # read, never written


async def test_a_level_the_cloud_did_not_report() -> None:
    battery, transport = make(BatteryApi, envelope({"chargeSOC": "90", "dischargeSOC": "10"}))
    with pytest.raises(SigenValidationError, match="did not report peak_shaving, backup"):
        await battery.set_soc_levels(charge_cut_off=95)
    assert [call[0] for call in sent(transport)] == ["GET"]


# --------------------------------------------------------------------------- power limits


async def test_power_limits_sentinel_is_none() -> None:
    battery, transport = make(BatteryApi, fixture("battery_power_limits"))
    limits = await battery.get_power_limits()
    assert limits == BatteryPowerLimits(max_charge=None, max_discharge=16.0)
    assert sent(transport) == [("GET", LIMITS, None)]


@pytest.mark.parametrize(
    ("sent_value", "expected"),
    [("4294967.295", None), (4294967.295, None), ("4294967295", None), ("7.5", 7.5), (7, 7.0)],
)
async def test_power_limit_spellings(sent_value: Any, expected: float | None) -> None:
    body = envelope({"batteryMaxChargingPower": sent_value, "batteryMaxDischargingPower": "0.000"})
    limits = await make(BatteryApi, body)[0].get_power_limits()
    assert limits.max_charge == expected
    assert limits.max_discharge == 0.0


async def test_set_both_power_limits() -> None:
    battery, transport = make(BatteryApi, "ok")
    written = await battery.set_power_limits(max_charge=5, max_discharge=None)
    assert sent(transport) == [
        (
            "PUT",
            "device/energy-profile/battery/limit",
            {
                "stationId": int(HOME),
                "batteryMaxChargingPower": "5.000",
                "batteryMaxDischargingPower": "4294967.295",
            },
        )
    ]
    assert written == BatteryPowerLimits(max_charge=5.0, max_discharge=None)


async def test_set_one_power_limit_keeps_the_other() -> None:
    battery, transport = make(BatteryApi, fixture("battery_power_limits"), "ok")
    await battery.set_power_limits(max_discharge=12.3456)
    assert sent(transport)[0] == ("GET", LIMITS, None)
    assert sent(transport)[1][2] == {
        "stationId": int(HOME),
        "batteryMaxChargingPower": "4294967.295",  # "no limit" read, written back as it was
        "batteryMaxDischargingPower": "12.346",
    }


async def test_keep_is_the_default() -> None:
    battery, transport = make(BatteryApi, fixture("battery_power_limits"), "ok")
    await battery.set_power_limits(max_charge=3, max_discharge=KEEP)
    assert sent(transport)[1][2]["batteryMaxDischargingPower"] == "16.000"


async def test_power_limit_out_of_range() -> None:
    battery, transport = make(BatteryApi)
    with pytest.raises(
        SigenValidationError, match=r"max_charge must be a number from 0 to 1000 kW, got -1"
    ):
        await battery.set_power_limits(max_charge=-1)
    with pytest.raises(SigenValidationError, match=r"max_discharge .* got 4294967.295"):
        await battery.set_power_limits(max_discharge=4294967.295)
    with pytest.raises(SigenValidationError, match=r"max_charge .* got nan"):
        await battery.set_power_limits(max_charge=float("nan"))
    assert transport.calls == []


async def test_no_power_limit_given() -> None:
    battery, transport = make(BatteryApi)
    with pytest.raises(SigenValidationError, match="Give max_charge, max_discharge or both"):
        await battery.set_power_limits()
    assert transport.calls == []


# --------------------------------------------------------------------------- export


async def test_export_allowed() -> None:
    battery, transport = make(BatteryApi, fixture("battery_export_limitation"))
    assert await battery.get_export_allowed() is True
    assert sent(transport) == [("GET", EXPORT, None)]


@pytest.mark.parametrize(
    ("value", "expected"), [(False, False), ("true", True), (0, False), ("1", True)]
)
async def test_export_allowed_spellings(value: Any, expected: bool) -> None:
    battery, _ = make(BatteryApi, envelope({"ownerSetEnable": value}))
    assert await battery.get_export_allowed() is expected


async def test_export_allowed_missing() -> None:
    battery, _ = make(BatteryApi, envelope({"installerSetEnable": True}))
    with pytest.raises(SigenAPIError, match="no ownerSetEnable"):
        await battery.get_export_allowed()


async def test_set_export_allowed() -> None:
    battery, transport = make(BatteryApi, "ok")
    await battery.set_export_allowed(False)
    assert sent(transport) == [
        (
            "PUT",
            "device/energy-profile/battery/export/limitation",
            {"stationId": int(HOME), "installerSetEnable": None, "ownerSetEnable": False},
        )
    ]


async def test_export_allowed_must_be_a_bool() -> None:
    battery, transport = make(BatteryApi)
    with pytest.raises(SigenValidationError, match="allowed must be True or False, got 1"):
        await battery.set_export_allowed(1)  # type: ignore[arg-type]
    assert transport.calls == []


# --------------------------------------------------------------------------- the station


async def test_another_station() -> None:
    battery, transport = make(BatteryApi, fixture("battery_soc_levels"))
    await battery.get_soc_levels(station_id=42)
    assert sent(transport) == [("GET", "device/energy-profile/battery/level/42", None)]


async def test_the_home_station_is_read_once_when_unknown() -> None:
    home = FakeHome(station_id=None)
    battery, transport = make(
        BatteryApi, fixture("battery_soc_levels"), fixture("battery_soc_levels"), home=home
    )
    await battery.get_soc_levels()
    await battery.get_soc_levels()
    assert home.reads == 1
    assert [call[1] for call in sent(transport)] == [LEVELS, LEVELS]


async def test_a_given_station_needs_no_home() -> None:
    home = FakeHome(station_id=None)
    battery, _ = make(BatteryApi, fixture("battery_soc_levels"), home=home)
    await battery.get_soc_levels(station_id=HOME)
    assert home.reads == 0


async def test_bad_station_id() -> None:
    battery, transport = make(BatteryApi)
    with pytest.raises(SigenValidationError, match="station id must be a string or int"):
        await battery.get_soc_levels(station_id=True)
    with pytest.raises(SigenValidationError, match="station id is empty"):
        await battery.get_soc_levels(station_id=" ")
    assert transport.calls == []


async def test_no_home_to_default_to() -> None:
    battery = BatteryApi(make(BatteryApi)[1])  # type: ignore[arg-type]
    with pytest.raises(SigenError, match="pass station_id"):
        await battery.get_soc_levels()


def test_reachable_from_the_clients() -> None:
    for client_type in (Sigen, SigenAppClient):
        client = client_type("owner@example.invalid", "pw", base_url="http://127.0.0.1:1/")
        assert isinstance(client.battery, BatteryApi)
        assert client.battery._home is client

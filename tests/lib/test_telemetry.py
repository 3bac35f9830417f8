"""TelemetryData, SystemData and AlarmEvent parsing: every payload variant, garbage, fuzzing."""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigen.telemetry import AlarmEvent, SystemData, TelemetryData

# The official sample of the `period` topic (all values are strings).
OFFICIAL = [
    {
        "deviceType": "system",
        "systemId": "AXBNH1123789222",
        "snCode": "AXBNH1123789222",
        "statisticsTime": 1757407020,
        "value": {
            "pvPowerW": "1740.0",
            "gridActivePowerW": "-4151.0",
            "gridReactivePowerVar": "120.0",
            "gridPhaseAActivePowerW": "-1400.0",
            "gridPhaseBActivePowerW": "-1375.0",
            "gridPhaseCActivePowerW": "-1376.0",
            "inverterActivePowerW": "4207.0",
            "inverterReactivePowerVar": "-30.0",
            "inverterMaxChargePowerW": "10000.0",
            "inverterMaxDischargePowerW": "9000.0",
            "storageChargeCapacityWh": "5000.0",
            "storageDischargeCapacityWh": "3000.0",
            "storageChargeDischargePowerW": "-2464.0",
            "storageSOC%": "24.4",
        },
    }
]

# Predbat's captured variant: "PV power" with a space, batteryMax*, mode/status fields.
PREDBAT = [
    {
        "deviceType": "system",
        "systemId": "SYS2",
        "statisticsTime": 1757407020,
        "value": {
            "PV power": "3200.0",
            "gridActivePowerW": "500.0",
            "storageChargeDischargePowerW": "1000.0",
            "storageSOC%": "80.0",
            "batteryMaxChargePowerW": "6000.0",
            "batteryMaxDischargePowerW": "5000.0",
            "operationalMode": "6.0",
            "systemStatus": "1.0",
            "onOffGridStatus": "0.0",
        },
    }
]


def test_official_sample_units_and_signs() -> None:
    (data,) = TelemetryData.from_mqtt_payload(OFFICIAL)
    assert data.system_id == "AXBNH1123789222"
    assert data.statistics_time == datetime.fromtimestamp(1757407020, tz=UTC)
    assert data.timestamp == "1757407020"  # as Sigen sent it (the original library's field)
    assert data.pv_power == 1.74
    # gridActivePowerW is already + = import: -4151 W means exporting 4.151 kW.
    assert data.grid_power == -4.151
    assert data.grid_import_power == 0.0
    assert data.grid_export_power == 4.151
    # storageChargeDischargePowerW -2464 (Sigen: - = discharging) → battery_power +2.464.
    assert data.battery_power == 2.464
    assert data.battery_discharge_power == 2.464
    assert data.battery_charge_power == 0.0
    assert data.battery_soc == 24.4
    assert data.inverter_active_power == 4.207
    assert data.inverter_reactive_power == -0.03
    assert data.grid_reactive_power == 0.12
    assert (data.grid_phase_a_power, data.grid_phase_b_power, data.grid_phase_c_power) == (
        -1.4,
        -1.375,
        -1.376,
    )
    assert data.max_charge_power == 10.0
    assert data.max_discharge_power == 9.0
    assert data.charge_capacity == 5.0
    assert data.discharge_capacity == 3.0
    # Not sent → None, never 0.
    assert data.operational_mode is None
    assert data.system_status is None
    assert data.on_off_grid_status is None
    # Load by balance: pv + grid + battery = 1.74 - 4.151 + 2.464.
    assert data.load_power == pytest.approx(0.053)
    assert data.raw == OFFICIAL[0]["value"]  # the original values dict
    assert data.raw_item == OFFICIAL[0]


def test_predbat_variant() -> None:
    (data,) = TelemetryData.from_mqtt_payload(PREDBAT)
    assert data.pv_power == 3.2
    assert data.grid_power == 0.5
    assert data.battery_power == -1.0  # charging 1 kW
    assert data.battery_charge_power == 1.0
    assert data.max_charge_power == 6.0
    assert data.max_discharge_power == 5.0
    assert data.operational_mode == 6
    assert data.system_status == "1"
    assert data.on_off_grid_status == 0
    assert data.load_power == pytest.approx(2.7)


@pytest.mark.parametrize(
    "payload",
    [
        json.dumps(OFFICIAL),
        json.dumps(OFFICIAL).encode(),
        bytearray(json.dumps(OFFICIAL).encode()),
        OFFICIAL[0],
        json.dumps(OFFICIAL[0]),
        [json.dumps(OFFICIAL[0])],  # list of JSON strings
        [{**OFFICIAL[0], "value": json.dumps(OFFICIAL[0]["value"])}],  # value as JSON text
    ],
    ids=["str", "bytes", "bytearray", "dict", "dict-str", "list-of-str", "value-str"],
)
def test_payload_shapes(payload: Any) -> None:
    (data,) = TelemetryData.from_mqtt_payload(payload)
    assert data.pv_power == 1.74
    assert data.battery_power == 2.464


def test_numbers_instead_of_strings_and_units() -> None:
    payload = [
        {
            "deviceType": "system",
            "systemId": "S",
            "value": {"pvPowerW": 1500, "gridActivePowerW": "200 W", "storageSOC%": 55},
        }
    ]
    (data,) = TelemetryData.from_mqtt_payload(payload)
    assert data.pv_power == 1.5
    assert data.grid_power == 0.2
    assert data.battery_soc == 55.0
    assert data.battery_power is None
    assert data.load_power is None  # cannot balance without the battery
    assert data.timestamp is None


def test_load_power_sent_wins() -> None:
    payload = [{"systemId": "S", "value": {"pvPowerW": "1000", "loadActivePowerW": "700"}}]
    (data,) = TelemetryData.from_mqtt_payload(payload)
    assert data.load_power == 0.7


def test_missing_fields_are_none_not_zero() -> None:
    (data,) = TelemetryData.from_mqtt_payload([{"deviceType": "system", "systemId": "S"}])
    values = {
        name: getattr(data, name)
        for name in TelemetryData.__dataclass_fields__
        if name not in ("system_id", "raw", "raw_item")
    }
    assert all(value is None for value in values.values()), values


def test_device_items_ignored_and_several_systems() -> None:
    payload = [
        {"deviceType": "Inverter", "systemId": "S1", "value": {"pvPowerW": "1"}},
        {"deviceType": "system", "systemId": "S1", "value": {"pvPowerW": "1000"}},
        {"deviceType": "system", "systemId": "S2", "value": {"pvPowerW": "2000"}},
    ]
    parsed = TelemetryData.from_mqtt_payload(payload)
    assert [(d.system_id, d.pv_power) for d in parsed] == [("S1", 1.0), ("S2", 2.0)]


@pytest.mark.parametrize(
    ("bad", "good_expected"),
    [
        ("not json", 0),
        (b"\xff\xfe", 0),
        ("[1, 2, 3]", 0),
        ("42", 0),
        ("null", 0),
        ([None, "x", {"deviceType": "system"}, OFFICIAL[0]], 1),
        ([{"deviceType": "system", "systemId": "S", "value": 5}, OFFICIAL[0]], 1),
        ("[" * 100_000 + "]" * 100_000, 0),
        ("x" * 2_000_000, 0),
    ],
    ids=["text", "binary", "ints", "number", "null", "mixed", "bad-value", "deep", "huge"],
)
def test_garbage_skipped_with_one_warning(
    bad: Any, good_expected: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="sigen.telemetry")
    parsed = TelemetryData.from_mqtt_payload(bad)
    assert len(parsed) == good_expected
    warnings = [r for r in caplog.records if r.name == "sigen.telemetry"]
    assert len(warnings) == 1
    assert "Skipped malformed telemetry" in warnings[0].getMessage()


@pytest.mark.parametrize(
    "value", ["nan", "inf", "-Infinity", "1e400", "1e30", "", "abc", None, [], {}, True]
)
def test_bad_numbers_become_none(value: Any) -> None:
    payload = [{"systemId": "S", "value": {"pvPowerW": value, "storageSOC%": value}}]
    (data,) = TelemetryData.from_mqtt_payload(payload)
    assert data.pv_power is None
    assert data.battery_soc is None


def test_huge_int_and_bad_soc() -> None:
    payload = [{"systemId": "S", "value": {"pvPowerW": 10**400, "storageSOC%": "180"}}]
    (data,) = TelemetryData.from_mqtt_payload(payload)
    assert data.pv_power is None
    assert data.battery_soc is None


def test_timestamp_in_ms_and_garbage() -> None:
    base = {"systemId": "S", "value": {}}
    (ms,) = TelemetryData.from_mqtt_payload([{**base, "statisticsTime": 1757407020000}])
    assert ms.statistics_time == datetime.fromtimestamp(1757407020, tz=UTC)
    assert ms.timestamp == "1757407020000"
    (bad,) = TelemetryData.from_mqtt_payload([{**base, "statisticsTime": "soon"}])
    assert bad.statistics_time is None
    assert bad.timestamp == "soon"


def test_merge_delta() -> None:
    (full,) = TelemetryData.from_mqtt_payload(OFFICIAL)
    delta_payload = [
        {"deviceType": "system", "systemId": full.system_id, "value": {"pvPowerW": "2500"}}
    ]
    (delta,) = TelemetryData.from_mqtt_payload(delta_payload)
    merged = full.merge(delta)
    assert merged.pv_power == 2.5
    assert merged.battery_power == full.battery_power
    assert merged.battery_soc == 24.4
    assert merged.timestamp == full.timestamp
    assert merged.statistics_time == full.statistics_time
    assert merged.raw["pvPowerW"] == "2500"
    assert merged.raw["storageSOC%"] == "24.4"
    assert merged.raw_item["value"]["pvPowerW"] == "2500"
    assert full.pv_power == 1.74  # the original is unchanged
    (other,) = TelemetryData.from_mqtt_payload([{"systemId": "OTHER", "value": {}}])
    with pytest.raises(ValueError, match="cannot merge"):
        full.merge(other)


def test_system_data() -> None:
    payload = [
        {
            "deviceType": "system",
            "systemId": "S",
            "value": {
                "systemStatus": "running",
                "onOffGridStatus": "onGrid",
                "inverterMaxActivePowerW": "12000.0",
                "batteryRatedChargePowerW": "22000.0",
                "batteryRatedDischargePowerW": "21000.0",
                "gridMaxBackfeedPowerW": "5000.0",
                "batteryRatedCapabilityWh": "45200.0",
                "chargeCutOffSOC%": "100.0",
                "dischargeCutOffSOC%": "5.0",
                "backupCutOffSOC%": "15.0",
                "peakShavingCutOffSOC%": "30.0",
                "peakShavingStatus": "on",
                "stormWatchStatus": "off",
            },
        }
    ]
    (data,) = SystemData.from_mqtt_payload(json.dumps(payload))
    assert data.system_status == "running"
    assert data.on_off_grid_status == 0
    assert data.inverter_max_active_power == 12.0
    assert data.battery_rated_charge_power == 22.0
    assert data.battery_rated_discharge_power == 21.0
    assert data.grid_max_backfeed_power == 5.0
    assert data.battery_rated_capacity == 45.2
    assert data.charge_cut_off_soc == 100.0
    assert data.discharge_cut_off_soc == 5.0
    assert data.backup_cut_off_soc == 15.0
    assert data.peak_shaving_cut_off_soc == 30.0
    assert data.peak_shaving_status is True
    assert data.storm_watch_status is False

    # The predbat change message carries only the changed SOC limits.
    (delta,) = SystemData.from_mqtt_payload(
        [{"deviceType": "system", "systemId": "S", "value": {"backupCutOffSOC%": "20.0"}}]
    )
    assert delta.charge_cut_off_soc is None
    merged = data.merge(delta)
    assert merged.backup_cut_off_soc == 20.0
    assert merged.charge_cut_off_soc == 100.0


def test_alarm_events() -> None:
    payload = [
        {
            "systemId": "KXGCS1727160960",
            "alarmCode": "1001",
            "status": "generation",
            "changeTime": 1716173149647,
        },
        {
            "systemId": "KXGCS1727160960",
            "alarmCode": 1002,
            "status": "recovery",
            "changeTime": 1716173149,
        },
    ]
    raised, recovered = AlarmEvent.from_mqtt_payload(json.dumps(payload).encode())
    assert raised.alarm_code == "1001"
    assert raised.active is True
    assert raised.change_time == datetime.fromtimestamp(1716173149.647, tz=UTC)
    assert recovered.alarm_code == "1002"
    assert recovered.active is False
    assert recovered.change_time == datetime.fromtimestamp(1716173149, tz=UTC)
    assert raised.description is None  # the documented push carries only the code


def test_alarm_text_when_the_message_has_one() -> None:
    """An ``alarmName``/``alarmDesc`` (the app's alarm list) becomes the description."""
    named, described, blank = AlarmEvent.from_mqtt_payload(
        [
            {"systemId": "S", "alarmCode": "1", "status": "generation", "alarmName": " Fan "},
            {"systemId": "S", "alarmCode": "2", "status": "generation", "alarmDesc": "x" * 300},
            {"systemId": "S", "alarmCode": "3", "status": "generation", "alarmName": 7},
        ]
    )
    assert named.description == "Fan"
    assert described.description == "x" * 255
    assert blank.description is None


def test_alarm_garbage(caplog: pytest.LogCaptureFixture) -> None:
    payload = [
        {"systemId": "S", "alarmCode": "1", "status": "exploded", "changeTime": 1},
        {"systemId": "S", "status": "generation"},
        {"systemId": "S", "alarmCode": "7", "status": "generation"},
    ]
    (event,) = AlarmEvent.from_mqtt_payload(payload)
    assert event.alarm_code == "7"
    assert event.change_time.tzinfo is UTC  # no changeTime: the time it was parsed
    assert sum("Skipped malformed alarm" in r.getMessage() for r in caplog.records) == 1


# ------------------------------------------------------------------------ fuzzing

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = [
    "pvPowerW",
    "PV power",
    "gridActivePowerW",
    "storageChargeDischargePowerW",
    "storageSOC%",
    "operationalMode",
    "systemStatus",
    "onOffGridStatus",
    "chargeCutOffSOC%",
    "peakShavingStatus",
    "alarmCode",
    "status",
    "changeTime",
]
items = st.fixed_dictionaries(
    {},
    optional={
        "deviceType": st.sampled_from(["system", "Inverter", 3]) | json_scalars,
        "systemId": st.text(max_size=10) | json_scalars,
        "statisticsTime": json_scalars,
        "alarmCode": json_scalars,
        "status": st.sampled_from(["generation", "recovery"]) | json_scalars,
        "changeTime": json_scalars,
        "value": st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8) | json_values,
    },
)
payloads = (
    st.lists(items | json_values, max_size=5)
    | items
    | json_values
    | st.binary(max_size=64)
    | st.lists(items, max_size=3).map(lambda x: json.dumps(x, allow_nan=True))
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads)
def test_fuzz_parsers_never_raise(payload: Any) -> None:
    for parser in (TelemetryData, SystemData, AlarmEvent):
        results = parser.from_mqtt_payload(payload)
        assert isinstance(results, list)
        for result in results:
            assert isinstance(result.system_id, str)
    for data in TelemetryData.from_mqtt_payload(payload):
        for name in ("pv_power", "grid_power", "battery_power", "battery_soc", "load_power"):
            value = getattr(data, name)
            assert value is None or (isinstance(value, float) and math.isfinite(value))


@pytest.mark.parametrize("zero", ["0.0", "-0.0", "0"])
def test_split_powers_of_zero_are_not_negative_zero(zero: str) -> None:
    """A signed zero must not show as "-0.00 kW" (max(-0.0, 0.0) is -0.0)."""
    item = {
        "deviceType": "system",
        "systemId": "S1",
        "value": {
            "pvPowerW": "0.0",
            "gridActivePowerW": zero,
            "storageChargeDischargePowerW": zero,
        },
    }
    (data,) = TelemetryData.from_mqtt_payload([item])
    for name in (
        "grid_import_power",
        "grid_export_power",
        "battery_charge_power",
        "battery_discharge_power",
        "load_power",
    ):
        value = getattr(data, name)
        assert value == 0.0, name
        assert math.copysign(1.0, value) == 1.0, name


def test_original_library_fields_agree_with_ours() -> None:
    """The README contract of ``sigen-api``: its field names, signs and types."""
    (data,) = TelemetryData.from_mqtt_payload(OFFICIAL)
    assert data.pv_power_kw == data.pv_power == 1.74
    assert data.battery_power_kw == data.battery_power == 2.464  # + = discharging
    assert data.grid_power_kw == data.grid_power == -4.151  # - = exporting
    assert data.load_power_kw == data.load_power
    assert data.soc_percent == data.battery_soc == 24.4
    assert data.system_id == "AXBNH1123789222"
    assert isinstance(data.timestamp, str)
    assert data.raw["storageSOC%"] == "24.4"
    # Absent values are None under both names, never 0.
    (empty,) = TelemetryData.from_mqtt_payload([{"systemId": "S", "value": {}}])
    for name in ("pv_power_kw", "battery_power_kw", "grid_power_kw", "load_power_kw"):
        assert getattr(empty, name) is None
    assert empty.soc_percent is None
    assert empty.timestamp is None
    assert empty.raw == {}


def test_original_fields_follow_a_merged_delta() -> None:
    (full,) = TelemetryData.from_mqtt_payload(OFFICIAL)
    (delta,) = TelemetryData.from_mqtt_payload(
        [{"systemId": full.system_id, "statisticsTime": "1757407320", "value": {"PV power": "0"}}]
    )
    merged = full.merge(delta)
    assert merged.pv_power_kw == merged.pv_power == 0.0
    assert merged.soc_percent == 24.4
    assert merged.timestamp == "1757407320"
    assert merged.raw["PV power"] == "0"
    assert merged.raw["storageSOC%"] == "24.4"


@pytest.mark.parametrize(
    ("sent", "text"),
    [(1757407020, "1757407020"), (1757407020.0, "1757407020"), (1.5, "1.5"), (True, None)],
)
def test_timestamp_text_as_sent(sent: object, text: str | None) -> None:
    (data,) = TelemetryData.from_mqtt_payload(
        [{"systemId": "S", "statisticsTime": sent, "value": {}}]
    )
    assert data.timestamp == text


def test_timestamp_from_values_and_unusable_types() -> None:
    (inner,) = TelemetryData.from_mqtt_payload(
        [{"systemId": "S", "value": {"statisticsTime": "1757407020"}}]
    )
    assert inner.timestamp == "1757407020"
    assert inner.statistics_time == datetime.fromtimestamp(1757407020, tz=UTC)
    (odd,) = TelemetryData.from_mqtt_payload(
        [{"systemId": "S", "statisticsTime": [1], "value": {}}]
    )
    assert odd.timestamp is None


@pytest.mark.parametrize("zero", ["-0.0", "-0", -0.0, "0.0", "-0.0004"])
def test_zero_power_is_plus_zero(zero: object) -> None:
    """Grid/battery/PV zero is +0.0 on the MQTT path (never "-0.00 kW")."""
    values = {
        "pvPowerW": zero,
        "gridActivePowerW": zero,
        "storageChargeDischargePowerW": zero,
        "gridPhaseAActivePowerW": zero,
    }
    (data,) = TelemetryData.from_mqtt_payload([{"systemId": "S", "value": values}])
    for number in (
        data.pv_power,
        data.grid_power,
        data.battery_power,
        data.grid_phase_a_power,
        data.grid_power_kw,
        data.battery_power_kw,
        data.load_power,
        data.grid_export_power,
        data.battery_charge_power,
    ):
        assert number == 0.0
        assert math.copysign(1.0, number) == 1.0, values

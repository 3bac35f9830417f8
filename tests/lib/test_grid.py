"""``sigen.grid`` (GridApi) on a fake transport: export/import limits, current, PV limit.

Answers are the shapes of §7.2, §7.5 and §7.6 of the API notes (``fixtures/grid_*``):
kW strings with 3 decimals, ampere strings with 1, an unset owner value as ``""`` or
``null``, the "no limit" sentinel. A setter reads the installer's ceiling first and
checks the limit against it before writing.
"""

from __future__ import annotations

import pytest

from sigen import GridCurrentLimit, GridLimit, PvLimit, Sigen
from sigen.app import GridApi
from sigen.errors import SigenValidationError

from .settings_fakes import HOME, envelope, fixture, make, sent

EXPORT = f"device/energy-profile/grid/limitation/export/{HOME}"
IMPORT = f"device/energy-profile/grid/limitation/import/{HOME}"
CURRENT = f"device/energy-profile/parallel/off/grid/{HOME}"
PV = f"device/energy-profile/solar/limit/{HOME}"

# --------------------------------------------------------------------------- export / import


async def test_export_limit() -> None:
    grid, transport = make(GridApi, fixture("grid_limitation_export"))
    limit = await grid.get_limit("export")
    assert limit == GridLimit(enabled=True, limit=17.0, installer_limit=20.0)
    assert limit.raw["isUltra"] is False
    assert sent(transport) == [("GET", EXPORT, None)]


async def test_import_limit_path() -> None:
    grid, transport = make(GridApi, fixture("grid_limitation_export"))
    await grid.get_limit(" Import ")
    assert sent(transport) == [("GET", IMPORT, None)]


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("owner_empty", GridLimit(enabled=False, limit=20.0, installer_limit=20.0)),
        ("owner_null", GridLimit(enabled=False, limit=12.5, installer_limit=25.0)),
        ("no_ceiling", GridLimit(enabled=True, limit=5.5, installer_limit=None)),
    ],
)
async def test_limit_variants(variant: str, expected: GridLimit) -> None:
    body = envelope(fixture("grid_limitation_variants")[variant])
    assert await make(GridApi, body)[0].get_limit("export") == expected


async def test_set_limit_reads_the_ceiling_then_writes() -> None:
    grid, transport = make(GridApi, fixture("grid_limitation_export"), "ok")
    written = await grid.set_limit("export", enabled=True, limit=0)
    assert sent(transport) == [
        ("GET", EXPORT, None),
        (
            "PUT",
            "device/energy-profile/grid/limitation/export",
            {
                "stationId": int(HOME),
                "enable": True,
                "maxLimitationOwner": "0.000",
                "maxLimitationInstaller": None,
            },
        ),
    ]
    assert written == GridLimit(enabled=True, limit=0.0, installer_limit=20.0)


async def test_switching_keeps_the_limit() -> None:
    grid, transport = make(GridApi, fixture("grid_limitation_export"), "ok")
    await grid.set_limit("export", enabled=False)
    assert sent(transport)[1][2]["maxLimitationOwner"] == "17.000"
    assert sent(transport)[1][2]["enable"] is False


async def test_an_unset_owner_limit_keeps_the_effective_one() -> None:
    body = envelope(fixture("grid_limitation_variants")["owner_empty"])
    grid, transport = make(GridApi, body, "ok")
    await grid.set_limit("import", enabled=True)
    assert sent(transport)[1][1] == "device/energy-profile/grid/limitation/import"
    assert sent(transport)[1][2]["maxLimitationOwner"] == "20.000"


async def test_no_ceiling_allows_up_to_the_library_bound() -> None:
    body = envelope(fixture("grid_limitation_variants")["no_ceiling"])
    grid, transport = make(GridApi, body, "ok")
    await grid.set_limit("export", enabled=True, limit=250)
    assert sent(transport)[1][2]["maxLimitationOwner"] == "250.000"


async def test_limit_above_the_installers() -> None:
    grid, transport = make(GridApi, fixture("grid_limitation_export"))
    with pytest.raises(
        SigenValidationError,
        match=r"grid export limit must be from 0 to 20 kW \(the installer's limit\), got 20.5",
    ):
        await grid.set_limit("export", enabled=True, limit=20.5)
    assert [call[0] for call in sent(transport)] == ["GET"]  # read, never written


async def test_negative_limit() -> None:
    grid, transport = make(GridApi)
    with pytest.raises(SigenValidationError, match=r"grid import limit must be a number from 0"):
        await grid.set_limit("import", enabled=True, limit=-0.5)
    assert transport.calls == []


async def test_unknown_direction() -> None:
    grid, transport = make(GridApi)
    with pytest.raises(SigenValidationError, match="must be 'export' or 'import', got 'both'"):
        await grid.get_limit("both")
    with pytest.raises(SigenValidationError, match="must be 'export' or 'import'"):
        await grid.set_limit("sell", enabled=True, limit=1)
    assert transport.calls == []


async def test_enabled_must_be_a_bool() -> None:
    grid, transport = make(GridApi)
    with pytest.raises(SigenValidationError, match="enabled must be True or False, got 'yes'"):
        await grid.set_limit("export", enabled="yes", limit=1)  # type: ignore[arg-type]
    assert transport.calls == []


async def test_nothing_to_keep() -> None:
    grid, transport = make(GridApi, envelope({"enable": False}))
    with pytest.raises(
        SigenValidationError, match="The cloud reports no grid export limit to keep: give limit"
    ):
        await grid.set_limit("export", enabled=True)
    assert [call[0] for call in sent(transport)] == ["GET"]


# --------------------------------------------------------------------------- current


async def test_current_limit() -> None:
    grid, transport = make(GridApi, fixture("grid_current_limit"))
    limit = await grid.get_current_limit()
    # ownerSetLimitation "" (never lowered): the effective limit counts
    assert limit == GridCurrentLimit(enabled=True, limit=40.0, installer_limit=40.0)
    assert sent(transport) == [("GET", CURRENT, None)]


async def test_current_limit_numbers() -> None:
    body = envelope(
        {
            "enable": "true",
            "currentLimitation": 32,
            "ownerSetLimitation": "25.0 A",
            "installerSetLimitation": 63,
        }
    )
    limit = await make(GridApi, body)[0].get_current_limit()
    assert limit == GridCurrentLimit(enabled=True, limit=25.0, installer_limit=63.0)


async def test_set_current_limit() -> None:
    grid, transport = make(GridApi, fixture("grid_current_limit"), "ok")
    written = await grid.set_current_limit(enabled=True, limit=32)
    assert sent(transport)[1] == (
        "PUT",
        "device/energy-profile/parallel/off/grid",
        {
            "stationId": int(HOME),
            "enable": True,
            "ownerSetLimitation": "32.0",
            "installerSetLimitation": None,
        },
    )
    assert written == GridCurrentLimit(enabled=True, limit=32.0, installer_limit=40.0)


async def test_current_limit_above_the_installers() -> None:
    grid, transport = make(GridApi, fixture("grid_current_limit"))
    with pytest.raises(
        SigenValidationError, match=r"from 0 to 40 A \(the installer's limit\), got 41"
    ):
        await grid.set_current_limit(enabled=True, limit=41)
    assert [call[0] for call in sent(transport)] == ["GET"]


async def test_current_limit_zero() -> None:
    grid, transport = make(GridApi)
    with pytest.raises(
        SigenValidationError, match=r"current limit must be a number above 0 to 1000 A, got 0"
    ):
        await grid.set_current_limit(enabled=True, limit=0)
    assert transport.calls == []


# --------------------------------------------------------------------------- PV


async def test_pv_limit_sentinel() -> None:
    grid, transport = make(GridApi, fixture("grid_pv_limit"))
    assert await grid.get_pv_limit() == PvLimit(limit=None)
    assert sent(transport) == [("GET", PV, None)]


async def test_pv_limit_value() -> None:
    grid, _ = make(GridApi, envelope({"powerLimit": "5.000"}))
    assert (await grid.get_pv_limit()).limit == 5.0


async def test_set_pv_limit() -> None:
    grid, transport = make(GridApi, "ok", "ok")
    assert await grid.set_pv_limit(6.25) == PvLimit(limit=6.25)
    assert await grid.set_pv_limit(None) == PvLimit(limit=None)
    assert [body for _, _, body in sent(transport)] == [
        {"stationId": int(HOME), "powerLimit": "6.250"},
        {"stationId": int(HOME), "powerLimit": "4294967.295"},
    ]
    assert {path for _, path, _ in sent(transport)} == {"device/energy-profile/solar/limit"}


async def test_pv_limit_out_of_range() -> None:
    grid, transport = make(GridApi)
    with pytest.raises(
        SigenValidationError, match=r"PV power limit must be a number from 0 to 1000 kW, got 1001"
    ):
        await grid.set_pv_limit(1001)
    assert transport.calls == []


def test_reachable_from_sigen() -> None:
    assert isinstance(
        Sigen("owner@example.invalid", "pw", base_url="http://127.0.0.1:1/").grid, GridApi
    )

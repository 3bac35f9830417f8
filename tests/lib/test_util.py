"""Parsing and JSON decoding (``sigen._parse``), envelope and HTTP-error helpers."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigen._envelope import check_envelope, error_for_code, expect_dict, expect_list
from sigen._http import HttpAnswer, check_http, join_url, normalize_base_url, parse_retry_after
from sigen._parse import (
    decode_nested_json,
    method_suffix,
    parse_bool,
    parse_energy_kwh,
    parse_int,
    parse_number,
    parse_power_kw,
    parse_str,
    parse_str_list,
)
from sigen._redact import mask_email, redact
from sigen.errors import (
    SigenAccountLockedError,
    SigenAPIError,
    SigenAuthError,
    SigenError,
    SigenRateLimitError,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4.79 kWh", 4.79),
        ("93.04 kWh", 93.04),
        ("0.00 kW", 0.0),
        ("-4151.0", -4151.0),
        ("  12 ", 12.0),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("1,234.5 kWh", 1234.5),
        (12, 12.0),
        (-2.5, -2.5),
        (None, None),
        ("", None),
        ("--", None),
        ("kWh", None),
        ("abc 12", None),
        (True, None),
        (False, None),
        (float("nan"), None),
        (float("inf"), None),
        ("nan", None),
        ([1], None),
        ({"a": 1}, None),
    ],
)
def test_parse_number(value: object, expected: float | None) -> None:
    assert parse_number(value) == expected


def test_parse_number_missing_is_none_not_zero() -> None:
    assert parse_number(None) is None
    assert parse_number("0") == 0.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("6.0", 6), (6, 6), ("7", 7), ("6.5", None), (None, None), (True, None), ("x", None)],
)
def test_parse_int(value: object, expected: int | None) -> None:
    assert parse_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (2, None),
        ("true", True),
        ("on", True),
        ("OFF", False),
        ("0", False),
        ("1.0", True),
        ("maybe", None),
        (None, None),
        ([], None),
    ],
)
def test_parse_bool(value: object, expected: bool | None) -> None:
    assert parse_bool(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", "abc"),
        ("  ", None),
        ("", None),
        (20240523012345, "20240523012345"),
        (12.0, "12"),
        (12.5, None),
        (True, None),
        (None, None),
    ],
)
def test_parse_str(value: object, expected: str | None) -> None:
    assert parse_str(value) == expected


def test_parse_str_list() -> None:
    assert parse_str_list(["a", "", None, 5, {"x": 1}]) == ["a", "5"]
    assert parse_str_list("a") == []
    assert parse_str_list(None) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.00 kW", 0.0),
        ("1.50 kW", 1.5),
        ("500 W", 0.5),
        ("2 MW", 2000.0),
        (3.2, 3.2),
        ("3.2", 3.2),
        ("7 furlongs", 7.0),
        (None, None),
    ],
)
def test_parse_power_kw(value: object, expected: float | None) -> None:
    assert (
        parse_power_kw(value) == pytest.approx(expected)
        if expected is not None
        else (parse_power_kw(value) is None)
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4.79 kWh", 4.79), ("1.2 MWh", 1200.0), ("250 Wh", 0.25), ("5", 5.0), ("x", None)],
)
def test_parse_energy_kwh(value: object, expected: float | None) -> None:
    result = parse_energy_kwh(value)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.binary()))
def test_parsers_never_raise(value: object) -> None:
    parse_number(value)
    parse_int(value)
    parse_bool(value)
    parse_str(value)
    parse_power_kw(value)
    parse_energy_kwh(value)


# --------------------------------------------------------------------------- JSON


TOKEN = {"tokenType": "Bearer", "accessToken": "abc", "expiresIn": 43199}


@pytest.mark.parametrize(
    "data",
    [
        TOKEN,
        json.dumps(TOKEN),
        json.dumps(json.dumps(TOKEN)),  # triple-encoded
    ],
)
def test_decode_object_variants(data: object) -> None:
    assert decode_nested_json(data) == TOKEN


def test_decode_list_of_json_strings() -> None:
    systems = [{"systemId": "A", "pvCapacity": 8}, {"systemId": "B"}]
    assert decode_nested_json([json.dumps(item) for item in systems]) == systems
    assert decode_nested_json(json.dumps([json.dumps(item) for item in systems])) == systems
    assert decode_nested_json(json.dumps(systems)) == systems


def test_decode_nested_strings_inside_objects() -> None:
    device = {"serialNumber": "110A", "attrMap": json.dumps({"ratedEnergy": 8.06})}
    assert decode_nested_json(device) == {"serialNumber": "110A", "attrMap": {"ratedEnergy": 8.06}}


@pytest.mark.parametrize("text", ["pfh24", "123", "", "[not json", "{broken", "[test]", '"'])
def test_plain_strings_stay_strings(text: str) -> None:
    assert decode_nested_json(text) == text


def test_decode_scalars_pass_through() -> None:
    assert decode_nested_json(None) is None
    assert decode_nested_json(5) == 5
    assert decode_nested_json(True) is True


def test_decode_deep_nesting_stops() -> None:
    deep: object = "x"
    for _ in range(200):
        deep = [deep]
    decode_nested_json(deep)  # no RecursionError
    text = "[" * 100_000 + "]" * 100_000
    decode_nested_json(text)  # too deep for json, or cut at MAX_JSON_DEPTH: no exception


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_decode_never_raises(value: object) -> None:
    decode_nested_json(value)
    decode_nested_json(json.dumps(value))


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("label", "suffix"),
    [
        ("Sigen AI Mode", "sigen_ai_mode"),
        ("Maximum Self-Powered", "maximum_self_powered"),
        ("TOU", "tou"),
        ("Fully Fed to Grid", "fully_fed_to_grid"),
        ("Summer 50kWh", "summer_50kwh"),
        ("Storm Ready!", "storm_ready"),
        ("Pool (heat) pump", "pool_heat_pump"),
        ("Café", "caf"),
    ],
)
def test_method_suffix(label: str, suffix: str) -> None:
    assert method_suffix(label) == suffix
    assert f"x_{suffix}".isidentifier()


def test_mask_email_and_redact() -> None:
    assert mask_email("demo@sigen.invalid") == "d***@sigen.invalid"
    assert "demo" not in mask_email("demo")
    text = redact('{"access_token":"AT","refresh_token":"RT","name":"x","expires_in":3}')
    assert "AT" not in text
    assert "RT" not in text
    assert '"name":"x"' in text
    assert "secret-pw" not in redact("username=a&password=secret-pw&scope=server")
    assert redact('{"smartLoadKey": "kept"}') == '{"smartLoadKey": "kept"}'


def test_urls() -> None:
    assert join_url("http://h:1/", "/auth/oauth/token") == "http://h:1/auth/oauth/token"
    assert join_url("http://h:1", "openapi/system") == "http://h:1/openapi/system"
    assert normalize_base_url("https://api-eu.sigencloud.com") == "https://api-eu.sigencloud.com/"
    with pytest.raises(SigenError, match="must start with http"):
        normalize_base_url("api-eu.sigencloud.com")


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None


# --------------------------------------------------------------------------- envelopes


def _answer(
    payload: object, status: int = 200, headers: dict[str, str] | None = None
) -> HttpAnswer:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    try:
        parsed = json.loads(text)
        is_json = True
    except ValueError:
        parsed, is_json = None, False
    return HttpAnswer(
        status, headers or {"content-type": "application/json"}, text, parsed, is_json
    )


def test_check_envelope_success_variants() -> None:
    assert check_envelope("x", _answer({"code": 0, "msg": "success", "data": {"a": 1}})) == {"a": 1}
    assert check_envelope("x", _answer({"code": "0", "data": json.dumps({"a": 1})})) == {"a": 1}
    assert check_envelope("x", _answer({"a": 1})) == {"a": 1}  # no envelope
    assert check_envelope("x", _answer({"code": 0, "msg": "success"})) is None
    assert check_envelope("x", _answer([1, 2])) == [1, 2]


@pytest.mark.parametrize(
    ("code", "exc", "text"),
    [
        (11003, SigenAuthError, "authentication failed (code 11003)"),
        (11002, SigenAccountLockedError, "account is locked"),
        (1201, SigenRateLimitError, "code 1201"),
        (1110, SigenRateLimitError, "current-limited"),
        (1000, SigenAPIError, "error code 1000: parameter illegal"),
        (1116, SigenAPIError, "owner's approval"),
        (98765, SigenAPIError, "error code 98765: boom"),
    ],
)
def test_error_codes(code: int, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=re.escape(text)) as info:
        check_envelope("Doing it", _answer({"code": code, "msg": "boom", "data": None}))
    assert str(info.value).startswith("Doing it: ")
    if isinstance(info.value, SigenAPIError):
        assert info.value.code == code


def test_rate_limit_retry_after() -> None:
    with pytest.raises(SigenRateLimitError) as info:
        check_envelope("x", _answer({"code": 1201, "msg": "access restriction"}))
    assert info.value.retry_after == 300
    with pytest.raises(SigenRateLimitError) as info:
        check_envelope(
            "x",
            _answer(
                {"code": 1110},
                headers={"content-type": "application/json", "retry-after": "42"},
            ),
        )
    assert info.value.retry_after == 42
    assert "retry in 42 s" in str(info.value)


def test_unreadable_code_is_an_error() -> None:
    with pytest.raises(SigenAPIError, match="error code -1"):
        check_envelope("x", _answer({"code": "weird", "msg": "?"}))


def test_check_http_firewall() -> None:
    html = "<HTML><BODY>Request blocked. Generated by cloudfront (CloudFront)</BODY></HTML>"
    answer = HttpAnswer(403, {"content-type": "text/html"}, html, None, False)
    with pytest.raises(SigenAPIError, match="firewall blocked the request") as info:
        check_http("Reading", answer, user_agent="Python/3.14 aiohttp/3.13")
    assert "aiohttp" in str(info.value)
    assert "User-Agent" in str(info.value)
    assert info.value.status_code == 403
    with pytest.raises(SigenAPIError, match="firewall"):
        check_http("Reading", answer, user_agent="Mozilla/5.0")


def test_check_http_statuses() -> None:
    with pytest.raises(SigenRateLimitError, match="HTTP 429") as info:
        check_http("x", _answer({"code": 429}, 429, {"retry-after": "7"}), user_agent="ua")
    assert info.value.retry_after == 7
    with pytest.raises(SigenRateLimitError) as info:
        check_http("x", _answer("", 429), user_agent="ua", default_retry_after=60)
    assert info.value.retry_after == 60
    with pytest.raises(SigenAPIError, match="server error \\(HTTP 502\\)") as info2:
        check_http("x", _answer("<html>bad gateway</html>", 502), user_agent="ua")
    assert info2.value.status_code == 502
    with pytest.raises(SigenAPIError, match="not JSON"):
        check_http("x", _answer("{truncated", 200), user_agent="ua")
    with pytest.raises(SigenAPIError, match="empty answer"):
        check_http("x", _answer("", 200), user_agent="ua")
    with pytest.raises(SigenAPIError, match="refused the request \\(HTTP 404\\)"):
        check_http("x", _answer({"error": "not found"}, 404), user_agent="ua")
    # a JSON 4xx with an envelope code is left to check_envelope
    check_http("x", _answer({"code": 1000, "msg": "param illegal"}, 400), user_agent="ua")
    check_http("x", _answer({"code": 0, "data": 1}), user_agent="ua")


def test_response_body_is_redacted_and_truncated() -> None:
    body = json.dumps({"access_token": "SECRET-AT", "pad": "x" * 5000})
    with pytest.raises(SigenAPIError) as info:
        check_http("x", _answer(body, 500), user_agent="ua")
    assert info.value.response_body is not None
    assert "SECRET-AT" not in info.value.response_body
    assert len(info.value.response_body) <= 2001
    assert "SECRET-AT" not in str(info.value)


def test_expect_helpers() -> None:
    assert expect_dict("x", {"a": 1}) == {"a": 1}
    assert expect_list("x", None) == []
    assert expect_list("x", [1]) == [1]
    with pytest.raises(SigenAPIError, match=r"expected a JSON object.*got list"):
        expect_dict("x", [1, 2])
    with pytest.raises(SigenAPIError, match=r"expected a JSON object.*nothing"):
        expect_dict("x", None)
    with pytest.raises(SigenAPIError, match=r"expected a JSON list.*got str"):
        expect_list("x", "text")


def test_error_for_code_keeps_server_message() -> None:
    err = error_for_code("Op", 1502, "database on fire")
    assert "internal error" in str(err)
    assert "database on fire" in str(err)


@pytest.mark.parametrize("encodings", [0, 1, 2])
def test_redact_double_encoded_tokens(encodings: int) -> None:
    data: object = {"tokenType": "Bearer", "accessToken": "HgrU1Rn2", "expiresIn": 43199}
    for _ in range(encodings):
        data = json.dumps(data)
    text = redact(json.dumps({"code": 0, "msg": "success", "data": data}))
    assert "HgrU1Rn2" not in text
    assert "Bearer" in text
    assert "43199" in text

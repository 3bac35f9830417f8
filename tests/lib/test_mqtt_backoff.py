"""The listener's reconnect back-off, without a broker: pure arithmetic on failures."""

from __future__ import annotations

import aiomqtt
import pytest

from sigen.errors import SigenAccountLockedError, SigenAuthError, SigenError, SigenMQTTError
from sigen.mqtt import MQTTConfig
from sigen.mqtt._backoff import ReconnectBackoff, Retry, base_interval

DEFAULTS = MQTTConfig(app_key="key", app_secret="secret", app_identifier="app", system_ids="S")


def interval(err: BaseException) -> float:
    return base_interval(
        err,
        reconnect_interval=DEFAULTS.reconnect_interval,
        error_reconnect_interval=DEFAULTS.error_reconnect_interval,
    )


def test_defaults_are_the_documented_ones() -> None:
    """30 s after MQTT errors, 60 s after unexpected ones, at most 10 minutes."""
    assert DEFAULTS.reconnect_interval == 30.0
    assert DEFAULTS.error_reconnect_interval == 60.0
    assert DEFAULTS.max_reconnect_interval == 600.0


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (aiomqtt.MqttError("connection lost"), 30.0),
        (SigenMQTTError("the broker ended the connection"), 30.0),
        (SigenError("the cloud answered 500"), 30.0),
        (SigenAccountLockedError("locked for a while"), 60.0),
        (RuntimeError("a bug"), 60.0),
    ],
)
def test_first_delay_by_kind_of_failure(error: BaseException, expected: float) -> None:
    assert interval(error) == expected


def test_account_locked_is_an_auth_error_with_the_long_delay() -> None:
    """The listener re-raises other auth errors; a locked account waits the long delay."""
    assert issubclass(SigenAccountLockedError, SigenAuthError)
    assert interval(SigenAccountLockedError("locked")) == DEFAULTS.error_reconnect_interval


def test_doubles_up_to_the_cap() -> None:
    backoff = ReconnectBackoff()
    retry = Retry(30.0, "lost")
    delays = [backoff.next_delay(retry, 600.0) for _ in range(8)]
    assert delays == [30.0, 60.0, 120.0, 240.0, 480.0, 600.0, 600.0, 600.0]
    assert backoff.failures == 8


def test_unexpected_errors_start_from_the_long_delay() -> None:
    backoff = ReconnectBackoff()
    retry = Retry(60.0, "RuntimeError")
    assert [backoff.next_delay(retry, 600.0) for _ in range(5)] == [60, 120, 240, 480, 600]


def test_kinds_share_the_count_of_failures_in_a_row() -> None:
    """The count is of failures in a row, whatever their kind (as the loop had it)."""
    backoff = ReconnectBackoff()
    assert backoff.next_delay(Retry(30.0, "lost"), 600.0) == 30.0
    assert backoff.next_delay(Retry(60.0, "bug"), 600.0) == 120.0


def test_reset_after_a_good_connection() -> None:
    backoff = ReconnectBackoff()
    retry = Retry(30.0, "lost")
    for _ in range(4):
        backoff.next_delay(retry, 600.0)
    backoff.reset()
    assert backoff.next_delay(retry, 600.0) == 30.0


def test_retry_now_is_immediate_and_not_counted() -> None:
    backoff = ReconnectBackoff()
    retry = Retry(30.0, "lost")
    backoff.next_delay(retry, 600.0)
    assert backoff.next_delay(Retry(30.0, "new token", now=True, quiet=True), 600.0) == 0.0
    assert backoff.failures == 1
    assert backoff.next_delay(retry, 600.0) == 60.0


def test_a_cap_below_the_base_wins() -> None:
    assert ReconnectBackoff().next_delay(Retry(30.0, "lost"), 10.0) == 10.0


def test_a_very_long_outage_stays_at_the_cap() -> None:
    """Weeks of failures in a row: the power of two would no longer fit a float."""
    backoff = ReconnectBackoff()
    retry = Retry(0.2, "lost")
    delays = [backoff.next_delay(retry, 1.0) for _ in range(3000)]
    assert delays[:4] == [0.2, 0.4, 0.8, 1.0]
    assert set(delays[3:]) == {1.0}

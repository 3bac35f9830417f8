"""The config flow's login to the app API, and the search for the account's region.

The account is checked with one login on the chosen region (shard); with the region
"Automatic" (the default) on every shard at once, and the one that accepts the account
is taken. A shard that does not hold an account refuses it like a wrong password: when
the chosen shard refuses, the other shards are tried once each, and the error names the
one that accepted. Only the shard holding the account can count a failed login towards
its lock, so a user action costs it at most one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .client import build_client, server_options
from .const import CONF_REGION, LOGGER, REGION_AUTO, REGIONS
from .sigen import REGIONS as SHARDS
from .sigen import (
    RegionSearch,
    Sigen,
    SigenAccountLockedError,
    SigenAuthError,
    SigenConnectionError,
    SigenValidationError,
    find_region,
)


@dataclass(slots=True)
class _Attempt:
    """The outcome of one login on one shard."""

    region: str
    account_id: str = ""
    error: str = ""  # a config flow error key; empty on success

    def result(self) -> LoginResult:
        """The outcome of the user action that made only this attempt."""
        if self.error:
            return LoginResult.error(self.error)
        return LoginResult(account_id=self.account_id, region=self.region)


@dataclass(slots=True)
class LoginResult:
    """The outcome of the login of a user action (one or several shards)."""

    account_id: str = ""
    region: str = ""  # the shard that accepted the account
    errors: dict[str, str] = field(default_factory=dict)
    placeholders: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, key: str, **placeholders: str) -> LoginResult:
        """A failed login: the form's error ``key`` and the placeholders its text names."""
        return cls(errors={"base": key}, placeholders=placeholders)


def _region_names(regions: Iterable[str]) -> str:
    """The readable names of shards, for an error's placeholder."""
    return "; ".join(SHARDS[region].name for region in regions)


async def _async_read_account(client: Sigen) -> _Attempt:
    """Log in (unless the client is logged in already), read the account, close."""
    region = client.region
    try:
        await client.async_initialize()
    except SigenAccountLockedError:
        return _Attempt(region, error="account_locked")
    except SigenAuthError:
        return _Attempt(region, error="invalid_auth")
    except SigenConnectionError:
        return _Attempt(region, error="cannot_connect")
    except Exception:
        LOGGER.exception("Unexpected error while logging in to the Sigen cloud")
        return _Attempt(region, error="unknown")
    finally:
        await client.close()
    return _Attempt(region, account_id=str(client.account_id))


async def _async_try_region(hass: HomeAssistant, data: Mapping[str, Any], region: str) -> _Attempt:
    """Log in on one shard and read the account; one login attempt at most."""
    try:
        client = build_client({**data, CONF_REGION: region}, async_get_clientsession(hass))
    except SigenValidationError:
        return _Attempt(region, error="invalid_auth")
    return await _async_read_account(client)


async def _async_search(
    hass: HomeAssistant, data: Mapping[str, Any], regions: Iterable[str]
) -> RegionSearch | None:
    """One login on each of ``regions`` at once; None when nothing could be sent.

    With a server URL all go to that server, told apart by their ``client-server``
    header. None means the e-mail or password is unusable.
    """
    try:
        return await find_region(
            data.get(CONF_USERNAME, ""),
            data.get(CONF_PASSWORD, ""),
            regions=regions,
            session=async_get_clientsession(hass),
            **server_options(data),
        )
    except SigenValidationError:
        return None


def _nobody_accepted(search: RegionSearch, *, refused_by: str | None) -> LoginResult:
    """The error when no searched shard accepted the credentials."""
    silent = search.unreachable + search.failed
    if refused_by is None and not search.refused:
        return LoginResult.error("cannot_connect" if search.unreachable else "unknown")
    if silent:
        return LoginResult.error("regions_unreachable", region_names=_region_names(silent))
    return LoginResult.error("invalid_auth")


async def _async_found(
    search: RegionSearch | None, *, refused_by: str | None, follow: bool
) -> LoginResult:
    """The login of a user action from the answers of the shards searched.

    ``refused_by``: the chosen shard, which refused the credentials (None: every shard
    was searched). ``follow``: take the shard that accepted (a step that asks only for
    the password); otherwise a chosen shard that refused is answered ``wrong_region``.
    """
    if search is None:
        return LoginResult.error("invalid_auth")
    async with search:
        if search.locked:
            return LoginResult.error("account_locked")
        for region in search.failed:
            LOGGER.warning(
                "The Sigen cloud's region %s could not check the account: %s",
                region,
                search.attempt(region).error,
            )
        if len(search.accepted) > 1 and not follow:
            return LoginResult.error(
                "multiple_regions", region_names=_region_names(search.accepted)
            )
        if search.client is None:
            return _nobody_accepted(search, refused_by=refused_by)
        if refused_by is not None and not follow:
            return LoginResult.error(
                "wrong_region", region_name=_region_names([search.client.region])
            )
        return (await _async_read_account(search.client)).result()


async def async_login(
    hass: HomeAssistant, data: Mapping[str, Any], region: str, *, follow: bool = False
) -> LoginResult:
    """Log in with the account in ``data`` on the shard ``region``.

    ``REGION_AUTO`` tries every shard at once. When a chosen shard refuses the
    credentials, each other shard is tried once (a wrong shard looks like a wrong
    password): one that accepts is taken with ``follow`` (steps that ask only for the
    password), otherwise answered ``wrong_region`` with its name. Either way the shard
    holding the account sees at most one failed login.
    """
    try:
        if region == REGION_AUTO:
            return await _async_found(
                await _async_search(hass, data, REGIONS), refused_by=None, follow=follow
            )
        attempt = await _async_try_region(hass, data, region)
        if attempt.error == "invalid_auth":
            others = [other for other in REGIONS if other != region]
            return await _async_found(
                await _async_search(hass, data, others), refused_by=region, follow=follow
            )
    except Exception:
        LOGGER.exception("Unexpected error while looking for the Sigen account's region")
        return LoginResult.error("unknown")
    return attempt.result()

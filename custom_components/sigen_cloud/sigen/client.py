"""``Sigen``: the end-user ("app") API of Sigenergy's cloud, as the mySigen app uses it.

Usage, as in the original ``sigen`` library::

    sigen = Sigen(username, password, region="eu")
    await sigen.async_initialize()
    print(await sigen.get_energy_flow())
    await sigen.set_operational_mode_sigen_ai_mode()
    await sigen.enable_smart_load_immersion()
    await sigen.close()

Login is the OAuth password grant of ``auth/oauth/token`` with the password encrypted
as the web app does; the access token is refreshed a minute before it expires, and a
request the cloud answers with 401 is retried once after a refresh (or, if the refresh
fails, a new login). Concurrent calls share one login or refresh.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import types
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import aiohttp

from ._parse import method_suffix, parse_number, parse_str
from ._util import (
    HttpAnswer,
    RefusedCredentials,
    SessionOwner,
    check_envelope,
    check_http,
    envelope_code,
    envelope_message,
    error_for_code,
    expect_dict,
    expect_list,
    fetch,
    is_firewall_block,
    join_url,
    mask_email,
    normalize_base_url,
    redact,
)
from .const import (
    APP_DEFAULT_PROFILE_ID,
    APP_TOKEN_REFRESH_MARGIN,
    CODE_ACCOUNT_LOCKED,
    CODE_AUTH_FAILED,
    DEFAULT_HTTP_429_RETRY_AFTER,
    DEFAULT_RATE_LIMIT_RETRY_AFTER,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_USER_AGENT,
    OAUTH_CLIENT_ID,
    OAUTH_CLIENT_SECRET,
    RATE_LIMIT_CODES,
    WEB_APP_HEADERS,
    NBMode,
)
from .crypto import encrypt_password
from .errors import (
    SigenAccountLockedError,
    SigenAPIError,
    SigenAuthError,
    SigenError,
    SigenRateLimitError,
    SigenTokenExpiredError,
    SigenValidationError,
)
from .models import (
    DISABLE_LOAD_PREFIX,
    ENABLE_LOAD_PREFIX,
    MODE_METHOD_PREFIX,
    CurrentMode,
    EnergyFlow,
    OperationalMode,
    SmartLoad,
    SmartLoadConsumption,
    StationInfo,
    match_system,
)
from .northbound import NorthboundClient
from .regions import get_region

_LOGGER = logging.getLogger(__name__)

_BASIC_AUTH = "Basic " + base64.b64encode(
    f"{OAUTH_CLIENT_ID}:{OAUTH_CLIENT_SECRET}".encode()
).decode("ascii")
_DEFAULT_TOKEN_LIFETIME = 3600.0
_USER_ID_KEYS = ("userId", "user_id", "uid", "accountId", "account_id")
#: Login answer codes that do not mean "wrong credentials" (lock, server failures).
_NOT_AUTH_LOGIN_CODES = frozenset({CODE_ACCOUNT_LOCKED, 500, 502, 503, 504, 1109, 1502})
_DYNAMIC_PREFIXES = (MODE_METHOD_PREFIX, ENABLE_LOAD_PREFIX, DISABLE_LOAD_PREFIX)

StationId = str | int


def _web_app_origin(base_url: str) -> str:
    """``https://api-eu.sigencloud.com/`` → ``https://app-eu.sigencloud.com``."""
    parts = urlsplit(base_url)
    host = parts.netloc
    if host.startswith("api-"):
        host = "app-" + host[len("api-") :]
    return f"{parts.scheme}://{host}"


def _station_json_id(station_id: str) -> int | str:
    """The app API sends and expects the station id as a number."""
    return int(station_id) if station_id.isdigit() else station_id


def _find_by_name[T](items: Sequence[T], name: str, name_of: Callable[[T], str]) -> T | None:
    """The item named ``name`` (case-insensitive), else the one whose method-name form
    (``"sigen_ai_mode"``) matches; ``None`` when there is none.
    """
    wanted = name.strip().casefold()
    for item in items:
        if name_of(item).strip().casefold() == wanted:
            return item
    for item in items:
        if method_suffix(name_of(item)) == method_suffix(name):
            return item
    return None


class Sigen(SessionOwner):
    """Client of the end-user API for one Sigen account.

    ``region`` is a key of :data:`~sigen.regions.REGIONS` (``eu``, ``apac``, ``aus``,
    ``us``, ``jp``, ``cn``); ``base_url`` overrides the
    region's host (for the simulator), ``nb_base_url`` the northbound host (default:
    the region's, or ``base_url`` when that is given). ``session`` is an
    :class:`aiohttp.ClientSession` to reuse and is never closed here; without one the
    client creates its own, closed by :meth:`close` or ``async with``.

    Every request sends ``user_agent`` (the cloud's firewall rejects any User-Agent
    containing "aiohttp") and the web app's headers (``client-server``, ``lang``,
    ``sg-*``).
    """

    def __init__(
        self,
        username: str,
        password: str,
        region: str = "eu",
        *,
        base_url: str | None = None,
        nb_base_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        if not isinstance(username, str) or not username.strip():
            raise SigenValidationError("The Sigen account's e-mail address (username) is empty")
        if not isinstance(password, str) or not password:
            raise SigenValidationError("The Sigen account's password is empty")
        shard = get_region(region)
        region_key = shard.key
        if not isinstance(request_timeout, int | float) or request_timeout <= 0:
            raise SigenValidationError("request_timeout must be a positive number of seconds")
        self.username = username.strip()
        self._password = password
        self.region = region_key
        self.base_url = normalize_base_url(base_url or shard.app_base_url)
        if nb_base_url is not None:
            self.nb_base_url = normalize_base_url(nb_base_url)
        elif base_url is not None:
            self.nb_base_url = self.base_url
        else:
            self.nb_base_url = shard.nb_base_url
        self.user_agent = user_agent
        self.request_timeout = float(request_timeout)
        self._client_server = shard.client_server
        self._origin = _web_app_origin(self.base_url)
        self._sg_session = str(uuid.uuid4())
        self._device_id = str(int(time.time() * 1000))

        super().__init__(session)
        self._auth_lock = asyncio.Lock()
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._token_expires_at: float | None = None
        self._refresh_at: float | None = None
        self._user_id: str | None = None
        self._refused = RefusedCredentials("async_initialize()")

        self.station: StationInfo | None = None
        self.station_id: str | None = None
        self._modes: dict[str, list[OperationalMode]] = {}
        self._smart_loads: dict[str, list[SmartLoad]] = {}
        self._smart_load_ids: dict[tuple[str, int], Any] = {}
        self._dynamic_names: set[str] = set()
        self._northbound: NorthboundClient | None = None
        self._system_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<Sigen {mask_email(self.username)} {self.base_url}>"

    # ------------------------------------------------------------------ lifecycle

    async def close(self) -> None:
        """Close the northbound client and the HTTP session if this client created it."""
        if self._northbound is not None:
            northbound, self._northbound = self._northbound, None
            await northbound.close()
        await super().close()

    async def async_initialize(self) -> None:
        """Log in, read the home station, its modes and smart loads, and create the
        dynamic methods (``set_operational_mode_<label>``, ``enable_smart_load_<name>``,
        ``disable_smart_load_<name>``).
        """
        await self.async_login()
        await self.get_station_info()
        await self.get_operational_modes()
        try:
            await self.get_smart_loads()
        except SigenRateLimitError:
            raise
        except SigenAPIError as err:
            _LOGGER.warning("The station's smart loads could not be read: %s", err)

    @property
    def web_app_url(self) -> str:
        """The web app of this client's server: ``https://app-<region>.sigencloud.com/``
        for a region's API host, the server itself for any other ``base_url``.
        """
        return self._origin + "/"

    async def async_login(self) -> None:
        """Log in (one attempt) without reading anything else.

        :meth:`async_initialize` does this first; a later call needs no new login. As
        with :meth:`async_initialize`, this tries again after the cloud refused the
        credentials. A region that does not hold the account refuses it exactly like
        a wrong password (:func:`~sigen.discovery.find_region` tries every region).
        """
        await self._ensure_token(explicit=True)

    # ------------------------------------------------------------------ account

    @property
    def account_id(self) -> str:
        """A stable id of the account: the login's user id, else the home station's id.

        Known after :meth:`async_initialize`; never the e-mail address.
        """
        if self._user_id is not None:
            return self._user_id
        if self.station_id is not None:
            return self.station_id
        raise SigenError("The account id is known only after async_initialize()")

    @property
    def operational_modes(self) -> list[OperationalMode]:
        """The home station's modes as last read (empty before :meth:`async_initialize`)."""
        return list(self._modes.get(self.station_id or "", []))

    @property
    def smart_loads(self) -> list[SmartLoad]:
        """The home station's smart loads as last read."""
        return list(self._smart_loads.get(self.station_id or "", []))

    @property
    def northbound(self) -> NorthboundClient | None:
        """The northbound client made by :meth:`init_northbound`, if any."""
        return self._northbound

    # ------------------------------------------------------------------ tokens

    def _token_fresh(self) -> bool:
        return (
            self._access_token is not None
            and self._refresh_at is not None
            and time.time() < self._refresh_at
        )

    async def _ensure_token(self, *, explicit: bool = False) -> None:
        if self._token_fresh():
            return
        async with self._auth_lock:
            if self._token_fresh():
                return
            await self._renew_locked(explicit=explicit)

    async def _renew_after_rejection(self, rejected: str | None) -> None:
        async with self._auth_lock:
            if self._access_token is not None and self._access_token != rejected:
                return  # another request renewed the session meanwhile
            self._refresh_at = None
            await self._renew_locked()

    async def _renew_locked(self, *, explicit: bool = False) -> None:
        """Refresh the token, or log in (again); the caller holds the auth lock.

        After the cloud refused the credentials, implicit logins (from data calls) stop:
        they raise at once instead of counting towards the account lock (5 failures);
        :meth:`async_initialize` (``explicit``) tries again.
        """
        self._refused.check(explicit=explicit)
        if self._access_token is None:
            await self._login()
            return
        if self._refresh_token is None:
            await self._relogin_after_failed_refresh(None)
            return
        try:
            await self._refresh()
        except (SigenAuthError, SigenAPIError) as err:
            if isinstance(err, SigenRateLimitError | SigenAccountLockedError):
                raise
            _LOGGER.debug("Refreshing the Sigen token failed (%s); logging in again", err)
            await self._relogin_after_failed_refresh(err)

    async def _relogin_after_failed_refresh(self, refresh_error: SigenError | None) -> None:
        try:
            await self._login()
        except SigenAccountLockedError:
            raise
        except SigenAuthError as err:
            self._access_token = None
            self._refresh_token = None
            raise SigenTokenExpiredError(
                "The Sigen session expired and could not be renewed: "
                + (f"the token refresh failed ({refresh_error}) and " if refresh_error else "")
                + f"logging in again failed: {err}"
            ) from err

    async def _login(self) -> None:
        await self._refused.login(self._password_login)

    async def _password_login(self) -> None:
        what = "Logging in to the Sigen cloud"
        _LOGGER.debug("Logging in to %s as %s", self.base_url, mask_email(self.username))
        form = {
            "scope": "server",
            "grant_type": "password",
            "userDeviceId": self._device_id,
            "username": self.username,
            "password": encrypt_password(self._password),
        }
        answer = await self._token_request(what, form)
        self._store_token(what, answer, self._check_token_answer(what, answer, login=True))

    async def _refresh(self) -> None:
        what = "Refreshing the Sigen session"
        assert self._refresh_token is not None
        form = {
            "scope": "server",
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
        }
        answer = await self._token_request(what, form)
        self._store_token(what, answer, self._check_token_answer(what, answer, login=False))
        _LOGGER.debug("Sigen token refreshed")

    async def _token_request(self, what: str, form: dict[str, str]) -> HttpAnswer:
        headers = self._headers("auth/oauth/token", None)
        headers["Authorization"] = _BASIC_AUTH
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return await fetch(
            self._get_session(),
            "POST",
            join_url(self.base_url, "auth/oauth/token"),
            what=what,
            request_timeout=self.request_timeout,
            headers=headers,
            form=form,
        )

    def _check_token_answer(self, what: str, answer: HttpAnswer, *, login: bool) -> Any:
        """Map the token endpoint's failures: wrong password, lock, bad client, limits."""
        hint = (
            "check the e-mail address and password" if login else "the refresh token is not valid"
        )
        content_type = answer.headers.get("content-type", "")
        if (
            answer.status in (400, 401, 403)
            and answer.is_json
            and not is_firewall_block(answer.status, answer.text, content_type)
        ):
            code = envelope_code(answer.payload)
            message = envelope_message(answer.payload)
            if code is not None and (code in RATE_LIMIT_CODES or code == CODE_ACCOUNT_LOCKED):
                raise error_for_code(
                    what,
                    code,
                    message,
                    status_code=answer.status,
                    response_body=answer.text,
                    default_retry_after=DEFAULT_RATE_LIMIT_RETRY_AFTER,
                )
            if (
                answer.status == 401
                and isinstance(answer.payload, dict)
                and "client" in str(answer.payload.get("error_description", "")).lower()
            ):
                raise SigenAuthError(
                    f"{what}: the cloud refused the app's OAuth client (HTTP 401: {message}); "
                    "the cloud may have changed its login, please report this"
                )
            raise SigenAuthError(
                f"{what}: the cloud refused it (HTTP {answer.status}"
                + (f": {message}" if message else "")
                + f"); {hint}"
            )
        check_http(
            what,
            answer,
            user_agent=self.user_agent,
            default_retry_after=DEFAULT_HTTP_429_RETRY_AFTER,
        )
        code = envelope_code(answer.payload)
        if code is not None and code != 0:
            message = envelope_message(answer.payload)
            if code in RATE_LIMIT_CODES or code in _NOT_AUTH_LOGIN_CODES:
                # a limit, a lock or a server-side failure: not a reason to re-enter the
                # password
                raise error_for_code(
                    what, code, message, status_code=answer.status, response_body=answer.text
                )
            raise SigenAuthError(
                f"{what}: the cloud refused it (code {code}"
                + (f": {message}" if message else "")
                + f"); {hint}"
            )
        return check_envelope(what, answer)

    def _store_token(self, what: str, answer: HttpAnswer, data: Any) -> None:
        token_data = expect_dict(what, data, answer)
        access = parse_str(token_data.get("access_token", token_data.get("accessToken")))
        if access is None:
            raise SigenAPIError(
                f"{what}: the cloud's answer has no access_token (fields: "
                f"{', '.join(sorted(token_data)) or 'none'})",
                status_code=answer.status,
            )
        refresh = parse_str(token_data.get("refresh_token", token_data.get("refreshToken")))
        lifetime = parse_number(token_data.get("expires_in", token_data.get("expiresIn")))
        if lifetime is None or lifetime <= 0:
            _LOGGER.debug("%s: no usable expires_in, assuming %d s", what, _DEFAULT_TOKEN_LIFETIME)
            lifetime = _DEFAULT_TOKEN_LIFETIME
        now = time.time()
        self._access_token = access
        self._refresh_token = refresh
        self._token_expires_at = now + lifetime
        self._refresh_at = now + max(lifetime - APP_TOKEN_REFRESH_MARGIN, lifetime / 2)
        for key in _USER_ID_KEYS:
            user_id = parse_str(token_data.get(key))
            if user_id is not None:
                self._user_id = user_id
                break

    # ------------------------------------------------------------------ requests

    def _headers(self, path: str, token: str | None) -> dict[str, str]:
        timestamp = str(time.time_ns() // 1000)  # the web app sends microseconds
        headers = {
            **WEB_APP_HEADERS,
            "User-Agent": self.user_agent,
            "Origin": self._origin,
            "Referer": self._origin + "/",
            "client-server": self._client_server,
            "sg-ts": timestamp,
            "sg-log-id": str(uuid.uuid5(uuid.NAMESPACE_URL, path + timestamp)),
            "sg-session": self._sg_session,
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
            headers["Content-Type"] = "application/json"
        return headers

    @staticmethod
    def _is_unauthorized(answer: HttpAnswer) -> bool:
        if answer.status == 401:
            return True
        payload = answer.payload
        if not isinstance(payload, dict):
            return False
        return envelope_code(payload) in (401, CODE_AUTH_FAILED) or payload.get("error") in (
            "invalid_token",
            "unauthorized",
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, str] | None = None,
        json_body: Any = None,
    ) -> tuple[Any, HttpAnswer]:
        """Send an authenticated request and return the decoded ``data``.

        A 401 (HTTP or code) renews the session once (refresh, else login) and retries.
        """
        await self._ensure_token()
        for attempt in range(2):
            token = self._access_token
            answer = await fetch(
                self._get_session(),
                method,
                join_url(self.base_url, path),
                what=what,
                request_timeout=self.request_timeout,
                headers=self._headers(path, token),
                params=params,
                json_body=json_body,
            )
            if self._is_unauthorized(answer):
                if attempt == 0:
                    _LOGGER.debug(
                        "%s: the token was refused (HTTP %s), renewing", what, answer.status
                    )
                    await self._renew_after_rejection(token)
                    continue
                # The renewal worked, so the credentials are fine: a cloud fault (or this
                # resource is not ours), not a reason to ask for the password again.
                raise SigenAPIError(
                    f"{what}: the Sigen cloud refused the session again right after renewing "
                    f"it (HTTP {answer.status}: {envelope_message(answer.payload) or 'no reason'})",
                    status_code=answer.status,
                    code=envelope_code(answer.payload),
                )
            check_http(
                what,
                answer,
                user_agent=self.user_agent,
                default_retry_after=DEFAULT_HTTP_429_RETRY_AFTER,
            )
            return check_envelope(what, answer), answer
        raise SigenError(f"{what}: unreachable")  # pragma: no cover

    def _station(self, station_id: StationId | None) -> str:
        if station_id is None:
            if self.station_id is None:
                raise SigenError(
                    "No station id yet: call async_initialize() (or get_station_info()) "
                    "first, or pass station_id"
                )
            return self.station_id
        if isinstance(station_id, bool) or not isinstance(station_id, str | int):
            raise SigenValidationError(f"A station id must be a string or int, got {station_id!r}")
        text = str(station_id).strip()
        if not text:
            raise SigenValidationError("The station id is empty")
        return text

    # ------------------------------------------------------------------ station

    async def get_station_info(self) -> StationInfo:
        """Read the account's home station and remember it as the default station."""
        what = "Reading the Sigen home station"
        data, answer = await self._request("GET", "device/owner/station/home", what=what)
        station = StationInfo.from_dict(expect_dict(what, data, answer))
        known = self._system_ids.get(station.station_id)
        if station.system_id is None and known is not None:
            station = replace(station, system_id=known)
        self.station = station
        self.station_id = station.station_id
        return station

    async def fetch_station_info(self) -> StationInfo:
        """Alias of :meth:`get_station_info` (the original library's name)."""
        return await self.get_station_info()

    async def get_energy_flow(self, station_id: StationId | None = None) -> EnergyFlow:
        """Live power flow: kW, grid + = import, battery + = discharge (see
        :class:`EnergyFlow` for the cloud's own signs).
        """
        sid = self._station(station_id)
        what = f"Reading the energy flow of station {sid}"
        data, answer = await self._request(
            "GET", "device/sigen/station/energyflow", what=what, params={"id": sid}
        )
        return EnergyFlow.from_dict(expect_dict(what, data, answer))

    # ------------------------------------------------------------------ modes

    async def get_operational_modes(
        self, station_id: StationId | None = None
    ) -> list[OperationalMode]:
        """All modes: the default ones, then the custom energy profiles (mode 9).

        Reading the home station's modes also refreshes the dynamic methods.
        """
        sid = self._station(station_id)
        what = f"Reading the operational modes of station {sid}"
        data, answer = await self._request(
            "GET", f"device/energy-profile/mode/all/{quote(sid, safe='')}", what=what
        )
        modes: list[OperationalMode] = []
        if isinstance(data, list):
            items: list[tuple[Callable[[Any], OperationalMode], Any]] = [
                (OperationalMode.from_dict, item) for item in data
            ]
        else:
            body = expect_dict(what, data, answer)
            items = [
                (OperationalMode.from_default, item)
                for item in expect_list(what, body.get("defaultWorkingModes"), answer)
            ] + [
                (OperationalMode.from_profile, item)
                for item in expect_list(what, body.get("energyProfileItems"), answer)
            ]
        for build, item in items:
            try:
                modes.append(build(item))
            except SigenAPIError as err:
                _LOGGER.warning("%s: skipping an unreadable mode: %s", what, err)
        self._modes[sid] = modes
        if sid == self.station_id:
            self._install_dynamic_methods()
        return list(modes)

    async def get_current_mode(self, station_id: StationId | None = None) -> CurrentMode:
        """The current mode (value, profile id) and its label when known."""
        sid = self._station(station_id)
        what = f"Reading the current operational mode of station {sid}"
        data, answer = await self._request(
            "GET", f"device/energy-profile/mode/current/{quote(sid, safe='')}", what=what
        )
        current = CurrentMode.from_dict(expect_dict(what, data, answer))
        if sid not in self._modes:
            await self.get_operational_modes(sid)
        label = self._label_of(sid, current.mode, current.profile_id)
        return replace(current, label=label)

    def _label_of(self, station_id: str, mode: int, profile_id: int) -> str | None:
        modes = self._modes.get(station_id, [])
        if profile_id != APP_DEFAULT_PROFILE_ID:
            for item in modes:
                if item.is_profile and item.profile_id == profile_id:
                    return item.label
        for item in modes:
            if not item.is_profile and item.value == mode:
                return item.label
        return None

    async def get_operational_mode(self, station_id: StationId | None = None) -> str:
        """The current mode's label (``"Unknown mode <n>"`` when the label is unknown)."""
        current = await self.get_current_mode(station_id)
        if current.label is not None:
            return current.label
        if current.profile_id != APP_DEFAULT_PROFILE_ID:
            return f"Unknown mode {current.mode} (profile {current.profile_id})"
        return f"Unknown mode {current.mode}"

    async def set_operational_mode(
        self,
        mode: int | OperationalMode,
        profile_id: int = APP_DEFAULT_PROFILE_ID,
        *,
        station_id: StationId | None = None,
    ) -> None:
        """Switch the station's mode: a default mode's value with ``profile_id=-1``, or
        9 with a custom profile's id (an :class:`OperationalMode` gives both).
        """
        if isinstance(mode, OperationalMode):
            profile_id = mode.profile_id
            mode = mode.value
        if isinstance(mode, bool) or not isinstance(mode, int):
            raise SigenValidationError(f"The operational mode must be an integer, got {mode!r}")
        if isinstance(profile_id, bool) or not isinstance(profile_id, int):
            raise SigenValidationError(f"The profile id must be an integer, got {profile_id!r}")
        sid = self._station(station_id)
        label = self._label_of(sid, mode, profile_id)
        what = f"Switching station {sid} to the operational mode " + (
            repr(label) if label else f"{mode} (profile {profile_id})"
        )
        await self._request(
            "PUT",
            "device/energy-profile/mode",
            what=what,
            json_body={
                "stationId": _station_json_id(sid),
                "operationMode": mode,
                "profileId": profile_id,
            },
        )

    def mode_by_label(self, label: str) -> OperationalMode:
        """The home station's mode with this label (case-insensitive; the method-name
        form ``"sigen_ai_mode"`` works too).
        """
        modes = self.operational_modes
        found = _find_by_name(modes, label, lambda item: item.label)
        if found is not None:
            return found
        if not modes:
            raise SigenValidationError(
                f"Unknown operational mode {label!r}: no modes are known yet; call "
                "async_initialize() or get_operational_modes() first"
            )
        known = ", ".join(repr(item.label) for item in modes)
        raise SigenValidationError(f"Unknown operational mode {label!r}; known modes: {known}")

    # ------------------------------------------------------------------ smart loads

    async def get_smart_loads(self, station_id: StationId | None = None) -> list[SmartLoad]:
        """The station's smart loads (name, path, power kW, on/off).

        Reading the home station's loads also refreshes the dynamic methods.
        """
        sid = self._station(station_id)
        what = f"Reading the smart loads of station {sid}"
        data, answer = await self._request(
            "GET",
            "device/system/device/systemDevice/card",
            what=what,
            params={"stationId": sid, "showNewGenerator": "true"},
        )
        if isinstance(data, dict):
            for key in ("list", "records", "cards", "smartLoads"):
                if isinstance(data.get(key), list):
                    data = data[key]
                    break
        loads: list[SmartLoad] = []
        for item in expect_list(what, data, answer):
            try:
                loads.append(SmartLoad.from_dict(item))
            except SigenAPIError as err:
                _LOGGER.warning("%s: skipping an unreadable smart load: %s", what, err)
        self._smart_loads[sid] = loads
        if sid == self.station_id:
            self._install_dynamic_methods()
        return list(loads)

    def smart_load_by_name(self, name: str) -> SmartLoad:
        """The home station's smart load with this name (case-insensitive)."""
        loads = self.smart_loads
        found = _find_by_name(loads, name, lambda item: item.name)
        if found is not None:
            return found
        if not loads:
            raise SigenValidationError(
                f"Unknown smart load {name!r}: the station has no smart loads known yet; "
                "call async_initialize() or get_smart_loads() first"
            )
        known = ", ".join(repr(item.name) for item in loads)
        raise SigenValidationError(f"Unknown smart load {name!r}; known smart loads: {known}")

    @staticmethod
    def _load_path(load_path: int | SmartLoad) -> int:
        if isinstance(load_path, SmartLoad):
            return load_path.path
        if isinstance(load_path, bool) or not isinstance(load_path, int):
            raise SigenValidationError(
                f"A smart load's path must be an integer (SmartLoad.path), got {load_path!r}"
            )
        return load_path

    async def _smart_load_id(self, sid: str, path: int) -> Any:
        cached = self._smart_load_ids.get((sid, path))
        if cached is not None:
            return cached
        what = f"Looking up smart load {path} of station {sid}"
        data, answer = await self._request(
            "GET",
            "device/tp-device/smart-loads",
            what=what,
            params={"stationId": sid, "loadPath": str(path)},
        )
        if isinstance(data, list) and data:
            data = data[0]
        smart_load_id = parse_str(expect_dict(what, data, answer).get("smartLoadId"))
        if smart_load_id is None:
            raise SigenAPIError(
                f"{what}: the answer has no smartLoadId",
                status_code=answer.status,
                response_body=redact(answer.text),
            )
        self._smart_load_ids[(sid, path)] = smart_load_id
        return smart_load_id

    async def get_smart_load_consumption(
        self, load_path: int | SmartLoad, station_id: StationId | None = None
    ) -> SmartLoadConsumption:
        """Energy used by a smart load today, this month and in total (kWh).

        The load's ``smartLoadId`` is looked up once and cached; if the cloud refuses a
        cached id (the load was re-created), it is looked up again once.
        """
        sid = self._station(station_id)
        path = self._load_path(load_path)
        what = f"Reading the consumption of smart load {path} of station {sid}"
        for attempt in range(2):
            cached = (sid, path) in self._smart_load_ids
            smart_load_id = await self._smart_load_id(sid, path)
            try:
                data, answer = await self._request(
                    "GET",
                    "data-process/sigen/station/statistics/real-time-consumption",
                    what=what,
                    params={
                        "stationId": sid,
                        "loadPath": str(path),
                        "smartLoadId": str(smart_load_id),
                    },
                )
            except SigenAPIError as err:
                if attempt or not cached or isinstance(err, SigenRateLimitError):
                    raise
                _LOGGER.debug("%s: the cached smartLoadId was refused, looking it up again", what)
                self._smart_load_ids.pop((sid, path), None)
                continue
            return SmartLoadConsumption.from_dict(expect_dict(what, data, answer))
        raise SigenError(f"{what}: unreachable")  # pragma: no cover

    async def set_smart_load_state(
        self,
        load_path: int | SmartLoad,
        state: bool | int,
        *,
        station_id: StationId | None = None,
    ) -> None:
        """Switch a smart load on (``True``/1) or off (``False``/0)."""
        path = self._load_path(load_path)
        if state not in (True, False, 0, 1) or not isinstance(state, int):
            raise SigenValidationError(
                f"A smart load's state must be True/False or 1/0, got {state!r}"
            )
        on = bool(state)
        sid = self._station(station_id)
        what = f"Switching smart load {path} of station {sid} {'on' if on else 'off'}"
        await self._request(
            "PATCH",
            "device/tp-device/smart-loads/control-mode/manual/switch",
            what=what,
            params={"stationId": sid, "loadPath": str(path), "manualSwitch": "1" if on else "0"},
        )
        loads = self._smart_loads.get(sid)
        if loads is not None:
            self._smart_loads[sid] = [
                replace(item, on=on) if item.path == path else item for item in loads
            ]

    # ------------------------------------------------------------------ dynamic methods

    def _install_dynamic_methods(self) -> None:
        """(Re)create ``set_operational_mode_*`` and ``enable/disable_smart_load_*``."""
        for name in self._dynamic_names:
            self.__dict__.pop(name, None)
        self._dynamic_names = set()
        for mode in self._modes.get(self.station_id or "", []):
            self._add_dynamic(
                mode.method_name,
                self._mode_method(mode),
                alternative=f"{mode.method_name}_{mode.profile_id}" if mode.is_profile else None,
                what=f"mode {mode.label!r}",
            )
        for load in self._smart_loads.get(self.station_id or "", []):
            self._add_dynamic(
                load.enable_method_name,
                self._load_method(load, on=True),
                alternative=f"{load.enable_method_name}_{load.path}",
                what=f"smart load {load.name!r}",
            )
            self._add_dynamic(
                load.disable_method_name,
                self._load_method(load, on=False),
                alternative=f"{load.disable_method_name}_{load.path}",
                what=f"smart load {load.name!r}",
            )

    def _add_dynamic(
        self,
        name: str,
        function: Callable[..., Awaitable[None]],
        *,
        alternative: str | None,
        what: str,
    ) -> None:
        if name in _DYNAMIC_PREFIXES:
            _LOGGER.warning("No method for the %s: its name has no usable characters", what)
            return
        for candidate in (name, alternative):
            if candidate is None:
                continue
            if candidate in self._dynamic_names or hasattr(type(self), candidate):
                continue
            function.__name__ = candidate
            function.__qualname__ = f"{type(self).__name__}.{candidate}"
            setattr(self, candidate, types.MethodType(function, self))
            self._dynamic_names.add(candidate)
            return
        _LOGGER.warning("No method for the %s: the name %s is already taken", what, name)

    @staticmethod
    def _mode_method(mode: OperationalMode) -> Callable[..., Awaitable[None]]:
        async def set_mode(self: Sigen, *, station_id: StationId | None = None) -> None:
            await self.set_operational_mode(mode.value, mode.profile_id, station_id=station_id)

        set_mode.__doc__ = f"Switch the station to the operational mode {mode.label!r}."
        return set_mode

    @staticmethod
    def _load_method(load: SmartLoad, *, on: bool) -> Callable[..., Awaitable[None]]:
        async def switch(self: Sigen, *, station_id: StationId | None = None) -> None:
            await self.set_smart_load_state(load.path, on, station_id=station_id)

        switch.__doc__ = f"Switch the smart load {load.name!r} {'on' if on else 'off'}."
        return switch

    @property
    def dynamic_method_names(self) -> list[str]:
        """Names of the methods created from the account's modes and smart loads."""
        return sorted(self._dynamic_names)

    def __dir__(self) -> Iterable[str]:
        return sorted(set(super().__dir__()) | self._dynamic_names)

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            # Only reached for missing attributes: explain the dynamic methods' names.
            if name.startswith(_DYNAMIC_PREFIXES) and "_dynamic_names" in self.__dict__:
                known = ", ".join(self.dynamic_method_names) or "none yet"
                hint = "" if self.__dict__.get("station_id") else " Call async_initialize() first."
                raise AttributeError(
                    f"Sigen has no method {name!r}: it is made from the account's modes and "
                    f"smart loads. Known: {known}.{hint}",
                    name=name,
                    obj=self,
                )
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self
            )

    # ------------------------------------------------------------------ northbound

    async def init_northbound(self) -> NorthboundClient:
        """Log in to the northbound API with this account (``nb_base_url``)."""
        if self._northbound is None:
            self._northbound = NorthboundClient(
                self.nb_base_url,
                self.username,
                self._password,
                session=self._get_session(),
                user_agent=self.user_agent,
                request_timeout=self.request_timeout,
            )
        await self._northbound.login()
        return self._northbound

    async def _nb(self) -> NorthboundClient:
        if self._northbound is None:
            return await self.init_northbound()
        return self._northbound

    async def nb_system_id(self) -> str:
        """The home station's northbound/MQTT system id, confirmed by the system list.

        The app API's ``stationCode`` is the system id; it is looked up in the
        northbound ``/openapi/system`` list once. A station without ``stationCode`` is
        found in that list by name and capacities (:func:`~sigen.models.match_system`);
        ``stationSnCode`` is never used. The result is kept (``station.system_id``).
        When the list cannot be read (rate limit, error) a known ``stationCode`` is
        used unconfirmed; without one the error is raised.
        """
        station = self.station
        if station is None:
            raise SigenError(
                "No system id: call async_initialize() first (the home station's "
                "stationCode is the default) or pass system_id"
            )
        known = self._system_ids.get(station.station_id)
        if known is not None:
            return known
        try:
            systems = await (await self._nb()).get_systems()
        except SigenAuthError:
            raise
        except SigenError as err:
            if station.station_code is None:
                raise
            _LOGGER.debug(
                "The northbound system list could not be read (%s); using the home "
                "station's stationCode unconfirmed",
                err,
            )
            return station.station_code
        system = match_system(station, systems)
        if system is None:
            if station.station_code is not None:
                _LOGGER.warning(
                    "The northbound system list (%d systems) does not show the home "
                    "station's stationCode %s; using it anyway",
                    len(systems),
                    station.station_code,
                )
                return station.station_code
            raise SigenError(
                "The home station's northbound system id is unknown: its station data "
                f"has no stationCode and none of the {len(systems)} northbound systems "
                "matches its name and capacities; pass system_id"
            )
        self._system_ids[station.station_id] = system.system_id
        if self.station is station:
            self.station = replace(station, system_id=system.system_id)
        return system.system_id

    async def _nb_target(self, system_id: str | None) -> tuple[NorthboundClient, str]:
        if system_id is None:
            system_id = await self.nb_system_id()
        return await self._nb(), system_id

    async def nb_query_mode(self, system_id: str | None = None) -> int:
        """The northbound mode (an :class:`NBMode` value) of the home station or
        ``system_id``.
        """
        nb, target = await self._nb_target(system_id)
        return await nb.query_mode(target)

    async def nb_switch_mode(self, mode: NBMode | int, system_id: str | None = None) -> None:
        """Switch the northbound mode over REST (``PUT /openapi/instruction/settings``).

        Any :class:`NBMode` is sent; a mode the cloud refuses raises
        :class:`SigenAPIError` with the cloud's code and message.
        """
        nb, target = await self._nb_target(system_id)
        await nb.switch_mode(target, mode)


__all__ = ["Sigen"]

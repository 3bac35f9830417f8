"""What a :class:`~sigen.mqtt.SigenMQTT` needs to know, in one frozen object.

:class:`MQTTConfig` holds what the original library's 26-parameter constructor takes:
the developer credentials, the systems, the broker host candidates and port, the
certificates (file paths or PEM text) and the timing knobs. It is checked once, when
it is made; the runtime objects (an aiohttp session, a shared northbound client) are
not configuration and are passed to :meth:`SigenMQTT.from_config` beside it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Self, cast, overload

from ..const import MQTT_BROKERS, MQTT_PORT, NB_BASE_URLS
from ..errors import SigenValidationError

# The knobs that must be a positive number of seconds, in the order they are checked.
_POSITIVE_SECONDS = (
    "reconnect_interval",
    "error_reconnect_interval",
    "max_reconnect_interval",
    "publish_timeout",
    "connect_timeout",
    "onboard_retry_interval",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class MQTTConfig:
    """The settings of one MQTT client, validated and normalised when made.

    ``system_ids`` and ``brokers`` take one string or several and become tuples (kept
    in order, duplicates dropped, surrounding spaces stripped); a certificate comes as a file
    (``*_path``) or as PEM text (``*_pem``, as Home Assistant stores it), not both. Without
    a CA the system's trust store is used. ``app_secret`` may stay empty only when the
    client is given a logged-in northbound client to share.

    Timing, in seconds: ``reconnect_interval`` after an MQTT error and
    ``error_reconnect_interval`` after anything unexpected, doubled while it keeps
    failing up to ``max_reconnect_interval``; the token is renewed
    ``token_refresh_margin`` before it expires; systems awaiting approval are onboarded
    again every ``onboard_retry_interval``; a command waits ``publish_timeout`` for its
    acknowledgement and a connect ``connect_timeout`` for the CONNACK.
    """

    app_key: str
    app_secret: str = field(default="", repr=False)
    app_identifier: str
    system_ids: Sequence[str]
    brokers: Sequence[str] = (MQTT_BROKERS["eu"],)
    port: int = MQTT_PORT
    base_url: str = NB_BASE_URLS["eu"]
    ca_cert_path: str | os.PathLike[str] | None = None
    client_cert_path: str | os.PathLike[str] | None = None
    client_key_path: str | os.PathLike[str] | None = None
    ca_cert_pem: str | None = field(default=None, repr=False)
    client_cert_pem: str | None = field(default=None, repr=False)
    client_key_pem: str | None = field(default=None, repr=False)
    auto_onboard: bool = True
    reconnect_interval: float = 30.0
    error_reconnect_interval: float = 60.0
    max_reconnect_interval: float = 600.0
    token_refresh_margin: float = 3600.0
    onboard_retry_interval: float = 600.0
    publish_timeout: float = 10.0
    connect_timeout: float = 15.0
    keepalive: int = 60

    def __post_init__(self) -> None:
        """Check every setting and store it in its normal form (see the class doc)."""
        if not isinstance(self.app_key, str) or not self.app_key.strip():
            raise SigenValidationError("SigenMQTT needs the developer app key")
        self._set("app_key", self.app_key.strip())
        if not isinstance(self.app_identifier, str):
            raise SigenValidationError("SigenMQTT needs the app identifier (a string)")
        self._set("system_ids", _system_ids(self.system_ids))
        self._check_certificates()
        for name in _POSITIVE_SECONDS:
            if not getattr(self, name) > 0:
                raise SigenValidationError(f"{name} must be a positive number of seconds")
            self._set(name, float(getattr(self, name)))
        if self.token_refresh_margin < 0:
            raise SigenValidationError("token_refresh_margin must not be negative")
        self._set("token_refresh_margin", float(self.token_refresh_margin))
        self._set("brokers", _broker_hosts(self.brokers))
        self._set("port", int(self.port))
        self._set("keepalive", int(self.keepalive))
        for name in ("ca_cert_path", "client_cert_path", "client_key_path"):
            path: str | os.PathLike[str] | None = getattr(self, name)
            if path is not None:
                self._set(name, os.fspath(path))

    def _set(self, name: str, value: object) -> None:
        """Store a normalised value (the dataclass is frozen once made)."""
        object.__setattr__(self, name, value)

    def _check_certificates(self) -> None:
        """Each certificate once (path or PEM), and a client certificate with its key."""
        if self.ca_cert_path is not None and self.ca_cert_pem is not None:
            raise SigenValidationError("Give the CA certificate as a path or as PEM text, not both")
        if self.has_client_cert != (
            self.client_key_path is not None or self.client_key_pem is not None
        ):
            raise SigenValidationError(
                "A client certificate needs its private key (and a key its certificate)"
            )
        if self.client_cert_path is not None and self.client_cert_pem is not None:
            raise SigenValidationError("Give the client certificate as a path or PEM, not both")
        if self.client_key_path is not None and self.client_key_pem is not None:
            raise SigenValidationError("Give the client key as a path or PEM text, not both")

    @property
    def has_client_cert(self) -> bool:
        """Whether a client certificate is given (mutual TLS, as Sigen's broker wants)."""
        return self.client_cert_path is not None or self.client_cert_pem is not None

    @property
    def client_id(self) -> str:
        """A stable MQTT client id for this application (needed for a persistent session)."""
        cleaned = re.sub(r"[^A-Za-z0-9_-]", "", self.app_identifier)[:48]
        if not cleaned:
            cleaned = hashlib.sha256(self.app_key.encode()).hexdigest()[:16]
        return f"sigen-{cleaned}"


def _system_ids(system_ids: object) -> tuple[str, ...]:
    """One system id or several: non-empty, no MQTT wildcard or level separator."""
    items = [system_ids] if isinstance(system_ids, str) else list(_iterable(system_ids))
    ids = [i for i in items if isinstance(i, str) and i.strip()]
    if not ids or len(ids) != len(items):
        raise SigenValidationError(
            "SigenMQTT needs at least one system id (a non-empty string each)"
        )
    if any(ch in i for i in ids for ch in "+#/"):
        raise SigenValidationError("A system id must not contain '/', '+' or '#'")
    return tuple(i.strip() for i in dict.fromkeys(ids))


def _broker_hosts(broker: object) -> tuple[str, ...]:
    """The broker host candidates: one host name, or several in the order to try."""
    items = [broker] if isinstance(broker, str) else list(_iterable(broker))
    names = [h for h in items if isinstance(h, str) and h.strip()]
    if not names or len(names) != len(items):
        raise SigenValidationError(
            "broker must be a host name or a list of host names (non-empty strings)"
        )
    return tuple(dict.fromkeys(h.strip() for h in names))


def _iterable(value: object) -> Iterable[object]:
    """``value``'s items, or ``value`` alone when it is not iterable."""
    return value if isinstance(value, Iterable) else [value]


class _Setting[T]:
    """An attribute that reads the owner's :class:`MQTTConfig`.

    Setting it replaces the owner's ``config`` with a copy holding the new value,
    checked like a new one.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        """Remember the config field of the same name."""
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type) -> Self: ...

    @overload
    def __get__(self, obj: Configured, owner: type) -> T: ...

    def __get__(self, obj: Configured | None, owner: type) -> T | Self:
        """The field's value in the owner's config (the descriptor on the class)."""
        if obj is None:
            return self
        return cast("T", getattr(obj.config, self._name))

    def __set__(self, obj: Configured, value: T) -> None:
        """Replace the owner's config with one that has ``value``."""
        obj.config = replace(obj.config, **cast("dict[str, Any]", {self._name: value}))


class Configured:
    """The settings of a client as its attributes, as the original library has them.

    They read ``config``; setting one (``client.reconnect_interval = 5``) replaces
    ``config`` with a checked copy that has the new value.
    """

    config: MQTTConfig

    app_key = _Setting[str]()
    app_identifier = _Setting[str]()
    port = _Setting[int]()
    base_url = _Setting[str]()
    auto_onboard = _Setting[bool]()
    reconnect_interval = _Setting[float]()
    error_reconnect_interval = _Setting[float]()
    max_reconnect_interval = _Setting[float]()
    token_refresh_margin = _Setting[float]()
    onboard_retry_interval = _Setting[float]()
    publish_timeout = _Setting[float]()
    connect_timeout = _Setting[float]()
    keepalive = _Setting[int]()

    @property
    def system_ids(self) -> list[str]:
        """The systems listened to (a new list; set a new one to change them)."""
        return list(self.config.system_ids)

    @system_ids.setter
    def system_ids(self, system_ids: str | Iterable[str]) -> None:
        ids = system_ids if isinstance(system_ids, str) else tuple(system_ids)
        self.config = replace(self.config, system_ids=ids)

    @property
    def brokers(self) -> tuple[str, ...]:
        """The broker host candidates, in the order given."""
        return tuple(self.config.brokers)

    @property
    def client_id(self) -> str:
        """The stable MQTT client id of the application (see :attr:`MQTTConfig.client_id`)."""
        return self.config.client_id

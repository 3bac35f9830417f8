"""What the simulator's mosquitto is told: its configuration file and its security.

Users, passwords and ACLs live in mosquitto's dynamic-security plugin (see
:mod:`sigen_sim.broker`): :class:`BrokerSecurity` keeps them, writes the plugin's JSON
file and makes the control commands that change a running broker the same way;
:func:`mosquitto_conf` writes the broker's own configuration.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .certs import CertBundle, CertPair

PUBLISHER_USERNAME = "sim-publisher"
HASH_ITERATIONS = 1000
PLUGIN_PATHS = (
    "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/x86_64-linux-gnu/mosquitto/mosquitto_dynamic_security.so",
    "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
)
KINDS = ("period", "change", "alarm")
Command = dict[str, object]


class BrokerError(RuntimeError):
    """The broker could not be started, reloaded or stopped."""


def find_plugin() -> str:
    """The dynamic-security plugin of this machine (the usual path when none is found)."""
    for path in PLUGIN_PATHS:
        if Path(path).exists():
            return path
    return PLUGIN_PATHS[0]


def hash_password(password: str, *, iterations: int = HASH_ITERATIONS) -> str:
    """A password hash in mosquitto's ``$7$`` (PBKDF2-SHA512) format."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, dklen=64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def system_acls(app_key: str, system_id: str) -> list[Command]:
    """The ACL entries that let ``app_key`` subscribe to one system's topics."""
    acls: list[Command] = []
    for kind in KINDS:
        topic = f"openapi/{kind}/{app_key}/{system_id}"
        # subscribeLiteral: the filter must be this exact text, wildcards included,
        # so "openapi/period/key/+" or "#" are refused at SUBSCRIBE time.
        acls.append({"acltype": "subscribeLiteral", "topic": topic, "allow": True})
        acls.append({"acltype": "publishClientReceive", "topic": topic, "allow": True})
    return acls


def _publisher_role() -> dict[str, object]:
    everything = ("#", "$CONTROL/dynamic-security/#")
    return {
        "rolename": "sim-publisher",
        "acls": [
            {"acltype": acltype, "topic": topic, "allow": True}
            for topic in everything
            for acltype in (
                "publishClientSend",
                "publishClientReceive",
                "subscribePattern",
                "unsubscribePattern",
            )
        ],
    }


class BrokerSecurity:
    """The broker's users, their passwords and the app keys' topics."""

    def __init__(self, publisher_username: str, publisher_password: str) -> None:
        """Security with one privileged user (the simulator's publisher)."""
        self.publisher_username = publisher_username
        self.passwords: dict[str, str] = {publisher_username: publisher_password}
        self._hashes: dict[str, tuple[str, str]] = {}  # user -> (password, hash)
        self._app_topics: dict[str, set[str]] = {}

    def set_app_systems(self, app_key: str, system_ids: Iterable[str]) -> None:
        """``app_key`` may subscribe to exactly these systems' topics."""
        self._app_topics[app_key] = set(system_ids)
        self.passwords.setdefault(app_key, secrets.token_urlsafe(24))

    def grant(self, app_key: str, system_id: str) -> list[Command]:
        """Add one system to ``app_key``'s role; the commands that do it on a running broker."""
        systems = self._app_topics.get(app_key)
        if systems is None:
            raise BrokerError(f"unknown app key {app_key!r}: call set_app_systems first")
        if system_id in systems:
            return []
        systems.add(system_id)
        return [
            {"command": "addRoleACL", "rolename": f"app-{app_key}", **acl}
            for acl in system_acls(app_key, system_id)
        ]

    def revoke(self, app_key: str, system_id: str) -> list[Command]:
        """Remove one system from ``app_key``'s role (see :meth:`grant`)."""
        systems = self._app_topics.get(app_key)
        if systems is None or system_id not in systems:
            return []
        systems.discard(system_id)
        return [
            {
                "command": "removeRoleACL",
                "rolename": f"app-{app_key}",
                "acltype": acl["acltype"],
                "topic": acl["topic"],
            }
            for acl in system_acls(app_key, system_id)
        ]

    def set_password(self, username: str, password: str) -> list[Command] | None:
        """Set a password; the commands for a running broker (None: nothing changed)."""
        if self.passwords.get(username) == password:
            return None
        known = username in self.passwords
        self.passwords[username] = password
        if known:
            return [{"command": "setClientPassword", "username": username, "password": password}]
        return [
            {
                "command": "createRole",
                "rolename": f"app-{username}",
                "acls": self.app_acls(username),
            },
            {
                "command": "createClient",
                "username": username,
                "password": password,
                "roles": [{"rolename": f"app-{username}"}],
            },
        ]

    def app_acls(self, app_key: str) -> list[Command]:
        """Every ACL entry of ``app_key``'s role."""
        acls: list[Command] = []
        for system_id in sorted(self._app_topics.get(app_key, ())):
            acls += system_acls(app_key, system_id)
        for topic in ("openapi/subscription/#", "openapi/instruction/#"):
            acls.append({"acltype": "publishClientSend", "topic": topic, "allow": True})
        return acls

    def dynsec(self) -> dict[str, Any]:
        """The plugin's JSON configuration: clients, roles, default access."""
        roles: list[dict[str, object]] = [_publisher_role()]
        clients: list[dict[str, object]] = []
        for username, password in self.passwords.items():
            cached = self._hashes.get(username)
            if cached is None or cached[0] != password:
                cached = self._hashes[username] = (password, hash_password(password))
            publisher = username == self.publisher_username
            rolename = "sim-publisher" if publisher else f"app-{username}"
            clients.append(
                {
                    "username": username,
                    "encoded_password": cached[1],
                    "roles": [{"rolename": rolename}],
                }
            )
            if not publisher:
                roles.append({"rolename": rolename, "acls": self.app_acls(username)})
        return {
            "clients": clients,
            "roles": roles,
            "defaultACLAccess": {
                "publishClientSend": False,
                "publishClientReceive": False,
                "subscribe": False,
                "unsubscribe": True,
            },
        }


def mosquitto_conf(
    *,
    dynsec_path: Path,
    persistence_dir: Path,
    log_path: Path,
    host: str,
    port: int,
    certs: CertBundle,
    server: CertPair,
    require_client_cert: bool,
    plugin_path: str,
) -> str:
    """The broker's configuration file: one TLS listener, the plugin, persistence, logs."""
    config = [
        "# Written by sigen_sim.broker for the simulator",
        "per_listener_settings false",
        "allow_anonymous false",
        f"plugin {plugin_path}",
        f"plugin_opt_config_file {dynsec_path}",
        "persistence true",
        f"persistence_location {persistence_dir}/",
        "autosave_interval 1",
        "autosave_on_changes true",
        "max_queued_messages 10000",
        f"log_dest file {log_path}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "log_type subscribe",
        "connection_messages true",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        f"listener {port} {host}",
        f"cafile {certs.ca_path}",
        f"certfile {server.cert_path}",
        f"keyfile {server.key_path}",
        f"require_certificate {'true' if require_client_cert else 'false'}",
    ]
    if os.geteuid() == 0:
        config.insert(1, "user root")  # keep access to the 0600 key files
    return "\n".join(config) + "\n"

"""Instructions to the systems: battery commands and northbound mode switches.

They are validated first, then published with QoS 1, and the call returns once the
broker acknowledged (PUBACK): over the listener's connection while it is up, else over
a short-lived connection of their own. Nothing is queued for later and nothing is
re-sent: an instruction that cannot be handed to the broker raises
:class:`SigenMQTTError`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import aiomqtt

from ..const import NBMode
from ..errors import SigenMQTTError, SigenValidationError
from ..models import BatteryCommand, validate_commands
from ._connect import describe_mqtt_error

if TYPE_CHECKING:
    from ._connect import Connector
    from ._listener import Listener
    from ._login import BrokerPassword
    from .config import Configured

_LOGGER = logging.getLogger(__name__.rpartition(".")[0])

COMMAND_TOPIC: Final = "openapi/instruction/command"
MODE_TOPIC: Final = "openapi/instruction/mode"


class Instructions:
    """Publishes instructions, one at a time, and waits for their acknowledgement.

    ``settings`` is the owner, whose ``config`` is read at each use (it may change).
    """

    def __init__(
        self,
        settings: Configured,
        password: BrokerPassword,
        connector: Connector,
        listener: Listener,
    ) -> None:
        """Share the owner's login, connector and listener (whose connection is used)."""
        self._settings = settings
        self._password = password
        self._connector = connector
        self._listener = listener
        self._send_lock = asyncio.Lock()

    async def battery_commands(
        self, commands: Sequence[BatteryCommand | Mapping[str, Any]]
    ) -> None:
        """Validate and send battery commands (see ``SigenMQTT.send_battery_commands``)."""
        checked = validate_commands(commands)
        others = sorted({c.system_id for c in checked} - set(self._settings.config.system_ids))
        if others:
            _LOGGER.info(
                "Sending battery commands for system(s) %s, which this client does not "
                "listen to; the cloud applies them only to systems onboarded for the app key",
                ", ".join(others),
            )
        items = [command.to_payload() for command in checked]
        await self._publish(
            COMMAND_TOPIC,
            lambda token: {"accessToken": token, "commands": items},
            f"{len(items)} battery command(s)",
        )

    async def switch_mode(self, system_id: str, mode: NBMode | int | str) -> None:
        """Validate and send a mode switch (see ``SigenMQTT.switch_mode``)."""
        if not isinstance(system_id, str) or not system_id.strip():
            raise SigenValidationError("switch_mode needs a system id")
        try:
            if isinstance(mode, str):
                name = NBMode[mode.strip().upper()].name
            else:
                name = NBMode(int(mode)).name
        except (KeyError, ValueError, TypeError):
            raise SigenValidationError(
                f"Unknown mode {mode!r}; use one of MSC, FFG, VPP, NBI (or 0, 5, 6, 8)"
            ) from None
        system = system_id.strip()
        await self._publish(
            MODE_TOPIC,
            lambda token: {"accessToken": token, "systemId": system, "mode": name},
            f"mode switch of {system} to {name}",
        )

    async def _publish(self, topic: str, build: Callable[[str], dict[str, Any]], what: str) -> None:
        """Publish over the listener's connection when it is up, else over a new one."""
        async with self._send_lock:
            config = self._settings.config
            token = await self._password.token()
            body = json.dumps(build(token))
            client = self._listener.client if self._listener.connected else None
            if client is not None:
                try:
                    await client.publish(topic, body, qos=1, timeout=config.publish_timeout)
                except aiomqtt.MqttError as err:
                    raise SigenMQTTError(
                        f"The broker did not acknowledge the {what} ({describe_mqtt_error(err)}); "
                        "it was not re-sent: check the system before trying again"
                    ) from None
                _LOGGER.debug("Sent %s (acknowledged by the broker)", what)
                return
            identifier = f"{config.client_id}-cmd-{secrets.token_hex(3)}"
            try:
                async with self._connector.connection(
                    token, identifier=identifier, clean_session=True
                ) as once:
                    await once.publish(topic, body, qos=1, timeout=config.publish_timeout)
            except aiomqtt.MqttError as err:
                raise SigenMQTTError(
                    f"Could not send the {what}: cannot reach the MQTT broker "
                    f"{self._connector.broker}:{config.port} ({describe_mqtt_error(err)})"
                ) from None
            _LOGGER.debug("Sent %s over a short-lived connection (acknowledged)", what)

"""Who may connect to the broker as the app key: holders of a northbound token.

A northbound login makes its token the app key's broker password. With one token per
key (``SimConfig.nb_one_token_per_key``, the default) the older token is refused from
then on and the connections that used it are cut, as mosquitto does when a password
changes. When mosquitto alone cannot express the configured policy (every unexpired
token valid, refused sessions or client ids), the gate of :mod:`sigen_sim.mqtt_gate`
asks :meth:`BrokerAccess.admit` about each CONNECT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .mqtt_gate import IDENTIFIER_REJECTED, NOT_AUTHORISED, ConnectPacket, Verdict

if TYPE_CHECKING:
    from .broker import MosquittoBroker
    from .simulator import Simulator


class BrokerAccess:
    """The app key's broker password and the gate's admission policy."""

    def __init__(self, sim: Simulator, broker: MosquittoBroker) -> None:
        """Access to ``broker`` for the app key of ``sim``."""
        self.sim = sim
        self.broker = broker
        self.newest_token: str | None = None  # the last login's token (the broker password)

    async def login(self, app_key: str, token: str, *, gated: bool) -> None:
        """A northbound login issued ``token``: the broker accepts it as the password.

        Without a gate mosquitto gets it as the new password; with one, the gate checks
        tokens itself and only the older connections are cut (one token per key).
        """
        self.newest_token = token
        if not gated:
            await self.broker.set_password(app_key, token)
        elif self.sim.config.nb_one_token_per_key:
            await self.broker.kick(app_key)

    def admit(self, connect: ConnectPacket) -> Verdict:
        """The gate's policy for one CONNECT (see :mod:`sigen_sim.mqtt_gate`)."""
        config = self.sim.config
        if connect.client_id in config.mqtt_refused_client_ids or (
            config.mqtt_refuse_persistent_sessions and not connect.clean_session
        ):
            return IDENTIFIER_REJECTED
        if connect.username != self.sim.app_key:
            return None  # mosquitto decides
        token = (connect.password or b"").decode("utf-8", errors="replace")
        valid = self.sim.tokens.nb_token_valid(token)
        if config.nb_one_token_per_key:
            valid = valid and token == self.newest_token
        internal = self.broker.password_of(self.sim.app_key)
        if not valid or internal is None:
            return NOT_AUTHORISED
        return internal.encode()

"""Tokens and login lockout of the simulated cloud (all times on the simulated clock)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal

from .clock import SimClock

TokenKind = Literal["app", "refresh", "nb"]


@dataclass
class Token:
    """One issued token (app access, app refresh or northbound)."""

    value: str
    kind: TokenKind
    expires_at: float
    subject: str  # account (username) or app key
    shard: str = ""  # the shard that issued it (app API tokens); "" = any


@dataclass
class _LockState:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class TokenStore:
    """Opaque expiring tokens and the 5-failures-in-60-minutes lockout."""

    def __init__(
        self,
        clock: SimClock,
        *,
        access_lifetime: float = 43199.0,
        refresh_lifetime: float = 30 * 86400.0,
        nb_lifetime: float = 43199.0,
        lockout_attempts: int = 5,
        lockout_window: float = 3600.0,
        lockout_duration: float = 180.0,
    ) -> None:
        """A store on ``clock`` with these token lifetimes and lockout rules (seconds)."""
        self.clock = clock
        self.access_lifetime = access_lifetime
        self.refresh_lifetime = refresh_lifetime
        self.nb_lifetime = nb_lifetime
        self.lockout_attempts = lockout_attempts
        self.lockout_window = lockout_window
        self.lockout_duration = lockout_duration
        self._tokens: dict[str, Token] = {}
        self._locks: dict[str, _LockState] = {}

    # ------------------------------------------------------------------ issuing
    def issue(
        self, kind: TokenKind, subject: str, lifetime: float | None = None, *, shard: str = ""
    ) -> Token:
        """A new token of ``kind`` for ``subject`` (lifetime: the kind's, unless given)."""
        if lifetime is None:
            lifetime = {
                "app": self.access_lifetime,
                "refresh": self.refresh_lifetime,
                "nb": self.nb_lifetime,
            }[kind]
        prefix = {"app": "sim-at-", "refresh": "sim-rt-", "nb": "sim-nb-"}[kind]
        token = Token(
            prefix + secrets.token_urlsafe(24), kind, self.clock.now() + lifetime, subject, shard
        )
        self._tokens[token.value] = token
        return token

    def lookup(self, value: str | None, *kinds: TokenKind) -> Token | None:
        """The valid (known, unexpired, right kind) token, else None."""
        if not value:
            return None
        token = self._tokens.get(value)
        if token is None or token.kind not in kinds:
            return None
        if self.clock.now() >= token.expires_at:
            return None
        return token

    def revoke(self, value: str) -> None:
        """Forget a token (a rotated refresh token)."""
        self._tokens.pop(value, None)

    def nb_token_valid(self, token: str) -> bool:
        """Whether ``token`` is a current northbound access token (the MQTT password)."""
        return self.lookup(token, "nb") is not None

    def expire_all(self) -> None:
        """Fault: every token (access, refresh, northbound) expires now."""
        now = self.clock.now()
        for token in self._tokens.values():
            token.expires_at = min(token.expires_at, now)

    def expire(self, kind: TokenKind) -> None:
        """Fault: every token of ``kind`` expires now."""
        now = self.clock.now()
        for token in self._tokens.values():
            if token.kind == kind:
                token.expires_at = min(token.expires_at, now)

    def active(self, kind: TokenKind) -> list[Token]:
        """The unexpired tokens of ``kind``."""
        now = self.clock.now()
        return [t for t in self._tokens.values() if t.kind == kind and t.expires_at > now]

    def issued(self) -> list[str]:
        """Every token value issued so far, expired ones included (the tests' secrets)."""
        return list(self._tokens)

    # ------------------------------------------------------------------ lockout
    def locked(self, subject: str) -> bool:
        """Whether logins for ``subject`` are locked out now."""
        state = self._locks.get(subject)
        return state is not None and self.clock.now() < state.locked_until

    def lock_remaining(self, subject: str) -> float:
        """Seconds until the lockout of ``subject`` ends (0 when not locked)."""
        state = self._locks.get(subject)
        return 0.0 if state is None else max(0.0, state.locked_until - self.clock.now())

    def record_failure(self, subject: str) -> bool:
        """Count a failed login; returns True when this failure locked the account."""
        now = self.clock.now()
        state = self._locks.setdefault(subject, _LockState())
        state.failures = [t for t in state.failures if now - t < self.lockout_window]
        state.failures.append(now)
        if len(state.failures) >= self.lockout_attempts:
            state.locked_until = now + self.lockout_duration
            state.failures.clear()
            return True
        return False

    def record_success(self, subject: str) -> None:
        """A good login: the failures of ``subject`` are forgotten."""
        self._locks.pop(subject, None)

    def clear_locks(self) -> None:
        """Forget every failure and lockout."""
        self._locks.clear()

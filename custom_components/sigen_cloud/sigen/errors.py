"""Exceptions raised by the sigen library.

Every message is written for a human: it says what failed and, where it helps, what to
do. Exceptions never carry passwords, secrets or tokens; ``response_body`` is the
server's answer, truncated.
"""

from __future__ import annotations

MAX_BODY_CHARS = 2000


class SigenError(Exception):
    """Base class of everything the library raises on purpose."""


class SigenAuthError(SigenError):
    """Logging in failed: wrong credentials, or the cloud refused the account."""


class SigenTokenExpiredError(SigenAuthError):
    """The session expired and could be renewed neither by refresh nor by logging in again."""


class SigenAccountLockedError(SigenAuthError):
    """The cloud locked the account after too many failed logins (code 11002)."""


class SigenConnectionError(SigenError):
    """The cloud (or the MQTT broker) could not be reached, or did not answer in time."""


class SigenValidationError(SigenError, ValueError):
    """An argument (a mode, a battery command, a schedule) is not acceptable."""


class SigenMQTTError(SigenError):
    """The MQTT broker refused us, was unreachable, or did not acknowledge a publish."""


class SigenAPIError(SigenError):
    """The cloud answered, but with an error (an HTTP error or a non-zero ``code``).

    ``status_code`` is the HTTP status, ``code`` the cloud's own error code from the
    ``{"code", "msg", "data"}`` envelope, and ``response_body`` the answer's text.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        response_body: str | None = None,
        code: int | None = None,
    ) -> None:
        """Keep the status, the cloud's code and the (truncated) answer with the message."""
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        if response_body is not None and len(response_body) > MAX_BODY_CHARS:
            response_body = response_body[:MAX_BODY_CHARS] + "…"
        self.response_body = response_body


class SigenRateLimitError(SigenAPIError):
    """The cloud limits how often this endpoint may be called (codes 1110, 1201; HTTP 429).

    ``retry_after`` is how many seconds to wait before trying again, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = None,
        response_body: str | None = None,
        code: int | None = None,
    ) -> None:
        """As :class:`SigenAPIError`, with the seconds to wait when known."""
        super().__init__(message, status_code=status_code, response_body=response_body, code=code)
        self.retry_after = retry_after

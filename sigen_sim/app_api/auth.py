"""Login: ``POST auth/oauth/token`` (password and refresh-token grants).

The password comes AES-encrypted as the app sends it (:func:`decrypt_password`). A
request for another shard than the account's answers like a wrong password and never
counts towards the lockout; an app token works only on the shard that issued it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web
from Crypto.Cipher import AES
from Crypto.Util.Padding import unpad

from ._common import AppRoutes, envelope, read_form

BASIC_CLIENT = "sigen:sigen"
_AES_KEY = b"sigensigensigenp"
_BAD_CREDENTIALS = "Incorrect username or password"


def decrypt_password(encrypted: str) -> str | None:
    """Reverse the app's AES-128-CBC password encryption; None when it is not valid."""
    try:
        raw = base64.b64decode(encrypted.encode("ascii"), validate=True)
        if not raw or len(raw) % 16:
            return None
        cipher = AES.new(_AES_KEY, AES.MODE_CBC, iv=_AES_KEY)
        return unpad(cipher.decrypt(raw), 16, style="pkcs7").decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None


def _basic_client(request: web.Request) -> bool:
    """Whether the request carries the app's HTTP Basic client credentials."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    try:
        client = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        client = ""
    return scheme.lower() == "basic" and client == BASIC_CLIENT


class AuthRoutes(AppRoutes):
    """The token endpoint."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        app.router.add_post("/auth/oauth/token", self.token)

    async def token(self, request: web.Request) -> web.Response:
        """``POST auth/oauth/token``: a password or refresh-token grant."""
        if not _basic_client(request):
            return web.json_response(
                {"error": "unauthorized", "error_description": "Bad client credentials"},
                status=401,
            )
        form = await read_form(request)
        grant = str(form.get("grant_type", ""))
        shard = self.api.request_shard(request)
        if grant == "password":
            return self._password_grant(form, shard)
        if grant == "refresh_token":
            return self._refresh_grant(form, shard)
        return web.json_response(
            {
                "error": "unsupported_grant_type",
                "error_description": f"Unsupported grant type: {grant or '(none)'}",
            },
            status=400,
        )

    def _password_grant(self, form: dict[str, str], shard: str) -> web.Response:
        tokens = self.sim.tokens
        username = str(form.get("username", "")).strip()
        subject = username.lower()
        if shard != self.sim.shard:
            # This shard does not hold the account: "authentication failed", like a
            # wrong password, and nothing to count (it cannot lock the account).
            return self._login_error(locked=False, reason=_BAD_CREDENTIALS)
        if tokens.locked(subject):
            return self._login_error(locked=True, reason="account locked", subject=subject)
        plain = decrypt_password(str(form.get("password", "")))
        if subject != self.sim.username.lower() or plain != self.sim.password:
            if tokens.record_failure(subject):
                return self._login_error(locked=True, reason="account locked", subject=subject)
            return self._login_error(locked=False, reason=_BAD_CREDENTIALS)
        tokens.record_success(subject)
        return self._issue(subject, shard)

    def _refresh_grant(self, form: dict[str, str], shard: str) -> web.Response:
        tokens = self.sim.tokens
        old = tokens.lookup(str(form.get("refresh_token", "")), "refresh")
        if old is None or shard != self.sim.shard or old.shard not in ("", shard):
            return self._login_error(locked=False, reason="Invalid refresh token")
        if not self.sim.config.rotate_refresh_tokens:
            return self._issue(old.subject, shard, refresh_token=old.value)
        tokens.revoke(old.value)
        return self._issue(old.subject, shard)

    def _login_error(self, *, locked: bool, reason: str, subject: str = "") -> web.Response:
        """A refused login in the configured style (``SimConfig.login_error_style``)."""
        remaining = self.sim.tokens.lock_remaining(subject) if locked else 0.0
        minutes = max(1, round(remaining / 60))
        if self.sim.config.login_error_style == "oauth":
            if locked:
                return web.json_response(
                    {
                        "error": "invalid_grant",
                        "error_description": f"account locked, try again in {minutes} minutes",
                        "code": 11002,
                    },
                    status=400,
                )
            return web.json_response(
                {"error": "invalid_grant", "error_description": reason}, status=400
            )
        if locked:
            return envelope(None, 11002, f"account locked, try again in {minutes} minutes")
        return envelope(None, 11003, reason)

    def _issue(self, subject: str, shard: str, *, refresh_token: str | None = None) -> web.Response:
        access = self.sim.tokens.issue("app", subject, shard=shard)
        if refresh_token is None:
            refresh_token = self.sim.tokens.issue("refresh", subject, shard=shard).value
        data: dict[str, Any] = {
            "access_token": access.value,
            "token_type": "bearer",
            "refresh_token": refresh_token,
            "expires_in": int(self.sim.tokens.access_lifetime),
            "scope": "server",
        }
        if self.sim.config.login_includes_user_id:
            data["userId"] = self.sim.config.user_id
        return envelope(data)

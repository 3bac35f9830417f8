"""What happens around every cloud request: the request log and the injected faults.

The control API (``/_sim/``) passes straight through: it is never logged nor faulted.
Faults that replace the answer (status, timeout, rate limit) are applied before the
handler runs; those that spoil it (malformed, partial) after. A write under the "not
applied" fault is marked (``request[NOT_APPLIED]``) for the route, which then checks it
and answers as usual but changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from .app_api import NOT_APPLIED, read_text, unauthorized
from .faults import (
    FIREWALL_403_HTML,
    POST_KINDS,
    PRE_KINDS,
    RATE_LIMIT_MESSAGES,
    WRITE_KINDS,
    FaultRule,
    drop_keys,
)
from .request_log import LoggedRequest, redact_body, redact_headers, redact_query

if TYPE_CHECKING:
    from .simulator import Simulator

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CloudMiddleware:
    """The aiohttp middleware of one simulator (:meth:`handle`)."""

    def __init__(self, sim: Simulator) -> None:
        """Log and fault the requests ``sim`` answers."""
        self.sim = sim

    @web.middleware
    async def handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Log the request, then answer it (faults included)."""
        path = request.path
        if path.startswith("/_sim/"):
            return await handler(request)
        raw = await read_text(request) if request.body_exists else ""
        entry = LoggedRequest(
            method=request.method,
            path=path,
            query=redact_query(dict(request.query)),
            headers=redact_headers(dict(request.headers)),
            body=redact_body(raw, request.content_type),
            time=self.sim.clock.now(),
        )
        self.sim.request_log.append(entry)
        resp = await self._answer(request, handler)
        entry.status = resp.status
        return resp

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        faults = self.sim.faults
        method, path = request.method, request.path
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        user_agent = request.headers.get("User-Agent", "")
        if faults.block_aiohttp_user_agent and "aiohttp" in user_agent.lower():
            return web.Response(status=403, text=FIREWALL_403_HTML, content_type="text/html")
        rule = faults.take(PRE_KINDS, method, path)
        if rule is not None:
            return await self._pre_fault(rule, path)
        if method not in ("GET", "HEAD") and faults.take(WRITE_KINDS, method, path) is not None:
            request[NOT_APPLIED] = True
        try:
            resp: web.StreamResponse = await handler(request)
        except web.HTTPException as exc:  # 404, 405, ...: a JSON answer like the cloud's
            resp = web.json_response(
                {"code": exc.status, "msg": exc.reason, "data": None}, status=exc.status
            )
        except Exception:
            _LOGGER.exception("Simulator handler for %s %s failed", method, path)
            resp = web.json_response(
                {"code": 500, "msg": "internal error", "data": None}, status=500
            )
        post = faults.take(POST_KINDS, method, path)
        if post is not None and isinstance(resp, web.Response) and resp.text:
            return _spoil(resp, post)
        return resp

    async def _pre_fault(self, rule: FaultRule, path: str) -> web.Response:
        """The answer a status, timeout or rate-limit fault gives instead of the handler's."""
        if rule.kind == "timeout":
            await self.sim.faults.hang()
            return web.json_response(
                {"code": 504, "msg": "Gateway Timeout", "data": None}, status=504
            )
        if rule.kind == "rate_limit":
            if rule.code is None:
                return web.json_response(
                    {"code": 429, "msg": "Too Many Requests", "data": None},
                    status=429,
                    headers={"Retry-After": "60"},
                )
            return web.json_response(
                {"code": rule.code, "msg": RATE_LIMIT_MESSAGES[rule.code], "data": None}
            )
        if rule.status == 401:
            return unauthorized("injected fault")
        return web.json_response(
            {
                "timestamp": int(self.sim.clock.now() * 1000),
                "status": rule.status,
                "error": "Injected fault",
                "path": path,
            },
            status=rule.status,
        )


def _spoil(resp: web.Response, rule: FaultRule) -> web.Response:
    """The handler's answer cut in half (malformed) or with keys dropped (partial)."""
    text = resp.text or ""
    if rule.kind == "malformed":
        return web.Response(
            status=resp.status,
            text=text[: max(1, len(text) // 2)],
            content_type="application/json",
        )
    try:
        body = json.loads(text)
    except ValueError:
        return resp
    if isinstance(body, dict) and "data" in body:
        body["data"] = drop_keys(body["data"], rule.keys)
    else:
        body = drop_keys(body, rule.keys)
    return web.json_response(body, status=resp.status)

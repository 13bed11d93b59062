"""A brand's fulfilment endpoint for the tests, over real HTTP: it checks the oracle's HMAC
signature as docs/brand-integration.md tells brands to, delivers each Idempotency-Key once (a
repeat gets the same delivery), records every request it received, and answers from a script
(errors, slow answers, malformed bodies) when a test wants it to misbehave."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oracle.ingest.server import serving
from oracle.ingest.signatures import SignatureError, verify_generic

SECRET = b"brand-fulfilment-secret"


@dataclass(frozen=True)
class Reply:
    """One scripted answer: `status` and raw `body`, after `delay` seconds. status None: deliver."""

    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    @property
    def key(self) -> str:
        return self.headers["idempotency-key"]


class BrandEndpoint:
    def __init__(self, secret: bytes = SECRET) -> None:
        self.secret = secret
        self.received: list[Received] = []
        self.script: list[Reply] = []
        self.always: Reply | None = None  # when set, every request gets this answer
        self.deliveries: dict[str, dict[str, Any]] = {}  # what was delivered, per Idempotency-Key
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/fulfil", self._fulfil, methods=["POST"])])

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Yields the endpoint's URL while it serves."""
        with serving(self.app) as base:
            yield f"{base}/fulfil"

    def deliveries_made(self) -> int:
        return len(self.deliveries)

    async def _fulfil(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            verify_generic(headers, body, self.secret, int(time.time()))
            signature_ok = True
        except SignatureError:
            signature_ok = False
        with self._lock:
            self.received.append(Received(headers, body, signature_ok))
            reply = self.always or (self.script.pop(0) if self.script else Reply())
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if not signature_ok:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if reply.status is not None:
            return Response(reply.body, status_code=reply.status, headers=reply.headers)
        key = headers["idempotency-key"]
        with self._lock:
            if key not in self.deliveries:  # deliver once per key; a retry gets the same delivery
                payload = json.loads(body)
                self.deliveries[key] = {"code": f"PERK-{payload['redemption_id']}-{len(self.deliveries)}",
                                        "item_id": payload["item_id"]}
            delivery = self.deliveries[key]
        return JSONResponse({"delivery": delivery})

"""A JSON-RPC proxy in front of the test chain that fails on command, so the oracle's behaviour
under a broken RPC is tested against the real node rather than a mock of it.

    proxy = FaultyRpc(anvil_url)
    with serving(proxy.app) as url:           # point the oracle's rpc_url at `url`
        proxy.fail("eth_sendRawTransaction")  # not forwarded: the node never sees it
        proxy.lose_answer("eth_sendRawTransaction")  # forwarded, but the caller gets a 503
        proxy.down = True                     # every call fails
        proxy.heal()

Failures answer HTTP 503, which web3's HTTP provider raises as an error, as it does when a node
or its load balancer is down.
"""

from __future__ import annotations

import json
import threading
from collections import Counter

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class FaultyRpc:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.down = False
        self._failing: set[str] = set()
        self._losing: set[str] = set()
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self._client = httpx.Client(timeout=30)
        self.app = Starlette(routes=[Route("/", self._handle, methods=["POST"])])

    def fail(self, *methods: str) -> None:
        with self._lock:
            self._failing.update(methods)

    def lose_answer(self, *methods: str) -> None:
        with self._lock:
            self._losing.update(methods)

    def heal(self) -> None:
        with self._lock:
            self.down = False
            self._failing.clear()
            self._losing.clear()

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        payload = json.loads(body)
        methods = [p["method"] for p in payload] if isinstance(payload, list) else [payload["method"]]
        with self._lock:
            self.calls.update(methods)
            refuse = self.down or any(m in self._failing for m in methods)
            lose = any(m in self._losing for m in methods)
        if refuse:
            self.failed.update(methods)
            return Response("rpc down (test fault)", status_code=503)
        upstream = self._client.post(self.upstream, content=body, headers={"content-type": "application/json"})
        if lose:
            self.failed.update(methods)
            return Response("answer lost (test fault)", status_code=503)
        return Response(upstream.content, status_code=upstream.status_code, media_type="application/json")

"""A local Zendesk that implements the one endpoint the oracle's proof notes use, for tests and
demos: PUT /api/v2/tickets/{id}.json with a comment, authenticated with an API token (basic auth
"{email}/token:{api_token}"). It records every request it receives, answers 404 for tickets it
does not hold, and can be told to answer a ticket's next requests with other statuses
(429 with Retry-After, 500, ...)."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    ticket_id: str
    authorized: bool
    body: Any  # the parsed JSON body (None if not JSON)
    status: int  # what the server answered


@dataclass
class LocalZendesk:
    email: str
    api_token: str
    tickets: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    # ticket id -> answers for its next requests, (status, headers), used up in order
    scripted: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_next(self, ticket_id: str, status: int, headers: dict[str, str] | None = None) -> None:
        self.scripted.setdefault(ticket_id, []).append((status, headers or {}))

    def comments(self, ticket_id: str) -> list[str]:
        """Bodies of the comments the ticket accepted."""
        return [r.body["ticket"]["comment"]["body"] for r in self.received if r.ticket_id == ticket_id and r.status == 200]

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/api/v2/tickets/{ticket_id}.json", self._update, methods=["PUT"])])

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.email}/token:{self.api_token}".encode()).decode()
        return request.headers.get("authorization", "") == f"Basic {expected}"

    async def _update(self, request: Request) -> JSONResponse:
        ticket_id = request.path_params["ticket_id"]
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        authorized = self._authorized(request)
        with self._lock:
            status, headers, payload = self._answer(ticket_id, authorized, body)
            self.received.append(Received(ticket_id, authorized, body, status))
        return JSONResponse(payload, status_code=status, headers=headers)

    def _answer(self, ticket_id: str, authorized: bool, body: Any) -> tuple[int, dict[str, str], Any]:
        if not authorized:
            return 401, {}, {"error": "Couldn't authenticate you"}
        if self.scripted.get(ticket_id):
            status, headers = self.scripted[ticket_id].pop(0)
            return status, headers, {"error": f"scripted {status}"}
        if ticket_id not in self.tickets:
            return 404, {}, {"error": "RecordNotFound", "description": "Not found"}
        comment = (body or {}).get("ticket", {}).get("comment", {}) if isinstance(body, dict) else {}
        if not isinstance(comment.get("body"), str) or not comment["body"]:
            return 422, {}, {"error": "RecordInvalid", "description": "Record validation errors"}
        return 200, {}, {"ticket": {"id": int(ticket_id)}, "audit": {"events": [{"type": "Comment", "public": comment.get("public", True)}]}}

"""The webhook server (Starlette, served by uvicorn): authenticate the raw body, parse it
strictly, store the event durably, and only then answer 202.

Every refusal says what is wrong and stores nothing: 401 authentication, 413 body too large
(before parsing; also when the length is not announced), 400 malformed JSON, 422 a valid JSON
body that is not a valid event, 503 when the store is unavailable (the helpdesk retries).
A repeated delivery of the same helpdesk event gets the same answer and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oracle.ingest.generic import GenericWebhook
from oracle.ingest.signatures import DEFAULT_REPLAY_WINDOW, SignatureError, require_secret, verify_generic
from oracle.ingest.strict_json import MalformedJSON, parse_object
from oracle.store.outbox import Outbox
from oracle.validation import describe

DEFAULT_MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class IngestConfig:
    brand_id: int
    generic_secret: str
    max_body_bytes: int = DEFAULT_MAX_BODY
    replay_window: int = DEFAULT_REPLAY_WINDOW


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes without reading them all."""
    announced = request.headers.get("content-length")
    if announced is not None and announced.isdigit() and int(announced) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(outbox: Outbox, config: IngestConfig, clock: Callable[[], float] = time.time) -> Starlette:
    secret = require_secret("generic", config.generic_secret)  # refuse to start without one

    async def generic_webhook(request: Request) -> JSONResponse:
        try:
            body = await read_limited(request, config.max_body_bytes)
        except BodyTooLarge:
            return error(413, f"body larger than {config.max_body_bytes} bytes")
        try:
            verify_generic(request.headers, body, secret, now=int(clock()), window=config.replay_window)
        except SignatureError as exc:
            return error(401, str(exc))
        try:
            payload = GenericWebhook.model_validate(parse_object(body))
        except MalformedJSON as exc:
            return error(400, f"malformed JSON: {exc}")
        except ValidationError as exc:
            return error(422, describe(exc))
        event = payload.to_event(config.brand_id)
        try:
            await run_in_threadpool(outbox.receive, event, payload.content, int(clock()))
        except OperationalError:
            return error(503, "the event store is unavailable; retry later")
        return JSONResponse({"status": "accepted", "event_id": "0x" + event.id.hex()}, status_code=202)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/webhooks/generic", generic_webhook, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )

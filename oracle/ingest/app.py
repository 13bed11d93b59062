"""The webhook server (Starlette, served by uvicorn): authenticate the raw body, parse it
strictly, store the event durably, and only then answer 202.

Every refusal says what is wrong and stores nothing: 401 authentication, 413 body too large
(before parsing; also when the length is not announced), 400 malformed JSON, 422 a valid JSON
body that is not a valid event, 503 when the store is unavailable (the helpdesk retries).
A repeated delivery of the same helpdesk event gets the same answer and changes nothing.
A delivery that is genuine but carries nothing to reward (a survey offered, not answered) gets
200 with the reason, so the helpdesk does not retry it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oracle import failpoints
from oracle.ingest.group_commit import GroupCommitter, StoreBusy
from oracle.ingest.signatures import SignatureError
from oracle.ingest.sources import Delivery, PayloadError, Source
from oracle.ingest.strict_json import MalformedJSON, parse_object
from oracle.metrics import OracleMetrics
from oracle.store.errors import store_error
from oracle.store.outbox import EventIdConflict, Outbox
from oracle.validation import describe

if TYPE_CHECKING:  # the relay's module imports this one's helpers
    from oracle.redeem.relay_http import RelayEndpoint

log = logging.getLogger("servicecoin.ingest")
# Whose ids are the brand's own: a reused one is refused (409) rather than ignored.
GENERIC_SOURCE = "generic"

DEFAULT_MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class IngestConfig:
    brand_id: int
    max_body_bytes: int = DEFAULT_MAX_BODY
    # How long a delivery waits for its commit before a 503 (helpdesks give up after ~10-30 s).
    max_ack_wait_seconds: float = 10.0


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


def create_app(
    outbox: Outbox,
    config: IngestConfig,
    sources: Sequence[Source],
    metrics: OracleMetrics | None = None,
    clock: Callable[[], float] = time.time,
    relay: RelayEndpoint | None = None,
) -> Starlette:
    """The webhook routes; with `relay`, also the gasless redemption routes for the brand's app
    (POST /v1/relay/redeem and /v1/relay/redeem/typed-data, oracle/redeem/relay_http.py)."""
    if not sources:
        raise ValueError("the webhook server needs at least one source")
    committer = GroupCommitter(outbox, observe=metrics.observe_group_commit if metrics is not None else None,
                               max_ack_wait=config.max_ack_wait_seconds)

    def endpoint(source: Source) -> Callable[[Request], object]:
        async def handle(request: Request) -> JSONResponse:
            started = time.perf_counter()
            response = await _ingest(request, source)
            if metrics is not None:
                metrics.webhooks.labels(source.name, str(response.status_code)).inc()
                metrics.webhook_seconds.labels(source.name).observe(time.perf_counter() - started)
            return response

        return handle

    async def _ingest(request: Request, source: Source) -> JSONResponse:
        try:
            body = await read_limited(request, config.max_body_bytes)
        except BodyTooLarge:
            return error(413, f"body larger than {config.max_body_bytes} bytes")
        now = int(clock())
        try:
            source.authenticate(request.headers, body, now)
        except SignatureError as exc:
            return error(401, str(exc))
        try:
            parsed = source.parse(parse_object(body), Delivery(config.brand_id, request.headers, now))
        except MalformedJSON as exc:
            return error(400, f"malformed JSON: {exc}")
        except ValidationError as exc:
            return error(422, describe(exc))
        except PayloadError as exc:
            return error(422, str(exc))
        if parsed.event is None:
            return JSONResponse({"status": "ignored", "reason": parsed.ignored}, status_code=200)
        # A helpdesk clock a little ahead of ours must not make the registry skip the record as
        # "occurs in the future": nothing is rewarded for a time later than its receipt.
        event = dataclasses.replace(parsed.event, occurred_at=min(parsed.event.occurred_at, now))
        try:
            await committer.receive(event, parsed.content, now)
        except StoreBusy as exc:
            log.warning("webhook answered 503: %s", exc, extra={"source": source.name})
            return error(503, str(exc))
        except OperationalError as exc:
            log.error("webhook answered 503: the event store failed: %s", store_error(exc), extra={"source": source.name})
            return error(503, "the event store is unavailable; retry later")
        except EventIdConflict as exc:
            extra = {"source": source.name, "customer_id": event.customer_id,
                     "stored_customer_id": exc.stored_customer_id, "stored_kind": exc.stored_kind}
            if source.name != GENERIC_SOURCE:  # the helpdesk's id: nothing for the brand to renumber
                log.warning("%s delivered event %r again with customer %r, kind %s; the stored one (customer %r, "
                            "kind %s) is kept", source.name, event.helpdesk_event_id, event.customer_id,
                            event.kind.name.lower(), exc.stored_customer_id, exc.stored_kind, extra=extra)
            else:
                log.warning("%s", exc, extra=extra)
            if source.name == GENERIC_SOURCE:
                # The brand's own ids: not a redelivery, and accepting it would drop this event
                # while saying it was stored.
                return error(409, str(exc))
            # A helpdesk's own id for one rating (a conversation, a ticket) whose requester or
            # contact changed between deliveries: one reward per rating, the first kept. A 4xx
            # would only make the helpdesk retry and count it against the webhook.
            reason = f"event id {event.helpdesk_event_id!r} was stored for another customer or kind: the first is kept"
            return JSONResponse({"status": "ignored", "reason": reason}, status_code=200)
        failpoints.hit("after_commit")  # durable but unacknowledged: the helpdesk will redeliver
        return JSONResponse({"status": "accepted", "event_id": "0x" + event.id.hex()}, status_code=202)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def metrics_endpoint(_: Request) -> Response:
        assert metrics is not None
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes = [Route(f"/webhooks/{s.name}", endpoint(s), methods=["POST"]) for s in sources]
    routes.append(Route("/healthz", health, methods=["GET"]))
    if metrics is not None:
        routes.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    if relay is not None:
        routes.extend(relay.routes(config.max_body_bytes, clock))
    return Starlette(routes=routes)

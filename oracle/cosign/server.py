"""The co-signer's service: POST /cosign with a batch, authenticated like the generic webhook
(HMAC-SHA256 over timestamp + body with a secret shared with the oracle); answers 200 with its
signature, or 422 with every reason it refuses. It signs with its own keystore key, for its own
configured registry domain, whatever domain the request may think of."""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oracle.cosign.review import CosignLimits, review_batch
from oracle.cosign.wire import WireBatch
from oracle.ingest.app import BodyTooLarge, error, read_limited
from oracle.ingest.signatures import DEFAULT_REPLAY_WINDOW, SignatureError, require_secret, verify_generic
from oracle.ingest.strict_json import MalformedJSON, parse_object
from oracle.policy import LoadedPolicy
from oracle.signer import BatchSigner
from oracle.validation import describe

MAX_BODY = 512 * 1024  # 500 records of ~400 bytes


def create_cosigner_app(
    signer: BatchSigner,
    policy: LoadedPolicy,
    secret: str,
    limits: CosignLimits = CosignLimits(),
    clock: Callable[[], float] = time.time,
) -> Starlette:
    key = require_secret("cosigner", secret)

    async def cosign(request: Request) -> JSONResponse:
        try:
            body = await read_limited(request, MAX_BODY)
        except BodyTooLarge:
            return error(413, f"body larger than {MAX_BODY} bytes")
        now = int(clock())
        try:
            verify_generic(request.headers, body, key, now=now, window=DEFAULT_REPLAY_WINDOW)
        except SignatureError as exc:
            return error(401, str(exc))
        try:
            batch = WireBatch.model_validate(parse_object(body)).to_batch()
        except MalformedJSON as exc:
            return error(400, f"malformed JSON: {exc}")
        except ValidationError as exc:
            return error(422, describe(exc))
        problems = review_batch(batch, policy, limits, now)
        if problems:
            return error(422, "; ".join(problems))
        return JSONResponse({"signer": signer.address, "signature": "0x" + signer.sign(batch).hex()})

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "signer": signer.address})

    return Starlette(routes=[Route("/cosign", cosign, methods=["POST"]), Route("/healthz", health, methods=["GET"])])

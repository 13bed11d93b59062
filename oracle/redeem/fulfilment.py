"""The brand's fulfilment webhook: one signed POST per delivery attempt, and what its answer means.

Request (docs/brand-integration.md, "Fulfilment webhook"): a JSON object, compact, keys sorted,
with headers

    X-ServiceCoin-Timestamp: <unix seconds>
    X-ServiceCoin-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
    Idempotency-Key: 0x<redemption key: keccak256(abi.encode("servicecoin/redemption/v1",
                     chainId, contract, redemptionId))>

the same scheme the oracle accepts on its generic webhook (oracle.ingest.signatures), so a brand
verifies it with the code it already has. Retries of one redemption carry the same
Idempotency-Key: the brand delivers once and answers a repeat with the same delivery.

Answers:
- 2xx with a JSON object {"delivery": {...}}                   -> delivered (recorded, fulfilled)
- 408, 429, 5xx, 401, 403, 404, 405, 3xx, a timeout, a connection
  error, or a 2xx that is not such an object                     -> retried later (Retry-After honoured)
- any other 4xx (400, 409, 410, 422, ...)                        -> refused for good: refunded
401/403/404/405 are retried, not taken as a refusal: they mean the request never reached the
brand's decision (a wrong secret or URL on either side), and refunding every redemption over a
configuration slip would be worse than waiting for it to be fixed.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from oracle.ingest.signatures import sign_generic
from oracle.ingest.strict_json import MalformedJSON, parse_object

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_RESPONSE_BYTES = 64 * 1024
# A Retry-After beyond this is taken as this: a brand's typo must not park a redemption for a year.
MAX_RETRY_AFTER_SECONDS = 86_400
_NOT_A_REFUSAL = {401, 403, 404, 405, 408, 429}


@dataclass(frozen=True)
class Delivered:
    delivery: dict[str, Any]


@dataclass(frozen=True)
class RetryLater:
    reason: str
    retry_after: float | None = None  # seconds, from the brand's Retry-After


@dataclass(frozen=True)
class Refused:
    reason: str


Outcome = Delivered | RetryLater | Refused


def encode_body(payload: dict[str, Any]) -> bytes:
    """The request body: compact JSON with sorted keys (what the signature covers, byte for byte)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def retry_delay(failures: int, first: float, maximum: float, retry_after: float | None = None) -> float:
    """Seconds to wait after the `failures`-th failed attempt: first, doubled each time, capped
    at maximum; never sooner than the brand's Retry-After."""
    backoff = min(first * 2 ** min(failures - 1, 62), maximum)
    if retry_after is None:
        return backoff
    return max(backoff, min(retry_after, MAX_RETRY_AFTER_SECONDS))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


class FulfilmentClient:
    def __init__(
        self,
        url: str,
        secret: bytes,
        timeout: float,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not secret:
            raise ValueError("the fulfilment secret is empty: an empty HMAC key authenticates anyone")
        self.url = url
        self._secret = secret
        self._clock = clock
        self._http = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)

    def close(self) -> None:
        self._http.close()

    def deliver(self, payload: dict[str, Any], idempotency_key: bytes) -> Outcome:
        body = encode_body(payload)
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: "0x" + idempotency_key.hex(),
            **sign_generic(body, self._secret, int(self._clock())),
        }
        try:
            with self._http.stream("POST", self.url, content=body, headers=headers) as response:
                answer = _read_capped(response)
                status = response.status_code
                retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
        except httpx.TimeoutException as exc:
            return RetryLater(f"timed out: {type(exc).__name__}")
        except httpx.TransportError as exc:
            return RetryLater(f"connection failed: {type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            return _delivery(status, answer)
        detail = f"HTTP {status}{_error_text(answer)}"
        if 400 <= status < 500 and status not in _NOT_A_REFUSAL:
            return Refused(detail)
        return RetryLater(detail, retry_after)


def _read_capped(response: httpx.Response) -> bytes | None:
    """The body, or None if it is larger than MAX_RESPONSE_BYTES (not read further)."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _delivery(status: int, answer: bytes | None) -> Outcome:
    if answer is None:
        return RetryLater(f"HTTP {status}, but the answer is over {MAX_RESPONSE_BYTES} bytes")
    try:
        document = parse_object(answer)  # strict: no NaN, no duplicate keys (the record is committed to)
    except MalformedJSON as exc:
        return RetryLater(f"HTTP {status}, but the answer is not a JSON object: {exc}")
    delivery = document.get("delivery")
    if not isinstance(delivery, dict) or not delivery:
        return RetryLater(f'HTTP {status}, but the answer has no "delivery" object')
    return Delivered(delivery)


def _error_text(answer: bytes | None) -> str:
    """The brand's own words on a failure, if it gave any ({"error": "..."}), shortened."""
    if not answer:
        return ""
    try:
        document = json.loads(answer)
    except ValueError:
        return ""
    error = document.get("error") if isinstance(document, dict) else None
    return f": {str(error)[:200]}" if error else ""

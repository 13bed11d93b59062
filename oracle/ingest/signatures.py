"""How each helpdesk proves a webhook is genuine, checked on the raw body before parsing.

| source    | header(s)                                                       | signed message          |
|-----------|-----------------------------------------------------------------|-------------------------|
| zendesk   | X-Zendesk-Webhook-Signature (base64), ...-Signature-Timestamp   | HMAC-SHA256(ts + body)  |
| intercom  | X-Hub-Signature: sha1=<hex>                                     | HMAC-SHA1(body)         |
| freshdesk | X-ServiceCoin-Token (Freshdesk cannot sign: a per-source secret) | the token itself        |
| generic   | X-ServiceCoin-Signature: v1=<hex>, X-ServiceCoin-Timestamp       | HMAC-SHA256(ts "." body)|

Timestamped schemes must fall inside a replay window (default 5 minutes, past or future);
Intercom and Freshdesk carry no timestamp, so the outbox's dedupe on the event id is their
replay defence. Every comparison is constant-time (hmac.compare_digest).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timezone

from oracle.errors import OracleError

DEFAULT_REPLAY_WINDOW = 300


class SignatureError(OracleError):
    """The webhook's authentication failed; the message says how (never the expected value)."""


def _header(headers: Mapping[str, str], name: str) -> str:
    # Header names are case-insensitive; Starlette's Headers already are, plain dicts are not.
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    raise SignatureError(f"missing header {name}")


def _check_window(timestamp: int, now: int, window: int) -> None:
    if abs(now - timestamp) > window:
        direction = "old" if timestamp < now else "far in the future"
        raise SignatureError(f"timestamp is {abs(now - timestamp)} s {direction}: outside the {window} s replay window")


def require_secret(source: str, secret: str) -> bytes:
    """Refuses an empty secret at start-up: an empty HMAC key authenticates anyone."""
    if not secret:
        raise SignatureError(f"{source}: the webhook secret is empty")
    return secret.encode()


def verify_zendesk(
    headers: Mapping[str, str], body: bytes, secret: bytes, now: int, window: int = DEFAULT_REPLAY_WINDOW
) -> None:
    signature = _header(headers, "X-Zendesk-Webhook-Signature")
    stamp = _header(headers, "X-Zendesk-Webhook-Signature-Timestamp")
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise SignatureError("X-Zendesk-Webhook-Signature-Timestamp is not an ISO 8601 time") from None
    if moment.tzinfo is None:  # else read as this machine's local time: the window would be off
        raise SignatureError("X-Zendesk-Webhook-Signature-Timestamp has no timezone (Zendesk sends UTC, ending in Z)")
    when = int(moment.timestamp())
    expected = base64.b64encode(hmac.new(secret, stamp.encode() + body, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, signature):
        raise SignatureError("X-Zendesk-Webhook-Signature does not match the body")
    _check_window(when, now, window)


def verify_intercom(headers: Mapping[str, str], body: bytes, secret: bytes) -> None:
    signature = _header(headers, "X-Hub-Signature")
    if not signature.startswith("sha1="):
        raise SignatureError("X-Hub-Signature must be sha1=<hex>")
    expected = "sha1=" + hmac.new(secret, body, hashlib.sha1).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise SignatureError("X-Hub-Signature does not match the body")


def verify_freshdesk(headers: Mapping[str, str], secret: bytes) -> None:
    token = _header(headers, "X-ServiceCoin-Token")
    if not hmac.compare_digest(secret, token.encode()):
        raise SignatureError("X-ServiceCoin-Token is wrong")


def verify_generic(
    headers: Mapping[str, str], body: bytes, secret: bytes, now: int, window: int = DEFAULT_REPLAY_WINDOW
) -> None:
    signature = _header(headers, "X-ServiceCoin-Signature")
    stamp = _header(headers, "X-ServiceCoin-Timestamp")
    if not signature.startswith("v1="):
        raise SignatureError("X-ServiceCoin-Signature must be v1=<hex>")
    if not stamp.isdigit():
        raise SignatureError("X-ServiceCoin-Timestamp must be unix seconds")
    expected = "v1=" + hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise SignatureError("X-ServiceCoin-Signature does not match the body")
    _check_window(int(stamp), now, window)


def sign_generic(body: bytes, secret: bytes, timestamp: int) -> dict[str, str]:
    """The headers a sender of the generic scheme attaches (used by tests, the demo, clients)."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-ServiceCoin-Signature": f"v1={digest}", "X-ServiceCoin-Timestamp": str(timestamp)}


def sign_zendesk(body: bytes, secret: bytes, timestamp: int) -> dict[str, str]:
    """The headers Zendesk attaches to a delivery (used by the demo, the benchmarks, tests)."""
    stamp = datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret, stamp.encode() + body, hashlib.sha256).digest()
    return {"X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(), "X-Zendesk-Webhook-Signature-Timestamp": stamp}

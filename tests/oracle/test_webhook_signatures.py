"""Each helpdesk's webhook authentication, on the raw body."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from oracle.ingest.signatures import (
    SignatureError,
    require_secret,
    sign_generic,
    sign_zendesk,
    verify_freshdesk,
    verify_generic,
    verify_intercom,
    verify_zendesk,
)

SECRET = b"dGhpcyBpcyBhIHNlY3JldA=="
BODY = b'{"type":"zen:event-type:ticket.satisfaction_rated","id":"01J"}'
NOW = 1_795_000_000
STAMP = "2026-11-18T11:06:40Z"  # == NOW


def zendesk_headers(body: bytes = BODY, stamp: str = STAMP, secret: bytes = SECRET) -> dict[str, str]:
    signature = base64.b64encode(hmac.new(secret, stamp.encode() + body, hashlib.sha256).digest()).decode()
    return {"X-Zendesk-Webhook-Signature": signature, "X-Zendesk-Webhook-Signature-Timestamp": stamp}


def test_zendesk_signature_over_timestamp_and_body_is_accepted() -> None:
    verify_zendesk(zendesk_headers(), BODY, SECRET, now=NOW)


def test_sign_zendesk_produces_what_zendesk_sends() -> None:
    assert sign_zendesk(BODY, SECRET, NOW) == zendesk_headers()


def test_zendesk_header_names_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in zendesk_headers().items()}
    verify_zendesk(headers, BODY, SECRET, now=NOW)


def test_zendesk_tampered_body_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match the body"):
        verify_zendesk(zendesk_headers(), BODY.replace(b"01J", b"01K"), SECRET, now=NOW)


def test_zendesk_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match the body"):
        verify_zendesk(zendesk_headers(secret=b"other"), BODY, SECRET, now=NOW)


@pytest.mark.parametrize("offset, word", [(-301, "old"), (301, "far in the future")])
def test_zendesk_timestamp_outside_the_window_is_refused(offset: int, word: str) -> None:
    with pytest.raises(SignatureError, match=f"301 s {word}: outside the 300 s replay window"):
        verify_zendesk(zendesk_headers(), BODY, SECRET, now=NOW - offset)


def test_zendesk_timestamp_at_the_window_edge_is_accepted() -> None:
    verify_zendesk(zendesk_headers(), BODY, SECRET, now=NOW + 300)


def test_zendesk_missing_signature_header_is_named() -> None:
    headers = zendesk_headers()
    del headers["X-Zendesk-Webhook-Signature"]
    with pytest.raises(SignatureError, match="missing header X-Zendesk-Webhook-Signature"):
        verify_zendesk(headers, BODY, SECRET, now=NOW)


def test_zendesk_unparseable_timestamp_is_refused() -> None:
    with pytest.raises(SignatureError, match="not an ISO 8601 time"):
        verify_zendesk(zendesk_headers(stamp="yesterday"), BODY, SECRET, now=NOW)


def intercom_headers(body: bytes = BODY) -> dict[str, str]:
    return {"X-Hub-Signature": "sha1=" + hmac.new(SECRET, body, hashlib.sha1).hexdigest()}


def test_intercom_sha1_signature_is_accepted() -> None:
    verify_intercom(intercom_headers(), BODY, SECRET)


def test_intercom_wrong_scheme_is_refused() -> None:
    digest = hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureError, match="must be sha1=<hex>"):
        verify_intercom({"X-Hub-Signature": f"sha256={digest}"}, BODY, SECRET)


def test_intercom_tampered_body_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match the body"):
        verify_intercom(intercom_headers(), BODY + b" ", SECRET)


def test_freshdesk_token_is_accepted_and_a_wrong_one_refused() -> None:
    verify_freshdesk({"X-ServiceCoin-Token": SECRET.decode()}, SECRET)
    with pytest.raises(SignatureError, match="X-ServiceCoin-Token is wrong"):
        verify_freshdesk({"X-ServiceCoin-Token": "guess"}, SECRET)


def test_generic_round_trip_with_the_published_sender_headers() -> None:
    verify_generic(sign_generic(BODY, SECRET, NOW), BODY, SECRET, now=NOW + 10)


def test_generic_signature_binds_the_timestamp() -> None:
    headers = sign_generic(BODY, SECRET, NOW)
    headers["X-ServiceCoin-Timestamp"] = str(NOW + 1)  # a replay with a fresher stamp
    with pytest.raises(SignatureError, match="does not match the body"):
        verify_generic(headers, BODY, SECRET, now=NOW)


def test_generic_stale_request_is_refused() -> None:
    with pytest.raises(SignatureError, match="outside the 300 s replay window"):
        verify_generic(sign_generic(BODY, SECRET, NOW), BODY, SECRET, now=NOW + 1000)


def test_generic_wrong_scheme_is_refused() -> None:
    headers = sign_generic(BODY, SECRET, NOW)
    headers["X-ServiceCoin-Signature"] = headers["X-ServiceCoin-Signature"].replace("v1=", "v0=")
    with pytest.raises(SignatureError, match="must be v1=<hex>"):
        verify_generic(headers, BODY, SECRET, now=NOW)


def test_an_empty_secret_is_refused_at_start_up() -> None:
    with pytest.raises(SignatureError, match="zendesk: the webhook secret is empty"):
        require_secret("zendesk", "")


def test_a_zendesk_timestamp_without_a_timezone_is_an_authentication_failure() -> None:
    """Read as local time it would shift the replay window by the machine's offset; it was
    answered 422 by the body's parser instead of 401 (a QA finding, 2026-11-24)."""
    stamp = "2026-11-24T07:17:26"
    digest = base64.b64encode(hmac.new(SECRET, stamp.encode() + BODY, hashlib.sha256).digest()).decode()
    headers = {"X-Zendesk-Webhook-Signature": digest, "X-Zendesk-Webhook-Signature-Timestamp": stamp}
    with pytest.raises(SignatureError, match="has no timezone"):
        verify_zendesk(headers, BODY, SECRET, now=NOW)

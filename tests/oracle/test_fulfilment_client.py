"""The fulfilment webhook client against a real local brand endpoint: what it sends (signed
body, Idempotency-Key) and what each kind of answer means."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from email.utils import format_datetime
from datetime import datetime, timezone

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from oracle.redeem.fulfilment import (
    MAX_RESPONSE_BYTES,
    Delivered,
    FulfilmentClient,
    Refused,
    RetryLater,
    parse_retry_after,
    retry_delay,
)
from oracle.redeem.keys import redemption_key
from tests.oracle.brand_endpoint import SECRET, BrandEndpoint, Reply

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PAYLOAD = {
    "redemption_id": 7, "chain_id": 31337, "contract": CONTRACT, "customer_address": "0x" + "ab" * 20,
    "customer_id": "zendesk:7881", "item_id": 0, "price": "50000000000000000000", "tier": 1, "redeemed_at": 1_790_000_000,
}
KEY = redemption_key(31337, CONTRACT, 7, PAYLOAD["customer_address"], 0)


@pytest.fixture
def brand():
    endpoint = BrandEndpoint()
    with endpoint.serving() as url:
        endpoint.url = url
        yield endpoint


def client(url: str, secret: bytes = SECRET, timeout: float = 5) -> FulfilmentClient:
    return FulfilmentClient(url, secret, timeout)


def test_a_delivery_is_a_signed_post_with_the_redemption_and_its_idempotency_key(brand) -> None:
    outcome = client(brand.url).deliver(PAYLOAD, KEY)
    assert outcome == Delivered({"code": "PERK-7-0", "item_id": 0})
    [request] = brand.received
    assert request.signature_ok
    assert request.payload == PAYLOAD
    assert request.key == "0x" + KEY.hex()
    assert request.headers["content-type"] == "application/json"
    # The documented scheme, recomputed by hand: HMAC-SHA256(secret, timestamp "." body), hex.
    stamp = request.headers["x-servicecoin-timestamp"]
    expected = hmac.new(SECRET, stamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-servicecoin-signature"] == f"v1={expected}"
    assert request.body == json.dumps(PAYLOAD, sort_keys=True, separators=(",", ":")).encode()


def test_the_key_depends_on_chain_contract_id_customer_and_item() -> None:
    customer = PAYLOAD["customer_address"]
    assert KEY == redemption_key(31337, CONTRACT.lower(), 7, customer.upper().replace("0X", "0x"), 0)
    others = {
        redemption_key(1, CONTRACT, 7, customer, 0), redemption_key(31337, "0x" + "11" * 20, 7, customer, 0),
        redemption_key(31337, CONTRACT, 8, customer, 0), redemption_key(31337, CONTRACT, 7, "0x" + "cd" * 20, 0),
        redemption_key(31337, CONTRACT, 7, customer, 1),
    }
    assert KEY not in others and len(others) == 5
    # Pinned: brands may recompute it (docs/brand-integration.md).
    assert KEY == keccak(encode(["string", "uint256", "address", "uint256", "address", "uint256"],
                                ["servicecoin/redemption/v1", 31337, CONTRACT, 7, to_checksum_address(customer), 0]))


def test_a_wrong_secret_is_rejected_by_the_brand_and_retried_not_refunded(brand) -> None:
    outcome = client(brand.url, secret=b"not-the-brand-secret").deliver(PAYLOAD, KEY)
    assert isinstance(outcome, RetryLater) and outcome.reason == "HTTP 401: bad signature"
    assert not brand.received[0].signature_ok and brand.deliveries_made() == 0


def test_a_server_error_then_success_delivers_once_under_the_same_key(brand) -> None:
    brand.script = [Reply(status=500, body=b"oops")]
    c = client(brand.url)
    assert c.deliver(PAYLOAD, KEY) == RetryLater("HTTP 500", None)
    assert isinstance(c.deliver(PAYLOAD, KEY), Delivered)
    assert c.deliver(PAYLOAD, KEY) == Delivered({"code": "PERK-7-0", "item_id": 0})  # a repeat: the same delivery
    assert [r.key for r in brand.received] == ["0x" + KEY.hex()] * 3
    assert brand.deliveries_made() == 1


@pytest.mark.parametrize("status", [400, 409, 410, 422])
def test_a_definitive_4xx_is_a_refusal_with_the_brands_words(brand, status: int) -> None:
    brand.script = [Reply(status=status, body=b'{"error": "out of stock"}')]
    assert client(brand.url).deliver(PAYLOAD, KEY) == Refused(f"HTTP {status}: out of stock")


@pytest.mark.parametrize("status", [401, 403, 404, 405, 408, 429, 500, 502, 503, 301])
def test_configuration_errors_rate_limits_and_server_errors_are_retried(brand, status: int) -> None:
    brand.script = [Reply(status=status)]
    outcome = client(brand.url).deliver(PAYLOAD, KEY)
    assert outcome == RetryLater(f"HTTP {status}", None)


def test_retry_after_seconds_and_http_date_are_honoured(brand) -> None:
    later = datetime.fromtimestamp(int(time.time()) + 1000, tz=timezone.utc)
    brand.script = [Reply(status=429, headers={"Retry-After": "120"}),
                    Reply(status=503, headers={"Retry-After": format_datetime(later, usegmt=True)})]
    c = client(brand.url)
    assert c.deliver(PAYLOAD, KEY) == RetryLater("HTTP 429", 120.0)
    outcome = c.deliver(PAYLOAD, KEY)
    assert outcome.reason == "HTTP 503" and 990 <= outcome.retry_after <= 1000


def test_a_timeout_is_retried(brand) -> None:
    brand.script = [Reply(delay=1.5)]
    outcome = client(brand.url, timeout=0.3).deliver(PAYLOAD, KEY)
    assert outcome == RetryLater("timed out: ReadTimeout")


def test_nobody_listening_is_retried() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outcome = client(f"http://127.0.0.1:{port}/fulfil").deliver(PAYLOAD, KEY)
    assert isinstance(outcome, RetryLater) and outcome.reason.startswith("connection failed: ConnectError")


@pytest.mark.parametrize(("body", "why"), [
    (b"delivered!", "not a JSON object: not JSON"),
    (b"[]", "not a JSON object: expected a JSON object, got list"),
    (b'{"ok": true}', 'no "delivery" object'),
    (b'{"delivery": "CODE-1"}', 'no "delivery" object'),
    (b'{"delivery": {}}', 'no "delivery" object'),
    (b'{"delivery": {"code": "A"}, "delivery": {"code": "B"}}', "duplicate key 'delivery'"),
    (b'{"delivery": {"value": NaN}}', "NaN is not allowed"),
    (b'{"delivery": {"code": "' + b"x" * MAX_RESPONSE_BYTES + b'"}}', f"over {MAX_RESPONSE_BYTES} bytes"),
])
def test_a_malformed_success_is_not_a_delivery_and_is_retried(brand, body: bytes, why: str) -> None:
    brand.script = [Reply(status=200, body=body)]
    outcome = client(brand.url).deliver(PAYLOAD, KEY)
    assert isinstance(outcome, RetryLater) and outcome.reason.startswith("HTTP 200, but") and why in outcome.reason


def test_an_empty_secret_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="empty"):
        FulfilmentClient("http://127.0.0.1:9/fulfil", b"", 1)


def test_backoff_doubles_from_the_first_delay_up_to_the_cap() -> None:
    assert [retry_delay(n, 5, 600) for n in range(1, 10)] == [5, 10, 20, 40, 80, 160, 320, 600, 600]
    assert retry_delay(10_000, 5, 600) == 600  # no overflow on absurd counts
    assert retry_delay(1, 5, 600, retry_after=90) == 90  # the brand asks for longer: honoured
    assert retry_delay(4, 5, 600, retry_after=1) == 40  # ...but never sooner than the backoff
    assert retry_delay(1, 5, 600, retry_after=10**9) == 86_400  # a typo does not park it for decades


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), ("", None), ("30", 30.0), ("soon", None), ("-5", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: now
])
def test_retry_after_parsing(value, expected) -> None:
    assert parse_retry_after(value, now=2_000_000_000) == expected

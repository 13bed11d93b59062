"""The gasless relay's HTTP routes through real HTTP (uvicorn on a loopback port, httpx as the
brand's app), in front of a fake relay that answers from a script: each refusal of the relay
gets its status and a message, authentication and the per-customer limit come first and last,
and the chain work runs in a worker thread. The real relay against a chain is tested in
tests/integration/test_gasless_redeem.py."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from eth_utils import keccak, to_checksum_address
from requests.exceptions import ConnectionError as RequestsConnectionError

from oracle.chain.reverts import DecodedRevert
from oracle.ingest.app import IngestConfig, create_app
from oracle.ingest.server import serving
from oracle.ingest.signatures import sign_generic
from oracle.ingest.sources import GenericSource
from oracle.redeem.relay import (
    PreparedRelay,
    RedemptionMessages,
    RedemptionRefused,
    RelayedRedemption,
    RelayNothingSent,
    RelayUnavailable,
    RequestExpired,
    SignatureMismatch,
    StaleSignature,
)
from oracle.redeem.dispute_relay import DisputeOrder, FiledDispute, PreparedDispute
from oracle.redeem.relay_http import RelayEndpoint
from oracle.redeem.relay_limit import RollingLimit
from oracle.redeem.signed_messages import ForwardRequest
from oracle.store.outbox import Outbox

SECRET = "relay-secret-of-the-brand-app"
NOW = 1_795_000_000
CUSTOMER = to_checksum_address("0x42f06293019467f5090bfd51331ed7bb4b27086d")
SIGNATURE = "0x" + "11" * 64 + "1b"
PRICE = 30 * 10**18


class FakeRelay:
    """RedeemRelay's entry points the routes call; `refusal` is what `prepare` raises."""

    def __init__(self) -> None:
        self.refusal: Exception | None = None
        self.sent: list[PreparedRelay] = []
        self.on_event_loop: list[bool] = []
        self.awaited: set[bytes] = set()  # request signatures of relays still in flight
        self.busy = 0  # how many more sends find the operations account busy (nothing sent)

    def in_flight(self, request: ForwardRequest, signature: bytes) -> bool:
        return signature in self.awaited

    def _note_thread(self) -> None:
        try:
            asyncio.get_running_loop()
            self.on_event_loop.append(True)
        except RuntimeError:
            self.on_event_loop.append(False)

    def typed_data_for(self, customer, item_id, max_price, deadline, permit_signature=None) -> RedemptionMessages:
        self._note_thread()
        permit = {"primaryType": "Permit", "message": {"owner": customer, "value": str(max_price)}}
        request = None if permit_signature is None else {"primaryType": "ForwardRequest",
                                                         "message": {"from": customer, "permit": permit_signature.hex()}}
        return RedemptionMessages(permit, request)

    def prepare(self, signed) -> PreparedRelay:
        self._note_thread()
        if self.refusal is not None:
            raise self.refusal
        request = ForwardRequest(signed.order.customer, "0x" + "22" * 20, 400_000, 0, signed.order.deadline, b"")
        return PreparedRelay(signed.order, request, signed.request_signature, PRICE)

    def send(self, prepared: PreparedRelay) -> RelayedRedemption:
        self._note_thread()
        if self.busy:
            self.busy -= 1
            raise RelayNothingSent("the operations account stayed busy for 60 s: nothing was sent; try again")
        self.sent.append(prepared)
        order = prepared.order
        return RelayedRedemption(len(self.sent) - 1, "0x" + "ab" * 32, order.customer, order.item_id, PRICE, 150_000)


class FakeDisputes:
    """DisputeRelay's entry points the routes call; `refusal` is what `prepare` raises."""

    def __init__(self, notes: FakeRelay) -> None:
        self.notes = notes  # records, with the redemptions', which thread each call ran on
        self.refusal: Exception | None = None
        self.sent: list[PreparedDispute] = []

    def typed_data_for(self, customer, redemption_id, deadline) -> dict:
        self.notes._note_thread()
        return {"primaryType": "ForwardRequest", "message": {"from": customer, "redemptionId": redemption_id}}

    def prepare(self, order: DisputeOrder, signature: bytes) -> PreparedDispute:
        self.notes._note_thread()
        if self.refusal is not None:
            raise self.refusal
        request = ForwardRequest(order.customer, "0x" + "22" * 20, 100_000, 0, order.deadline, b"")
        return PreparedDispute(order, request, signature)

    def in_flight(self, prepared: PreparedDispute) -> bool:
        return self.notes.in_flight(prepared.request, prepared.signature)

    def send(self, prepared: PreparedDispute) -> FiledDispute:
        self.notes._note_thread()
        self.sent.append(prepared)
        return FiledDispute(prepared.order.redemption_id, prepared.order.customer, "0x" + "cd" * 32, 60_000)


@pytest.fixture(scope="module")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Outbox:
    return Outbox.open(f"sqlite:///{tmp_path_factory.mktemp('relay') / 'outbox.db'}", keccak(text="master"))


@pytest.fixture
def relay() -> FakeRelay:
    return FakeRelay()


@pytest.fixture
def disputes(relay: FakeRelay) -> FakeDisputes:
    return FakeDisputes(relay)


@pytest.fixture
def client(outbox: Outbox, relay: FakeRelay, disputes: FakeDisputes, tmp_path):
    uses = Outbox.open(f"sqlite:///{tmp_path / 'uses.db'}", keccak(text="master")).engine  # a fresh count per test
    endpoint = RelayEndpoint(relay, SECRET.encode(), RollingLimit(uses, 2, clock=lambda: NOW), replay_window=300,  # type: ignore[arg-type]
                             disputes=disputes)  # type: ignore[arg-type]
    app = create_app(outbox, IngestConfig(brand_id=1, max_body_bytes=4096), [GenericSource("webhook-secret", 300)],
                     clock=lambda: NOW, relay=endpoint)
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        yield c


def order(**changes) -> dict:
    body = {"customer": CUSTOMER, "item_id": 3, "max_price": str(PRICE), "deadline": NOW + 3600,
            "permit_signature": SIGNATURE, "request_signature": SIGNATURE}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post(client: httpx.Client, payload: dict | bytes, path: str = "/v1/relay/redeem", timestamp: int = NOW,
         secret: str = SECRET) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(path, content=body, headers=sign_generic(body, secret.encode(), timestamp))


def test_a_signed_redemption_is_relayed_in_a_worker_thread(client: httpx.Client, relay: FakeRelay) -> None:
    response = post(client, order())
    assert response.status_code == 200, response.text
    assert response.json() == {"redemption_id": 0, "tx_hash": "0x" + "ab" * 32, "customer": CUSTOMER, "item_id": 3,
                               "price": str(PRICE)}
    sent = relay.sent[0]
    assert (sent.order.customer, sent.order.item_id, sent.order.max_price) == (CUSTOMER, 3, PRICE)
    assert relay.on_event_loop == [False, False]  # prepare and send both ran off the event loop


def test_amounts_may_be_json_integers_or_decimal_strings(client: httpx.Client, relay: FakeRelay) -> None:
    assert post(client, order(max_price=PRICE)).status_code == 200
    assert relay.sent[0].order.max_price == PRICE


def test_the_typed_data_route_gives_the_permit_then_the_request(client: httpx.Client, relay: FakeRelay) -> None:
    first = post(client, order(permit_signature=None, request_signature=None), path="/v1/relay/redeem/typed-data")
    assert first.status_code == 200, first.text
    assert first.json()["permit"]["message"] == {"owner": CUSTOMER, "value": str(PRICE)}
    assert first.json()["request"] is None
    second = post(client, order(request_signature=None), path="/v1/relay/redeem/typed-data")
    assert second.json()["request"]["message"]["permit"] == SIGNATURE[2:]
    assert relay.on_event_loop == [False, False]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"secret": "wrong"}, "X-ServiceCoin-Signature does not match the body"),
    ({"timestamp": NOW - 301}, "outside the 300 s replay window"),
])
def test_only_the_brands_app_may_ask(client: httpx.Client, relay: FakeRelay, kwargs: dict, message: str) -> None:
    for path in ("/v1/relay/redeem", "/v1/relay/redeem/typed-data", "/v1/relay/dispute", "/v1/relay/dispute/typed-data"):
        response = post(client, order(), path=path, **kwargs)
        assert response.status_code == 401 and message in response.json()["error"]
    unsigned = client.post("/v1/relay/redeem", content=json.dumps(order()).encode())
    assert unsigned.status_code == 401 and "missing header X-ServiceCoin-Signature" in unsigned.json()["error"]
    assert relay.on_event_loop == []


@pytest.mark.parametrize(("payload", "message"), [
    (b"{not json", "malformed JSON"),
    (order(request_signature=None), "request_signature: Field required"),
    (order(item_id="3"), "item_id: Input should be a valid integer"),
    (order(max_price="12.5"), "max_price: Value error, must be an integer or a string of decimal digits"),
    (order(deadline=-1), "deadline: Input should be greater than or equal to 0"),
    (order(tip=1), "tip: Extra inputs are not permitted"),
    (order(customer="0x1234"), "customer '0x1234' is not an address"),
    (order(permit_signature="0x1234"), "permit_signature: a signature is 65 bytes, got 2"),
    (order(request_signature="nothex"), "request_signature: a signature must be 0x-prefixed hex"),
])
def test_a_malformed_body_is_a_400_naming_the_field(client: httpx.Client, relay: FakeRelay, payload, message: str) -> None:
    response = post(client, payload)
    assert response.status_code == 400 and message in response.json()["error"], response.text
    assert relay.sent == []


@pytest.mark.parametrize(("refusal", "status", "message", "revert"), [
    (SignatureMismatch("the request signature recovers to 0xabc, not the customer"), 400, "not the customer", None),
    (RequestExpired("the deadline 1 is past"), 400, "the deadline 1 is past", None),
    (StaleSignature("the permit signature was used already"), 409, "used already", None),
    (RedemptionRefused("the redemption would revert: InsufficientStock(3, 0)", DecodedRevert("InsufficientStock", (3, 0))),
     409, "would revert: InsufficientStock(3, 0)", "InsufficientStock"),
    (RelayUnavailable("no receipt after 600 s"), 503, "no receipt after 600 s", None),
    (RequestsConnectionError("connection refused"), 503, "the chain RPC failed: ConnectionError", None),
])
def test_each_refusal_of_the_relay_has_its_status(
    client: httpx.Client, relay: FakeRelay, refusal: Exception, status: int, message: str, revert: str | None
) -> None:
    relay.refusal = refusal
    response = post(client, order())
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    if revert is not None:
        assert response.json()["revert"] == revert
    assert relay.sent == []


def test_the_daily_limit_counts_only_what_would_be_sent(client: httpx.Client, relay: FakeRelay) -> None:
    relay.refusal = RedemptionRefused("would revert", None)
    for _ in range(3):  # refusals cost no gas and use none of the customer's relays
        assert post(client, order()).status_code == 409
    relay.refusal = None
    assert [post(client, order()).status_code for _ in range(2)] == [200, 200]
    limited = post(client, order())
    assert limited.status_code == 429 and "the limit" in limited.json()["error"]
    assert int(limited.headers["Retry-After"]) == 86_401
    assert len(relay.sent) == 2
    assert post(client, order(customer="0x" + "33" * 20)).status_code == 200  # another customer


def test_a_relay_still_in_flight_is_not_counted_again(client: httpx.Client, relay: FakeRelay, disputes) -> None:
    # An earlier attempt of this request answered 503 and its transaction is awaited: sending it
    # again spends nothing new, so it does not use up one of the customer's two daily relays.
    relay.awaited.add(bytes.fromhex(SIGNATURE[2:]))
    assert [post(client, order()).status_code for _ in range(3)] == [200, 200, 200]
    assert post(client, dispute(), path="/v1/relay/dispute").status_code == 200
    relay.awaited.clear()
    assert [post(client, order()).status_code for _ in range(3)] == [200, 200, 429]


def test_a_body_above_the_limit_is_refused_before_authentication(client: httpx.Client) -> None:
    response = post(client, order(padding="x" * 5000))
    assert response.status_code == 413


def test_without_a_relay_the_routes_do_not_exist(outbox: Outbox) -> None:
    app = create_app(outbox, IngestConfig(brand_id=1), [GenericSource("webhook-secret", 300)], clock=lambda: NOW)
    with serving(app) as url:
        assert httpx.post(f"{url}/v1/relay/redeem", content=b"{}").status_code == 404


def dispute(**changes) -> dict:
    body = {"customer": CUSTOMER, "redemption_id": 7, "deadline": NOW + 3600, "request_signature": SIGNATURE}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_a_signed_dispute_is_relayed_in_a_worker_thread(client: httpx.Client, relay: FakeRelay, disputes) -> None:
    typed = post(client, dispute(request_signature=None), path="/v1/relay/dispute/typed-data")
    assert typed.status_code == 200, typed.text
    assert typed.json()["request"]["message"] == {"from": CUSTOMER, "redemptionId": 7}
    response = post(client, dispute(), path="/v1/relay/dispute")
    assert response.status_code == 200, response.text
    assert response.json() == {"redemption_id": 7, "tx_hash": "0x" + "cd" * 32, "customer": CUSTOMER}
    assert disputes.sent[0].order == DisputeOrder(CUSTOMER, 7, NOW + 3600)
    assert relay.on_event_loop == [False, False, False]


@pytest.mark.parametrize(("payload", "message"), [
    (dispute(request_signature=None), "request_signature: Field required"),
    (dispute(redemption_id=-1), "redemption_id: Input should be greater than or equal to 0"),
    (dispute(item_id=3), "item_id: Extra inputs are not permitted"),
    (dispute(customer="0x1234"), "customer '0x1234' is not an address"),
    (dispute(request_signature="0x1234"), "request_signature: a signature is 65 bytes, got 2"),
])
def test_a_malformed_dispute_is_a_400_naming_the_field(client: httpx.Client, disputes, payload, message: str) -> None:
    response = post(client, payload, path="/v1/relay/dispute")
    assert response.status_code == 400 and message in response.json()["error"], response.text
    assert disputes.sent == []


def test_a_refused_dispute_names_the_contracts_error_and_costs_nothing(client: httpx.Client, disputes) -> None:
    disputes.refusal = RedemptionRefused(
        "the dispute would revert: DisputeWindowClosed(7, 1)", DecodedRevert("DisputeWindowClosed", (7, 1))
    )
    for _ in range(3):  # refusals use none of the customer's relays
        response = post(client, dispute(), path="/v1/relay/dispute")
        assert (response.status_code, response.json()["revert"]) == (409, "DisputeWindowClosed")
    disputes.refusal = None
    assert post(client, dispute(), path="/v1/relay/dispute").status_code == 200


def test_redemptions_and_disputes_share_the_customers_daily_relays(client: httpx.Client, relay, disputes) -> None:
    assert post(client, order()).status_code == 200
    assert post(client, dispute(), path="/v1/relay/dispute").status_code == 200
    limited = post(client, dispute(), path="/v1/relay/dispute")
    assert limited.status_code == 429
    assert post(client, order()).status_code == 429
    assert (len(relay.sent), len(disputes.sent)) == (1, 1)


def test_without_a_dispute_relay_only_the_redemption_routes_exist(outbox: Outbox, relay: FakeRelay, tmp_path) -> None:
    uses = Outbox.open(f"sqlite:///{tmp_path / 'uses.db'}", keccak(text="master")).engine
    endpoint = RelayEndpoint(relay, SECRET.encode(), RollingLimit(uses, 2, clock=lambda: NOW))  # type: ignore[arg-type]
    app = create_app(outbox, IngestConfig(brand_id=1), [GenericSource("webhook-secret", 300)], clock=lambda: NOW,
                     relay=endpoint)
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        assert post(c, dispute(), path="/v1/relay/dispute").status_code == 404
        assert post(c, order()).status_code == 200


def test_a_relay_that_found_the_operations_account_busy_is_not_counted(client: httpx.Client, relay: FakeRelay) -> None:
    """Nothing was sent (OpsBusy): the customer's retry must not be charged a second use (a
    review finding, 2026-11-24)."""
    relay.busy = 3
    answers = [post(client, order()) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 503]
    assert "nothing was sent" in answers[0].json()["error"]
    assert [post(client, order()).status_code for _ in range(3)] == [200, 200, 429]  # the two uses are intact

"""The fulfiller over a real outbox database and a real local brand endpoint; the chain is a
fake that keeps redemption statuses as TierRedemption does (the real chain is in
tests/integration/test_redemption_loop.py). Time is a clock the tests move."""

from __future__ import annotations

import secrets
import time
from types import SimpleNamespace

import pytest
from eth_utils import to_checksum_address
from sqlalchemy import insert, text
from web3.exceptions import ContractLogicError

from oracle.chain.follower import ChainLog
from oracle.chain.ops_sender import OpsRejected
from oracle.chain.reverts import DecodedRevert
from oracle.privacy import commitment
from oracle.redeem.fulfiller import Backoff, Fulfiller
from oracle.redeem.fulfilment import FulfilmentClient
from oracle.redeem.keys import redemption_key
from oracle.redeem.store import RedemptionStore
from oracle.redeem.watcher import RedemptionWatcher
from oracle.store.engine import write_transaction
from oracle.store.outbox import Outbox
from oracle.store.schema import events, wallet_links
from tests.oracle.brand_endpoint import SECRET, BrandEndpoint, Reply

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CHAIN_ID = 31337
ALICE = to_checksum_address("0x70997970c51812dc3a010c7d01b50e20d17dc79c")
PRICE = 50 * 10**18
PENDING, FULFILLED, REFUNDED = 1, 2, 4


class FakeRedemptionChain:
    """TierRedemption's redemption statuses, and the operations account sending to it."""

    address = CONTRACT

    def __init__(self) -> None:
        self.redemptions: dict[int, list] = {}
        self.sent: list[tuple] = []
        self.refuse_with: DecodedRevert | None = None

    @property
    def functions(self) -> "FakeRedemptionChain":
        return self

    def redeem(self, rid: int, customer: str = ALICE, item: int = 0, price: int = PRICE) -> None:
        self.redemptions[rid] = [customer, item, 0, PENDING, price, 0, 0, b"\0" * 32]

    def redemptionOf(self, rid: int):  # noqa: N802 - the contract's name
        def call():
            if rid not in self.redemptions:
                raise ContractLogicError("RedemptionNotFound", data="0x")
            return tuple(self.redemptions[rid])
        return SimpleNamespace(call=call)

    def fulfil(self, rid: int, delivery_commitment: bytes) -> tuple:
        return ("fulfil", rid, delivery_commitment)

    def refund(self, rid: int) -> tuple:
        return ("refund", rid)

    def send_call(self, call: tuple, what: str) -> dict:
        if self.refuse_with is not None:
            raise OpsRejected(f"{what} would revert: {self.refuse_with}", self.refuse_with)
        rid = call[1]
        if self.redemptions[rid][3] != PENDING:
            raise OpsRejected("InvalidStatus", DecodedRevert("InvalidStatus", (rid, self.redemptions[rid][3])))
        self.redemptions[rid][3] = FULFILLED if call[0] == "fulfil" else REFUNDED
        if call[0] == "fulfil":
            self.redemptions[rid][7] = call[2]
        self.sent.append(call)
        return {"transactionHash": secrets.token_bytes(32), "blockNumber": 10}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def brand():
    endpoint = BrandEndpoint()
    with endpoint.serving() as url:
        endpoint.url = url
        yield endpoint


@pytest.fixture
def setup(outbox_url, brand):
    master = secrets.token_bytes(32)
    url = outbox_url  # SQLite and PostgreSQL
    chain = FakeRedemptionChain()
    clock = Clock()

    def fulfiller(max_attempts: int = 4) -> tuple[Fulfiller, Outbox]:
        """A fulfiller as a (re)started process builds it: everything from the database file."""
        outbox = Outbox.open(url, master)
        client = FulfilmentClient(brand.url, SECRET, timeout=0.5, clock=time.time)
        backoff = Backoff(max_attempts=max_attempts, first=5, maximum=30)
        return Fulfiller(RedemptionStore(outbox.engine), outbox.vault, client, chain, chain, CHAIN_ID, backoff,
                         clock=clock), outbox

    return SimpleNamespace(chain=chain, clock=clock, fulfiller=fulfiller)


def redeemed(outbox: Outbox, chain: FakeRedemptionChain, rid: int, customer: str = ALICE) -> None:
    """The watcher sees a Redeemed event, and the chain holds the redemption."""
    chain.redeem(rid, customer)
    log = ChainLog("Redeemed", {"redemptionId": rid, "customer": customer, "itemId": 0, "price": PRICE, "tier": 1},
                   block_number=5, block_hash=b"\1" * 32, log_index=0, tx_hash=b"\2" * 32, timestamp=1_799_999_990)
    with write_transaction(outbox.engine) as connection:
        RedemptionWatcher().handle(connection, [log])


def test_a_delivered_redemption_is_sealed_then_fulfilled_with_its_commitment(setup, brand) -> None:
    fulfiller, outbox = setup.fulfiller()
    redeemed(outbox, setup.chain, 3)
    report = fulfiller.step()
    assert report.delivered == [3] and report.fulfilled == [3]
    [request] = brand.received
    assert request.payload == {
        "redemption_id": 3, "chain_id": CHAIN_ID, "contract": CONTRACT, "customer_address": ALICE,
        "customer_id": None, "item_id": 0, "price": str(PRICE), "tier": 1, "redeemed_at": 1_799_999_990,
    }
    key = redemption_key(CHAIN_ID, CONTRACT, 3, ALICE, 0)
    opened = outbox.vault.open(key)
    delivery = brand.deliveries["0x" + key.hex()]
    assert opened.content == {"delivery": delivery}
    row = fulfiller.store.get(3)
    # The commitment on chain is the salted one of the sealed record: it opens with the stored salt.
    assert setup.chain.sent == [("fulfil", 3, row.delivery_commitment)]
    assert row.delivery_commitment == opened.commitment == commitment(opened.salt, {"delivery": delivery})
    assert row.fulfil_tx is not None and row.attempts == 0
    assert row.state == "pending"  # the watcher, not the fulfiller, moves the state on the event


def test_the_helpdesk_customer_is_named_and_erasing_them_shreds_the_delivery(setup, brand) -> None:
    fulfiller, outbox = setup.fulfiller()
    linked = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    with write_transaction(outbox.engine) as connection:
        connection.execute(insert(events).values(
            event_id=b"\7" * 32, brand_id=1, source="zendesk", helpdesk_event_id="csat:1", customer_id="zendesk:42",
            kind=0, occurred_at=1, day="1970-01-01", flags="[]", content_commitment=b"\0" * 32,
            customer_address=ALICE, received_at=1, state="final"))
        connection.execute(insert(wallet_links).values(
            customer_id="zendesk:77", custodial_address="0x" + "99" * 20, address=linked.lower(), state="linked",
            requested_at=1))
    redeemed(outbox, setup.chain, 0)
    redeemed(outbox, setup.chain, 1, customer=linked)
    fulfiller.step()
    assert [r.payload["customer_id"] for r in brand.received] == ["zendesk:42", "zendesk:77"]
    key = redemption_key(CHAIN_ID, CONTRACT, 0, ALICE, 0)
    assert outbox.vault.open(key) is not None
    outbox.vault.erase("zendesk:42")
    assert outbox.vault.open(key) is None  # erased with the customer's other content
    assert outbox.vault.open(redemption_key(CHAIN_ID, CONTRACT, 1, linked, 0)) is not None


def test_failures_back_off_doubling_and_the_schedule_survives_a_restart(setup, brand) -> None:
    brand.always = Reply(status=503)
    fulfiller, outbox = setup.fulfiller(max_attempts=10)
    redeemed(outbox, setup.chain, 0)
    start = setup.clock.now
    schedule = []
    for _ in range(5):
        fulfiller, _ = setup.fulfiller(max_attempts=10)  # a restart before every attempt
        assert fulfiller.step().retried == [0]
        row = fulfiller.store.get(0)
        schedule.append(row.next_attempt_at - setup.clock.now)
        setup.clock.now = row.next_attempt_at - 0.5
        assert fulfiller.step().retried == []  # not yet due: nobody is asked
        setup.clock.now = row.next_attempt_at
    assert schedule == [5, 10, 20, 30, 30]  # first 5 s, doubled, capped at 30 s
    assert len(brand.received) == 5 and row.attempts == 5 and row.last_error == "HTTP 503"
    assert setup.clock.now - start == 95
    brand.always = None
    assert fulfiller.step().fulfilled == [0]
    assert len({r.key for r in brand.received}) == 1  # every attempt under the same key


def test_a_server_error_then_success(setup, brand) -> None:
    brand.script = [Reply(status=500)]
    fulfiller, outbox = setup.fulfiller()
    redeemed(outbox, setup.chain, 0)
    assert fulfiller.step().retried == [0]
    setup.clock.now += 5
    assert fulfiller.step().fulfilled == [0]
    assert setup.chain.redemptions[0][3] == FULFILLED and brand.deliveries_made() == 1


def test_retry_after_longer_than_the_backoff_is_honoured(setup, brand) -> None:
    brand.script = [Reply(status=429, headers={"Retry-After": "25"})]
    fulfiller, outbox = setup.fulfiller()
    redeemed(outbox, setup.chain, 0)
    fulfiller.step()
    assert fulfiller.store.get(0).next_attempt_at == setup.clock.now + 25


def test_after_max_attempts_the_redemption_is_refunded(setup, brand) -> None:
    brand.always = Reply(status=502)
    fulfiller, outbox = setup.fulfiller(max_attempts=3)
    redeemed(outbox, setup.chain, 0)
    for _ in range(3):
        report = fulfiller.step()
        setup.clock.now += 30
    assert report.refunded == [0] and setup.chain.sent == [("refund", 0)]
    row = fulfiller.store.get(0)
    assert row.attempts == 3 and row.action == "refund" and row.refund_tx is not None
    assert row.refund_reason == "delivery failed 3 times, last: HTTP 502"
    fulfiller.step()
    assert len(brand.received) == 3 and len(setup.chain.sent) == 1  # nothing more once refunded


def test_a_refusal_is_refunded_at_once(setup, brand) -> None:
    brand.script = [Reply(status=422, body=b'{"error": "item discontinued"}')]
    fulfiller, outbox = setup.fulfiller()
    redeemed(outbox, setup.chain, 0)
    assert fulfiller.step().refunded == [0]
    assert len(brand.received) == 1 and setup.chain.redemptions[0][3] == REFUNDED
    assert fulfiller.store.get(0).refund_reason == "the brand refused the delivery: HTTP 422: item discontinued"


def test_a_timeout_counts_as_a_failed_attempt_and_the_retry_gets_the_same_delivery(setup, brand) -> None:
    brand.script = [Reply(delay=1.0)]  # the brand delivers, but answers after our timeout
    fulfiller, outbox = setup.fulfiller()
    redeemed(outbox, setup.chain, 0)
    assert fulfiller.step().retried == [0]
    assert fulfiller.store.get(0).last_error == "timed out: ReadTimeout"
    setup.clock.now += 5
    time.sleep(0.7)  # the slow answer completes at the brand
    assert fulfiller.step().fulfilled == [0]
    assert brand.deliveries_made() == 1


def test_nothing_is_asked_or_sent_for_a_redemption_no_longer_pending_on_chain(setup, brand) -> None:
    fulfiller, outbox = setup.fulfiller()
    redeemed(outbox, setup.chain, 0)
    setup.chain.redemptions[0][3] = REFUNDED  # the arbiter refunded it before the watcher saw
    fulfiller.step()
    assert brand.received == [] and setup.chain.sent == []
    assert fulfiller.store.get(0).next_attempt_at == setup.clock.now + 5  # looked at again later


def test_a_redemption_that_differs_on_chain_is_left_alone(setup, brand) -> None:
    fulfiller, outbox = setup.fulfiller()
    redeemed(outbox, setup.chain, 0)
    setup.chain.redeem(0, customer="0x" + "42" * 20)  # a deep reorg gave the id to someone else
    fulfiller.step()
    assert brand.received == [] and setup.chain.sent == []
    assert "differs on chain" in fulfiller.store.get(0).last_error


def test_a_crash_after_sealing_the_delivery_fulfils_with_the_same_commitment_without_asking_again(
    setup, brand
) -> None:
    fulfiller, outbox = setup.fulfiller()
    redeemed(outbox, setup.chain, 0)
    setup.chain.refuse_with = DecodedRevert("EnforcedPause", ())  # the send fails: as if we crashed before it
    report = fulfiller.step()
    assert report.delivered == [0] and report.fulfilled == []
    assert "EnforcedPause()" in report.problems[0]
    sealed = fulfiller.store.get(0).delivery_commitment
    setup.chain.refuse_with = None
    restarted, _ = setup.fulfiller()
    setup.clock.now += 5
    assert restarted.step().fulfilled == [0]
    assert setup.chain.sent == [("fulfil", 0, sealed)] and len(brand.received) == 1


def test_a_crash_after_the_fulfil_was_mined_sends_nothing_again(setup, brand) -> None:
    fulfiller, outbox = setup.fulfiller()
    redeemed(outbox, setup.chain, 0)
    fulfiller.step()
    # Restarted before recording the transaction: the row still says "fulfil"...
    with write_transaction(outbox.engine) as connection:
        connection.execute(text(
            "UPDATE redemptions SET fulfil_tx = NULL, next_attempt_at = 0 WHERE redemption_id = 0"))
    restarted, _ = setup.fulfiller()
    restarted.step()
    assert len(setup.chain.sent) == 1  # ...but the chain says Fulfilled, so nothing is sent


def test_a_missing_role_is_reported_and_waits_for_the_operator(setup, brand) -> None:
    fulfiller, outbox = setup.fulfiller()
    redeemed(outbox, setup.chain, 0)
    setup.chain.refuse_with = DecodedRevert("AccessControlUnauthorizedAccount", ("0x" + "11" * 20, b"\0" * 32))
    report = fulfiller.step()
    assert "fulfil refused" in report.problems[0] and "AccessControlUnauthorizedAccount" in report.problems[0]
    assert fulfiller.store.get(0).next_attempt_at == setup.clock.now + 30  # the longest backoff

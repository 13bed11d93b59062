"""Customer identity: custodial addresses, wallet-link validation and re-addressing, on a real
SQLite outbox (no chain: the on-chain move is tested in tests/integration)."""

from __future__ import annotations

import re
import secrets
import threading
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import select

from oracle.custody import CustodialWallets
from oracle.events import HelpdeskEvent
from oracle.identity import Identity, LinkRefused, checked_wallet
from oracle.kinds import FeedbackKind
from oracle.policy import load_policy
from oracle.store.outbox import Outbox
from oracle.store.schema import wallet_links

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"
T0 = 1_795_000_000
WALLET = Account.from_key(keccak(text="alice's own wallet")).address
OTHER_WALLET = Account.from_key(keccak(text="bob's own wallet")).address


MASTER_KEY = secrets.token_bytes(32)  # one outbox, one master key (Outbox.open checks it)

@pytest.fixture
def outbox(outbox_url: str) -> Outbox:
    return Outbox.open(outbox_url, MASTER_KEY)  # SQLite and PostgreSQL


@pytest.fixture
def wallets() -> CustodialWallets:
    return CustodialWallets(secrets.token_bytes(32), brand_id=1)


@pytest.fixture
def identity(outbox: Outbox, wallets: CustodialWallets) -> Identity:
    return Identity(outbox.engine, wallets, clock=lambda: T0)


@pytest.fixture
def policy():
    return load_policy(EXAMPLE_POLICY).policy


def rating(n: int, customer: str) -> HelpdeskEvent:
    return HelpdeskEvent(1, "zendesk", f"csat:ticket:{n}", customer, FeedbackKind.CSAT_RATING, T0 + n)


def earn(outbox: Outbox, identity: Identity, policy, *events: HelpdeskEvent) -> None:
    for event in events:
        outbox.receive(event, {"rating": "good"}, received_at=T0)
    outbox.decide_received(policy, identity.address_for)


def links(outbox: Outbox) -> list:
    with outbox.engine.connect() as connection:
        return connection.execute(select(wallet_links)).all()


def test_a_link_requested_during_a_decision_readdresses_what_it_decided(
    outbox_url: str, outbox: Outbox, wallets: CustodialWallets, policy
) -> None:
    """`servicecoin wallet link` (another process, its own connections) while the pipeline is
    between reading the customer's address and committing: the link waits for the decision,
    then re-addresses its event. Without waiting it would re-address nothing, and the reward
    would go to the custodial address after all."""
    decider = Identity(outbox.engine, wallets, clock=lambda: T0)
    linker = Identity(Outbox.open(outbox_url, MASTER_KEY).engine, wallets, clock=lambda: T0)
    outbox.receive(rating(1, "zendesk:race"), {"rating": "good"}, received_at=T0)
    requested = []
    link = threading.Thread(target=lambda: requested.append(linker.request_link("zendesk:race", WALLET, proof=None)))

    def address_for(customer_id: str) -> str:
        address = decider.address_for(customer_id)  # no link yet: the custodial address
        link.start()
        link.join(timeout=1.0)  # it finishes here only if it does not wait for this decision
        return address

    outbox.decide_received(policy, address_for)
    link.join(timeout=30)
    assert requested[0].readdressed == 1
    assert outbox.event_row(rating(1, "zendesk:race").id).customer_address == WALLET


def test_the_wallet_lookup_survives_a_lost_database_connection(postgres_url: str, wallets: CustodialWallets) -> None:
    outbox = Outbox.open(postgres_url, secrets.token_bytes(32))
    identity = Identity(outbox.engine, wallets, clock=lambda: T0)
    identity.request_link("zendesk:7881", WALLET, proof=None)
    assert identity.address_for("zendesk:7881") == WALLET  # the lookup now keeps a connection
    with outbox.engine.connect() as connection:  # as a server restart or a failover would
        connection.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert identity.address_for("zendesk:7881") == WALLET
    assert identity.address_for("zendesk:7881") == WALLET


def test_an_unlinked_customer_is_paid_at_the_custodial_address(identity: Identity, wallets: CustodialWallets) -> None:
    assert identity.address_for("zendesk:7881") == wallets.address_for("zendesk:7881")
    assert identity.address_for("zendesk:7881") != identity.address_for("zendesk:7882")


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("0x1234", "is not an address (expected 0x and 40 hex digits)"),
        (WALLET.lower(), "has no valid EIP-55 checksum"),
        (WALLET[:-1] + ("a" if WALLET[-1] != "a" else "b"), "has no valid EIP-55 checksum"),
        ("0x" + "00" * 20, "the zero address cannot hold coins"),
    ],
)
def test_a_malformed_wallet_is_refused(address: str, message: str) -> None:
    with pytest.raises(LinkRefused, match=re.escape(message)):
        checked_wallet(address)


def test_a_checksummed_wallet_is_accepted() -> None:
    assert checked_wallet(WALLET) == WALLET


def test_refusals_change_nothing(identity: Identity, outbox: Outbox, policy) -> None:
    earn(outbox, identity, policy, rating(1, "zendesk:1"), rating(2, "zendesk:2"))
    bob_custodial = identity.custodial_address("zendesk:2")
    identity.request_link("zendesk:3", OTHER_WALLET, proof=None)
    cases = [
        (identity.custodial_address("zendesk:1"), "is the custodial address of 'zendesk:1' itself"),
        (bob_custodial, "receives the rewards of another customer ('zendesk:2')"),
        (OTHER_WALLET, "is the wallet of another customer ('zendesk:3')"),
        (identity.custodial_address("zendesk:3"), "is the custodial address of another customer ('zendesk:3')"),
    ]
    for address, message in cases:
        with pytest.raises(LinkRefused, match=re.escape(message)):
            identity.request_link("zendesk:1", address, proof=None)
    registry = Account.create().address
    with pytest.raises(LinkRefused, match="is the FeedbackRegistry, not a customer's wallet"):
        identity.request_link("zendesk:1", registry, {"the FeedbackRegistry": registry}, proof=None)
    assert [row.customer_id for row in links(outbox)] == ["zendesk:3"]
    assert outbox.event_row(rating(1, "zendesk:1").id).customer_address == identity.custodial_address("zendesk:1")


def test_a_customer_links_once(identity: Identity) -> None:
    identity.request_link("zendesk:1", WALLET, proof=None)
    with pytest.raises(LinkRefused, match=r"already linked to .* \(requested\)$"):
        identity.request_link("zendesk:1", WALLET, proof=None)
    with pytest.raises(LinkRefused, match="a link is permanent"):
        identity.request_link("zendesk:1", OTHER_WALLET, proof=None)


def test_a_link_re_addresses_eligible_events_but_not_batched_ones(identity: Identity, outbox: Outbox, policy) -> None:
    earn(outbox, identity, policy, rating(1, "zendesk:1"))
    outbox.open_batch(brand_id=1, max_size=10, now=T0)  # rating 1 is now in a batch, bound to its address
    earn(outbox, identity, policy, rating(2, "zendesk:1"), rating(3, "zendesk:1"), rating(4, "zendesk:9"))
    custodial = identity.custodial_address("zendesk:1")

    requested = identity.request_link("zendesk:1", WALLET, proof=None)

    assert requested.readdressed == 2
    assert requested.link.state == "requested" and requested.link.custodial_address == custodial
    assert outbox.event_row(rating(1, "zendesk:1").id).customer_address == custodial
    assert outbox.event_row(rating(2, "zendesk:1").id).customer_address == WALLET
    assert outbox.event_row(rating(3, "zendesk:1").id).customer_address == WALLET
    assert outbox.event_row(rating(4, "zendesk:9").id).customer_address == identity.custodial_address("zendesk:9")
    assert identity.in_flight_to("zendesk:1", custodial) == 1


def test_rewards_decided_after_a_link_go_to_the_wallet_even_from_another_process(
    identity: Identity, outbox: Outbox, wallets: CustodialWallets, policy
) -> None:
    # The running oracle's resolver answers for a customer before the link...
    running = Identity(outbox.engine, wallets)
    assert running.address_for("zendesk:1") == wallets.address_for("zendesk:1")
    # ...the CLI (another Identity, as in another process) records the link...
    identity.request_link("zendesk:1", WALLET, proof=None)
    # ...and the very next decision of the running oracle pays the wallet.
    earn(outbox, running, policy, rating(5, "zendesk:1"))
    assert outbox.event_row(rating(5, "zendesk:1").id).customer_address == WALLET


def test_mark_linked_records_the_transaction(identity: Identity) -> None:
    identity.request_link("zendesk:1", WALLET, proof=None)
    identity.mark_linked("zendesk:1", b"\x0a" * 32)
    link = identity.link_of("zendesk:1")
    assert (link.state, link.linked_at, link.tx_hash) == ("linked", T0, b"\x0a" * 32)
    assert identity.links_in("requested") == []


def test_the_custodial_derivation_is_the_documented_one() -> None:
    """docs/brand-integration.md §11: HKDF-SHA256(secret, no salt, info) then HMAC per counter."""
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    secret = bytes(range(32))
    root = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"\x00" * 32,
                info=b"servicecoin/v1/custodial-wallets").derive(secret)
    key = hmac.new(root, b"7|zendesk:7881|0", hashlib.sha256).digest()
    assert CustodialWallets(secret, brand_id=7).address_for("zendesk:7881") == Account.from_key(key).address

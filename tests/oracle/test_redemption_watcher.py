"""The redemption watcher's effects on the store, from TierRedemption events as the chain
follower hands them over: states, idempotent re-reading, rewinds after a reorg, price
announcements. (The follower itself, against a real reorg on Anvil, is in
tests/integration/test_redemption_loop.py.)"""

from __future__ import annotations

import secrets

import pytest

from oracle.chain.follower import ChainLog
from oracle.redeem.store import RedemptionStore
from oracle.redeem.watcher import RedemptionWatcher
from oracle.store.engine import write_transaction
from oracle.store.outbox import Outbox

ALICE, BOB = "0x" + "aa" * 20, "0x" + "bb" * 20
PRICE = 50 * 10**18


def log(name: str, block: int, index: int = 0, **args) -> ChainLog:
    return ChainLog(name, args, block_number=block, block_hash=bytes([block % 256]) * 32, log_index=index,
                    tx_hash=secrets.token_bytes(32), timestamp=1_800_000_000 + 12 * block)


def redeemed(rid: int, block: int, customer: str = ALICE, item: int = 0, brand: int = 1) -> ChainLog:
    return log("Redeemed", block, redemptionId=rid, customer=customer, brandId=brand, itemId=item, price=PRICE, tier=0)


@pytest.fixture
def store(outbox_url: str) -> RedemptionStore:
    return RedemptionStore(Outbox.open(outbox_url, secrets.token_bytes(32)).engine)  # SQLite and PostgreSQL


def apply(store: RedemptionStore, *logs: ChainLog, watcher: RedemptionWatcher | None = None) -> None:
    with write_transaction(store.engine) as connection:
        (watcher or RedemptionWatcher()).handle(connection, list(logs))


def rewind(store: RedemptionStore, block: int) -> int:
    with write_transaction(store.engine) as connection:
        return RedemptionWatcher().rewind(connection, block)


def states(store: RedemptionStore) -> dict[int, str]:
    return {r.redemption_id: r.state for r in store.list()}


def test_each_event_moves_the_state_and_a_dispute_is_reported_once(store) -> None:
    disputes: list[int] = []
    watcher = RedemptionWatcher(on_dispute=disputes.append)
    history = [
        redeemed(0, 10), redeemed(1, 10, customer=BOB, item=2), redeemed(2, 11),
        log("Fulfilled", 12, redemptionId=0, deliveryCommitment=b"\x11" * 32),
        log("Fulfilled", 12, 1, redemptionId=1, deliveryCommitment=b"\x22" * 32),
        log("Disputed", 13, redemptionId=0, customer=ALICE),
        log("Refunded", 14, redemptionId=0, customer=ALICE, amount=PRICE),
        log("Settled", 15, redemptionId=1, amountBurned=PRICE),
    ]
    apply(store, *history, watcher=watcher)
    assert states(store) == {0: "refunded", 1: "settled", 2: "pending"}
    assert disputes == [0]
    row = store.get(1)
    assert (row.customer_address, row.item_id, row.price, row.redeemed_at) == (BOB, 2, str(PRICE), 1_800_000_120)
    assert row.chain_commitment == b"\x22" * 32
    assert store.counts_by_state() == {"refunded": 1, "settled": 1, "pending": 1}
    assert [r.redemption_id for r in store.list(["pending"])] == [2]


def test_reading_the_same_events_again_changes_nothing(store) -> None:
    history = [redeemed(0, 10), log("Fulfilled", 12, redemptionId=0, deliveryCommitment=b"\x11" * 32)]
    apply(store, *history)
    before = store.get(0)
    apply(store, *history)
    assert store.get(0) == before


def test_a_rejected_dispute_settles(store) -> None:
    apply(store, redeemed(0, 10), log("Fulfilled", 11, redemptionId=0, deliveryCommitment=b"\x11" * 32),
          log("Disputed", 12, redemptionId=0, customer=ALICE), log("Settled", 13, redemptionId=0, amountBurned=PRICE),
          log("DisputeRejected", 13, 1, redemptionId=0))
    assert states(store) == {0: "settled"}


def test_a_rewind_replays_a_redemption_whose_state_came_from_a_removed_block(store) -> None:
    apply(store, redeemed(0, 10), redeemed(1, 16), log("Fulfilled", 20, redemptionId=0, deliveryCommitment=b"\1" * 32))
    # A reorg removes blocks above 15: the Fulfilled event of #0 may be gone, and its earlier
    # state is known only from its own events, so the follower resumes before its Redeemed event.
    assert rewind(store, 15) == 9
    assert states(store) == {0: "orphaned", 1: "orphaned"}
    # The new chain: #0 redeemed as before, not (yet) fulfilled; #1 was never redeemed.
    apply(store, redeemed(0, 10))
    assert states(store) == {0: "pending", 1: "orphaned"}
    assert store.due(now=2e9) and [r.redemption_id for r in store.due(now=2e9)] == [0]  # orphans are not worked on


def test_a_rewind_above_every_state_keeps_everything(store) -> None:
    apply(store, redeemed(0, 10), log("Fulfilled", 12, redemptionId=0, deliveryCommitment=b"\1" * 32))
    assert rewind(store, 30) == 30
    assert states(store) == {0: "fulfilled"}


def test_a_different_redemption_under_a_known_id_starts_the_row_over(store) -> None:
    apply(store, redeemed(0, 10))
    store.record_failure(0, attempts=2, next_attempt_at=5.0, error="HTTP 503")
    store.decide_refund(0, "gave up")
    rewind(store, 9)
    apply(store, redeemed(0, 11, customer=BOB))  # a deep reorg gave id 0 to Bob
    row = store.get(0)
    assert (row.customer_address, row.state, row.action, row.attempts, row.refund_reason) == (BOB, "pending", "deliver", 0, None)


def test_an_orphan_found_again_keeps_its_fulfilment_progress(store) -> None:
    apply(store, redeemed(0, 10))
    store.record_failure(0, attempts=2, next_attempt_at=5.0, error="HTTP 503")
    rewind(store, 9)
    apply(store, redeemed(0, 12))  # the same redemption, mined again in a later block
    row = store.get(0)
    assert (row.state, row.attempts, row.redeemed_block, row.last_error) == ("pending", 2, 12, "HTTP 503")


def announcements(store: RedemptionStore) -> list[tuple]:
    return [(a.item_id, a.new_price, a.effective_at, a.state) for a in store.announcements()]


def test_price_announcements_are_replaced_cancelled_or_take_effect(store) -> None:
    week = 7 * 86400
    t = lambda block: 1_800_000_000 + 12 * block  # noqa: E731 - the timestamp log() gives a block
    apply(store,
          log("PriceChangeAnnounced", 10, itemId=0, oldPrice=50, newPrice=60, effectiveAt=t(10) + week),
          log("PriceChangeAnnounced", 11, itemId=0, oldPrice=50, newPrice=55, effectiveAt=t(11) + week),
          log("PriceChangeAnnounced", 11, 1, itemId=1, oldPrice=30, newPrice=20, effectiveAt=t(11) + 60))
    assert announcements(store) == [(0, "60", t(10) + week, "replaced"), (0, "55", t(11) + week, "announced"),
                                    (1, "20", t(11) + 60, "announced")]
    # Item 1's change took effect (block 20 is after it); a later announcement does not touch it.
    apply(store, log("PriceChangeCancelled", 20, itemId=0),
          log("PriceChangeAnnounced", 20, 1, itemId=1, oldPrice=20, newPrice=25, effectiveAt=t(20) + week))
    assert announcements(store) == [(0, "60", t(10) + week, "replaced"), (0, "55", t(11) + week, "cancelled"),
                                    (1, "20", t(11) + 60, "announced"), (1, "25", t(20) + week, "announced")]
    # A reorg removes block 20: the cancellation and the new announcement are undone.
    rewind(store, 15)
    assert announcements(store) == [(0, "60", t(10) + week, "replaced"), (0, "55", t(11) + week, "announced"),
                                    (1, "20", t(11) + 60, "announced")]


def test_an_announcement_a_pause_kept_waiting_past_its_time_is_still_replaced_or_cancelled(store) -> None:
    """A pause pushes a change back (TierRedemption._effectiveAt), so the event's effectiveAt can
    pass while the change still waits: the next announcement's old price says it never took
    effect, and a cancellation always concerns the newest one."""
    t = lambda block: 1_800_000_000 + 12 * block  # noqa: E731 - the timestamp log() gives a block
    apply(store,
          log("PriceChangeAnnounced", 10, itemId=0, oldPrice=50, newPrice=60, effectiveAt=t(10) + 60),
          # block 20 is past t(10) + 60, but the old price is still 50: a pause held the change back
          log("PriceChangeAnnounced", 20, itemId=0, oldPrice=50, newPrice=70, effectiveAt=t(20) + 60),
          log("PriceChangeCancelled", 30, itemId=0))
    assert announcements(store) == [(0, "60", t(10) + 60, "replaced"), (0, "70", t(20) + 60, "cancelled")]
    # One that did take effect (the next old price is its new price) stays, and is not cancelled
    # by a later cancellation of its successor.
    apply(store,
          log("PriceChangeAnnounced", 40, itemId=1, oldPrice=5, newPrice=6, effectiveAt=t(40) + 60),
          log("PriceChangeAnnounced", 50, itemId=1, oldPrice=6, newPrice=7, effectiveAt=t(50) + 60),
          log("PriceChangeCancelled", 51, itemId=1))
    assert announcements(store)[2:] == [(1, "6", t(40) + 60, "announced"), (1, "7", t(50) + 60, "cancelled")]


def test_a_refund_to_an_already_linked_custodial_address_reopens_its_link(store) -> None:
    """The refund's coins land at the custodial address after the customer linked a wallet:
    the link goes back to requested so the linker moves them as well (only that customer's)."""
    from sqlalchemy import insert, select

    from oracle.store.schema import wallet_links

    with write_transaction(store.engine) as connection:
        for customer, custodial, wallet in (("zendesk:1", ALICE, "0x" + "a1" * 20), ("zendesk:2", BOB, "0x" + "b1" * 20)):
            connection.execute(insert(wallet_links).values(
                customer_id=customer, custodial_address=custodial, address=wallet, state="linked", requested_at=1))
    apply(store, redeemed(1, block=10), log("Refunded", 11, redemptionId=1, customer=ALICE, amount=PRICE))
    with store.engine.connect() as connection:
        link_states = dict(connection.execute(select(wallet_links.c.customer_id, wallet_links.c.state)).all())
    assert states(store) == {1: "refunded"}
    assert link_states == {"zendesk:1": "requested", "zendesk:2": "linked"}


def test_with_catalog_items_only_this_brands_redemptions_and_prices_are_kept(store, caplog) -> None:
    """A deployment whose catalog several brands share (chain.catalog_items): each brand's oracle
    must deliver, fulfil or refund only its own items' redemptions. Every oracle used to take
    every redemption, and refund those its endpoint refused (found by a review, 2026-11-24)."""
    disputes: list[int] = []
    watcher = RedemptionWatcher(on_dispute=disputes.append, items=frozenset({0}))
    apply(store,
          redeemed(0, 10, item=0), redeemed(1, 10, customer=BOB, item=2),
          log("Fulfilled", 11, redemptionId=1, deliveryCommitment=b"\x22" * 32),
          log("Disputed", 11, 1, redemptionId=1, customer=BOB),
          log("PriceChangeAnnounced", 12, itemId=2, oldPrice=5, newPrice=6, effectiveAt=1),
          log("PriceChangeAnnounced", 12, 1, itemId=0, oldPrice=5, newPrice=7, effectiveAt=1),
          watcher=watcher)
    assert states(store) == {0: "pending"}
    assert announcements(store) == [(0, "7", 1, "announced")]
    assert "never saw redeemed" not in caplog.text and "disputed" not in caplog.text
    assert disputes == []  # another brand's dispute is neither logged nor counted here


def test_with_a_brand_only_that_brands_redemptions_are_kept(store, caplog) -> None:
    """Every TierRedemption event names the brand (an item's is kept for good): a brand's oracle
    handles its own brand's redemptions and price changes, whatever the item ids, and stays quiet
    about another brand's. (Found by a review: price changes were listed for every brand.)"""
    disputes: list[int] = []
    watcher = RedemptionWatcher(on_dispute=disputes.append, brand_id=1)
    apply(store,
          redeemed(0, 10, item=0, brand=1), redeemed(1, 10, customer=BOB, item=0, brand=2),
          redeemed(2, 10, item=5, brand=1),
          log("Fulfilled", 11, redemptionId=1, brandId=2, deliveryCommitment=b"\x22" * 32),
          log("Disputed", 11, 1, redemptionId=1, customer=BOB, brandId=2),
          log("PriceChangeAnnounced", 12, itemId=0, brandId=2, oldPrice=5, newPrice=6, effectiveAt=1),
          log("PriceChangeAnnounced", 12, 1, itemId=5, brandId=1, oldPrice=5, newPrice=7, effectiveAt=1),
          watcher=watcher)
    assert states(store) == {0: "pending", 2: "pending"}
    assert announcements(store) == [(5, "7", 1, "announced")]  # another brand's item 0 is not listed
    assert "never saw redeemed" not in caplog.text and "disputed" not in caplog.text
    assert disputes == []
    # The brand's own event for a redemption it never saw is still worth a warning (start_block).
    apply(store, log("Fulfilled", 13, redemptionId=9, brandId=1, deliveryCommitment=b"\x33" * 32), watcher=watcher)
    assert "Fulfilled for redemption 9, which this oracle never saw redeemed (start_block too late?)" in caplog.text


def test_redemptions_stored_before_catalog_items_was_set_are_not_worked_for_other_items(store) -> None:
    """An outbox from before chain.catalog_items may hold other brands' pending redemptions: the
    fulfiller's queue leaves them alone once the items are set."""
    apply(store, redeemed(0, 10, item=0), redeemed(1, 10, customer=BOB, item=2))
    assert [r.redemption_id for r in store.due(now=2e9)] == [0, 1]
    assert [r.redemption_id for r in store.due(now=2e9, items=frozenset({0}))] == [0]

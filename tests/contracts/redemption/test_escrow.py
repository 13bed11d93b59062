"""The escrow invariant: the contract holds exactly the price paid for every open redemption
(Pending, Fulfilled, Disputed); a refund returns what was paid, a settlement burns it."""

import random

import brownie
import pytest

from .helpers import (
    BALANCE_EACH,
    COIN,
    DISCOUNT,
    DISPUTED,
    EBOOK,
    FULFILLED,
    PENDING,
    REFUNDED,
    SETTLED,
    TEST_ITEM_ID,
    TEST_ITEM_PRICE,
    error,
    make_item,
)

DISPUTE_WINDOW = 1209600
NOTICE = 604800
OPEN = (PENDING, FULFILLED, DISPUTED)


def escrow_on_chain(redemption):
    """Sum of pricePaid over open redemptions, read from the chain."""
    total = 0
    for rid in range(redemption.redemptionCount()):
        record = redemption.redemptionOf(rid)
        if record[3] in OPEN:
            total += record[4]
    return total


def test_escrow_matches_open_redemptions_after_a_mix(
    redemption, coin, chain, fulfiller, arbiter, cataloguer, alice, bob
):
    redemption.updateItem(TEST_ITEM_ID, make_item(stock=6), {"from": cataloguer})
    supply = coin.totalSupply()
    ids = [redemption.redeem(TEST_ITEM_ID, TEST_ITEM_PRICE, {"from": c}).return_value for c in (alice, bob) * 3]
    for rid in ids[:5]:
        redemption.fulfil(rid, b"\x01" * 32, {"from": fulfiller})
    redemption.dispute(ids[0], {"from": alice})
    redemption.dispute(ids[1], {"from": bob})
    redemption.refund(ids[0], {"from": arbiter})  # Disputed -> Refunded
    redemption.rejectDispute(ids[1], {"from": arbiter})  # Disputed -> Settled
    redemption.refund(ids[5], {"from": fulfiller})  # Pending -> Refunded
    chain.sleep(DISPUTE_WINDOW + 1)
    redemption.settle(ids[2], {"from": bob})  # Fulfilled -> Settled
    # open: ids[3], ids[4] (Fulfilled)
    assert coin.balanceOf(redemption) == escrow_on_chain(redemption) == 2 * TEST_ITEM_PRICE
    assert coin.totalSupply() == supply - 2 * TEST_ITEM_PRICE
    assert coin.balanceOf(alice) + coin.balanceOf(bob) == 2 * BALANCE_EACH - 4 * TEST_ITEM_PRICE


def test_refund_returns_the_price_paid_after_a_price_rise(redemption, coin, chain, arbiter, cataloguer, alice):
    rid = redemption.redeem(TEST_ITEM_ID, TEST_ITEM_PRICE, {"from": alice}).return_value
    redemption.announcePrice(TEST_ITEM_ID, 40 * COIN, {"from": cataloguer})
    chain.sleep(NOTICE + 1)
    redemption.redeem(TEST_ITEM_ID, 40 * COIN, {"from": alice})  # the new price is in force
    tx = redemption.refund(rid, {"from": arbiter})
    assert tx.events["Refunded"]["amount"] == TEST_ITEM_PRICE
    assert coin.balanceOf(redemption) == 40 * COIN
    assert coin.balanceOf(alice) == BALANCE_EACH - 40 * COIN


def test_refund_returns_the_price_paid_after_a_price_cut(redemption, coin, chain, fulfiller, cataloguer, alice):
    rid = redemption.redeem(TEST_ITEM_ID, TEST_ITEM_PRICE, {"from": alice}).return_value
    redemption.announcePrice(TEST_ITEM_ID, 1 * COIN, {"from": cataloguer})
    chain.sleep(NOTICE + 1)
    chain.mine()
    assert redemption.priceOf(TEST_ITEM_ID) == 1 * COIN
    tx = redemption.refund(rid, {"from": fulfiller})
    assert tx.events["Refunded"]["amount"] == TEST_ITEM_PRICE
    assert coin.balanceOf(alice) == BALANCE_EACH
    assert coin.balanceOf(redemption) == 0


def test_settlement_burns_the_price_paid_not_the_current_price(redemption, coin, chain, fulfiller, cataloguer, alice):
    rid = redemption.redeem(TEST_ITEM_ID, TEST_ITEM_PRICE, {"from": alice}).return_value
    redemption.fulfil(rid, b"\x01" * 32, {"from": fulfiller})
    redemption.announcePrice(TEST_ITEM_ID, 40 * COIN, {"from": cataloguer})
    # Read before moving time: under `--coverage` brownie runs a view as a transaction and
    # reverts to a snapshot afterwards, which on Anvil also takes back a pending chain.sleep.
    supply = coin.totalSupply()
    chain.sleep(DISPUTE_WINDOW + 1)
    tx = redemption.settle(rid, {"from": alice})
    assert tx.events["Settled"]["amountBurned"] == TEST_ITEM_PRICE
    assert coin.totalSupply() == supply - TEST_ITEM_PRICE


def test_customer_cannot_send_coins_into_the_escrow(redemption, coin, alice):
    with brownie.reverts(revert_pattern=error("TransferRestricted", alice, redemption, alice)):
        coin.transfer(redemption, TEST_ITEM_PRICE, {"from": alice})
    assert coin.balanceOf(redemption) == 0


class EscrowModel:
    """A Python model of the redemption contract's escrow, driven by random actions.

    Each action predicts its call's outcome (success, or the exact custom error) from the model,
    performs it, and updates the model; `check_escrow` runs after every action and
    `check_everything` at the end of a sequence.
    """

    def __init__(self, redemption, coin, chain, customers, fulfiller, arbiter, cataloguer, outsider):
        self.redemption = redemption
        self.coin = coin
        self.chain = chain
        self.customers = customers
        self.fulfiller = fulfiller
        self.arbiter = arbiter
        self.cataloguer = cataloguer
        self.outsider = outsider
        self.items = [TEST_ITEM_ID, DISCOUNT, EBOOK]
        self.limits = {TEST_ITEM_ID: 0, DISCOUNT: 3, EBOOK: 0}
        self.start_supply = coin.totalSupply()
        self.stock = {i: redemption.itemOf(i)[1] for i in self.items}
        self.balance = {c: coin.balanceOf(c) for c in customers}
        self.count = {(i, c): 0 for i in self.items for c in customers}
        self.records = []  # [customer, item, status, pricePaid, closesAt]
        self.deadlines = []  # effectiveAt of every price announcement
        self.burned = 0

    def _away_from_boundaries(self):
        """Moves time on if the next block could land within seconds of a deadline, so that
        the model's prediction does not hang on the exact second a block gets."""
        now = self.chain.time()
        deadlines = [r[4] for r in self.records if r[2] == FULFILLED] + self.deadlines
        if any(-5 <= deadline - now <= 5 for deadline in deadlines):
            self.chain.sleep(12)
            self.chain.mine()

    def _record(self, index):
        if not self.records:
            return None, None
        rid = index % len(self.records)
        return rid, self.records[rid]

    def redeem(self, who, which):
        self._away_from_boundaries()
        customer = self.customers[who % 2]
        item = self.items[which % 3]
        price = self.redemption.priceOf(item)
        limit = self.limits[item]
        if self.stock[item] == 0:
            expected = error("InsufficientStock", item, 0)
        elif limit and self.count[(item, customer)] >= limit:
            expected = error("CustomerLimitReached", item, limit)
        elif self.balance[customer] < price:
            expected = error("ERC20InsufficientBalance", customer, self.balance[customer], price)
        else:
            tx = self.redemption.redeem(item, price, {"from": customer})
            assert tx.return_value == len(self.records)
            assert tx.events["Redeemed"]["price"] == price
            self.records.append([customer, item, PENDING, price, 0])
            self.balance[customer] -= price
            self.stock[item] -= 1
            self.count[(item, customer)] += 1
            return
        with brownie.reverts(revert_pattern=expected):
            self.redemption.redeem(item, price, {"from": customer})

    def fulfil(self, index, _):
        rid, record = self._record(index)
        if record is None:
            return
        if record[2] != PENDING:
            with brownie.reverts(revert_pattern=error("InvalidStatus", rid, record[2])):
                self.redemption.fulfil(rid, b"\x02" * 32, {"from": self.fulfiller})
            return
        tx = self.redemption.fulfil(rid, b"\x02" * 32, {"from": self.fulfiller})
        record[2] = FULFILLED
        record[4] = tx.timestamp + DISPUTE_WINDOW

    def dispute(self, index, _):
        self._away_from_boundaries()
        rid, record = self._record(index)
        if record is None:
            return
        customer = record[0]
        if record[2] != FULFILLED:
            expected = error("InvalidStatus", rid, record[2])
        elif self.chain.time() > record[4]:
            expected = error("DisputeWindowClosed", rid, record[4])
        else:
            self.redemption.dispute(rid, {"from": customer})
            record[2] = DISPUTED
            return
        with brownie.reverts(revert_pattern=expected):
            self.redemption.dispute(rid, {"from": customer})

    def refund(self, index, who):
        rid, record = self._record(index)
        if record is None:
            return
        actor = [self.arbiter, self.fulfiller, record[0]][who % 3]
        status = record[2]
        if actor == self.arbiter:
            allowed = status in (PENDING, DISPUTED)
        else:
            allowed = actor == self.fulfiller and status == PENDING
        if not allowed:
            if status in (PENDING, DISPUTED):
                expected = error("NotAuthorisedToRefund", rid, actor)
            else:
                expected = error("InvalidStatus", rid, status)
            with brownie.reverts(revert_pattern=expected):
                self.redemption.refund(rid, {"from": actor})
            return
        tx = self.redemption.refund(rid, {"from": actor})
        assert tx.events["Refunded"]["amount"] == record[3]  # exactly what was paid
        customer, item = record[0], record[1]
        self.balance[customer] += record[3]
        self.count[(item, customer)] -= 1
        if status == PENDING:
            self.stock[item] += 1
        record[2] = REFUNDED

    def reject_dispute(self, index, _):
        rid, record = self._record(index)
        if record is None:
            return
        if record[2] != DISPUTED:
            with brownie.reverts(revert_pattern=error("InvalidStatus", rid, record[2])):
                self.redemption.rejectDispute(rid, {"from": self.arbiter})
            return
        tx = self.redemption.rejectDispute(rid, {"from": self.arbiter})
        assert tx.events["Settled"]["amountBurned"] == record[3]
        self.burned += record[3]
        record[2] = SETTLED

    def settle(self, index, _):
        self._away_from_boundaries()
        rid, record = self._record(index)
        if record is None:
            return
        if record[2] != FULFILLED:
            expected = error("InvalidStatus", rid, record[2])
        elif self.chain.time() <= record[4]:
            expected = error("DisputeWindowOpen", rid, record[4])
        else:
            tx = self.redemption.settle(rid, {"from": self.outsider})
            assert tx.events["Settled"]["amountBurned"] == record[3]
            self.burned += record[3]
            record[2] = SETTLED
            return
        with brownie.reverts(revert_pattern=expected):
            self.redemption.settle(rid, {"from": self.outsider})

    def announce_price(self, which, coins):
        item = self.items[which % 3]
        tx = self.redemption.announcePrice(item, (coins + 1) * COIN, {"from": self.cataloguer})
        self.deadlines.append(tx.events["PriceChangeAnnounced"]["effectiveAt"])

    def sleep(self, which, _):
        self.chain.sleep([3600, 5 * 86400, 15 * 86400][which % 3])
        self.chain.mine()  # so that calls (priceOf) see the new time too

    def check_escrow(self):
        open_total = sum(r[3] for r in self.records if r[2] in OPEN)
        assert self.coin.balanceOf(self.redemption) == open_total
        assert self.coin.totalSupply() == self.start_supply - self.burned

    def check_everything(self):
        self.check_escrow()
        assert escrow_on_chain(self.redemption) == self.coin.balanceOf(self.redemption)
        for customer in self.customers:
            assert self.coin.balanceOf(customer) == self.balance[customer]
        for item in self.items:
            assert self.redemption.itemOf(item)[1] == self.stock[item]
        for (item, customer), count in self.count.items():
            assert self.redemption.redeemedBy(item, customer) == count
        assert self.redemption.redemptionCount() == len(self.records)
        for rid, (customer, item, status, paid, _) in enumerate(self.records):
            on_chain = self.redemption.redemptionOf(rid)
            assert (on_chain[0], on_chain[1], on_chain[3], on_chain[4]) == (customer, item, status, paid)


# Action -> weight: opening and moving redemptions is likelier than the rest.
ACTIONS = {
    "redeem": 3,
    "fulfil": 3,
    "dispute": 2,
    "refund": 2,
    "reject_dispute": 1,
    "settle": 2,
    "announce_price": 1,
    "sleep": 2,
}
STEPS = 30


@pytest.mark.parametrize("seed", range(4))
def test_escrow_holds_exactly_the_open_prices_through_random_actions(
    redemption, coin, chain, alice, bob, fulfiller, arbiter, cataloguer, outsider, seed
):
    """A seeded random walk (reproducible: the seed is the test id) checked against the model."""
    rng = random.Random(seed)
    model = EscrowModel(redemption, coin, chain, [alice, bob], fulfiller, arbiter, cataloguer, outsider)
    names = rng.choices(list(ACTIONS), weights=list(ACTIONS.values()), k=STEPS)
    for name in names:
        getattr(model, name)(rng.randrange(16), rng.randrange(60))
        model.check_escrow()
    model.check_everything()

"""Rules on the TierRedemption: redeem, fulfil, dispute, refund, reject a dispute, settle;
price announcements and cancellations; restocking; the tier schedule."""

from __future__ import annotations

import re

from eth_utils import keccak
from hypothesis import strategies as st

from tests.contracts.revert_patterns import error

from .machine_base import MachineBase
from .model import UINT32_MAX, UINT96_MAX, Item, Redemption, Status, TierSchedule

COIN = 10**18
UNKNOWN_ITEM = 99
COMMITMENT = keccak(text="stateful-delivery")

# Tier schedules a rule may set: valid ones (the development schedule, thresholds low enough
# for the machine's customers to climb, one tier, the largest multiplier, the most tiers, the
# highest threshold) and each kind of invalid one.
SCHEDULES = [
    ([0, 100 * COIN, 500 * COIN, 2000 * COIN], [10_000, 11_000, 12_500, 15_000]),
    ([0, 20 * COIN, 60 * COIN, 120 * COIN], [10_000, 12_000, 15_000, 20_000]),
    ([0], [10_000]),
    ([0, 50 * COIN], [10_000, 100_000]),
    ([], []),  # no tier
    ([5 * COIN], [10_000]),  # the first threshold is not zero
    ([0, 50 * COIN, 50 * COIN], [10_000, 10_000, 10_000]),  # not strictly ascending
    ([0, 10 * COIN], [10_000, 0]),  # a zero multiplier
    ([0, 10 * COIN], [10_000, 100_001]),  # above MAX_MULTIPLIER_BPS
    ([0], [10_000, 11_000]),  # lengths differ
    # The edges, appended so the indices above stay as test_every_branch.py uses them:
    ([i * 10 * COIN for i in range(16)], [10_000 + 500 * i for i in range(16)]),  # MAX_TIERS, valid
    ([i * 10 * COIN for i in range(17)], [10_000] * 17),  # one tier more than MAX_TIERS
    ([0, UINT96_MAX], [10_000, 20_000]),  # the highest threshold a uint96 lifetime can reach
    ([0, UINT96_MAX + 1], [10_000, 20_000]),  # one past it: no lifetime could ever reach it
]


class RedemptionRules(MachineBase):
    st_item = st.integers(0, 4)  # index into item_choices; the last is an item that does not exist
    st_max_price = st.sampled_from(["exact", "exact", "below", "generous"])
    st_same_customer = st.sampled_from([True, True, True, False])
    st_price = st.sampled_from([1 * COIN, 5 * COIN, 10 * COIN, 30 * COIN, 80 * COIN, UINT96_MAX + 1])
    st_stock = st.sampled_from([0, 1, 3, 50])
    st_active = st.sampled_from([True, True, True, False])
    st_bad_window = st.sampled_from([False, False, False, False, True])
    st_schedule = st.integers(0, len(SCHEDULES) - 1)
    st_anyone = st.integers(0, 3)  # a customer or the outsider

    # ------------------------------------------------------------------ helpers

    def _pick(self, pick, wanted: tuple[Status, ...]) -> int:
        """A redemption id: one in a `wanted` status, or any id up to one past the last (not found)."""
        redemptions = self.model.redemption.redemptions
        matching = [i for i, r in enumerate(redemptions) if r.status in wanted]
        return self.choose(pick, matching, list(range(len(redemptions) + 1)))

    def _lookup(self, rid: int, wanted: Status | None = None) -> tuple[Redemption | None, str | None]:
        """_redemption / _redemptionIn: the redemption, or the error of a missing or wrong one."""
        redemptions = self.model.redemption.redemptions
        if rid >= len(redemptions):
            return None, error("RedemptionNotFound", rid)
        redemption = redemptions[rid]
        if wanted is not None and redemption.status != wanted:
            return redemption, error("InvalidStatus", rid, int(redemption.status))
        return redemption, None

    def _catalog_access(self, item_id: int, stored: Item | None, caller) -> str | None:
        """An existing item's brand decides which catalog role may change it: the item is looked
        up first (ItemNotFound), then the caller's role."""
        if stored is None:
            return error("ItemNotFound", item_id)
        return self.unauthorized("redemption", "CATALOG_ROLE" if stored.brand == 1 else "CATALOG_ROLE_2", caller)

    def _role(self, name: str, redemption: Redemption | None) -> str:
        """The per-brand role `name` of the redemption's item's brand (brand 1's for none)."""
        if redemption is None or self.model.redemption.items[redemption.item_id].brand == 1:
            return name
        return name + "_2"

    def _coin_pays_out(self) -> str | None:
        """A refund's transfer or a settlement's burn: the coin refuses both while paused."""
        return error("EnforcedPause") if self.model.coin.paused else None

    # ------------------------------------------------------------------ redemption lifecycle

    def rule_redeem(self, who="st_customer", item="st_item", max_price="st_max_price"):
        now = self.clear_of_deadlines()
        customer = self.customers[who]
        item_id = self.item_choices[item]
        model = self.model.redemption
        coin = self.model.coin
        stored = model.items.get(item_id)
        price = model.price_at(stored, now) if stored else 10 * COIN
        limit = {"exact": price, "below": price - 1, "generous": price + 100 * COIN}[max_price]
        tier = model.tiers.tier_of(self.model.registry.lifetime(str(customer)))
        allowance = coin.allowance(str(customer), str(self.redemption))
        expected = self.paused_error(model.paused)
        if expected is None and stored is None:
            expected = error("ItemNotFound", item_id)
        elif expected is None and not stored.active:
            expected = error("ItemNotActive", item_id)
        elif expected is None and stored.stock == 0:
            expected = error("InsufficientStock", item_id, 0)
        elif expected is None and tier < stored.min_tier:
            expected = error("TierTooLow", item_id, stored.min_tier, tier)
        elif (
            expected is None
            and stored.per_customer_limit
            and model.redeemed_by[(item_id, str(customer).lower())] >= stored.per_customer_limit
        ):
            expected = error("CustomerLimitReached", item_id, stored.per_customer_limit)
        elif expected is None and price > limit:
            expected = error("PriceAboveMaximum", item_id, price, limit)
        elif expected is None and allowance < price:
            expected = error("ERC20InsufficientAllowance", self.redemption, allowance, price)
        elif expected is None and coin.paused:
            expected = error("EnforcedPause")
        elif expected is None and coin.balance(str(customer)) < price:
            expected = error("ERC20InsufficientBalance", customer, coin.balance(str(customer)), price)
        tx = self.call("redeem", expected, self.redemption.redeem, item_id, limit, sender=customer)
        if tx is None:
            return
        event = tx.events["Redeemed"]
        rid = len(model.redemptions)
        assert (event["redemptionId"], event["price"], event["tier"]) == (rid, price, tier)
        model.apply_due_price(stored, tx.timestamp)
        stored.stock -= 1
        stored.taken += 1
        model.redeemed_by[(item_id, str(customer).lower())] += 1
        model.redemptions.append(Redemption(str(customer), item_id, Status.PENDING, price))
        model.paid[str(customer).lower()] += price
        coin.spend_allowance(str(customer), str(self.redemption), price)
        coin.move(str(customer), str(self.redemption), price)

    def rule_fulfil(self, pick="st_pick", operator="st_operator"):
        caller = self.operators[operator]
        rid = self._pick(pick, (Status.PENDING,))
        model = self.model.redemption
        # The redemption is looked up first: its brand decides which fulfiller role may act.
        redemption, missing = self._lookup(rid)
        expected = self.paused_error(model.paused) or missing
        expected = expected or self.unauthorized("redemption", self._role("FULFILLER_ROLE", redemption), caller)
        expected = expected or self._lookup(rid, Status.PENDING)[1]
        tx = self.call("fulfil", expected, self.redemption.fulfil, rid, COMMITMENT, sender=caller)
        if tx is not None:
            redemption.status = Status.FULFILLED
            redemption.fulfilled_at = tx.timestamp
            redemption.pause_clock_at_fulfil = model.paused_seconds

    def rule_dispute(self, pick="st_pick", same_customer="st_same_customer", other="st_customer"):
        now = self.clear_of_deadlines()
        rid = self._pick(pick, (Status.FULFILLED,))
        model = self.model.redemption
        redemption, lookup_error = self._lookup(rid, Status.FULFILLED)
        caller = self.customers[other]
        if redemption is not None and same_customer:
            caller = next(c for c in self.customers if str(c).lower() == redemption.customer.lower())
        expected = self.paused_error(model.paused) or lookup_error
        if expected is None and str(caller).lower() != redemption.customer.lower():
            expected = error("NotRedemptionCustomer", rid, caller)
        if expected is None and now > model.closes_at(redemption):
            expected = error("DisputeWindowClosed", rid, model.closes_at(redemption))
        if self.call("dispute", expected, self.redemption.dispute, rid, sender=caller):
            redemption.status = Status.DISPUTED

    def rule_refund(self, pick="st_pick", operator="st_operator"):
        """Arbiters refund pending and disputed redemptions, fulfillers pending ones; exactly
        the price paid goes back, once."""
        caller = self.operators[operator]
        rid = self._pick(pick, (Status.PENDING, Status.DISPUTED))
        model = self.model.redemption
        redemption, expected = self._lookup(rid)
        expected = self.paused_error(model.paused) or expected
        if expected is None:
            status = redemption.status
            if self.has_role("redemption", "ARBITER_ROLE", caller):
                allowed = status in (Status.PENDING, Status.DISPUTED)
            else:
                allowed = (self.has_role("redemption", self._role("FULFILLER_ROLE", redemption), caller)
                           and status == Status.PENDING)
            if not allowed:
                if status in (Status.PENDING, Status.DISPUTED):
                    expected = error("NotAuthorisedToRefund", rid, caller)
                else:
                    expected = error("InvalidStatus", rid, int(status))
            else:
                expected = self._coin_pays_out()
        tx = self.call("refund", expected, self.redemption.refund, rid, sender=caller)
        if tx is None:
            return
        assert tx.events["Refunded"]["amount"] == redemption.price_paid
        item = model.items[redemption.item_id]
        if redemption.status == Status.PENDING and item.stock < UINT32_MAX:
            item.stock += 1
            item.given += 1
        redemption.status = Status.REFUNDED
        model.redeemed_by[(redemption.item_id, redemption.customer.lower())] -= 1
        model.refunded[redemption.customer.lower()] += redemption.price_paid
        self.model.coin.move(str(self.redemption), redemption.customer, redemption.price_paid)

    def rule_reject_dispute(self, pick="st_pick", operator="st_operator"):
        caller = self.operators[operator]
        rid = self._pick(pick, (Status.DISPUTED,))
        model = self.model.redemption
        expected = self.paused_error(model.paused) or self.unauthorized("redemption", "ARBITER_ROLE", caller)
        redemption, lookup_error = self._lookup(rid, Status.DISPUTED)
        expected = expected or lookup_error or self._coin_pays_out()
        tx = self.call("reject_dispute", expected, self.redemption.rejectDispute, rid, sender=caller)
        if tx is not None:
            assert tx.events["Settled"]["amountBurned"] == redemption.price_paid
            redemption.status = Status.SETTLED
            self.model.coin.burn(str(self.redemption), redemption.price_paid)

    def rule_settle(self, pick="st_pick", anyone="st_anyone"):
        """Anyone settles a fulfilled redemption once its (pause-extended) window closed."""
        now = self.clear_of_deadlines()
        caller = (self.customers + [self.outsider])[anyone]
        rid = self._pick(pick, (Status.FULFILLED,))
        model = self.model.redemption
        redemption, lookup_error = self._lookup(rid, Status.FULFILLED)
        expected = self.paused_error(model.paused) or lookup_error
        if expected is None and now <= model.closes_at(redemption):
            expected = error("DisputeWindowOpen", rid, model.closes_at(redemption))
        expected = expected or self._coin_pays_out()
        tx = self.call("settle", expected, self.redemption.settle, rid, sender=caller)
        if tx is not None:
            assert tx.events["Settled"]["amountBurned"] == redemption.price_paid
            redemption.status = Status.SETTLED
            self.model.coin.burn(str(self.redemption), redemption.price_paid)

    # ------------------------------------------------------------------ catalog and prices

    def rule_announce_price(self, item="st_item", price="st_price", operator="st_operator"):
        """A new price, effective one notice period later; redemptions before then pay the old one."""
        now = self.clear_of_deadlines()
        caller = self.operators[operator]
        item_id = self.item_choices[item]
        stored = self.model.redemption.items.get(item_id)
        expected = self._catalog_access(item_id, stored, caller)
        if expected is None and price > UINT96_MAX:
            expected = error("PriceTooLarge", price, UINT96_MAX)
        if expected is None and price > self.model.redemption.price_at(stored, now) and not stored.redeemable_at(now):
            expected = error("RiseNeedsRedeemableItem", item_id)
        tx = self.call("announce_price", expected, self.redemption.announcePrice, item_id, price, sender=caller)
        if tx is None:
            return
        event = tx.events["PriceChangeAnnounced"]
        model = self.model.redemption
        assert (event["oldPrice"], event["newPrice"]) == (model.price_at(stored, now), price)
        assert event["effectiveAt"] == tx.timestamp + model.notice_period
        model.apply_due_price(stored, tx.timestamp)
        stored.pending_price = (price, event["effectiveAt"], model.paused_seconds_at(tx.timestamp))

    def rule_cancel_price_change(self, item="st_pick", operator="st_operator"):
        now = self.clear_of_deadlines()
        caller = self.operators[operator]
        model = self.model.redemption
        pending = [i for i, it in model.items.items()
                   if it.pending_price and now < it.effective_at(model.paused_seconds_at(now))]
        item_id = self.choose(item, pending, self.item_choices)
        stored = self.model.redemption.items.get(item_id)
        expected = self._catalog_access(item_id, stored, caller)
        if expected is None and (stored.pending_price is None
                                 or now >= stored.effective_at(model.paused_seconds_at(now))):
            expected = error("NoPendingPriceChange", item_id)
        # A change already due counts as none pending; the revert also undoes its application,
        # so the model keeps it as it is (price_at applies it).
        if self.call("cancel_price_change", expected, self.redemption.cancelPriceChange, item_id, sender=caller):
            stored.pending_price = None

    def rule_update_item(self, item="st_item", stock="st_stock", active="st_active", bad_window="st_bad_window", operator="st_operator"):
        """Restocking, withdrawing and re-listing an item; its price cannot change this way, and
        while a rise waits for its notice the item cannot be made harder to get."""
        now = self.clear_of_deadlines()
        caller = self.operators[operator]
        item_id = self.item_choices[item]
        stored = self.model.redemption.items.get(item_id)
        window = (100, 50) if bad_window else (0, 0)
        expected = self._catalog_access(item_id, stored, caller)
        if expected is None and bad_window:
            expected = error("InvalidWindow", *window)
        base = stored.as_tuple() if stored else (COIN, 1, 0, 0, 0, 0, 0, True)
        # The price field is ignored by updateItem: send a different one to prove it.
        updated = (base[0] + 1, stock, base[2], base[3], base[4], window[0], window[1], active)
        if expected is None:
            expected = self._terms_locked(item_id, stored, updated, now)
        tx = self.call("update_item", expected, self.redemption.updateItem, item_id, updated, sender=caller)
        if tx is None:
            return
        self.model.redemption.apply_due_price(stored, tx.timestamp)
        stored.stock, stored.active = stock, active
        stored.given, stored.taken = stock, 0
        assert tx.events["ItemUpdated"]["item"][0] == stored.price  # the price in force, not the one sent

    def _terms_locked(self, item_id: int, stored, updated: tuple, now: int) -> str | None:
        """ItemTermsLocked if a rise waits for its notice and `updated` makes the item harder to get."""
        model = self.model.redemption
        if stored.pending_price is None or not stored.harder_to_get(updated):
            return None
        until = stored.effective_at(model.paused_seconds_at(now))
        if now >= until or stored.pending_price[0] <= stored.price:
            return None
        if model.paused:  # the effect time moves on with the pause: any value of it
            return error("ItemTermsLocked", item_id) + re.escape(", ") + r"\d+"
        return error("ItemTermsLocked", item_id, until)

    def rule_set_tiers(self, schedule="st_schedule", operator="st_operator"):
        caller = self.operators[operator]
        thresholds, multipliers = SCHEDULES[schedule]
        model = self.model.redemption
        expected = self.unauthorized("redemption", "DEFAULT_ADMIN_ROLE", caller)
        if expected is None:
            index = TierSchedule.invalid_index(thresholds, multipliers, model.max_tiers, model.max_multiplier_bps)
            if index is not None:
                expected = error("InvalidTierSchedule", index)
        if self.call("set_tiers", expected, self.redemption.setTiers, thresholds, multipliers, sender=caller):
            model.tiers = TierSchedule(list(thresholds), list(multipliers))

"""A pure-Python model of the three ServiceCoin contracts, for the stateful property suite.

Nothing here talks to a chain: the state machine (machine.py) asks the model what a call must
do (succeed, or revert with which error), sends the call, and then applies the same change
here. Each rule below mirrors the contract's own order of checks, so the model predicts the
exact custom error a call reverts with. Amounts are integers in the coin's smallest unit.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from enum import IntEnum

UINT96_MAX = 2**96 - 1
UINT24_MAX = 2**24 - 1
UINT32_MAX = 2**32 - 1
BPS = 10_000
ZERO_ADDRESS = "0x" + "00" * 20


class SkipReason(IntEnum):
    """IFeedbackRegistry.SkipReason, in declaration order."""

    ALREADY_RECORDED = 0
    KIND_NOT_REWARDED = 1
    ZERO_CUSTOMER = 2
    OCCURS_IN_FUTURE = 3
    CUSTOMER_CAP_REACHED = 4
    BRAND_CAP_REACHED = 5
    LIFETIME_LIMIT_REACHED = 6
    SUPPLY_LIMIT_REACHED = 7


class Status(IntEnum):
    """ITierRedemption.Status, in declaration order."""

    NONE = 0
    PENDING = 1
    FULFILLED = 2
    DISPUTED = 3
    REFUNDED = 4
    SETTLED = 5


OPEN_STATUSES = (Status.PENDING, Status.FULFILLED, Status.DISPUTED)


# ====================================================================== tiers


@dataclass
class TierSchedule:
    thresholds: list[int]
    multipliers_bps: list[int]

    def tier_of(self, lifetime: int) -> int:
        """TierRedemption.tierOf: the highest tier whose threshold `lifetime` reaches."""
        return max(i for i, threshold in enumerate(self.thresholds) if lifetime >= threshold)

    def multiplier_bps(self, lifetime: int) -> int:
        return self.multipliers_bps[self.tier_of(lifetime)]

    def reward(self, base: int, lifetime: int) -> int:
        """The registry's rule: base reward times the tier multiplier, rounded down."""
        return base * self.multiplier_bps(lifetime) // BPS

    @staticmethod
    def invalid_index(thresholds: list[int], multipliers: list[int], max_tiers: int, max_multiplier: int) -> int | None:
        """The index TierRedemption.setTiers reports in InvalidTierSchedule, or None if valid."""
        count = len(thresholds)
        if count == 0 or count > max_tiers or len(multipliers) != count:
            return count
        for i in range(count):
            threshold_ok = (
                thresholds[0] == 0 if i == 0 else thresholds[i - 1] < thresholds[i] <= UINT96_MAX
            )
            if not threshold_ok or multipliers[i] == 0 or multipliers[i] > max_multiplier:
                return i
        return None


# ====================================================================== registry


@dataclass
class Account:
    lifetime: int = 0
    rewards_in_period: int = 0
    period: int = 0
    welcomed: bool = False

    def as_tuple(self) -> tuple[int, int, int, bool]:
        return (self.lifetime, self.rewards_in_period, self.period, self.welcomed)


@dataclass
class Brand:
    cap: int
    issued_in_period: int = 0
    period: int = 0
    active: bool = True


@dataclass(frozen=True)
class Record:
    """One FeedbackRecord as the model sees it (the chain gets it through oracle.typed_data)."""

    event_id: bytes
    customer: str
    seq: int
    kind: int
    occurred_at: int


@dataclass(frozen=True)
class Outcome:
    """What the registry does with one record of an accepted batch."""

    record: Record
    reward: int = 0
    welcome: int = 0
    skip: SkipReason | None = None

    @property
    def minted(self) -> int:
        return self.reward + self.welcome


@dataclass
class RegistryModel:
    period_length: int
    customer_cap: int
    welcome_bonus: int
    base_rewards: dict[int, int]
    brands: dict[int, Brand]
    # The machine's one brand's signers and quorum (signers are per brand on chain; keeping one
    # brand apart from another is tests/contracts/registry/test_signers.py's).
    signers: set[str]
    quorum: int
    paused: bool = False
    accounts: dict[str, Account] = field(default_factory=dict)
    recorded: set[tuple[int, int]] = field(default_factory=set)
    # Every reward ever granted, as (brand, seq, event id): the record-once invariant's ledger.
    rewarded: list[tuple[int, int, bytes]] = field(default_factory=list)

    def account(self, customer: str) -> Account:
        return self.accounts.setdefault(customer.lower(), Account())

    def lifetime(self, customer: str) -> int:
        return self.account(customer).lifetime

    def apply_batch(
        self, brand_id: int, records: list[Record], timestamp: int, tiers: TierSchedule, mintable: int
    ) -> list[Outcome]:
        """FeedbackRegistry.submitBatch after its checks passed: rewards or skips each record in
        order, exactly as `RecordRewards.applyRecord` does, and returns what happened to each. `mintable` is
        the coin's room under its MAX_SUPPLY when the batch starts."""
        period = timestamp // self.period_length
        brand = self.brands[brand_id]
        if brand.period != period:
            brand.period, brand.issued_in_period = period, 0
        outcomes = []
        for record in records:
            outcome = self._apply_record(brand_id, brand, record, period, timestamp, tiers, mintable)
            mintable -= outcome.minted
            outcomes.append(outcome)
        return outcomes

    def preview_batch(
        self, brand_id: int, records: list[Record], timestamp: int, tiers: TierSchedule, mintable: int
    ) -> list[Outcome]:
        """apply_batch on a copy: what a batch would do, leaving the model as it is."""
        return copy.deepcopy(self).apply_batch(brand_id, records, timestamp, tiers, mintable)

    def _apply_record(
        self,
        brand_id: int,
        brand: Brand,
        record: Record,
        period: int,
        timestamp: int,
        tiers: TierSchedule,
        mintable: int,
    ) -> Outcome:
        if (brand_id, record.seq) in self.recorded:
            return Outcome(record, skip=SkipReason.ALREADY_RECORDED)
        base = self.base_rewards.get(record.kind, 0)
        if base == 0:
            return Outcome(record, skip=SkipReason.KIND_NOT_REWARDED)
        if int(record.customer, 16) == 0:
            return Outcome(record, skip=SkipReason.ZERO_CUSTOMER)
        if record.occurred_at > timestamp:
            return Outcome(record, skip=SkipReason.OCCURS_IN_FUTURE)
        account = copy.copy(self.account(record.customer))
        if account.period != period:
            account.period, account.rewards_in_period = period, 0
        reward = tiers.reward(base, account.lifetime)
        if account.rewards_in_period + 1 > self.customer_cap:  # a count of rewarded records
            return Outcome(record, skip=SkipReason.CUSTOMER_CAP_REACHED)
        welcome = 0 if account.welcomed else self.welcome_bonus
        if brand.issued_in_period + reward + welcome > brand.cap:
            return Outcome(record, skip=SkipReason.BRAND_CAP_REACHED)
        if reward + welcome > mintable:
            return Outcome(record, skip=SkipReason.SUPPLY_LIMIT_REACHED)
        if account.lifetime + reward > UINT96_MAX:
            return Outcome(record, skip=SkipReason.LIFETIME_LIMIT_REACHED)
        self.recorded.add((brand_id, record.seq))
        self.rewarded.append((brand_id, record.seq, record.event_id))
        account.rewards_in_period += 1
        account.lifetime += reward
        account.welcomed = True
        brand.issued_in_period += reward + welcome
        self.accounts[record.customer.lower()] = account
        return Outcome(record, reward=reward, welcome=welcome)


# ====================================================================== coin


@dataclass
class CoinModel:
    balances: Counter = field(default_factory=Counter)
    allowances: dict[tuple[str, str], int] = field(default_factory=dict)
    transfers_open: bool = False
    paused: bool = False
    minted: int = 0
    burned: int = 0

    @property
    def supply(self) -> int:
        return sum(self.balances.values())

    @property
    def mintable(self) -> int:
        """The coin's room under MAX_SUPPLY (uint96's maximum)."""
        return UINT96_MAX - self.supply

    def balance(self, holder: str) -> int:
        return self.balances[holder.lower()]

    def allowance(self, owner: str, spender: str) -> int:
        return self.allowances.get((owner.lower(), spender.lower()), 0)

    def mint(self, to: str, amount: int) -> None:
        self.balances[to.lower()] += amount
        self.minted += amount

    def burn(self, holder: str, amount: int) -> None:
        assert self.balance(holder) >= amount, "the model burned more than held"
        self.balances[holder.lower()] -= amount
        self.burned += amount

    def move(self, source: str, target: str, amount: int) -> None:
        assert self.balance(source) >= amount, "the model moved more than held"
        self.balances[source.lower()] -= amount
        self.balances[target.lower()] += amount

    def approve(self, owner: str, spender: str, amount: int) -> None:
        self.allowances[(owner.lower(), spender.lower())] = amount

    def spend_allowance(self, owner: str, spender: str, amount: int) -> None:
        current = self.allowance(owner, spender)
        if current != 2**256 - 1:  # OpenZeppelin: an infinite allowance is never spent
            self.approve(owner, spender, current - amount)


# ====================================================================== redemption


@dataclass
class Item:
    price: int
    stock: int
    per_customer_limit: int
    min_tier: int
    category: int
    available_from: int
    available_until: int
    active: bool
    # The brand the item belongs to, for good: its catalog and fulfiller roles are that brand's.
    brand: int = 1
    # (newPrice, effectiveAt as announced, the contract's paused seconds at the announcement)
    pending_price: tuple[int, int, int] | None = None
    # The stock ledger: units put on the shelf since the last restock (restock, refunds of
    # undelivered units) and units taken since then. taken <= given always; stock = given - taken.
    given: int = 0
    taken: int = 0

    def effective_at(self, paused_seconds: int) -> int:
        """TierRedemption._effectiveAt: the announced time, later by the pauses since (given the
        contract's paused seconds so far, the current pause included)."""
        assert self.pending_price is not None
        new_price, announced, clock = self.pending_price
        return announced + (paused_seconds - clock)

    def price_at(self, timestamp: int, paused_seconds: int) -> int:
        """TierRedemption.priceOf: an announced price applies from its effect time on."""
        if self.pending_price and timestamp >= self.effective_at(paused_seconds):
            return self.pending_price[0]
        return self.price

    def apply_due_price(self, timestamp: int, paused_seconds: int) -> int:
        """TierRedemption._applyDuePrice: a due announcement becomes the item's price."""
        if self.pending_price and timestamp >= self.effective_at(paused_seconds):
            self.price, self.pending_price = self.pending_price[0], None
        return self.price

    def redeemable_at(self, timestamp: int) -> bool:
        """TierRedemption._redeemableNow: listed, in stock, within its window."""
        return (self.active and self.stock != 0 and timestamp >= self.available_from
                and (self.available_until == 0 or timestamp <= self.available_until))

    def harder_to_get(self, updated: tuple) -> bool:
        """TierRedemption._harderToGet, for an ITierRedemption.Item tuple."""
        _, stock, limit, min_tier, _, available_from, available_until, active = updated

        def lower(current: int, new: int) -> bool:  # 0: no bound
            return new != 0 and (current == 0 or new < current)

        return ((self.active and not active) or stock < self.stock or min_tier > self.min_tier
                or lower(self.per_customer_limit, limit) or available_from > self.available_from
                or lower(self.available_until, available_until))

    def as_tuple(self, price: int | None = None) -> tuple:
        """ITierRedemption.Item, as a transaction argument."""
        return (
            self.price if price is None else price,
            self.stock,
            self.per_customer_limit,
            self.min_tier,
            self.category,
            self.available_from,
            self.available_until,
            self.active,
        )


@dataclass
class Redemption:
    customer: str
    item_id: int
    status: Status
    price_paid: int
    fulfilled_at: int = 0
    pause_clock_at_fulfil: int = 0


@dataclass
class RedemptionModel:
    notice_period: int
    dispute_window: int
    tiers: TierSchedule
    items: dict[int, Item]
    max_tiers: int
    max_multiplier_bps: int
    redemptions: list[Redemption] = field(default_factory=list)
    redeemed_by: Counter = field(default_factory=Counter)
    paused: bool = False
    paused_at: int = 0
    paused_seconds: int = 0
    # Per customer: everything paid into escrow and everything refunded out of it.
    paid: Counter = field(default_factory=Counter)
    refunded: Counter = field(default_factory=Counter)

    def paused_seconds_at(self, timestamp: int) -> int:
        """TierRedemption._pausedSecondsNow: seconds spent paused, the current pause included."""
        return self.paused_seconds + (timestamp - self.paused_at if self.paused else 0)

    def price_at(self, item: Item, timestamp: int) -> int:
        return item.price_at(timestamp, self.paused_seconds_at(timestamp))

    def apply_due_price(self, item: Item, timestamp: int) -> int:
        return item.apply_due_price(timestamp, self.paused_seconds_at(timestamp))

    def closes_at(self, redemption: Redemption) -> int:
        """TierRedemption._disputeClosesAt: the window, extended by pauses since fulfilment."""
        return redemption.fulfilled_at + self.dispute_window + (self.paused_seconds - redemption.pause_clock_at_fulfil)

    def escrow(self) -> int:
        """The coins the contract must hold: the price paid of every open redemption."""
        return sum(r.price_paid for r in self.redemptions if r.status in OPEN_STATUSES)

    def statuses(self) -> tuple[int, ...]:
        return tuple(int(r.status) for r in self.redemptions)


# ====================================================================== access control


@dataclass
class RolesModel:
    """Which tracked account holds which role on which contract ("coin", "registry", "redemption")."""

    held: set[tuple[str, str, str]] = field(default_factory=set)

    def has(self, contract: str, role: str, account: str) -> bool:
        return (contract, role, account.lower()) in self.held

    def grant(self, contract: str, role: str, account: str) -> None:
        self.held.add((contract, role, account.lower()))

    def revoke(self, contract: str, role: str, account: str) -> None:
        self.held.discard((contract, role, account.lower()))


@dataclass
class SystemModel:
    """The whole system: what the chain must equal after every step."""

    coin: CoinModel
    registry: RegistryModel
    redemption: RedemptionModel
    roles: RolesModel
    # Coins customers sent to the redemption contract by plain transfer while transfers were
    # open: held there on top of the escrow, and never paid out by a refund.
    donations: int = 0

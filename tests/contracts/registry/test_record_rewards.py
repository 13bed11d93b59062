"""RecordRewards.applyRecord, whose rules are inline assembly, against the plain Solidity it
replaces (contracts/test/RecordRewardsReference.sol; CONVENTIONS.md: assembly only with a test
that proves it equal).

Both run in contracts/test/RecordRewardsHarness.sol over the same records, from the same
bitmap and base rewards, and must leave the same batch (outcomes, accounts, amounts, touched,
sums, the bitmap word held) and the same bitmap words, or revert with the same data. Batches
are drawn so that every rule decides some records: seqs repeat and fall in words already set,
kinds without a base reward, the zero customer, future times, accounts at their cap, at the
edge of the lifetime limit, in another period, welcomed or not, issue limits that the brand's
cap or the coin's supply sets, and tier schedules from none to four tiers, with now and then a
multiplier that overflows or a schedule with fewer multipliers than thresholds (the plain code
panics on both). The registry's own tests (test_rewards, test_skips, test_caps, ...) check the
same rules through submitBatch."""

from __future__ import annotations

import pytest
from brownie import RecordRewardsHarness, chain, web3
from brownie.test import given
from eth_abi import decode
from hypothesis import strategies as st

from .helpers import COIN, UINT24_MAX, UINT96_MAX, call_reverts_with, chain_property_settings

BATCH_TYPES = (
    "(uint32,uint256,uint256,uint256,uint256,uint256[],uint256[],uint256[],uint160[],uint256[],bool[],uint256[],"
    "uint256,uint256,uint256,uint256,uint256)"
)
# Base rewards the harness holds: kinds 6 and 7 have none.
BASE_REWARDS = {0: 5 * COIN, 1: 1, 2: 3 * COIN + 7, 3: UINT96_MAX, 4: 10 * COIN, 5: 2}
KINDS = range(8)
# Bitmap words set before every run (word index -> bits); the others are empty.
PRESET_WORDS = {0: 0b1011 << 60 | 1, 1: 2**256 - 1, 3: 1 << 255}
WORD_INDICES = [0, 1, 2, 3, 4, 2**56 - 1]
NO_WORD = 2**256 - 1

HYPOTHESIS = chain_property_settings(120)


@pytest.fixture(scope="module")
def harness(admin):
    contract = RecordRewardsHarness.deploy({"from": admin})
    for kind, amount in BASE_REWARDS.items():
        contract.setBaseReward(kind, amount, {"from": admin})
    for index, bits in PRESET_WORDS.items():
        contract.setWord(index, bits, {"from": admin})
    return contract


def run(harness, assembled: bool, records: list[tuple], batch: tuple):
    """('ok', (batch after, bitmap words)) or ('reverted', revert data) of one eth_call."""
    tx = {"to": harness.address, "data": harness.run.encode_input(assembled, records, batch, WORD_INDICES)}
    try:
        raw = web3.eth.call(tx)
    except Exception:  # the node's error object, as brownie's web3 raises it
        return "reverted", call_reverts_with(web3, tx)
    return "ok", decode([BATCH_TYPES, "uint256[]"], bytes(raw))


def assert_equal_runs(harness, records, batch):
    plain = run(harness, False, records, batch)
    assembled = run(harness, True, records, batch)
    assert assembled == plain
    return assembled


def account(lifetime: int, period: int, rewards: int, welcomed: bool) -> int:
    """PackedAccount: lifetime in bits 0-95, period 96-127, rewards 128-151, welcomed 152."""
    return lifetime | period << 96 | rewards << 128 | int(welcomed) << 152


def batch_tuple(period, customer_cap, welcome, brand_cap, issue_limit, thresholds, multipliers, index, accounts,
                issued=0):
    count = len(accounts)
    return (period, customer_cap, welcome, brand_cap, issue_limit, thresholds, multipliers, index, accounts,
            [0] * count, [False] * count, [0] * len(index), issued, 0, 0, NO_WORD, 0)


def record(seq, kind, occurred_at, customer=0xC0FFEE, event=1):
    return (event.to_bytes(32, "big"), f"0x{customer:040x}", seq, kind, occurred_at, (event + 1).to_bytes(32, "big"))


@st.composite
def schedules(draw):
    """(thresholds, multipliers): none to four tiers, lowest at 0, strictly ascending; now and
    then a multiplier that overflows base * multiplier, or one multiplier too few."""
    count = draw(st.integers(0, 4))
    steps = draw(st.lists(st.integers(1, 50 * COIN), min_size=count, max_size=count))
    thresholds = [sum(steps[1:k + 1]) for k in range(count)]
    multipliers = draw(st.lists(st.integers(1, 100_000), min_size=count, max_size=count))
    if count and draw(st.integers(0, 9)) == 0:
        multipliers[draw(st.integers(0, count - 1))] = 2**200
    if count > 1 and draw(st.integers(0, 9)) == 0:
        multipliers.pop()
    return thresholds, multipliers


@st.composite
def batches(draw):
    """(records, batch): 1 to 40 records over a pool of 1 to 6 customers."""
    now = chain[-1].timestamp
    period = draw(st.integers(0, 3))
    pool = draw(st.integers(1, 6))
    customer_cap = draw(st.sampled_from([0, 1, 2, 3, 50, UINT24_MAX]))
    lifetime = st.one_of(st.just(0), st.integers(0, 200 * COIN), st.integers(UINT96_MAX - 20 * COIN, UINT96_MAX))
    accounts = [
        account(
            draw(lifetime),
            draw(st.sampled_from([period, period + 1, 0])),
            draw(st.integers(0, min(customer_cap + 1, UINT24_MAX))),
            draw(st.booleans()),
        )
        for _ in range(pool)
    ]
    addresses = [0 if draw(st.integers(0, 9)) == 0 else 0x1000 + j for j in range(pool)]
    size = draw(st.integers(1, 40))
    index = [draw(st.integers(0, pool - 1)) for _ in range(size)]
    seq = st.one_of(st.integers(0, 4 * 256 + 255), st.just(2**64 - 1), st.integers(2**64 - 300, 2**64 - 1))
    occurred = st.sampled_from([0, now - 1_000, now + 10**6, 2**40 - 1])
    records = [
        record(draw(seq), draw(st.sampled_from(KINDS)), draw(occurred), addresses[c], event=n)
        for n, c in enumerate(index)
    ]
    brand_cap = draw(st.sampled_from([0, 10 * COIN, 1_000 * COIN, UINT96_MAX]))
    issue_limit = min(brand_cap, draw(st.sampled_from([0, 30 * COIN, 10**6 * COIN, UINT96_MAX])))
    issued = draw(st.integers(0, issue_limit))
    welcome = draw(st.sampled_from([0, 1, 5 * COIN, UINT96_MAX]))
    thresholds, multipliers = draw(schedules())
    return records, batch_tuple(period, customer_cap, welcome, brand_cap, issue_limit, thresholds, multipliers,
                                index, accounts, issued)


@given(drawn=batches())
@HYPOTHESIS
def test_the_assembly_decides_every_record_as_the_plain_solidity_does(harness, drawn):
    records, batch = drawn
    assert_equal_runs(harness, records, batch)


def test_each_rule_decides_a_record_in_both(harness):
    """One record per outcome, so that a rule dropped from both (which the random batches could
    not see) fails here: the rules themselves, not only the two codes' agreement."""
    now = chain[-1].timestamp
    fresh = account(0, 5, 0, False)
    records = [
        record(0, 0, now - 10),  # seq 0: its bit is preset (PRESET_WORDS[0])
        record(2, 6, now - 10),  # a kind with no base reward
        record(3, 0, now - 10, customer=0),
        record(4, 0, now + 1_000),
        record(5, 0, now - 10),  # customer 0's first reward: 5 coins and the welcome bonus
        record(9, 0, now - 10),  # customer 0 again: at its cap of one a period
        record(6, 4, now - 10),  # customer 1: 10 coins and the welcome bonus
        record(6, 4, now - 10),  # the same seq again in the batch
        record(7, 3, now - 10),  # customer 2, a base reward of 2^96 - 1: past the brand's cap
    ]
    index = [0, 0, 0, 0, 0, 0, 1, 1, 2]
    batch = batch_tuple(5, 1, 5 * COIN, UINT96_MAX, 10**6 * COIN, [], [], index, [fresh, fresh, fresh])
    status, (after, words) = assert_equal_runs(harness, records, batch)
    assert status == "ok"
    skip = [(reason + 1) << 192 for reason in range(8)]
    assert after[11] == (
        skip[0], skip[1], skip[2], skip[3], 5 * COIN << 96 | 5 * COIN, skip[4], 5 * COIN << 96 | 10 * COIN, skip[0],
        skip[5],
    )
    assert after[8] == (account(5 * COIN, 5, 1, True), account(10 * COIN, 5, 1, True), fresh)
    assert after[9] == (10 * COIN, 15 * COIN, 0) and after[10] == (True, True, False)
    assert after[12:15] == (25 * COIN, 2, 25 * COIN)
    assert words[0] == PRESET_WORDS[0] | 1 << 5 | 1 << 6


def test_a_record_past_the_customer_cap_and_the_lifetime_limit(harness):
    now = chain[-1].timestamp
    at_cap = account(0, 2, 3, True)  # three rewarded this period, cap three
    near_limit = account(UINT96_MAX - COIN, 2, 0, True)
    records = [record(8, 0, now - 10), record(9, 0, now - 10)]
    batch = batch_tuple(2, 3, 0, UINT96_MAX, UINT96_MAX, [], [], [0, 1], [at_cap, near_limit])
    _, (after, _) = assert_equal_runs(harness, records, batch)
    assert after[11] == (5 << 192, 7 << 192)  # CustomerCapReached, LifetimeLimitReached
    assert after[13] == 0


def test_the_brand_cap_and_the_supply_limit_are_told_apart(harness):
    now = chain[-1].timestamp
    records = [record(10, 0, now - 10), record(11, 0, now - 10)]
    welcomed = account(0, 0, 0, True)
    brand_bound = batch_tuple(0, 50, 0, 7 * COIN, 7 * COIN, [], [], [0, 0], [welcomed])
    supply_bound = batch_tuple(0, 50, 0, 100 * COIN, 7 * COIN, [], [], [0, 0], [welcomed])
    assert assert_equal_runs(harness, records, brand_bound)[1][0][11] == (5 * COIN, 6 << 192)
    assert assert_equal_runs(harness, records, supply_bound)[1][0][11] == (5 * COIN, 8 << 192)


def test_tiers_multiply_the_base_reward(harness):
    now = chain[-1].timestamp
    thresholds, multipliers = [0, 100 * COIN, 500 * COIN], [10_000, 11_000, 12_500]
    lifetimes = [99 * COIN, 100 * COIN, 499 * COIN, 500 * COIN, 10**6 * COIN]
    accounts = [account(lifetime, 0, 0, True) for lifetime in lifetimes]
    records = [record(20 + j, 0, now - 10) for j in range(len(lifetimes))]
    batch = batch_tuple(0, 50, 0, UINT96_MAX, UINT96_MAX, thresholds, multipliers, list(range(5)), accounts)
    _, (after, _) = assert_equal_runs(harness, records, batch)
    assert after[11] == (5 * COIN, 5_500_000_000_000_000_000, 5_500_000_000_000_000_000, 6_250_000_000_000_000_000,
                         6_250_000_000_000_000_000)


@pytest.mark.parametrize("multipliers,panic", [([10_000, 2**250], 0x11), ([10_000], 0x32)])
def test_a_mad_tier_schedule_panics_in_both(harness, multipliers, panic):
    now = chain[-1].timestamp
    batch = batch_tuple(0, 50, 0, UINT96_MAX, UINT96_MAX, [0, 1], multipliers, [0], [account(5, 0, 0, True)])
    status, data = assert_equal_runs(harness, [record(30, 0, now - 10)], batch)
    assert (status, data) == ("reverted", "0x4e487b71" + f"{panic:064x}")

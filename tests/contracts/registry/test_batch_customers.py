"""BatchCustomers.distinct, whose loop is inline assembly, against the plain Solidity it replaces
(contracts/test/BatchCustomersReference.sol; CONVENTIONS.md: assembly only with a test that
proves it equal).

Both run on the same raw calldata in contracts/test/BatchCustomersHarness.sol, and both are
also checked against the rule itself (each customer once, in order of first appearance; each
record's index among them). Batches come from a small pool of customers, so that most records
repeat one; the pool holds the zero address and addresses that share their low bits (the
table's key), so that lookups probe past taken entries and wrap around the table's end. The
records are packed (PackedFeedbackBatch) with random bytes around each customer, which distinct()
must not read. The harness fills the memory past the free pointer with ones before each call,
as the registry's scratch may leave it, so a table that is not cleared, or a probe that leaves
it, fails here too."""

import random

import pytest
from brownie import BatchCustomersHarness
from brownie.test import given
from hypothesis import strategies as st

from .helpers import call_with_records, chain_property_settings

RESULT_TYPES = ["address[]", "uint256[]"]
ADDRESS_MAX = 2**160 - 1
# The largest table distinct() builds for a batch of up to 120 records has 256 entries: addresses
# ending in these bytes meet in every table, at its start (0x00, 0x01) or at its end (0xff), from
# where a probe wraps around to the start.
SHARED_LOW_BYTES = (0x00, 0x01, 0x7F, 0xFE, 0xFF)
MAX_BATCH_SIZE = 500  # FeedbackRegistry.MAX_BATCH_SIZE

HYPOTHESIS = chain_property_settings(80)


@pytest.fixture(scope="module")
def harness(admin):
    return BatchCustomersHarness.deploy({"from": admin})


def records_of(customers: list[int], seed: int = 0) -> bytes:
    """One packed record per customer: its bytes 32-51; the other 78 are junk (distinct() must
    not read them)."""
    rng = random.Random(seed)
    return b"".join(rng.randbytes(32) + customer.to_bytes(20, "big") + rng.randbytes(46) for customer in customers)


def expected(customer_words: list[int]) -> tuple[list[int], list[int]]:
    """The rule itself: each customer once, in order of first appearance, and each record's index."""
    customers: list[int] = []
    index: dict[int, int] = {}
    for word in customer_words:
        index.setdefault(word, len(customers))
        if index[word] == len(customers):
            customers.append(word)
    return customers, [index[word] for word in customer_words]


def both(harness, customer_words: list[int], seed: int = 0):
    records = records_of(customer_words, seed)
    return (
        call_with_records(harness, "plain", records, RESULT_TYPES),
        call_with_records(harness, "assembled", records, RESULT_TYPES),
    )


def assert_both_find(harness, customer_words: list[int], seed: int = 0):
    plain, assembled = both(harness, customer_words, seed)
    assert plain[0] == assembled[0] == "ok"
    assert assembled[1] == plain[1]
    customers, index_of = assembled[1]
    assert ([int(c, 16) for c in customers], list(index_of)) == expected(customer_words)


address = st.one_of(
    st.just(0),
    st.integers(0, ADDRESS_MAX),
    st.builds(lambda high, low: high << 8 | low, st.integers(0, 2**152 - 1), st.sampled_from(SHARED_LOW_BYTES)),
    # Equal in every bit but the top one: the lookup compares whole addresses, not the key.
    st.builds(lambda low: 1 << 159 | low, st.sampled_from(SHARED_LOW_BYTES)),
    st.sampled_from(SHARED_LOW_BYTES),
)


@st.composite
def batches(draw):
    """(customers, seed of the junk bytes): 1 to 120 records from a pool of 1 to 12 customers."""
    pool = draw(st.lists(address, min_size=1, max_size=12))
    words = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=120))
    return words, draw(st.integers(0, 2**32 - 1))


@given(batch=batches())
@HYPOTHESIS
def test_the_assembly_finds_what_the_plain_solidity_does(harness, batch):
    words, seed = batch
    assert_both_find(harness, words, seed)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 63, 64, 65, 128, 129])
def test_customers_that_all_share_their_low_bits(harness, size):
    """The longest probes: every customer lands on the same entry (the table's last, so every
    probe wraps around); with `size` a power of two the table is half full, as full as it gets."""
    words = [i << 16 | 0xFFFF for i in range(size)]
    assert_both_find(harness, words)
    assert_both_find(harness, words + words[::-1])  # and each found again, at the end of its probe


@pytest.mark.parametrize("size", [MAX_BATCH_SIZE - 1, MAX_BATCH_SIZE])
def test_the_largest_batches(harness, size):
    rng = random.Random(size)
    pool = [rng.getrandbits(160) for _ in range(size // 2)] + [0]
    assert_both_find(harness, [rng.choice(pool) for _ in range(size)])

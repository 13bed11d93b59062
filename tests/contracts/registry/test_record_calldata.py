"""RecordCalldata, the assembly that reads a batch's records from calldata, against the plain
Solidity it replaces (CONVENTIONS.md: assembly only with a test that proves it equal).

Both run on the same raw calldata in contracts/test/RecordCalldataHarness.sol: the records, the
customers and each record's EIP-712 hashStruct must come out the same, and input with bits
beyond a field's type (which no ABI encoder writes, but anyone can send) must be refused by
both. The registry's own refusal of such input is checked at the end."""

import brownie
import pytest
from brownie import RecordCalldataHarness, web3
from brownie.test import given
from eth_utils import function_signature_to_4byte_selector
from hypothesis import strategies as st
from web3.exceptions import ContractLogicError

from oracle.typed_data import FeedbackRecord, record_hash

from .helpers import RECORD_TUPLE, call_with_records, chain_property_settings, error, records_calldata

RESULT_TYPES = [f"{RECORD_TUPLE}[]", "bytes32[]", "address[]"]
# Bit widths of the record's six words: eventId, customer, seq, kind, occurredAt, commitment.
WIDTHS = (256, 160, 64, 8, 40, 256)

HYPOTHESIS = chain_property_settings(60)


@pytest.fixture(scope="module")
def harness(admin):
    return RecordCalldataHarness.deploy({"from": admin})


def call(harness, function: str, records: list[tuple[int, ...]]):
    """('ok', decoded result) or ('reverted', revert data) of an eth_call."""
    return call_with_records(harness, function, records, RESULT_TYPES)


clean_record = st.tuples(*(st.integers(0, 2**width - 1) for width in WIDTHS))


@st.composite
def maybe_dirty_record(draw):
    """A record whose customer, seq, kind or occurredAt word may carry a bit above its type."""
    words = list(draw(clean_record))
    for field in (1, 2, 3, 4):
        if draw(st.integers(0, 7)) == 0:
            words[field] |= 1 << draw(st.integers(WIDTHS[field], 255))
    return tuple(words)


def is_clean(record: tuple[int, ...]) -> bool:
    return all(word >> width == 0 for word, width in zip(record, WIDTHS))


@given(records=st.lists(maybe_dirty_record(), max_size=6))
@HYPOTHESIS
def test_the_assembly_reads_refuses_and_hashes_as_the_plain_solidity_does(harness, records):
    plain, assembled = call(harness, "plain", records), call(harness, "assembled", records)
    if all(is_clean(record) for record in records):
        assert plain[0] == assembled[0] == "ok"
        assert assembled[1] == plain[1]
        decoded, hashes, customers = assembled[1]
        # The hashStruct is also what the oracle signs (oracle/typed_data.py).
        assert [bytes(h) for h in hashes] == [record_hash(r) for r in _records(decoded)]
        assert [c.lower() for c in customers] == [r[1].lower() for r in decoded]
    else:
        first_dirty = next(i for i, record in enumerate(records) if not is_clean(record))
        assert plain[0] == assembled[0] == "reverted"
        # The plain decoder says nothing; the assembly names the first bad record.
        selector = function_signature_to_4byte_selector("RecordFieldOutOfRange(uint256)")
        assert assembled[1] == "0x" + (selector + first_dirty.to_bytes(32, "big")).hex()


@pytest.mark.parametrize("field", [1, 2, 3, 4])
def test_one_bit_above_each_field_is_refused_and_one_below_is_read(harness, field):
    record = [7, 0xAB, 3, 2, 1_700_000_000, 9]
    top = list(record)
    top[field] = 2 ** WIDTHS[field] - 1  # the largest value the type holds
    assert call(harness, "assembled", [tuple(top)])[0] == "ok"
    over = list(record)
    over[field] = 2 ** WIDTHS[field]  # one past it
    assert call(harness, "assembled", [tuple(over)])[0] == "reverted"
    assert call(harness, "plain", [tuple(over)])[0] == "reverted"


def test_a_length_past_the_calldata_is_refused_before_any_record_is_read(harness):
    data = records_calldata("assembled", [(1, 2, 3, 4, 5, 6)])
    too_long = data[:36] + (2).to_bytes(32, "big") + data[68:]  # says two records, holds one
    with pytest.raises((ContractLogicError, ValueError), match="revert"):
        web3.eth.call({"to": harness.address, "data": "0x" + too_long.hex()})


def test_the_registry_refuses_a_batch_with_a_dirty_field(batches, registry, alice, admin):
    batch = batches.batch([batches.record(alice)])
    data = bytes.fromhex(registry.submitBatch.encode_input(batch.as_tuple(), batches.sign(batch))[2:])
    customer_word = bytes(12) + bytes.fromhex(alice.address[2:])
    assert data.count(customer_word) == 1
    dirty = data.replace(customer_word, b"\x01" + customer_word[1:])
    with brownie.reverts(revert_pattern=error("RecordFieldOutOfRange", 0)):
        admin.transfer(registry, 0, data="0x" + dirty.hex())


def _records(decoded):
    return [FeedbackRecord(bytes(e), c, s, k, t, bytes(m)) for e, c, s, k, t, m in decoded]

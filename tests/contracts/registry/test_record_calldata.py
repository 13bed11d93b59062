"""RecordCalldata, the assembly that unpacks a batch's packed records from calldata, against
plain Solidity slicing and the oracle's packer (CONVENTIONS.md: assembly only with a test that
proves it equal).

Both Solidity readers run on the same bytes in contracts/test/RecordCalldataHarness.sol: the
records and each record's EIP-712 hashStruct must come out the same, and equal to what the
oracle packed and signs (oracle/typed_data.py). Any bytes may be sent: a length that is no whole
number of records must be refused by both, and by the registry."""

import brownie
import pytest
from brownie import RecordCalldataHarness
from brownie.test import given
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from hypothesis import strategies as st

from oracle.typed_data import RECORD_BYTES, FeedbackRecord, pack_records, record_hash, unpack_records

from .helpers import RECORD_TUPLE, call_with_records, chain_property_settings, error

RESULT_TYPES = [f"{RECORD_TUPLE}[]", "bytes32[]"]

HYPOTHESIS = chain_property_settings(60)


@pytest.fixture(scope="module")
def harness(admin):
    return RecordCalldataHarness.deploy({"from": admin})


record = st.builds(
    FeedbackRecord,
    event_id=st.binary(min_size=32, max_size=32),
    customer=st.binary(min_size=20, max_size=20).map(to_checksum_address),
    seq=st.integers(0, 2**64 - 1),
    kind=st.integers(0, 255),
    occurred_at=st.integers(0, 2**40 - 1),
    content_commitment=st.binary(min_size=32, max_size=32),
)


def malformed(length: int) -> str:
    selector = function_signature_to_4byte_selector("MalformedRecords(uint256,uint256)")
    return "0x" + (selector + encode(["uint256", "uint256"], [length, RECORD_BYTES])).hex()


def _records(decoded) -> list[FeedbackRecord]:
    return [FeedbackRecord(bytes(e), to_checksum_address(c), s, k, t, bytes(m)) for e, c, s, k, t, m in decoded]


@given(records=st.lists(record, max_size=6))
@HYPOTHESIS
def test_both_readers_unpack_and_hash_what_the_oracle_packed(harness, records):
    packed = pack_records(records)
    assert len(packed) == RECORD_BYTES * len(records)
    plain, assembled = call_with_records(harness, "plain", packed, RESULT_TYPES), call_with_records(
        harness, "assembled", packed, RESULT_TYPES
    )
    assert plain[0] == assembled[0] == "ok"
    assert assembled[1] == plain[1]
    decoded, hashes = assembled[1]
    assert _records(decoded) == records
    # The hashStruct is also what the oracle signs.
    assert [bytes(h) for h in hashes] == [record_hash(r) for r in records]


@given(data=st.binary(max_size=4 * RECORD_BYTES + 1))
@HYPOTHESIS
def test_any_bytes_are_read_alike_or_refused_alike(harness, data):
    plain, assembled = call_with_records(harness, "plain", data, RESULT_TYPES), call_with_records(
        harness, "assembled", data, RESULT_TYPES
    )
    if len(data) % RECORD_BYTES:
        assert plain == assembled == ("reverted", malformed(len(data)))
        with pytest.raises(ValueError, match="not a multiple of 98"):
            unpack_records(data)
    else:
        assert plain[0] == assembled[0] == "ok"
        assert assembled[1] == plain[1]
        assert _records(assembled[1][0]) == unpack_records(data)


def test_each_field_at_its_widest_and_at_zero(harness):
    widest = FeedbackRecord(b"\xff" * 32, to_checksum_address("0x" + "ff" * 20), 2**64 - 1, 255, 2**40 - 1, b"\xff" * 32)
    zero = FeedbackRecord(bytes(32), to_checksum_address("0x" + "00" * 20), 0, 0, 0, bytes(32))
    # Records of all ones beside records of all zeros: a field read one byte off takes a neighbour's.
    records = [widest, zero, widest, zero]
    status, (decoded, hashes) = call_with_records(harness, "assembled", pack_records(records), RESULT_TYPES)
    assert status == "ok"
    assert _records(decoded) == records
    assert [bytes(h) for h in hashes] == [record_hash(r) for r in records]


@pytest.mark.parametrize("field,value", [("seq", 2**64), ("kind", 256), ("occurred_at", 2**40), ("seq", -1)])
def test_the_oracle_refuses_to_pack_a_field_that_does_not_fit(field, value):
    fields = dict(event_id=bytes(32), customer="0x" + "11" * 20, seq=1, kind=1, occurred_at=1,
                  content_commitment=bytes(32))
    fields[field] = value
    with pytest.raises(ValueError, match="does not fit the packed layout"):
        pack_records([FeedbackRecord(**fields)])


def test_the_registry_unpacks_as_the_oracle_packs(registry, batches, alice, bob):
    records = [batches.record(alice), batches.record(bob, seq=2**40, event_id=keccak(text="x"))]
    assert registry.RECORD_BYTES() == RECORD_BYTES
    unpacked, hashes = registry.unpackRecords(pack_records(records))
    assert _records(unpacked) == records
    assert [bytes(h) for h in hashes] == [record_hash(r) for r in records]


@pytest.mark.parametrize("cut", [1, RECORD_BYTES - 1])
def test_the_registry_refuses_records_that_are_no_whole_number(batches, registry, alice, bob, cut):
    batch = batches.batch([batches.record(alice), batches.record(bob)])
    brand_id, policy_hash, deadline, packed = batch.as_packed()
    short = packed[:-cut]
    with brownie.reverts(revert_pattern=error("MalformedRecords", len(short), RECORD_BYTES)):
        registry.submitBatch((brand_id, policy_hash, deadline, short), batches.sign(batch), {"from": bob})
    with brownie.reverts(revert_pattern=error("MalformedRecords", len(short), RECORD_BYTES)):
        registry.unpackRecords(short)


def test_the_registry_refuses_a_batch_without_records(batches, registry, alice, bob):
    batch = batches.batch([batches.record(alice)])
    brand_id, policy_hash, deadline, _packed = batch.as_packed()
    with brownie.reverts(revert_pattern=error("BatchSizeOutOfRange", 0, 500)):
        registry.submitBatch((brand_id, policy_hash, deadline, b""), batches.sign(batch), {"from": bob})

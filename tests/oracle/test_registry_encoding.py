"""The oracle's direct ABI paths against the generic ones: the batch calldata it encodes with
eth_abi, the encoders it builds once per type list (oracle/abi_encoding.py), and the receipts
it reads raw (oracle/chain/receipts.py). The on-chain tests (tests/integration) send these
bytes to a real registry and read real receipts; here the encodings are compared value for
value over random inputs."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_abi.exceptions import EncodingError
from eth_utils import event_abi_to_log_topic, keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.providers.base import BaseProvider

from oracle.abi import load_abi
from oracle.abi_encoding import abi_encode
from oracle.chain.receipts import MinedReceipt, fetch_receipt
from oracle.chain.outcomes import SKIP_REASONS, decode_outcome
from oracle.chain.registry import RegistryClient, RegistryReadError, log_format_problems, submit_format_problems
from oracle.typed_data import RECORD_BYTES, FeedbackBatch, FeedbackRecord, record_hash

REGISTRY = "0x" + "5a" * 20

uint = lambda bits: st.integers(min_value=0, max_value=2**bits - 1)  # noqa: E731
records = st.builds(
    FeedbackRecord,
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=20, max_size=20).map(lambda raw: to_checksum_address(raw)),
    uint(64),
    uint(8),
    uint(40),
    st.binary(min_size=32, max_size=32),
)
batches = st.builds(FeedbackBatch, uint(32), st.binary(min_size=32, max_size=32), uint(64),
                    st.lists(records, max_size=12).map(tuple))
signatures = st.lists(st.binary(min_size=0, max_size=70), max_size=4)


@settings(max_examples=150, deadline=None)
@given(batch=batches, sigs=signatures)
def test_batch_calldata_is_what_web3_encodes(batch: FeedbackBatch, sigs: list[bytes]) -> None:
    registry = RegistryClient(Web3(), REGISTRY)
    expected = registry.contract.encode_abi("submitBatch", args=[batch.as_packed(), sigs])
    assert registry.submit_calldata(batch, sigs) == bytes.fromhex(expected.removeprefix("0x"))


def _outcome(reason: str | None = None, reward: int = 0, welcome: int = 0) -> int:
    """An outcome word as the registry writes it (IFeedbackRegistry.BatchRecorded)."""
    status = 0 if reason is None else SKIP_REASONS.index(reason) + 1
    return status << 192 | welcome << 96 | reward


def _batch_log(address: str, brand: int, records: list[FeedbackRecord], outcomes: list[int]) -> dict[str, Any]:
    abi = next(e for e in load_abi("FeedbackRegistry") if e["type"] == "event" and e["name"] == "BatchRecorded")
    skipped = sum(1 for word in outcomes if word >> 192)
    minted = sum((word & (2**96 - 1)) + ((word >> 96) & (2**96 - 1)) for word in outcomes)
    return {
        "address": address,
        "topics": ["0x" + event_abi_to_log_topic(abi).hex(), "0x" + brand.to_bytes(32, "big").hex(), "0x" + "dd" * 32],
        "data": "0x" + encode(["bytes32", "uint256", "uint256", "uint256", "bytes32[]", "uint256[]"],
                              [b"\x0e" * 32, len(outcomes) - skipped, skipped, minted,
                               [record_hash(r) for r in records], outcomes]).hex(),
    }


def _raw_receipt(logs: list[dict[str, Any]], status: str = "0x1") -> dict[str, Any]:
    return {
        "transactionHash": "0x" + "aa" * 32, "blockNumber": "0x1f", "blockHash": "0x" + "bb" * 32,
        "status": status, "gasUsed": "0x5208", "logs": logs,
    }


def test_a_raw_receipt_keeps_the_fields_the_submitter_reads() -> None:
    receipt = MinedReceipt.from_rpc(_raw_receipt([], status="0x0"))
    assert (receipt.tx_hash, receipt.block_number, receipt.block_hash, receipt.status, receipt.gas_used) == (
        b"\xaa" * 32, 31, b"\xbb" * 32, 0, 21_000)


class CannedNode(BaseProvider):
    """Answers eth_getTransactionReceipt with a fixed JSON-RPC response."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__()
        self.response = response
        self.asked: list[Any] = []

    def make_request(self, method, params):  # type: ignore[no-untyped-def, override]
        self.asked.append((method, params))
        return {"jsonrpc": "2.0", "id": 1, **self.response}


def _record(n: int) -> FeedbackRecord:
    return FeedbackRecord(bytes([n]) * 32, to_checksum_address("0x" + f"{n:02x}" * 20), 100 + n, 1, 1_700_000_000, b"\xcc" * 32)


def _transaction(to: str, data: bytes) -> dict[str, Any]:
    """eth_getTransactionByHash's answer for the receipt's transaction."""
    return {"result": {
        "hash": "0x" + "aa" * 32, "blockNumber": "0x1f", "blockHash": "0x" + "bb" * 32, "from": "0x" + "11" * 20,
        "to": to, "input": "0x" + data.hex(), "nonce": "0x0", "gas": "0x100000", "value": "0x0",
        "transactionIndex": "0x0", "type": "0x2", "maxFeePerGas": "0x1", "maxPriorityFeePerGas": "0x1",
        "chainId": "0x1", "v": "0x0", "r": "0x1", "s": "0x1", "accessList": [],
    }}


def test_a_batch_with_every_record_rewarded_asks_the_node_nothing() -> None:
    node = CannedNode({"error": {"code": -32000, "message": "not expected"}})
    log = _batch_log(REGISTRY, 7, [_record(1), _record(2)], [_outcome(reward=5), _outcome(reward=7, welcome=2)])
    receipt = MinedReceipt.from_rpc(_raw_receipt([log]))
    assert RegistryClient(Web3(node), REGISTRY).not_rewarded(receipt) == {}
    assert node.asked == []


def _own_batch(*records: FeedbackRecord) -> tuple[FeedbackBatch, bytes]:
    batch = FeedbackBatch(7, b"\x0e" * 32, 2**40, records)
    return batch, RegistryClient(Web3(), REGISTRY).submit_calldata(batch, [b"\x01" * 65])


def test_skipped_records_are_matched_to_the_transaction_s_records_by_position() -> None:
    records = [_record(1), _record(2), _record(3)]
    _batch, calldata = _own_batch(*records)
    node = CannedNode(_transaction(REGISTRY, calldata))
    mine = _batch_log(REGISTRY.upper().replace("0X", "0x"), 7, records,
                      [_outcome(reward=5), _outcome("CustomerCapReached"), _outcome("ZeroCustomer")])
    other = _batch_log("0x" + "66" * 20, 7, records, [_outcome("BrandCapReached")] * 3)  # a look-alike elsewhere
    unrelated = {**mine, "topics": ["0x" + "cd" * 32, *mine["topics"][1:]]}
    receipt = MinedReceipt.from_rpc(_raw_receipt([unrelated, other, mine]))
    assert RegistryClient(Web3(node), REGISTRY).not_rewarded(receipt) == {
        b"\x02" * 32: "CustomerCapReached", b"\x03" * 32: "ZeroCustomer"}
    assert [method for method, _params in node.asked] == ["eth_getTransactionByHash"]


def test_a_record_given_twice_and_rewarded_once_is_not_reported_and_the_chain_is_not_searched() -> None:
    _batch, calldata = _own_batch(_record(1), _record(1))
    node = CannedNode(_transaction(REGISTRY, calldata))  # any eth_getLogs would fail to parse this
    log = _batch_log(REGISTRY, 7, [_record(1), _record(1)], [_outcome(reward=5), _outcome("AlreadyRecorded")])
    assert RegistryClient(Web3(node), REGISTRY).not_rewarded(MinedReceipt.from_rpc(_raw_receipt([log]))) == {}
    assert [method for method, _params in node.asked] == ["eth_getTransactionByHash"]


def test_an_own_receipt_without_its_batch_log_is_an_error_not_all_rewarded() -> None:
    """Reading "no outcomes" as "all rewarded" would mark skipped records paid: the submitter
    concludes nothing and tries again."""
    other = _batch_log("0x" + "66" * 20, 7, [_record(1)], [_outcome("BrandCapReached")])
    with pytest.raises(RegistryReadError, match="has 0 BatchRecorded logs"):
        RegistryClient(Web3(), REGISTRY).not_rewarded(MinedReceipt.from_rpc(_raw_receipt([other])))


def test_an_own_receipt_whose_input_is_not_its_logged_records_is_an_error() -> None:
    _batch, calldata = _own_batch(_record(1), _record(2))
    node = CannedNode(_transaction(REGISTRY, calldata))
    log = _batch_log(REGISTRY, 7, [_record(2), _record(1)], [_outcome("ZeroCustomer"), _outcome(reward=5)])
    with pytest.raises(RegistryReadError, match="not the ones its BatchRecorded log hashes"):
        RegistryClient(Web3(node), REGISTRY).not_rewarded(MinedReceipt.from_rpc(_raw_receipt([log])))


def test_the_input_of_a_call_to_another_contract_is_not_read_as_records() -> None:
    _batch, calldata = _own_batch(_record(1))
    forwarder = "0x" + "77" * 20  # a multisig or relay calling the registry: its input is not submitBatch's
    node = CannedNode(_transaction(forwarder, calldata))
    assert RegistryClient(Web3(node), REGISTRY).lookup.input_records(b"\xaa" * 32) is None
    node.response = _transaction(REGISTRY, calldata)
    assert RegistryClient(Web3(node), REGISTRY).lookup.input_records(b"\xaa" * 32) == [_record(1)]


def test_a_submission_whose_records_are_no_whole_number_is_not_read_as_records() -> None:
    """Such a transaction reverted on chain (MalformedRecords): its input proves no record."""
    _batch, calldata = _own_batch(_record(1))
    # selector | two offsets | the batch's head (four words) | the records' length, then the records.
    length_at = 4 + 0x40 + 0x80
    short = bytearray(calldata)
    short[length_at:length_at + 32] = (RECORD_BYTES - 1).to_bytes(32, "big")
    node = CannedNode(_transaction(REGISTRY, bytes(short)))
    assert RegistryClient(Web3(node), REGISTRY).lookup.input_records(b"\xaa" * 32) is None


@settings(max_examples=200, deadline=None)
@given(reason=st.sampled_from([None, *SKIP_REASONS]), reward=uint(96), welcome=uint(96))
def test_an_outcome_decodes_to_what_was_encoded(reason: str | None, reward: int, welcome: int) -> None:
    if reason is not None:
        reward = welcome = 0  # a skipped record is paid nothing
    outcome = decode_outcome(_outcome(reason, reward, welcome))
    assert (outcome.reason, outcome.rewarded, outcome.reward, outcome.welcome) == (reason, reason is None, reward, welcome)


@pytest.mark.parametrize("word", [
    (len(SKIP_REASONS) + 1) << 192,  # a status past the last reason
    1 << 200,  # bits above the status
    (1 << 192) | 5,  # a skipped record with a reward
])
def test_a_word_that_is_no_outcome_is_refused(word: int) -> None:
    with pytest.raises(ValueError, match="not a record outcome"):
        decode_outcome(word)


def test_fetch_receipt_asks_by_hash_and_reads_none_as_not_mined() -> None:
    node = CannedNode({"result": None})
    assert fetch_receipt(Web3(node), b"\x12" * 32) is None
    assert node.asked == [("eth_getTransactionReceipt", ["0x" + "12" * 32])]
    node.response = {"result": _raw_receipt([])}
    assert fetch_receipt(Web3(node), b"\x12" * 32).block_number == 31  # type: ignore[union-attr]


def test_fetch_receipt_raises_the_node_s_error() -> None:
    node = CannedNode({"error": {"code": -32000, "message": "header not found"}})
    with pytest.raises(Web3RPCError, match="header not found"):
        fetch_receipt(Web3(node), b"\x12" * 32)


@settings(max_examples=150, deadline=None)
@given(brand=uint(32), source=st.text(max_size=40), helpdesk_id=st.text(max_size=80), record=records)
def test_the_cached_encoders_match_eth_abi_encode(brand: int, source: str, helpdesk_id: str, record: FeedbackRecord) -> None:
    assert abi_encode(("uint32", "string", "string"), [brand, source, helpdesk_id]) == encode(
        ["uint32", "string", "string"], [brand, source, helpdesk_id])
    types = ("bytes32", "bytes32", "address", "uint64", "uint8", "uint40", "bytes32")
    values = [b"\x07" * 32, *record.as_tuple()]
    assert abi_encode(types, values) == encode(list(types), values)


def test_the_cached_encoders_still_validate() -> None:
    with pytest.raises(EncodingError):
        abi_encode(("uint32", "string", "string"), [2**32, "generic", "x"])  # brand id out of range


def test_a_registry_whose_code_emits_another_batch_log_is_named() -> None:
    topic = RegistryClient(Web3(), REGISTRY).lookup.batch_topic
    # What solc emits around an event: PUSH32 topic, then LOG3 (0xa3).
    emits = bytes.fromhex("6080604052") + b"\x7f" + topic + b"\xa3"
    assert log_format_problems(emits, topic) == []
    # The version before: BatchRecorded(uint32,bytes32,bytes32,uint256,uint256,uint256) has another topic.
    older = bytes.fromhex("6080604052") + b"\x7f" + keccak(text="BatchRecorded(uint32,bytes32,bytes32,uint256,uint256,uint256)") + b"\xa3"
    [problem] = log_format_problems(older, topic)
    assert "a registry of another version" in problem


def test_a_registry_that_takes_records_unpacked_is_named() -> None:
    selector = RegistryClient(Web3(), REGISTRY).lookup.submit_selector
    # What solc's dispatcher holds: PUSH4 selector, then EQ (0x14).
    takes = bytes.fromhex("6080604052") + b"\x63" + selector + b"\x14"
    assert submit_format_problems(takes, selector) == []
    # The version before took submitBatch((uint32,bytes32,uint64,(bytes32,address,uint64,uint8,uint40,bytes32)[]),bytes[]).
    older_selector = keccak(text="submitBatch((uint32,bytes32,uint64,(bytes32,address,uint64,uint8,uint40,bytes32)[]),bytes[])")[:4]
    assert older_selector != selector
    [problem] = submit_format_problems(bytes.fromhex("6080604052") + b"\x63" + older_selector + b"\x14", selector)
    assert "a registry of another version" in problem

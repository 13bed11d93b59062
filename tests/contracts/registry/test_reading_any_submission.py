"""The oracle's reading of mined batches (oracle/chain/record_lookup.py, RegistryClient) against
batches sent as anyone may send them: through another contract, with dirty ABI padding, or with
the same record twice. Found by a review: when records were looked up in the transaction input
only, each of these made a rewarded record look unrewarded. The log's record hashes make the
lookup independent of how the batch arrived."""

from brownie import BatchRelay, web3

from oracle.chain.receipts import fetch_receipt
from oracle.chain.registry import RegistryClient
from oracle.typed_data import RECORD_BYTES

from .helpers import BRAND, call_reverts_with


def receipt_of(tx):
    return fetch_receipt(web3, bytes.fromhex(tx.txid[2:]))


def test_a_batch_sent_first_through_a_contract_is_found_and_the_oracle_s_own_copy_is_not_skipped(
    batches, registry, alice, outsider
):
    client = RegistryClient(web3, registry.address)
    batch = batches.batch([batches.record(alice)])
    signatures = batches.sign(batch)
    relay = BatchRelay.deploy({"from": outsider})
    relay.relay(registry.address, client.submit_calldata(batch, signatures), {"from": outsider})
    [record] = batch.records
    assert registry.isRecorded(BRAND, record.seq)

    mine = batches.submit(batch, signatures)  # the oracle's own transaction, mined after
    proof = client.find_record(BRAND, record.event_id, record=record)
    assert proof is not None and proof.tx_hash != bytes.fromhex(mine.txid[2:])  # the relayed one
    assert client.not_rewarded(receipt_of(mine)) == {}


def test_a_batch_with_dirty_signature_padding_is_found(batches, registry, alice, outsider):
    client = RegistryClient(web3, registry.address)
    batch = batches.batch([batches.record(alice)])
    data = bytearray(client.submit_calldata(batch, batches.sign(batch)))
    data[-1] = 0xFF  # the padding after the 65-byte signature: Solidity does not read it
    tx = outsider.transfer(registry.address, 0, data="0x" + bytes(data).hex(), gas_limit=2_000_000)
    [record] = batch.records
    assert tx.status == 1 and registry.isRecorded(BRAND, record.seq)
    assert client.find_record(BRAND, record.event_id, record=record) is not None
    # Known only by its event id, it is read from the input, decoded as leniently as Solidity does.
    assert client.find_record(BRAND, record.event_id) is not None


def test_a_record_given_twice_in_one_batch_is_not_reported_skipped(batches, registry, alice):
    client = RegistryClient(web3, registry.address)
    record = batches.record(alice)
    tx = batches.submit(batches.batch([record, record]))
    assert client.not_rewarded(receipt_of(tx)) == {}


def test_a_record_skipped_for_a_reason_is_reported_once_with_it(batches, registry, alice):
    client = RegistryClient(web3, registry.address)
    record = batches.record(alice, occurred_at=web3.eth.get_block("latest").timestamp + 3600)
    tx = batches.submit(batches.batch([record, record]))
    assert client.not_rewarded(receipt_of(tx)) == {record.event_id: "OccursInFuture"}


def test_the_registry_refuses_a_records_length_past_the_calldata(batches, registry, admin, alice):
    """The registry's records sit inside a calldata struct, so the compiler checks their bounds
    when `batch.records` is accessed, before RecordCalldata reads any record."""
    client = RegistryClient(web3, registry.address)
    batch = batches.batch([batches.record(alice)])
    data = bytearray(client.submit_calldata(batch, batches.sign(batch)))
    # selector | offset of the batch (0x40) | offset of the signatures; then the batch's head:
    # brandId, policyHash, deadline, offset of the records (0x80), and at that offset their length
    # in bytes (one packed record).
    length_at = 4 + 0x40 + 0x80
    assert int.from_bytes(data[length_at:length_at + 32], "big") == RECORD_BYTES
    data[length_at:length_at + 32] = (40 * RECORD_BYTES).to_bytes(32, "big")
    # The compiler's own bounds check refuses it, with no error data: not a later check of the
    # registry's (the records' length, a signature), each of which names its error.
    tx = {"from": admin.address, "to": registry.address, "data": "0x" + bytes(data).hex(), "gas": 3_000_000}
    assert call_reverts_with(web3, tx) in ("0x", "", None)
    [record] = batch.records
    assert not registry.isRecorded(BRAND, record.seq)

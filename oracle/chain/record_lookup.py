"""Finding records on chain. The registry logs one BatchRecorded per batch with each record's
outcome, in the batch's order; the records themselves are in the transaction's input, signed.
So a record is found by its batch's transaction: the input gives the record, the log its outcome.

Which transactions to read: a customer's rewards are the coin's Transfer logs from zero to the
customer (indexed), so with the customer known only the batches that paid them are read. Without
it, every batch of the brand in the block range is (BatchRecorded is indexed by brand).

Only batches sent to the registry itself (`to` is the registry, the call is submitBatch) can be
read this way; the oracle always sends them so. A batch relayed through another contract is
skipped with a warning."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector, keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple
from web3 import Web3

from oracle.abi import load_abi
from oracle.chain.outcomes import RecordOutcome, decode_outcomes
from oracle.chain.receipts import MinedReceipt, fetch_receipt
from oracle.typed_data import FeedbackRecord

log = logging.getLogger(__name__)

TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")


@dataclass(frozen=True)
class MinedRecord:
    """A record in a mined batch, with what the registry did with it."""

    record: FeedbackRecord
    outcome: RecordOutcome
    brand_id: int
    tx_hash: bytes
    block_number: int
    block_hash: bytes


class RecordLookup:
    def __init__(self, w3: Web3, registry: str) -> None:
        self.w3 = w3
        self.registry = to_checksum_address(registry)
        abi = load_abi("FeedbackRegistry")
        submit = _abi_entry(abi, "function", "submitBatch")
        self._submit_selector = function_abi_to_4byte_selector(submit)
        self._submit_types = [collapse_if_tuple(arg) for arg in submit["inputs"]]
        batch_event = _abi_entry(abi, "event", "BatchRecorded")
        self.batch_topic = event_abi_to_log_topic(batch_event)
        self._batch_data_types = [arg["type"] for arg in batch_event["inputs"] if not arg["indexed"]]
        self._registry_contract = w3.eth.contract(address=self.registry, abi=abi)
        self._coin: str | None = None

    def outcomes(self, receipt: MinedReceipt) -> list[RecordOutcome] | None:
        """The outcomes a receipt's BatchRecorded log gives, None when it has none."""
        logs = list(receipt.logs_of(self.registry, self.batch_topic))
        if len(logs) != 1:
            return None
        return decode_outcomes(abi_decode(self._batch_data_types, logs[0].data)[-1])

    def mined_batch(self, tx_hash: bytes, receipt: MinedReceipt | None = None) -> list[MinedRecord] | None:
        """Every record of a mined batch transaction with its outcome; None when the transaction
        is not a successful direct submitBatch call to this registry."""
        tx = self.w3.eth.get_transaction(tx_hash)
        data = bytes(tx["input"])
        if tx["to"] is None or tx["to"].lower() != self.registry.lower() or data[:4] != self._submit_selector:
            log.warning("transaction 0x%s holds a batch but is no direct submitBatch call to the registry: "
                        "its records cannot be read from its input", tx_hash.hex())
            return None
        receipt = receipt or fetch_receipt(self.w3, tx_hash)
        if receipt is None or receipt.status != 1:
            return None
        outcomes = self.outcomes(receipt)
        (brand_id, _policy, _deadline, records), _signatures = abi_decode(self._submit_types, data[4:])
        if outcomes is None or len(outcomes) != len(records):
            raise ValueError(f"transaction 0x{tx_hash.hex()}: {len(records)} records but "
                             f"{'no' if outcomes is None else len(outcomes)} outcomes logged")
        return [
            MinedRecord(
                record=FeedbackRecord(bytes(r[0]), to_checksum_address(r[1]), r[2], r[3], r[4], bytes(r[5])),
                outcome=outcome, brand_id=brand_id, tx_hash=receipt.tx_hash,
                block_number=receipt.block_number, block_hash=receipt.block_hash,
            )
            for r, outcome in zip(records, outcomes, strict=True)
        ]

    def rewarded(
        self, brand_id: int, event_id: bytes, customer: str | None = None, from_block: int = 0,
        to_block: int | str = "latest", exclude: bytes | None = None,
    ) -> MinedRecord | None:
        """The event's rewarded record in the block range (the latest, should there be two),
        or None. `exclude`: a transaction not to count (the batch being looked at)."""
        for tx_hash in self._candidates(brand_id, customer, from_block, to_block):
            if tx_hash == exclude:
                continue
            for mined in self.mined_batch(tx_hash) or ():
                if mined.record.event_id == event_id and mined.brand_id == brand_id and mined.outcome.rewarded:
                    return mined
        return None

    def _candidates(self, brand_id: int, customer: str | None, from_block: int, to_block: int | str) -> Iterator[bytes]:
        """Transactions that may hold the record, latest first, each once."""
        if customer is not None:
            logs = self.w3.eth.get_logs({
                "address": self.coin, "fromBlock": from_block, "toBlock": to_block,
                "topics": ["0x" + TRANSFER_TOPIC.hex(), "0x" + bytes(32).hex(), _address_topic(customer)],
            })
        else:
            logs = self.w3.eth.get_logs({
                "address": self.registry, "fromBlock": from_block, "toBlock": to_block,
                "topics": ["0x" + self.batch_topic.hex(), "0x" + brand_id.to_bytes(32, "big").hex()],
            })
        seen: set[bytes] = set()
        for entry in reversed(logs):
            tx_hash = bytes(entry["transactionHash"])
            if tx_hash not in seen:
                seen.add(tx_hash)
                yield tx_hash

    @property
    def coin(self) -> str:
        if self._coin is None:
            self._coin = to_checksum_address(self._registry_contract.functions.coin().call())
        return self._coin


def _address_topic(address: str) -> str:
    return "0x" + bytes(12).hex() + bytes.fromhex(to_checksum_address(address)[2:]).hex()


def _abi_entry(abi: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(entry for entry in abi if entry["type"] == kind and entry.get("name") == name)

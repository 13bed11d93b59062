"""Finding records on chain. The registry logs one BatchRecorded per batch with, per record in
the batch's order, its EIP-712 hashStruct and its outcome (IFeedbackRegistry.BatchRecorded).

A record the oracle holds (its outbox keeps every field) is found by its hash in those logs, so
how the batch reached the chain does not matter: anyone may submit a signed batch, directly or
through a contract (a relay, a multisig), with any ABI padding. Which transactions to read: the
customer's rewards are the coin's Transfer logs from zero to them (indexed), so only the batches
that paid that customer are read.

A record known only by its event id (`servicecoin verify` of an event another outbox sent) is
looked for in the input of each of the brand's batch transactions; only batches sent directly to
the registry can be read so, and others are passed over with a warning."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector, keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple
from web3 import Web3

from oracle.abi import abi_entry, load_abi
from oracle.chain.outcomes import RecordOutcome, decode_outcomes
from oracle.chain.receipts import MinedReceipt, fetch_receipt
from oracle.typed_data import FeedbackRecord, record_hash, unpack_records

log = logging.getLogger(__name__)

TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")


@dataclass(frozen=True)
class LoggedBatch:
    """One BatchRecorded log: each record's hash and outcome, in the batch's order."""

    brand_id: int
    record_hashes: tuple[bytes, ...]
    outcomes: tuple[RecordOutcome, ...]
    tx_hash: bytes
    block_number: int
    block_hash: bytes

    def rewarded(self, hashed: bytes) -> RecordOutcome | None:
        """The outcome of the record with this hash if the batch rewarded it (a record given twice
        in one batch is rewarded once and skipped once)."""
        for candidate, outcome in zip(self.record_hashes, self.outcomes, strict=True):
            if candidate == hashed and outcome.rewarded:
                return outcome
        return None


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
        submit = abi_entry("FeedbackRegistry", "function", "submitBatch")
        # submitBatch's selector and argument types: RegistryClient encodes with them, this decodes.
        self.submit_selector = function_abi_to_4byte_selector(submit)
        self.submit_types = tuple(collapse_if_tuple(arg) for arg in submit["inputs"])
        batch_event = abi_entry("FeedbackRegistry", "event", "BatchRecorded")
        self.batch_topic = event_abi_to_log_topic(batch_event)
        self._batch_data_types = [arg["type"] for arg in batch_event["inputs"] if not arg["indexed"]]
        self._registry_contract = w3.eth.contract(address=self.registry, abi=load_abi("FeedbackRegistry"))
        self._coin: str | None = None

    def logged_batches(self, receipt: MinedReceipt) -> list[LoggedBatch]:
        """Every BatchRecorded this registry logged in the transaction (one per submitBatch call:
        a contract may make several)."""
        batches = []
        for entry in receipt.logs_of(self.registry, self.batch_topic):
            *_counts, hashes, words = abi_decode(self._batch_data_types, entry.data)
            outcomes = decode_outcomes(words)
            if len(hashes) != len(outcomes):
                raise ValueError(f"transaction 0x{receipt.tx_hash.hex()}: {len(hashes)} record hashes "
                                 f"but {len(outcomes)} outcomes logged")
            batches.append(LoggedBatch(
                brand_id=int.from_bytes(entry.topics[1], "big"), record_hashes=tuple(bytes(h) for h in hashes),
                outcomes=tuple(outcomes), tx_hash=receipt.tx_hash, block_number=receipt.block_number,
                block_hash=receipt.block_hash,
            ))
        return batches

    def input_records(self, tx_hash: bytes) -> list[FeedbackRecord] | None:
        """The records in a transaction's input, when it is a submitBatch call to this registry
        (None otherwise). Only the batch is decoded: the registry checks every field of it, but
        not the ABI padding of the signatures, which a sender may fill with anything."""
        tx = self.w3.eth.get_transaction(tx_hash)
        data = bytes(tx["input"])
        if tx["to"] is None or tx["to"].lower() != self.registry.lower() or data[:4] != self.submit_selector:
            return None
        try:
            [(_brand, _policy, _deadline, packed)] = abi_decode(self.submit_types[:1], data[4:])
            return unpack_records(packed)
        except (DecodingError, ValueError):
            return None

    def rewarded(
        self, brand_id: int, record: FeedbackRecord, from_block: int = 0, to_block: int | str = "latest",
        exclude: bytes | None = None, tx_hint: bytes | None = None,
    ) -> MinedRecord | None:
        """Where the chain rewarded this record (the latest, should there be two), or None.
        `tx_hint`: a transaction to read first (where the outbox saw the batch mined);
        `exclude`: one not to read (the batch being looked at)."""
        for tx_hash in self._paid_to(record.customer, from_block, to_block, first=tx_hint):
            found = None if tx_hash == exclude else self._rewarded_in(tx_hash, brand_id, record)
            if found is not None:
                return found
        return None

    def _rewarded_in(self, tx_hash: bytes, brand_id: int, record: FeedbackRecord) -> MinedRecord | None:
        """The record's reward in this one transaction, if it has one."""
        receipt = fetch_receipt(self.w3, tx_hash)
        if receipt is None or receipt.status != 1:
            return None
        hashed = record_hash(record)
        for logged in self.logged_batches(receipt):
            outcome = logged.rewarded(hashed) if logged.brand_id == brand_id else None
            if outcome is not None:
                return MinedRecord(record, outcome, brand_id, tx_hash, logged.block_number, logged.block_hash)
        return None

    def rewarded_by_event_id(self, brand_id: int, event_id: bytes, from_block: int = 0) -> MinedRecord | None:
        """The record rewarded for an event whose fields are unknown here: each of the brand's
        batches from `from_block`, latest first, is read from its transaction's input."""
        logs = self.w3.eth.get_logs({
            "address": self.registry, "fromBlock": from_block, "toBlock": "latest",
            "topics": ["0x" + self.batch_topic.hex(), "0x" + brand_id.to_bytes(32, "big").hex()],
        })
        for tx_hash in _distinct_latest_first(bytes(entry["transactionHash"]) for entry in logs):
            records = self.input_records(tx_hash)
            if records is None:
                log.warning("batch transaction 0x%s is no direct submitBatch call to the registry: its records "
                            "cannot be read from its input, and it is passed over", tx_hash.hex())
                continue
            for record in records:
                # Every batch of the brand is read in turn: the one whose input holds the record
                # is the one to look in, not the customer's other batches.
                found = self._rewarded_in(tx_hash, brand_id, record) if record.event_id == event_id else None
                if found is not None:
                    return found
        return None

    def _paid_to(self, customer: str, from_block: int, to_block: int | str, first: bytes | None) -> Iterator[bytes]:
        """The transactions that minted coins to `customer`, latest first, after `first`."""
        if first is not None:
            yield first
        logs = self.w3.eth.get_logs({
            "address": self.coin, "fromBlock": from_block, "toBlock": to_block,
            "topics": ["0x" + TRANSFER_TOPIC.hex(), "0x" + bytes(32).hex(), _address_topic(customer)],
        })
        yield from _distinct_latest_first(bytes(entry["transactionHash"]) for entry in logs if
                                          bytes(entry["transactionHash"]) != first)

    @property
    def coin(self) -> str:
        if self._coin is None:
            self._coin = to_checksum_address(self._registry_contract.functions.coin().call())
        return self._coin


def record_from_outbox_row(row: Any) -> FeedbackRecord | None:
    """The record an outbox event row was (or will be) signed as; None before it has a seq."""
    if row is None or row.seq is None or row.customer_address is None or row.content_commitment is None:
        return None
    return FeedbackRecord(bytes(row.event_id), to_checksum_address(row.customer_address), int(row.seq), int(row.kind),
                          int(row.occurred_at), bytes(row.content_commitment))


def _distinct_latest_first(tx_hashes: Iterator[bytes]) -> Iterator[bytes]:
    seen: set[bytes] = set()
    for tx_hash in reversed(list(tx_hashes)):
        if tx_hash not in seen:
            seen.add(tx_hash)
            yield tx_hash


def _address_topic(address: str) -> str:
    return "0x" + bytes(12).hex() + bytes.fromhex(to_checksum_address(address)[2:]).hex()

"""Transaction receipts as the oracle reads them: the few fields it uses, and the logs of one
event picked out by topic before anything is decoded.

Why not `w3.eth.get_transaction_receipt`: a batch of 300 records carries about 600 logs, and
web3 formats every field of every one of them (HexBytes, checksummed addresses, AttributeDicts)
on each poll. `make bench` sampled that formatting at about a quarter of `servicecoin work`'s
CPU time (bench/REPORT.md). The request still goes through the provider, so its retries and
timeouts apply, and through web3's response check, so an RPC error raises as it always did.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

_GET_RECEIPT = RPCEndpoint("eth_getTransactionReceipt")


@dataclass(frozen=True, slots=True)
class EventLog:
    """One log, raw: its topics and data as bytes, ready for eth_abi."""

    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True, slots=True)
class MinedReceipt:
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    status: int
    gas_used: int
    raw_logs: tuple[dict[str, Any], ...]  # as the node sent them (hex strings)

    @classmethod
    def from_rpc(cls, raw: dict[str, Any]) -> MinedReceipt:
        return cls(
            tx_hash=_bytes(raw["transactionHash"]),
            block_number=int(raw["blockNumber"], 16),
            block_hash=_bytes(raw["blockHash"]),
            status=int(raw["status"], 16),
            gas_used=int(raw["gasUsed"], 16),
            raw_logs=tuple(raw.get("logs") or ()),
        )

    def logs_of(self, address: str, topic: bytes) -> Iterator[EventLog]:
        """The logs `address` emitted with first topic `topic` (an event's signature hash)."""
        address, topic_hex = address.lower(), "0x" + topic.hex()
        for log in self.raw_logs:
            topics = log.get("topics") or ()
            if topics and topics[0].lower() == topic_hex and log["address"].lower() == address:
                yield EventLog(tuple(_bytes(t) for t in topics), _bytes(log["data"]))


def fetch_receipt(w3: Web3, tx_hash: bytes) -> MinedReceipt | None:
    """The receipt of a mined transaction, or None while the node has none."""
    params = ["0x" + tx_hash.hex()]
    response = w3.provider.make_request(_GET_RECEIPT, params)
    raw = w3.manager.formatted_response(response, params)
    return None if raw is None else MinedReceipt.from_rpc(raw)


def _bytes(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string.removeprefix("0x"))

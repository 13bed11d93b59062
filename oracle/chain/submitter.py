"""Gets signed batches into blocks and keeps watching them until they are final.

The submitter owns its account's nonces. Every transaction is written to the outbox before it
is broadcast, so after a crash the same bytes are sent again instead of a second transaction
being signed; on start the next nonce is the larger of the chain's pending count and the
outbox's highest nonce in flight. Fees are EIP-1559, never above the configured cap: when the
base fee is above it, batches wait. A transaction left unmined is replaced (same nonce, both
fees bumped by at least 12.5%, the minimum nodes accept). A batch is confirmed at the
configured depth and final at the finality depth; if its block is reorganised away before that,
it goes back to `signed` and is sent again; the registry skips records it already holds, so
nothing is rewarded twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError

from oracle import failpoints
from oracle.chain.receipts import MinedReceipt, fetch_receipt
from oracle.chain.reverts import DecodedRevert, decode_revert
from oracle.errors import OracleError
from oracle.store.outbox import Broadcast, Outbox

log = logging.getLogger("servicecoin.submitter")

GWEI = 10**9
# A node may count a mined transaction in the sender's nonce a moment before it serves the
# transaction's receipt (seen on Anvil under load): "our nonce was used by something else" is
# concluded only once it has stayed true this long.
NONCE_TAKEN_GRACE = 15.0
# The costliest path of one record: a first-time customer (Account and balance slots written
# from zero, welcome bonus) on a fresh bitmap word. snapshots/gas.json measures 169,512 for a
# batch of one such record including the 21,000 base and the signature check, 60,341 per record
# in batches of 100.
WORST_RECORD_GAS = 70_000
BATCH_OVERHEAD_GAS = 150_000
# Replacement fees must beat the pending transaction's by this fraction (geth's default is 10%).
_BUMP_NUMERATOR, _BUMP_DENOMINATOR = 9, 8


class FeeCapExceeded(OracleError):
    """The network's base fee is above the configured cap: the batch waits."""


class BatchRejected(OracleError):
    """The registry would revert the batch; `revert` is its custom error, when decodable."""

    def __init__(self, message: str, revert: DecodedRevert | None) -> None:
        super().__init__(message)
        self.revert = revert


@dataclass(frozen=True)
class SubmitSettings:
    max_fee: int  # wei per gas
    priority_fee: int  # wei per gas
    replace_after: float  # seconds
    confirmations: int
    finality_depth: int


@dataclass(frozen=True)
class TrackEvent:
    """Something that happened to a batch on-chain (for logs and metrics)."""

    batch_id: int
    what: str  # confirmed, final, replaced, rebroadcast, reorged, reverted, nonce_taken
    detail: dict[str, Any]


def bumped(fee: int) -> int:
    """At least 12.5% more, and at least 1 wei more."""
    return max(fee + 1, -(-fee * _BUMP_NUMERATOR // _BUMP_DENOMINATOR))


def eip1559_price(w3: Web3, max_fee: int, priority_fee: int) -> tuple[int, int]:
    """(maxFeePerGas, maxPriorityFeePerGas) for the next block, never above `max_fee`."""
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])
    if base_fee >= max_fee:
        raise FeeCapExceeded(f"base fee {base_fee / GWEI:.2f} gwei is at or above the cap of {max_fee / GWEI:.2f} gwei")
    priority = min(priority_fee, max_fee - base_fee)
    # Twice the base fee survives six full blocks of base-fee growth before the tx is priced out.
    return min(2 * base_fee + priority, max_fee), priority


def revert_data(exc: ContractLogicError) -> Any:
    data = exc.data
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
        data = data.get("data")
    return data


class Submitter:
    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        outbox: Outbox,
        settings: SubmitSettings,
        clock: Callable[[], float] = time.time,
        not_rewarded: Callable[[MinedReceipt], dict[bytes, str]] = lambda receipt: {},
    ) -> None:
        self.w3 = w3
        self.not_rewarded = not_rewarded
        self.account = account
        self.outbox = outbox
        self.settings = settings
        self.clock = clock
        self._chain_id = w3.eth.chain_id
        self._nonce_used_since: dict[int, float] = {}

    @property
    def address(self) -> str:
        return str(self.account.address)

    # ------------------------------------------------------------ submitting

    def submit(self, batch_id: int, to: str, calldata: bytes, records: int) -> Broadcast:
        """Checks, prices, signs, records and broadcasts one batch's transaction.
        Raises BatchRejected (nothing sent) when the registry would revert it."""
        gas = self._gas_limit(records)
        # The check is one execution of the batch with the very gas limit it will be sent with,
        # on the latest state: it runs within that limit, or reverts with the registry's reason.
        # Not a gas estimate: a node estimates by binary search over many executions (Anvil:
        # ~200 ms for 300 records against ~18 ms for this call, measured), and the limit is the
        # costliest-path bound below whatever the estimate says.
        call = {"from": self.address, "to": to, "data": calldata, "gas": gas}
        try:
            self.w3.eth.call(call)  # type: ignore[arg-type]
        except ContractLogicError as exc:
            decoded = decode_revert(revert_data(exc))
            raise BatchRejected(f"the registry would revert batch {batch_id}: {decoded or exc}", decoded) from None
        max_fee, priority_fee = self.price()
        nonce = self._take_nonce()
        tx = self._transaction(nonce, to, calldata, gas, max_fee, priority_fee)
        broadcast = self._sign(tx)
        self.outbox.mark_submitted(batch_id, broadcast)
        failpoints.hit("before_broadcast")
        self._send(broadcast.raw_tx)
        failpoints.hit("after_broadcast")
        return broadcast

    def price(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas) for the next block, within the cap."""
        return eip1559_price(self.w3, self.settings.max_fee, self.settings.priority_fee)

    def _gas_limit(self, records: int) -> int:
        """Room for every record to take its costliest path, whatever the state at inclusion: a
        record skipped now (its customer at the cap until the period turns) may be rewarded
        then, costing far more. Only the gas used is paid; the limit must merely fit in a block."""
        worst = BATCH_OVERHEAD_GAS + WORST_RECORD_GAS * records
        block_limit = int(self.w3.eth.get_block("latest")["gasLimit"])
        return min(worst, block_limit)

    def _take_nonce(self) -> int:
        """The node's pending count, unless the outbox holds a transaction the node has not seen
        (broadcast failed, or the node restarted): that nonce is taken. Never a counter kept in
        memory, which a reorg or a node restart would leave ahead of the chain, stalling every
        later transaction behind a nonce gap."""
        pending = self.w3.eth.get_transaction_count(self.address, "pending")
        in_flight = self.outbox.highest_nonce_in_flight()
        return pending if in_flight is None else max(pending, in_flight + 1)

    def _transaction(self, nonce: int, to: str, data: bytes, gas: int, max_fee: int, priority: int) -> dict[str, Any]:
        return {
            "type": 2,
            "chainId": self._chain_id,
            "nonce": nonce,
            "to": Web3.to_checksum_address(to),
            "data": data,
            "value": 0,
            "gas": gas,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": priority,
        }

    def _sign(self, tx: dict[str, Any]) -> Broadcast:
        signed = self.account.sign_transaction(tx)
        return Broadcast(
            tx_hash=bytes(signed.hash),
            nonce=tx["nonce"],
            raw_tx=bytes(signed.raw_transaction),
            max_fee=tx["maxFeePerGas"],
            priority_fee=tx["maxPriorityFeePerGas"],
            sent_at=int(self.clock()),
        )

    def _send(self, raw_tx: bytes) -> None:
        """Broadcasts; a refusal is logged, not raised: the transaction is already in the outbox
        and `track` re-broadcasts, replaces or reopens it as the chain's state requires."""
        try:
            self.w3.eth.send_raw_transaction(raw_tx)
        except (Web3RPCError, ValueError) as exc:
            log.warning("broadcast refused: %s", exc)

    # ------------------------------------------------------------ tracking

    def track(self) -> list[TrackEvent]:
        """One look at every batch in flight; returns what changed."""
        events: list[TrackEvent] = []
        head = self.w3.eth.block_number
        for row in self.outbox.batches_in(("submitted",)):
            events.extend(self._track_submitted(row, head))
        for row in self.outbox.batches_in(("confirmed",)):
            events.extend(self._track_confirmed(row, head))
        return events

    def _current_attempts(self, row: Any) -> list[Any]:
        """The batch's transactions at its current nonce (earlier nonces of a reopened batch
        are history: their transactions reverted or vanished)."""
        return [a for a in self.outbox.attempts(row.batch_id) if a.nonce == row.nonce]

    def _mined_receipt(self, attempts: list[Any]) -> MinedReceipt | None:
        """The receipt of whichever of these attempts was mined, if any."""
        for attempt in attempts:
            receipt = fetch_receipt(self.w3, bytes(attempt.tx_hash))
            if receipt is not None:
                return receipt
        return None

    def _track_submitted(self, row: Any, head: int) -> list[TrackEvent]:
        attempts = self._current_attempts(row)
        receipt = self._mined_receipt(attempts)
        if receipt is not None:
            self._nonce_used_since.pop(row.batch_id, None)
            if receipt.status == 0:
                decoded = self._replay_revert(receipt)
                self.outbox.reopen(row.batch_id)
                return [TrackEvent(row.batch_id, "reverted", {"error": str(decoded) if decoded else "unknown"})]
            if head - receipt.block_number + 1 >= self.settings.confirmations:
                self.outbox.mark_confirmed(
                    row.batch_id,
                    receipt.tx_hash,
                    receipt.block_number,
                    receipt.block_hash,
                    not_rewarded=self.not_rewarded(receipt),
                )
                failpoints.hit("after_confirm")
                first_sent = min(a.sent_at for a in attempts)
                return [TrackEvent(row.batch_id, "confirmed", {**_receipt_detail(receipt), "sent_at": first_sent})]
            return []
        if self.w3.eth.get_transaction_count(self.address, "latest") > row.nonce:
            # The nonce was used, and none of this batch's transactions has a receipt. If that
            # lasts, it was used by a transaction that is none of ours for this batch (another
            # process with the same key, or a receipt lost to a reorg): send the batch again.
            since = self._nonce_used_since.setdefault(row.batch_id, self.clock())
            if self.clock() - since < NONCE_TAKEN_GRACE:
                return []
            self._nonce_used_since.pop(row.batch_id, None)
            self.outbox.reopen(row.batch_id)
            return [TrackEvent(row.batch_id, "nonce_taken", {"nonce": row.nonce})]
        # Replacements only ever raise fees: the highest-priced attempt at this nonce is the latest.
        last = max(attempts, key=lambda a: int(a.priority_fee))
        if self.clock() - last.sent_at >= self.settings.replace_after:
            return self._replace(row, last)
        if not self._node_knows(row.tx_hash):
            # Dropped (a node restart, a full pool) or evicted as priced out by a base-fee spike:
            # the same bytes go back until `replace_after`, then a replacement at today's price.
            self._send(row.raw_tx)
            return [TrackEvent(row.batch_id, "rebroadcast", {"tx": "0x" + row.tx_hash.hex()})]
        return []

    def _replace(self, row: Any, last: Any) -> list[TrackEvent]:
        """Fees at least 12.5% above the stuck attempt's (what nodes require of a replacement),
        and at least today's price: after a base-fee spike, one replacement catches up instead
        of creeping up 12.5% per `replace_after`."""
        max_fee, priority = bumped(int(last.max_fee)), bumped(int(last.priority_fee))
        try:
            market_max, market_priority = self.price()
            max_fee, priority = max(max_fee, market_max), max(priority, market_priority)
        except FeeCapExceeded:
            pass  # the market is above the cap; the bump alone may still fit under it
        if max_fee > self.settings.max_fee:
            log.warning("batch %s is stuck, but a 12.5%% bump would exceed the fee cap", row.batch_id)
            return []
        # From the stored bytes, not the node: a node that evicted the transaction no longer has it.
        current = TypedTransaction.from_bytes(HexBytes(row.raw_tx)).as_dict()
        tx = self._transaction(row.nonce, "0x" + bytes(current["to"]).hex(), bytes(current["data"]), current["gas"],
                               max_fee, priority)
        broadcast = self._sign(tx)
        self.outbox.record_replacement(row.batch_id, broadcast)
        self._send(broadcast.raw_tx)
        return [TrackEvent(row.batch_id, "replaced", {"max_fee": max_fee, "priority_fee": priority})]

    def _node_knows(self, tx_hash: bytes) -> bool:
        try:
            self.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return False
        return True

    def _track_confirmed(self, row: Any, head: int) -> list[TrackEvent]:
        try:
            block = self.w3.eth.get_block(row.block_number)
        except Exception:  # noqa: BLE001 - a block above a shortened chain's head is simply gone
            block = None
        if block is None or bytes(block["hash"]) != row.block_hash:
            receipt = self._mined_receipt(self._current_attempts(row))
            if receipt is not None and receipt.status == 1:
                # Re-mined in another block of the new chain: follow it there.
                self.outbox.mark_confirmed(
                    row.batch_id,
                    receipt.tx_hash,
                    receipt.block_number,
                    receipt.block_hash,
                    not_rewarded=self.not_rewarded(receipt),
                )
                return [TrackEvent(row.batch_id, "reorged", {"moved_to": receipt.block_number})]
            self.outbox.reopen(row.batch_id)
            return [TrackEvent(row.batch_id, "reorged", {"resubmit": True})]
        if head - row.block_number + 1 >= self.settings.finality_depth:
            self.outbox.mark_final(row.batch_id)
            return [TrackEvent(row.batch_id, "final", {"block": row.block_number})]
        return []

    def _replay_revert(self, receipt: MinedReceipt) -> DecodedRevert | None:
        """Why a mined transaction reverted: the same call replayed against the block before."""
        tx = self.w3.eth.get_transaction(receipt.tx_hash)
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
        try:
            self.w3.eth.call(call, block_identifier=receipt.block_number - 1)  # type: ignore[arg-type]
        except ContractLogicError as exc:
            return decode_revert(revert_data(exc))
        return None


def _receipt_detail(receipt: MinedReceipt) -> dict[str, Any]:
    return {"tx": "0x" + receipt.tx_hash.hex(), "block": receipt.block_number, "gas_used": receipt.gas_used}

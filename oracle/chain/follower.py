"""Follow one contract's events with reorg safety, resuming where the database says it stopped.

A `ChainFollower` reads the contract's logs in bounded block ranges from `start_block`, but
only up to `head - confirmations + 1` (shallower blocks may still be replaced). The handler's
effects and the follower's cursor (the last block read, with its hash) commit in one database
transaction, so a crash never loses an event nor applies one without moving the cursor.

Reorgs: before each poll, and again after reading, the follower checks that the stored block's
hash is still the canonical one. When it is not, the chain under the cursor changed: the
follower rewinds `rewind_depth` blocks (never below `start_block`), lets the handler undo what
it derived from the blocks above (`ChainHandler.rewind`, which may ask to rewind further), and
reads again. Handlers are idempotent upserts, so reading a block twice changes nothing. A reorg
deeper than `rewind_depth` goes unnoticed below that depth: choose it above the chain's worst
reorg (Ethereum finalises in two epochs, 64 blocks).

Reading is consistent: the hash of the range's last block is read before and after the logs,
and the range is committed only if it did not change in between (nodes answer eth_getLogs from
one view of the chain; Anvil, for one, never reports `removed` logs after a reorg).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from eth_utils import event_abi_to_log_topic
from sqlalchemy import Connection, Engine, delete, insert, select, update
from web3 import Web3
from web3.exceptions import BlockNotFound

from oracle.store.engine import write_transaction
from oracle.store.schema import chain_cursors

log = logging.getLogger("servicecoin.follower")

DEFAULT_MAX_RANGE = 2_000  # blocks per eth_getLogs: public RPCs cap ranges (often 1-10k)
DEFAULT_REWIND_DEPTH = 64


@dataclass(frozen=True)
class ChainLog:
    """One decoded event, with where and when it was logged."""

    name: str
    args: dict[str, Any]
    block_number: int
    block_hash: bytes
    log_index: int
    tx_hash: bytes
    timestamp: int  # of its block


class ChainHandler(Protocol):
    def handle(self, connection: Connection, logs: list[ChainLog]) -> None:
        """Applies the logs of a range (in chain order) inside the follower's transaction."""

    def rewind(self, connection: Connection, block: int) -> int:
        """Undoes what was derived from blocks above `block` (inside the follower's transaction)
        and returns the block to resume after: `block`, or lower if some state can only be
        rebuilt by reading older events again."""


@dataclass(frozen=True)
class PollReport:
    from_block: int | None = None
    to_block: int | None = None
    logs: int = 0
    rewound_to: int | None = None
    caught_up: bool = True


class ChainFollower:
    def __init__(
        self,
        w3: Web3,
        engine: Engine,
        name: str,
        contract: Any,
        handler: ChainHandler,
        start_block: int,
        confirmations: int,
        max_range: int = DEFAULT_MAX_RANGE,
        rewind_depth: int = DEFAULT_REWIND_DEPTH,
    ) -> None:
        if confirmations < 1 or max_range < 1 or rewind_depth < 1:
            raise ValueError("confirmations, max_range and rewind_depth must be at least 1")
        self.w3 = w3
        self.engine = engine
        self.name = name
        self.contract = contract
        self.handler = handler
        self.start_block = start_block
        self.confirmations = confirmations
        self.max_range = max_range
        self.rewind_depth = rewind_depth
        self._events = {
            event_abi_to_log_topic(entry): entry["name"] for entry in contract.abi if entry["type"] == "event"
        }

    # ------------------------------------------------------------ reading

    def cursor(self) -> tuple[int, bytes] | None:
        """The last block read and its hash, or None before the first range."""
        with self.engine.connect() as connection:
            row = connection.execute(select(chain_cursors).where(chain_cursors.c.name == self.name)).one_or_none()
        return None if row is None else (int(row.block_number), bytes(row.block_hash))

    def catch_up(self, max_polls: int = 20) -> list[PollReport]:
        """Polls until the confirmed head is reached (at most `max_polls` ranges)."""
        reports = []
        for _ in range(max_polls):
            report = self.poll()
            reports.append(report)
            if report.caught_up and report.rewound_to is None:
                break
        return reports

    def poll(self) -> PollReport:
        """Reads one range of confirmed blocks (or rewinds after a reorg)."""
        cursor = self.cursor()
        if cursor is not None and not self._canonical(*cursor):
            return PollReport(rewound_to=self._rewind(cursor[0]), caught_up=False)
        safe = self.w3.eth.block_number - self.confirmations + 1
        first = self.start_block if cursor is None else cursor[0] + 1
        if first > safe:
            return PollReport()
        last = min(safe, first + self.max_range - 1)
        before = bytes(self.w3.eth.get_block(last)["hash"])
        raw = self.w3.eth.get_logs({"address": self.contract.address, "fromBlock": first, "toBlock": last})
        after = bytes(self.w3.eth.get_block(last)["hash"])
        if before != after or (cursor is not None and not self._canonical(*cursor)):
            log.info("%s: the chain moved while reading blocks %s-%s; reading again", self.name, first, last)
            return PollReport(caught_up=False)
        logs = self._decode(raw)
        with write_transaction(self.engine) as connection:
            if logs:
                self.handler.handle(connection, logs)
            self._store(connection, last, after)
        return PollReport(first, last, len(logs), caught_up=last == safe)

    def _canonical(self, number: int, block_hash: bytes) -> bool:
        try:
            return bytes(self.w3.eth.get_block(number)["hash"]) == block_hash
        except BlockNotFound:  # the chain got shorter than our cursor
            return False

    def _decode(self, raw: list[Any]) -> list[ChainLog]:
        timestamps: dict[bytes, int] = {}
        logs = []
        for entry in sorted(raw, key=lambda e: (e["blockNumber"], e["logIndex"])):
            name = self._events.get(bytes(entry["topics"][0])) if entry["topics"] else None
            if name is None:
                continue
            block_hash = bytes(entry["blockHash"])
            if block_hash not in timestamps:
                timestamps[block_hash] = int(self.w3.eth.get_block(block_hash)["timestamp"])
            decoded = getattr(self.contract.events, name)().process_log(entry)
            logs.append(ChainLog(
                name=name, args=dict(decoded["args"]), block_number=int(entry["blockNumber"]), block_hash=block_hash,
                log_index=int(entry["logIndex"]), tx_hash=bytes(entry["transactionHash"]),
                timestamp=timestamps[block_hash],
            ))
        return logs

    # ------------------------------------------------------------ cursor

    def _rewind(self, from_block: int) -> int:
        target = max(self.start_block - 1, from_block - self.rewind_depth)
        with write_transaction(self.engine) as connection:
            target = max(self.start_block - 1, min(target, self.handler.rewind(connection, target)))
            if target < self.start_block:
                connection.execute(delete(chain_cursors).where(chain_cursors.c.name == self.name))
            else:
                self._store(connection, target, bytes(self.w3.eth.get_block(target)["hash"]))
        log.warning("%s: reorg under block %s; reading again after block %s", self.name, from_block, target)
        return target

    def _store(self, connection: Connection, number: int, block_hash: bytes) -> None:
        changed = connection.execute(
            update(chain_cursors).where(chain_cursors.c.name == self.name).values(block_number=number, block_hash=block_hash)
        ).rowcount
        if not changed:
            connection.execute(insert(chain_cursors).values(name=self.name, block_number=number, block_hash=block_hash))

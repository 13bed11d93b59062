"""Two OpsSenders for the same operations account in one process (the relay endpoint's and the
run loops') never send at the same time, so they never take the same pending nonce. A fake
node counts who is between the nonce read and the broadcast."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import rlp
from eth_account import Account
from eth_utils import keccak

from oracle.chain.ops_sender import OpsSender
from oracle.chain.submitter import GWEI, SubmitSettings

SETTINGS = SubmitSettings(max_fee=100 * GWEI, priority_fee=GWEI, replace_after=60, confirmations=1, finality_depth=2)


class FakeNode:
    """Pending nonces per account; a transaction is mined as soon as it is broadcast. The pause
    between reading the nonce and broadcasting gives a second sender time to read the same one."""

    def __init__(self) -> None:
        self.chain_id = 31337
        self.block_number = 1
        self.pending: dict[str, int] = {}
        self.nonces_sent: dict[str, list[int]] = {}
        self.receipts: dict[bytes, dict] = {}
        self._lock = threading.Lock()

    def estimate_gas(self, _tx):
        return 50_000

    def get_block(self, _which):
        return {"baseFeePerGas": GWEI}

    def get_transaction_count(self, address, _which):
        time.sleep(0.05)
        with self._lock:
            return self.pending.get(address, 0)

    def send_raw_transaction(self, raw):
        tx = Account.recover_transaction(raw)
        decoded_nonce = _nonce_of(raw)
        with self._lock:
            self.nonces_sent.setdefault(tx, []).append(decoded_nonce)
            self.pending[tx] = max(self.pending.get(tx, 0), decoded_nonce + 1)
            self.receipts[keccak(raw)] = {"status": 1, "blockNumber": 1}

    def get_transaction_receipt(self, tx_hash):
        return self.receipts[bytes(tx_hash)]


def _nonce_of(raw: bytes) -> int:
    """The nonce of a signed EIP-1559 transaction: 0x02 || rlp([chainId, nonce, ...])."""
    return int.from_bytes(rlp.decode(bytes(raw)[1:])[1], "big")


def send_concurrently(senders: list[OpsSender]) -> None:
    threads = [threading.Thread(target=s.send, args=("0x" + "22" * 20, b"\x01", f"ops {i}")) for i, s in enumerate(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)


def test_two_senders_of_one_account_take_distinct_nonces() -> None:
    node = FakeNode()
    w3 = SimpleNamespace(eth=node)
    account = Account.from_key(keccak(text="servicecoin-unit-ops-lock"))
    senders = [OpsSender(w3, account, SETTINGS, poll_seconds=0.01) for _ in range(3)]  # type: ignore[arg-type]
    send_concurrently(senders)
    assert sorted(node.nonces_sent[account.address]) == [0, 1, 2]


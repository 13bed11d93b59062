"""A transaction the operations sender gave up waiting for is remembered as in flight: sending
the same call again resumes it (same nonce) instead of broadcasting a copy that would revert
once the first is mined, and so cost the brand gas for nothing. A fake node that mines only
when told drives each case."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import rlp
from eth_account import Account
from eth_utils import keccak
from web3.exceptions import TransactionNotFound

from oracle.chain.ops_sender import OpsNonceTaken, OpsSender, OpsTimeout
from oracle.chain.submitter import GWEI, SubmitSettings

SETTINGS = SubmitSettings(max_fee=100 * GWEI, priority_fee=GWEI, replace_after=30, confirmations=1, finality_depth=2)
TARGET = "0x" + "22" * 20
CALL = b"\x01\x02"


class FakeNode:
    """One account's transactions: broadcast ones wait in a pool until `mine()`, which mines
    the best-paying attempt at the lowest pending nonce (as a real node would)."""

    def __init__(self) -> None:
        self.chain_id = 31337
        self.block_number = 1
        self.pool: dict[bytes, tuple[int, int, bytes]] = {}  # hash -> (nonce, max fee, calldata)
        self.broadcasts: list[tuple[int, int]] = []  # (nonce, max fee) of every broadcast
        self.mined_nonces = 0
        self.receipts: dict[bytes, dict] = {}

    def estimate_gas(self, _tx):
        return 50_000

    def get_block(self, _which):
        return {"baseFeePerGas": GWEI}

    def get_transaction_count(self, _address, which):
        if which == "pending" and self.pool:
            return max(self.mined_nonces, max(nonce for nonce, _, _ in self.pool.values()) + 1)
        return self.mined_nonces

    def send_raw_transaction(self, raw):
        fields = rlp.decode(bytes(raw)[1:])
        nonce, max_fee = int.from_bytes(fields[1], "big"), int.from_bytes(fields[3], "big")
        self.pool[keccak(raw)] = (nonce, max_fee, bytes(fields[7]))
        self.broadcasts.append((nonce, max_fee))

    def get_transaction_receipt(self, tx_hash):
        try:
            return self.receipts[bytes(tx_hash)]
        except KeyError:
            raise TransactionNotFound("not mined") from None

    def mine(self) -> bytes:
        """Mines the best attempt at the next nonce; the other attempts at it are dropped."""
        nonce = self.mined_nonces
        attempts = {h: fee for h, (n, fee, _) in self.pool.items() if n == nonce}
        best = max(attempts, key=attempts.__getitem__)
        self.block_number += 1
        self.receipts[best] = {"status": 1, "blockNumber": self.block_number, "transactionHash": best}
        for tx_hash in attempts:
            del self.pool[tx_hash]
        self.mined_nonces += 1
        return best

    def take_nonce(self) -> None:
        """Another process's transaction of the same account is mined at the next nonce."""
        nonce = self.mined_nonces
        for tx_hash in [h for h, (n, _, _) in self.pool.items() if n == nonce]:
            del self.pool[tx_hash]
        self.mined_nonces += 1
        self.block_number += 1


class Clock:
    """Time moves only when the sender sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def make_sender(label: str, node: FakeNode, clock: Clock, wait_seconds: float = 10.0) -> OpsSender:
    # An account of its own per test: in-flight transactions are remembered per account.
    account = Account.from_key(keccak(text=f"servicecoin-unit-ops-flights-{label}"))
    w3 = SimpleNamespace(eth=node)
    return OpsSender(w3, account, SETTINGS, clock=clock, sleep=clock.sleep,  # type: ignore[arg-type]
                     poll_seconds=1.0, wait_seconds=wait_seconds)


def timed_out_send(sender: OpsSender) -> None:
    with pytest.raises(OpsTimeout, match="sending the same call again resumes it"):
        sender.send(TARGET, CALL, "a relayed redemption")


def test_a_retry_after_a_timeout_returns_the_first_transaction_once_it_is_mined() -> None:
    node, clock = FakeNode(), Clock()
    sender = make_sender("mined-later", node, clock)
    timed_out_send(sender)
    first = node.mine()  # mined after the sender gave up, before the client retries
    receipt = sender.send(TARGET, CALL, "a relayed redemption")
    assert receipt["transactionHash"] == first
    assert node.broadcasts == [(0, node.broadcasts[0][1])], "the retry broadcast something"


def test_a_retry_while_the_first_is_still_pending_keeps_its_nonce() -> None:
    node, clock = FakeNode(), Clock()
    sender = make_sender("still-pending", node, clock, wait_seconds=40.0)
    timed_out_send(sender)  # 40 s: the first attempt, then one replacement after 30 s
    assert [nonce for nonce, _ in node.broadcasts] == [0, 0]
    fees_before = [fee for _, fee in node.broadcasts]
    assert fees_before[1] > fees_before[0]

    timed_out_send(sender)  # the retry resumes the same transaction, with the next replacement
    assert [nonce for nonce, _ in node.broadcasts] == [0, 0, 0]
    assert node.broadcasts[2][1] > fees_before[1], "a resumed flight goes on bumping its fees"

    node.mine()
    assert sender.send(TARGET, CALL, "a relayed redemption")["status"] == 1
    assert node.mined_nonces == 1 and not node.pool, "a second transaction was sent"


def test_another_call_during_a_flight_takes_the_next_nonce() -> None:
    node, clock = FakeNode(), Clock()
    sender = make_sender("other-call", node, clock)
    timed_out_send(sender)
    node.mine()
    node_calls_before = len(node.broadcasts)
    # A different call is a different transaction: it is not folded into the flight.
    with pytest.raises(OpsTimeout):
        sender.send(TARGET, b"\x09", "a fulfilment")
    assert node.broadcasts[node_calls_before][0] == 1


def test_a_flight_whose_nonce_another_transaction_took_is_sent_afresh() -> None:
    node, clock = FakeNode(), Clock()
    sender = make_sender("nonce-taken", node, clock, wait_seconds=60.0)
    timed_out_send(sender)
    node.take_nonce()  # the CLI beside the service used nonce 0
    with pytest.raises(OpsNonceTaken):
        sender.send(TARGET, CALL, "a relayed redemption")
    # The flight is forgotten: the next attempt is a new transaction at the next nonce.
    timed_out_send(sender)
    assert node.broadcasts[-1][0] == 1


def test_a_settled_flight_of_another_call_is_forgotten() -> None:
    node, clock = FakeNode(), Clock()
    sender = make_sender("forgotten", node, clock)
    timed_out_send(sender)
    node.mine()
    with pytest.raises(OpsTimeout):
        sender.send(TARGET, b"\x09", "a fulfilment")  # sweeps the mined flight of CALL
    node.mine()
    # CALL is no longer in flight, so sending it again is a new transaction (nonce 2), which
    # the caller only does after checking the contract's state says the action is still needed.
    with pytest.raises(OpsTimeout):
        sender.send(TARGET, CALL, "a relayed redemption")
    assert node.broadcasts[-1][0] == 2


def test_a_broadcast_that_failed_on_the_wire_is_retried_at_the_same_nonce() -> None:
    node, clock = FakeNode(), Clock()
    sender = make_sender("wire-failure", node, clock)
    send_raw = node.send_raw_transaction

    def broken(raw):  # the node may have received it: the answer is what got lost
        send_raw(raw)
        raise ConnectionError("connection reset by peer")

    node.send_raw_transaction = broken
    with pytest.raises(ConnectionError):
        sender.send(TARGET, CALL, "a relayed redemption")
    node.send_raw_transaction = send_raw
    first = node.mine()
    assert sender.send(TARGET, CALL, "a relayed redemption")["transactionHash"] == first
    assert [nonce for nonce, _ in node.broadcasts] == [0, 0], "the retry took a new nonce"

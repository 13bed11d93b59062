"""The oracle's occasional transactions: fulfilments, refunds, wallet links, relayed redemptions.

They go out from their own *operations* account, never from the batch submitter's: each account
then has exactly one owner of its nonces (the submitter's come from the outbox; these from the
node's pending count, one transaction at a time under a lock, which the oracle's processes on one
outbox share: oracle.store.ops_lock).

`send` is synchronous: it checks the call would succeed (a revert costs nothing and raises
`OpsRejected` with the contract's error), signs, broadcasts, replaces the transaction with
bumped fees if it sits unmined past `replace_after`, and returns the receipt once it has
`confirmations` blocks on top. Nothing is persisted here, so callers make their actions
idempotent by reading the contract's state before sending (a redemption still Pending, a wallet
not yet linked): a crash between broadcast and receipt then never sends an action twice.

A transaction that has no receipt when `send` gives up (`OpsTimeout`, or an RPC failure) may
still be mined later, and the contract's state does not show it yet. So the sender remembers it
as *in flight*, per account and in memory, keyed by its target and calldata. Sending the same
call again resumes that transaction: same nonce, fees bumped on the same schedule. It does not
broadcast a second one. Without this, a client retrying after a 503 would pay for a copy that
reverts once the first is mined (a relayed forward request can be executed only once). The
memory is lost on restart. A flight whose nonce the chain has used since is forgotten on the
next send.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted, TransactionNotFound, Web3RPCError

from oracle.chain.reverts import DecodedRevert, decode_revert
from oracle.chain.submitter import NONCE_TAKEN_GRACE, SubmitSettings, bumped, eip1559_price, revert_data
from oracle.errors import OracleError
from oracle.store.ops_lock import OpsLockUnavailable, ProcessLock

log = logging.getLogger(__name__)

# Headroom over the node's estimate: state can move between the estimate and inclusion.
_GAS_HEADROOM_NUMERATOR, _GAS_HEADROOM_DENOMINATOR = 5, 4


class OpsRejected(OracleError):
    """The contract refused the call (before sending, or on chain); `revert` is its error."""

    def __init__(self, message: str, revert: DecodedRevert | None) -> None:
        super().__init__(message)
        self.revert = revert


class OpsTimeout(OracleError):
    """No receipt within the wait: the transaction may still be mined later."""


class OpsBusy(OpsTimeout):
    """The operations account stayed busy with another process's transaction for the whole
    wait (or its cross-process lock could not be taken): unlike a plain OpsTimeout, nothing
    was sent."""


class OpsNonceTaken(OracleError):
    """Another transaction of this account was mined at our nonce: sent by something that does
    not take the outbox's account lock (another oracle, a wallet holding the same key). Ours can never be mined now; the caller re-reads the chain's state
    on its next step and acts again only if the action is still needed."""


_ACCOUNT_LOCKS: dict[str, threading.Lock] = {}
_ACCOUNT_LOCKS_GUARD = threading.Lock()


@dataclass
class _Flight:
    """A transaction broadcast at `nonce` without a confirmed receipt yet: every attempt's
    hash (each replacement is another) and the fees of the last one."""

    nonce: int
    gas: int
    max_fee: int
    priority: int
    sent: list[bytes] = field(default_factory=list)


# Account address -> call key -> flight. Written only under that account's lock.
_ACCOUNT_FLIGHTS: dict[str, dict[bytes, _Flight]] = {}


def _target_and_data(function: Any) -> tuple[str, bytes]:
    """A web3 contract function call as the transaction's target and calldata."""
    return function.address, bytes.fromhex(function._encode_transaction_data()[2:])


def _call_key(to: str, data: bytes) -> bytes:
    """What identifies a call among the flights: its target and calldata."""
    return keccak(bytes.fromhex(Web3.to_checksum_address(to)[2:]) + data)


def _account_lock(address: str) -> threading.Lock:
    """One lock per account in the process: two senders built for the same operations account
    (the webhook server's relay and the run loops') still send one transaction at a time, so
    they never take the same pending nonce."""
    with _ACCOUNT_LOCKS_GUARD:
        return _ACCOUNT_LOCKS.setdefault(address.lower(), threading.Lock())


class OpsSender:
    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        settings: SubmitSettings,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        poll_seconds: float = 0.2,
        wait_seconds: float = 600.0,
        process_lock: ProcessLock | None = None,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.poll_seconds = poll_seconds
        self.wait_seconds = wait_seconds
        self._chain_id: int | None = None
        self._lock = _account_lock(str(account.address))
        # Other processes sending from this account (oracle.store.ops_lock); None: none can.
        self._process_lock = process_lock
        with _ACCOUNT_LOCKS_GUARD:
            self._flights = _ACCOUNT_FLIGHTS.setdefault(str(account.address).lower(), {})

    @property
    def address(self) -> str:
        return str(self.account.address)

    def send_call(self, function: Any, what: str) -> Any:
        """`send` for a web3 contract function call, e.g. `contract.functions.fulfil(id, c)`."""
        return self.send(*_target_and_data(function), what)

    def in_flight(self, to: str, data: bytes) -> bool:
        """Whether this call was sent and given up on without a receipt: sending it again
        resumes that transaction. A lone dict lookup: it needs no lock."""
        return _call_key(to, data) in self._flights

    def call_in_flight(self, function: Any) -> bool:
        """`in_flight` for a web3 contract function call, as `send_call` sends it."""
        return self.in_flight(*_target_and_data(function))

    def send(self, to: str, data: bytes, what: str) -> Any:
        """Sends one transaction and returns its receipt once confirmed (see the module doc)."""
        # Bounded like the wait across processes: a relay request must not queue for longer
        # than its caller waits behind `work`'s sends in the same process (`run`).
        if not self._lock.acquire(timeout=self.wait_seconds):
            raise OpsBusy(f"the operations account stayed busy with another transaction of this process for "
                          f"{self.wait_seconds:g} s: nothing was sent; try again")
        try:
            return self._send_held(to, data, what)
        finally:
            self._lock.release()

    def _send_held(self, to: str, data: bytes, what: str) -> Any:
        with self._across_processes():
            key = _call_key(to, data)
            flight = self._flights.get(key)
            self._forget_settled_flights(keep=key)
            if flight is None:
                flight = self._new_flight(to, data, what)
                # Remembered before the broadcast: an RPC failure there may still have sent it.
                self._flights[key] = flight
            else:
                log.info("ops transaction resumed", extra={"what": what, "nonce": flight.nonce,
                                                           "attempts": len(flight.sent)})
            deadline = self.clock() + self.wait_seconds
            if not flight.sent:
                self._broadcast_attempt(to, data, flight, what)
            while True:
                replace_at = self.clock() + self.settings.replace_after
                try:
                    receipt = self._wait(flight.sent, flight.nonce, min(replace_at, deadline), what)
                except OpsNonceTaken:
                    del self._flights[key]
                    raise
                if receipt is not None:
                    break
                if self.clock() >= deadline:
                    raise OpsTimeout(f"{what}: no receipt after {self.wait_seconds:.0f} s (nonce {flight.nonce}); "
                                     "it may still be mined; sending the same call again resumes it")
                flight.max_fee = min(bumped(flight.max_fee), self.settings.max_fee)
                flight.priority = min(bumped(flight.priority), flight.max_fee)
                self._broadcast_attempt(to, data, flight, what)
            if receipt["status"] != 1:
                del self._flights[key]
                decoded = self._replay_revert(to, data, receipt)
                raise OpsRejected(f"{what} reverted on chain: {decoded or 'no reason'}", decoded)
            self._await_confirmations(receipt, deadline, what)
            del self._flights[key]
            return receipt

    @contextmanager
    def _across_processes(self) -> Iterator[None]:
        """Holds the account against the oracle's other processes, for as long as this process
        may itself wait for a receipt."""
        with ExitStack() as held:
            if self._process_lock is not None:
                try:
                    held.enter_context(self._process_lock(self.wait_seconds))
                except OpsLockUnavailable as exc:
                    raise OpsBusy(str(exc)) from None
            yield

    def _new_flight(self, to: str, data: bytes, what: str) -> _Flight:
        gas = self._estimate(to, data, what)
        if self._chain_id is None:
            self._chain_id = self.w3.eth.chain_id
        nonce = self.w3.eth.get_transaction_count(self.address, "pending")
        max_fee, priority = eip1559_price(self.w3, self.settings.max_fee, self.settings.priority_fee)
        return _Flight(nonce, gas, max_fee, priority)

    def _broadcast_attempt(self, to: str, data: bytes, flight: _Flight, what: str) -> None:
        tx_hash = self._broadcast(to, data, flight.gas, flight.nonce, flight.max_fee, flight.priority)
        flight.sent.append(tx_hash)
        log.info("ops transaction sent", extra={"what": what, "tx": "0x" + tx_hash.hex(), "nonce": flight.nonce})

    def _forget_settled_flights(self, keep: bytes) -> None:
        """Drops the other flights whose nonce the chain has used: mined, or taken by another
        transaction, they will never need a replacement. The flight of the call being sent is
        kept even then: resuming it finds its receipt (or learns its nonce was taken)."""
        others = [key for key in self._flights if key != keep]
        if not others:
            return
        used = self.w3.eth.get_transaction_count(self.address, "latest")
        for key in others:
            if self._flights[key].nonce < used:
                del self._flights[key]

    def _estimate(self, to: str, data: bytes, what: str) -> int:
        try:
            estimate = self.w3.eth.estimate_gas({"from": self.address, "to": to, "data": data})  # type: ignore[typeddict-item]
        except ContractLogicError as exc:
            decoded = decode_revert(revert_data(exc))
            raise OpsRejected(f"{what} would revert: {decoded or exc}", decoded) from None
        return estimate * _GAS_HEADROOM_NUMERATOR // _GAS_HEADROOM_DENOMINATOR

    def _broadcast(self, to: str, data: bytes, gas: int, nonce: int, max_fee: int, priority: int) -> bytes:
        tx = {
            "type": 2, "chainId": self._chain_id, "nonce": nonce, "to": Web3.to_checksum_address(to),
            "data": data, "value": 0, "gas": gas, "maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority,
        }
        signed = self.account.sign_transaction(tx)
        try:
            self.w3.eth.send_raw_transaction(signed.raw_transaction)
        except (Web3RPCError, ValueError) as exc:
            # "already known" (our own earlier broadcast) or a node hiccup: the receipt wait decides.
            log.warning("ops broadcast refused: %s", exc)
        return bytes(signed.hash)

    def _wait(self, sent: list[bytes], nonce: int, until: float, what: str) -> Any:
        """The receipt of whichever of our broadcasts for this nonce got mined, or None."""
        used_since: float | None = None
        while True:
            for tx_hash in sent:
                try:
                    return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
                except (TransactionNotFound, TimeExhausted):
                    continue
            if self.w3.eth.get_transaction_count(self.address, "latest") > nonce:
                # The nonce is used and none of ours has a receipt. A node under load reports the
                # nonce before it serves the receipt, so only a lasting absence means another
                # transaction took it.
                used_since = self.clock() if used_since is None else used_since
                if self.clock() - used_since >= NONCE_TAKEN_GRACE:
                    raise OpsNonceTaken(f"{what}: nonce {nonce} was used by another transaction of {self.address}")
            if self.clock() >= until:
                return None
            self.sleep(self.poll_seconds)

    def _await_confirmations(self, receipt: Any, deadline: float, what: str) -> None:
        wanted = int(receipt["blockNumber"]) + self.settings.confirmations - 1
        while self.w3.eth.block_number < wanted:
            if self.clock() >= deadline:
                raise OpsTimeout(f"{what}: mined in block {receipt['blockNumber']} but not yet confirmed")
            self.sleep(self.poll_seconds)

    def _replay_revert(self, to: str, data: bytes, receipt: Any) -> DecodedRevert | None:
        """A mined revert carries no reason: replay the call at its block to decode it."""
        try:
            self.w3.eth.call({"from": self.address, "to": to, "data": data}, receipt["blockNumber"])  # type: ignore[typeddict-item]
        except ContractLogicError as exc:
            return decode_revert(revert_data(exc))
        except Exception:  # noqa: BLE001 - decoding is best effort
            return None
        return None

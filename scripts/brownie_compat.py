"""A fix for a race in eth-brownie 1.22's transaction wait, installed by the tests and scripts.

`TransactionReceipt.wait` watches the sender's nonce, then looks the transaction up by hash,
and declares it "dropped without known replacement" at the first TransactionNotFound. Anvil
under load can report the advanced nonce a moment before it serves the mined transaction by
hash, so a mined transaction was reported dropped (seen about 3 times in 12 suite runs; on a
machine under heavy load the lag passed 10 s, hence a minute of grace). This
keeps brownie's logic and only gives the lookup a bounded grace period before concluding.

The same race sits in `_await_confirmation`, the thread every transaction starts (and joins,
for an ordinary `contract.method(...)` call): when the nonce has advanced and the receipt is
not served yet, it marks the transaction dropped at once. That path, not `wait`, is the one a
contract call takes, and it raised "Tx dropped without known replacement" for mined
transactions during `--coverage` runs (Anvil slowed by step tracing) and, on a loaded CI
machine, in integration fixtures' deployments. `_await_confirmation` below first waits for
the receipt, or for the same grace period after the nonce moved, then runs brownie's own.

A second fix: brownie's deployed-code check does not know immutables (see
`_verify_deployed_code` below); without it, `--coverage` reports nothing for these contracts.
"""

from __future__ import annotations

import re
import time
from typing import Any

from brownie.network import contract as brownie_contract
from brownie.network.transaction import Status, TransactionReceipt
from brownie.network.web3 import web3
from web3.exceptions import TransactionNotFound

_brownie_verify = brownie_contract._verify_deployed_code
_brownie_await_confirmation = TransactionReceipt._await_confirmation
GRACE_SECONDS = 60.0
POLL_SECONDS = 0.1


def _wait(self: TransactionReceipt, required_confs: int) -> None:
    if required_confs < 1:
        return
    if self.confirmations > required_confs:
        return
    if self.nonce is not None:
        while web3.eth.get_transaction_count(str(self.sender)) <= self.nonce:
            time.sleep(POLL_SECONDS)
    give_up_at = time.monotonic() + GRACE_SECONDS
    while True:
        try:
            tx: Any = web3.eth.get_transaction(self.txid)
            break
        except TransactionNotFound:
            if self.nonce is not None and time.monotonic() > give_up_at:
                self.status = Status(-2)  # really dropped: replaced by another tx with its nonce
                self._confirmed.set()
                return
            time.sleep(POLL_SECONDS)
    self._await_confirmation(tx["blockNumber"], required_confs)


def _receipt_or_grace(self: TransactionReceipt) -> None:
    """Returns once the node serves the receipt, or GRACE_SECONDS after it first reported the
    sender's nonce past this transaction's without one (then brownie's check decides)."""
    nonce_moved_at = None
    started = time.monotonic()
    while True:
        try:
            receipt = web3.eth.get_transaction_receipt(self.txid)
            if receipt is not None and receipt["blockHash"] is not None:
                return
        except TransactionNotFound:
            pass
        if nonce_moved_at is None:
            if web3.eth.get_transaction_count(str(self.sender)) > self.nonce:
                nonce_moved_at = time.monotonic()
        elif time.monotonic() - nonce_moved_at > GRACE_SECONDS:
            return
        # Quick polls while an automining node is about to answer; then, for a transaction left
        # pending on purpose, no more load than brownie's own one-second loop.
        time.sleep(POLL_SECONDS if time.monotonic() - started < 2 else 1.0)


def _await_confirmation(self: TransactionReceipt, block_number: Any = None, required_confs: int = 1) -> None:
    if self.nonce is not None and self.sender is not None:
        _receipt_or_grace(self)
    _brownie_await_confirmation(self, block_number, required_confs)


# solc leaves each immutable as PUSH32 of 32 zero bytes in the compiled runtime code, and the
# constructor writes the value there. Brownie compares a deployed contract's code with the
# compiled code byte for byte, so every contract with an immutable (all three here: the EIP-712
# domain, the coin's address, the periods) "did not match", and brownie dropped its pcMap,
# which silently turned `brownie test --coverage` into an empty report.
_IMMUTABLE_SLOT = re.compile("7f" + "0" * 64)


def _verify_deployed_code(address: Any, expected_bytecode: str, language: Any) -> bool:
    """brownie's check, with the 32 bytes after each zero PUSH32 of the compiled code masked."""
    expected = expected_bytecode.removeprefix("0x")
    if language == "Solidity" and "_" not in expected:
        actual = web3.eth.get_code(address).hex().removeprefix("0x")
        for match in _IMMUTABLE_SLOT.finditer(expected):
            start = match.start()
            if start % 2 == 0 and len(actual) >= start + 66:
                actual = actual[: start + 2] + "0" * 64 + actual[start + 66 :]
        return _same_code(actual, expected)
    return _brownie_verify(address, expected_bytecode, language)


def _same_code(actual: str, expected: str) -> bool:
    """Equal once each side's CBOR metadata (its length is the last two bytes) is dropped."""

    def strip(code: str) -> str:
        return code[: -(int(code[-4:], 16) + 2) * 2] if len(code) >= 4 else code

    return strip(actual) == strip(expected)


def install() -> None:
    """Idempotent: replaces TransactionReceipt.wait and _await_confirmation, and brownie's
    deployed-code check, with the versions above."""
    TransactionReceipt._await_confirmation = _await_confirmation  # type: ignore[method-assign]
    TransactionReceipt.wait = _wait  # type: ignore[method-assign]
    brownie_contract._verify_deployed_code = _verify_deployed_code

"""A fix for a race in eth-brownie 1.22's transaction wait, installed by the tests and scripts.

`TransactionReceipt.wait` watches the sender's nonce, then looks the transaction up by hash,
and declares it "dropped without known replacement" at the first TransactionNotFound. Anvil
under load can report the advanced nonce a moment before it serves the mined transaction by
hash, so a mined transaction was reported dropped (seen about 3 times in 12 suite runs; on a
machine under heavy load the lag passed 10 s, hence a minute of grace). This
keeps brownie's logic and only gives the lookup a bounded grace period before concluding.

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
    """Idempotent: replaces TransactionReceipt.wait and brownie's deployed-code check with the
    versions above."""
    TransactionReceipt.wait = _wait  # type: ignore[method-assign]
    brownie_contract._verify_deployed_code = _verify_deployed_code

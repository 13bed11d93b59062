"""A fix for a race in eth-brownie 1.22's transaction wait, installed by the tests and scripts.

`TransactionReceipt.wait` watches the sender's nonce, then looks the transaction up by hash,
and declares it "dropped without known replacement" at the first TransactionNotFound. Anvil
under load can report the advanced nonce a moment before it serves the mined transaction by
hash, so a mined transaction was reported dropped (seen about 3 times in 12 suite runs; on a
machine under heavy load the lag passed 10 s, hence a minute of grace). This
keeps brownie's logic and only gives the lookup a bounded grace period before concluding.
"""

from __future__ import annotations

import time
from typing import Any

from brownie.network.transaction import Status, TransactionReceipt
from brownie.network.web3 import web3
from web3.exceptions import TransactionNotFound

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


def install() -> None:
    """Idempotent: replaces TransactionReceipt.wait with the version above."""
    TransactionReceipt.wait = _wait  # type: ignore[method-assign]

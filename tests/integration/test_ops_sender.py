"""The operations account's sender against Anvil: a nonce taken by another process's
transaction of the same account (the CLI beside `servicecoin run`) ends the wait at once with
OpsNonceTaken, instead of waiting for a receipt that can never come; and a call sent again after
a timeout waits for the transaction still pending instead of paying for a copy."""

from __future__ import annotations

import threading
import time

import pytest
from eth_account import Account
from eth_utils import keccak

from oracle.chain.ops_sender import OpsNonceTaken, OpsSender, OpsTimeout
from oracle.chain.submitter import GWEI, SubmitSettings

KEY = keccak(text="servicecoin-test-ops-sender")
SETTINGS = SubmitSettings(max_fee=100 * GWEI, priority_fee=GWEI, replace_after=600, confirmations=1, finality_depth=2)


def funded_sender(web3, accounts, key: bytes, wait_seconds: float) -> OpsSender:
    account = Account.from_key(key)
    accounts[0].transfer(account.address, "1 ether")
    return OpsSender(web3, account, SETTINGS, poll_seconds=0.05, wait_seconds=wait_seconds)


def sending_thread(sender: OpsSender, to: str, outcome: dict[str, object]) -> threading.Thread:
    """Sends a transfer of nothing to `to` in a thread; its receipt or error lands in `outcome`."""

    def send() -> None:
        try:
            outcome["receipt"] = sender.send(to, b"", "a transfer of nothing")
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc

    return threading.Thread(target=send)


def test_a_nonce_taken_by_another_process_ends_the_wait(web3, accounts, chain) -> None:
    sender = funded_sender(web3, accounts, KEY, wait_seconds=120)
    account = sender.account
    nonce = web3.eth.get_transaction_count(account.address)
    outcome: dict[str, object] = {}

    web3.provider.make_request("evm_setAutomine", [False])
    try:
        thread = sending_thread(sender, accounts[1].address, outcome)
        thread.start()
        deadline = time.monotonic() + 10
        while web3.eth.get_transaction_count(account.address, "pending") == nonce:
            assert time.monotonic() < deadline, "the sender did not broadcast"
            time.sleep(0.05)
        # "Another process" sends its own transaction at the same nonce, priced to win.
        base = web3.eth.get_block("latest")["baseFeePerGas"]
        rival = account.sign_transaction({
            "type": 2, "chainId": web3.eth.chain_id, "nonce": nonce, "to": accounts[2].address, "value": 1,
            "gas": 21_000, "maxFeePerGas": 10 * base + 50 * GWEI, "maxPriorityFeePerGas": 50 * GWEI,
        })
        web3.eth.send_raw_transaction(rival.raw_transaction)
        chain.mine()
        thread.join(timeout=30)
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    assert not thread.is_alive(), "still waiting for a receipt that cannot come"
    assert isinstance(outcome.get("error"), OpsNonceTaken), outcome
    assert web3.eth.get_transaction_receipt(rival.hash)["status"] == 1


def test_a_retry_after_a_timeout_waits_for_the_pending_transaction_instead_of_sending_a_copy(
    web3, accounts, chain
) -> None:
    sender = funded_sender(web3, accounts, keccak(text="servicecoin-test-ops-sender-resume"), wait_seconds=3)
    account = sender.account
    nonce = web3.eth.get_transaction_count(account.address)
    outcome: dict[str, object] = {}

    web3.provider.make_request("evm_setAutomine", [False])
    try:
        with pytest.raises(OpsTimeout):  # nothing is mined: the caller would answer 503
            sender.send(accounts[1].address, b"", "a transfer of nothing")
        first = web3.eth.get_transaction_count(account.address, "pending")
        assert first == nonce + 1
        thread = sending_thread(sender, accounts[1].address, outcome)  # the client sends the same call again
        thread.start()
        time.sleep(0.5)
        assert web3.eth.get_transaction_count(account.address, "pending") == nonce + 1, "the retry sent a copy"
        chain.mine()
        thread.join(timeout=30)
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    assert not thread.is_alive()
    receipt = outcome.get("receipt")
    assert receipt is not None, outcome
    assert receipt["status"] == 1
    assert web3.eth.get_transaction(receipt["transactionHash"])["nonce"] == nonce
    assert web3.eth.get_transaction_count(account.address, "latest") == nonce + 1
    assert web3.eth.get_transaction_count(account.address, "pending") == nonce + 1

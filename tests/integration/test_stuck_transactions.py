"""A batch transaction stuck in the pool is replaced, and the replacement is what nodes accept.

- On Anvil: a real base-fee spike (anvil_setNextBlockBaseFeePerGas) prices the transaction out;
  one replacement priced at the new market gets it mined.
- On Ganache: a transaction stuck behind a stopped miner is replaced and the batch is paid once.
  The issue expected Ganache to enforce a minimum replacement bump; measured on Ganache 7.9.2,
  it does not (replacements at +5%, and at equal fees, were all accepted, and once mining
  resumed every same-nonce transaction went into one block). So on Ganache this test proves
  what matters then: with several of its attempts mined, the oracle still pays each event once.

Run on both: `brownie test tests/integration/test_stuck_transactions.py` (Anvil) and
`... --network ganache-cli` (`make test-integration` runs both).
"""

from __future__ import annotations

import time

import httpx
import pytest

from oracle.events import event_id
from oracle.ingest.server import serving
from oracle.service import build_oracle
from tests.integration.rewarded_records import rewarded_event_ids
from tests.integration.test_pipeline_on_chain import COIN, generic_event, run_until


def on_ganache(web3) -> bool:
    return "ganache" in web3.client_version.lower()


@pytest.fixture
def clocked_oracle(oracle_files):
    """An oracle whose clock the test moves, so `replace_after` passes without waiting."""
    clock = [time.time()]
    oracle = build_oracle(oracle_files.config(), environ=oracle_files.environ, clock=lambda: clock[0])
    oracle.clock = clock
    return oracle


def submit_while_not_mining(oracle, key: bytes) -> int:
    for _ in range(10):
        oracle.clock[0] += 1
        oracle.pipeline.step()
        if oracle.outbox.event_state(key) == "submitted":
            return oracle.outbox.event_row(key).batch_id
    raise AssertionError(f"not submitted: {oracle.outbox.counts_by_state()}")


def deliver(oracle, n: int, customer: str) -> bytes:
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert generic_event(client, n, customer=customer).status_code == 202
    return event_id(1, "generic", f"ev-{n}")


def test_a_base_fee_spike_is_caught_up_by_one_replacement(clocked_oracle, oracle_files, deployment, chain, web3) -> None:
    if on_ganache(web3):
        pytest.skip("Ganache cannot set a block's base fee; see the Ganache test below")
    oracle = clocked_oracle
    key = deliver(oracle, 400, "spike-cust")
    chain.mine()
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        batch_id = submit_while_not_mining(oracle, key)
        (first,) = oracle.outbox.attempts(batch_id)
        spike = 3 * int(first.max_fee)
        web3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(spike)])
        chain.mine()
        assert web3.eth.get_block("latest")["baseFeePerGas"] == spike
        assert first.tx_hash not in web3.eth.get_block("latest")["transactions"]  # priced out: stuck
        oracle.clock[0] += oracle_files.config().chain.replace_after_seconds + 1
        report = oracle.pipeline.step()
        assert [e.what for e in report.tracked] == ["replaced"]
        replacement = oracle.outbox.attempts(batch_id)[1]
        assert int(replacement.max_fee) >= 2 * spike  # priced at the market, not a 12.5% creep
        web3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(spike)])  # the spike holds
        chain.mine()
        assert web3.eth.get_transaction_receipt(replacement.tx_hash)["status"] == 1
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    assert oracle.outbox.batch_row(batch_id).tx_hash == replacement.tx_hash
    assert deployment.coin.balanceOf(oracle_files.custodial_address("spike-cust")) == (5 + 5) * COIN


def test_on_ganache_a_replaced_transaction_pays_once_whichever_attempts_are_mined(
    clocked_oracle, oracle_files, deployment, chain, web3
) -> None:
    if not on_ganache(web3):
        pytest.skip("Ganache's pool behaviour; run with --network ganache-cli")
    oracle = clocked_oracle
    key = deliver(oracle, 401, "bump-cust")
    chain.mine()
    web3.provider.make_request("miner_stop", [])
    try:
        batch_id = submit_while_not_mining(oracle, key)
        (first,) = oracle.outbox.attempts(batch_id)
        assert web3.eth.get_transaction(first.tx_hash)["blockNumber"] is None
        oracle.clock[0] += oracle_files.config().chain.replace_after_seconds + 1
        report = oracle.pipeline.step()
        assert [e.what for e in report.tracked] == ["replaced"]
        replacement = oracle.outbox.attempts(batch_id)[1]
        assert int(replacement.max_fee) * 8 >= int(first.max_fee) * 9
        assert web3.eth.get_transaction(replacement.tx_hash)["hash"] == replacement.tx_hash  # in the pool
    finally:
        web3.provider.make_request("miner_start", [])
    chain.mine()
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    assert oracle.outbox.batch_row(batch_id).tx_hash in {first.tx_hash, replacement.tx_hash}
    assert rewarded_event_ids(deployment, web3).count(key) == 1
    assert deployment.coin.balanceOf(oracle_files.custodial_address("bump-cust")) == (5 + 5) * COIN

"""The oracle behind a broken RPC (tests/integration/rpc_faults.py in front of the real Anvil):
a broadcast that never reached the node, one whose answer was lost, receipts that cannot be
read, a node that dropped the transaction. Each time: recovery once the RPC answers again, the
reward paid once, and no nonce used twice or skipped."""

from __future__ import annotations

import time

import httpx
import pytest

from oracle.events import event_id
from oracle.ingest.server import serving
from oracle.pipeline import PipelineRunner
from oracle.service import build_oracle
from scripts.local_oracle import write_oracle_files
from tests.integration.rpc_faults import FaultyRpc
from tests.integration.rewarded_records import rewarded_event_ids
from tests.integration.test_pipeline_on_chain import COIN, generic_event, run_until


@pytest.fixture
def proxy(web3):
    faulty = FaultyRpc(web3.provider.endpoint_uri)
    with serving(faulty.app) as url:
        faulty.url = url
        yield faulty


@pytest.fixture
def faulty_oracle(tmp_path, proxy, deployment, web3):
    files = write_oracle_files(tmp_path / "oracle", proxy.url, web3.eth.chain_id, deployment.registry.address)
    oracle = build_oracle(files.config(), environ=files.environ)
    oracle.files = files
    return oracle


def deliver(oracle, n: int, customer: str) -> bytes:
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert generic_event(client, n, customer=customer).status_code == 202
    return event_id(1, "generic", f"ev-{n}")


def step_through_faults_until(oracle, condition, seconds: float = 20) -> None:
    """Steps the pipeline until `condition`, taking the injected 503s as they come."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, oracle.outbox.counts_by_state()
        try:
            oracle.pipeline.step()
        except Exception as exc:  # noqa: BLE001 - only the injected fault may happen here
            assert "503" in str(exc), exc
        time.sleep(0.1)


def step_expecting_rpc_failure(oracle) -> None:
    with pytest.raises(Exception) as failure:  # what web3 raises for a 503: requests' HTTPError
        oracle.pipeline.step()
    assert "503" in str(failure.value), failure.value


def assert_paid_once(oracle, deployment, web3, customer: str, key: bytes, nonce_before: int) -> None:
    assert rewarded_event_ids(deployment, web3) == [key]
    assert deployment.coin.balanceOf(oracle.files.custodial_address(customer)) == (5 + 5) * COIN
    # One batch, one transaction: the submitter's nonce moved by exactly one (no gap, no twin).
    assert web3.eth.get_transaction_count(oracle.submitter.address) == nonce_before + 1


def test_a_broadcast_that_never_reached_the_node_is_sent_again_with_the_same_nonce(
    faulty_oracle, proxy, deployment, chain, web3
) -> None:
    oracle = faulty_oracle
    nonce_before = web3.eth.get_transaction_count(oracle.submitter.address)
    key = deliver(oracle, 1, "rpc-a")
    chain.mine()
    proxy.fail("eth_sendRawTransaction")
    step_through_faults_until(oracle, lambda: oracle.outbox.event_state(key) == "submitted")
    assert proxy.failed["eth_sendRawTransaction"] >= 1
    assert web3.eth.get_transaction_count(oracle.submitter.address, "pending") == nonce_before  # the node has nothing
    signed = oracle.outbox.batch_row(oracle.outbox.event_row(key).batch_id).tx_hash

    proxy.heal()
    tracked = run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    assert "rebroadcast" in [t.what for t in tracked]
    assert oracle.outbox.batch_row(oracle.outbox.event_row(key).batch_id).tx_hash == signed  # the same bytes
    assert_paid_once(oracle, deployment, web3, "rpc-a", key, nonce_before)


def test_a_broadcast_whose_answer_was_lost_counts_as_sent(faulty_oracle, proxy, deployment, chain, web3) -> None:
    oracle = faulty_oracle
    nonce_before = web3.eth.get_transaction_count(oracle.submitter.address)
    key = deliver(oracle, 2, "rpc-b")
    chain.mine()
    proxy.lose_answer("eth_sendRawTransaction")
    step_through_faults_until(oracle, lambda: oracle.outbox.event_state(key) == "submitted")
    assert web3.eth.get_transaction_count(oracle.submitter.address) == nonce_before + 1  # mined: the node got it
    # Later broadcasts of the same bytes (the node says "already known" or "nonce too low") are
    # the oracle's own and must not be taken for a conflict.
    proxy.heal()
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    assert_paid_once(oracle, deployment, web3, "rpc-b", key, nonce_before)


def test_receipts_unreadable_for_a_while_then_the_batch_completes(faulty_oracle, proxy, deployment, chain, web3) -> None:
    oracle = faulty_oracle
    nonce_before = web3.eth.get_transaction_count(oracle.submitter.address)
    key = deliver(oracle, 3, "rpc-c")
    chain.mine()
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        run_until(oracle, lambda: oracle.outbox.event_state(key) == "submitted", chain, mine=False)
        proxy.fail("eth_getTransactionReceipt")
        chain.mine()  # mined while the oracle cannot read receipts
        for _ in range(2):  # each failing read is retried by web3 (5 times, backoff from 0.125 s) first
            step_expecting_rpc_failure(oracle)
        assert oracle.outbox.event_state(key) == "submitted"  # nothing guessed while blind
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    proxy.heal()
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    assert_paid_once(oracle, deployment, web3, "rpc-c", key, nonce_before)


def test_the_runner_survives_a_full_outage_with_bounded_backoff(faulty_oracle, proxy, deployment, chain, web3) -> None:
    oracle = faulty_oracle
    nonce_before = web3.eth.get_transaction_count(oracle.submitter.address)
    key = deliver(oracle, 4, "rpc-d")
    chain.mine()
    proxy.down = True
    runner = PipelineRunner(oracle.pipeline, interval=0.05)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while runner.last_error is None:
            assert time.monotonic() < deadline, "the outage was not noticed"
            time.sleep(0.05)
        assert "503" in runner.last_error
        time.sleep(1.0)
        calls_during_outage = sum(proxy.failed.values())
        # Backoff doubles per failure (0.05 s, 0.1 s, ... capped at 30 s): about five tries in a
        # second, not a hot loop hammering a node that is down.
        assert 1 <= calls_during_outage <= 40, calls_during_outage
        assert oracle.outbox.event_state(key) in ("received", "eligible")  # nothing sent blind
        proxy.heal()
        deadline = time.monotonic() + 60
        while oracle.outbox.event_state(key) != "final":
            assert time.monotonic() < deadline, oracle.outbox.counts_by_state()
            chain.mine()
            time.sleep(0.3)
        assert runner.last_error is None
    finally:
        runner.stop()
    assert_paid_once(oracle, deployment, web3, "rpc-d", key, nonce_before)


def test_a_transaction_the_node_dropped_is_rebroadcast_unchanged(faulty_oracle, proxy, deployment, chain, web3) -> None:
    oracle = faulty_oracle
    nonce_before = web3.eth.get_transaction_count(oracle.submitter.address)
    key = deliver(oracle, 5, "rpc-e")
    chain.mine()
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        run_until(oracle, lambda: oracle.outbox.event_state(key) == "submitted", chain, mine=False)
        batch_id = oracle.outbox.event_row(key).batch_id
        tx_hash = oracle.outbox.batch_row(batch_id).tx_hash
        assert web3.eth.get_transaction(tx_hash) is not None
        web3.provider.make_request("anvil_dropTransaction", ["0x" + tx_hash.hex()])
        assert web3.eth.get_transaction_count(oracle.submitter.address, "pending") == nonce_before  # really gone
        tracked = run_until(
            oracle, lambda: web3.eth.get_transaction_count(oracle.submitter.address, "pending") == nonce_before + 1,
            chain, mine=False,
        )
        assert "rebroadcast" in [t.what for t in tracked]
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    assert oracle.outbox.batch_row(batch_id).tx_hash == tx_hash
    assert len(oracle.outbox.attempts(batch_id)) == 1  # re-sent as is, not replaced
    assert_paid_once(oracle, deployment, web3, "rpc-e", key, nonce_before)

"""Helpdesk webhook in, confirmed on-chain reward out: the oracle assembled from its config
file, serving real HTTP, signing with a keystore, submitting over JSON-RPC to Anvil."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from click.testing import CliRunner

from oracle.chain.receipts import fetch_receipt
from oracle.cli import main as cli
from oracle.events import event_id
from oracle.ingest.helpdesks import ZENDESK_TEMPLATE_MARKER
from oracle.ingest.signatures import sign_generic, sign_zendesk
from oracle.service import build_oracle
from scripts.local_oracle import EXAMPLE_POLICY, GENERIC_SECRET, ZENDESK_SECRET, write_oracle_files
from oracle.ingest.server import serving

COIN = 10**18


def zendesk_rating(client: httpx.Client, ticket: str, requester: str) -> httpx.Response:
    body = json.dumps(
        {"servicecoin": ZENDESK_TEMPLATE_MARKER, "ticket_id": ticket, "requester_id": requester, "rating": "Good"}
    ).encode()
    headers = sign_zendesk(body, ZENDESK_SECRET.encode(), int(time.time()))
    return client.post("/webhooks/zendesk", content=body, headers=headers)


def generic_event(client: httpx.Client, n: int, customer: str, kind: str = "survey_response") -> httpx.Response:
    now = int(time.time())
    body = json.dumps({"event_id": f"ev-{n}", "customer_id": customer, "kind": kind, "occurred_at": now - 5}).encode()
    return client.post("/webhooks/generic", content=body, headers=sign_generic(body, GENERIC_SECRET.encode(), now))


def run_until(oracle, condition, chain, steps: int = 60, mine: bool = True) -> list:
    """Steps the pipeline (mining a block between steps so depths grow) until `condition`."""
    seen = []
    for _ in range(steps):
        report = oracle.pipeline.step()
        seen.extend(report.tracked)
        if condition():
            return seen
        if mine:
            chain.mine()
        time.sleep(0.05)
    raise AssertionError(f"condition not reached; tracked: {seen}; states: {oracle.outbox.counts_by_state()}")


def mine_past_now(chain) -> None:
    """Mines a block no earlier than this machine's clock: batches take only events that occurred
    by the chain's latest block, and an earlier test may have left the chain's clock behind
    (a CI run saw two tests wait in vain for it)."""
    from brownie import web3

    now = int(time.time())
    if chain[-1].timestamp < now:  # (brownie's mine(timestamp=) sends a parameter Anvil refuses)
        web3.provider.make_request("evm_setNextBlockTimestamp", [now])
    chain.mine()


def step_until_problem(oracle, chain, steps: int, pause: float) -> list[str]:
    """Steps the pipeline until a step reports a problem (a refused batch); returns them. A block
    is mined past the machine's clock before each step, so the events posted just before count
    as occurred on chain."""
    for _ in range(steps):
        mine_past_now(chain)
        problems = oracle.pipeline.step().problems
        if problems:
            return problems
        time.sleep(pause)
    return []


@pytest.fixture
def oracle(oracle_files):
    return build_oracle(oracle_files.config(), environ=oracle_files.environ)


def test_a_zendesk_rating_ends_as_a_final_reward_and_a_tier(oracle, oracle_files, deployment, chain) -> None:
    assert oracle.self_check() == []
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert zendesk_rating(client, "208", "7881").status_code == 202
        assert zendesk_rating(client, "208", "7881").status_code == 202  # a redelivery
    key = event_id(1, "zendesk", "csat:ticket:208")
    tracked = run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    assert [e.what for e in tracked] == ["confirmed", "final"]
    with serving(oracle.app) as url:
        metrics = httpx.get(f"{url}/metrics").text
    assert 'servicecoin_events{state="final"} 1.0' in metrics
    assert 'servicecoin_batches_total{outcome="confirmed"} 1.0' in metrics
    assert 'servicecoin_webhooks_total{source="zendesk",status="202"} 2.0' in metrics
    assert f"servicecoin_gas_used_total {float(tracked[0].detail['gas_used'])}" in metrics
    assert "servicecoin_signer_balance_wei " in metrics and "servicecoin_submit_latency_seconds_count 1.0" in metrics

    customer = oracle_files.custodial_address("zendesk:7881")
    # csat_rating pays 2 coins at Bronze, plus the 5-coin welcome bonus of a first reward.
    assert deployment.coin.balanceOf(customer) == 7 * COIN
    assert deployment.registry.lifetimeEarned(customer) == 2 * COIN  # the welcome bonus is not earned
    assert deployment.redemption.tierOf(customer) == 0
    row = oracle.outbox.event_row(key)
    assert deployment.registry.isRecorded(1, row.seq)

    result = CliRunner().invoke(
        cli, ["-c", str(oracle_files.config_path), "verify", "--source", "zendesk", "csat:ticket:208"],
        env=oracle_files.environ,
    )
    assert result.exit_code == 0, result.output
    assert f"recorded as seq {row.seq} for {customer}, reward 2 SVC" in result.output
    assert "content: match" in result.output


def test_a_batch_of_many_customers_is_one_transaction(oracle, oracle_files, deployment, chain) -> None:
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        for n in range(30):
            assert generic_event(client, n, customer=f"cust-{n % 10}").status_code == 202
    tracked = run_until(oracle, lambda: oracle.outbox.counts_by_state() == {"final": 30}, chain)
    confirmed = [e for e in tracked if e.what == "confirmed"]
    assert len(confirmed) == 1 and confirmed[0].detail["gas_used"] > 0
    # survey_response: 3 per customer per day in the policy, 5 coins each, plus the welcome bonus.
    for n in range(10):
        assert deployment.coin.balanceOf(oracle_files.custodial_address(f"cust-{n}")) == (3 * 5 + 5) * COIN


def test_a_reorged_batch_is_resubmitted_and_rewarded_once(oracle, oracle_files, deployment, chain) -> None:
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert generic_event(client, 100, customer="reorg-cust").status_code == 202
    key = event_id(1, "generic", "ev-100")
    # The event counts only once the chain's clock passes its time, and this test mines no block
    # while it waits: a CI run whose fixture setup took over 5 s waited in vain (2026-11-24).
    mine_past_now(chain)
    snapshot_height = chain.height
    chain.snapshot()
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "confirmed", chain, mine=False)
    mined_in = oracle.outbox.batch_row(oracle.outbox.event_row(key).batch_id).block_number
    assert mined_in > snapshot_height
    chain.revert()  # the block holding the batch is gone...
    chain.mine(3)  # ...and a longer chain without it takes its place
    tracked = run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    assert [e.what for e in tracked][:2] == ["reorged", "confirmed"]
    customer = oracle_files.custodial_address("reorg-cust")
    assert deployment.coin.balanceOf(customer) == (5 + 5) * COIN


def test_a_paused_registry_holds_batches_and_says_why(oracle, oracle_files, deployment, chain, accounts) -> None:
    deployment.registry.pause({"from": accounts[0]})
    try:
        with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
            assert generic_event(client, 200, customer="paused-cust").status_code == 202
        chain.mine()  # the chain's clock passes the event's time (batches wait for that)
        problems = step_until_problem(oracle, chain, steps=40, pause=0.1)
        assert problems and "EnforcedPause()" in problems[0]
        assert oracle.outbox.event_state(event_id(1, "generic", "ev-200")) == "batched"
    finally:
        deployment.registry.unpause({"from": accounts[0]})
    run_until(oracle, lambda: oracle.outbox.event_state(event_id(1, "generic", "ev-200")) == "final", chain)


def test_a_stuck_transaction_is_replaced_with_higher_fees(oracle_files, deployment, chain, web3) -> None:
    clock = [time.time()]
    oracle = build_oracle(oracle_files.config(), environ=oracle_files.environ, clock=lambda: clock[0])
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert generic_event(client, 300, customer="stuck-cust").status_code == 202
    key = event_id(1, "generic", "ev-300")
    chain.mine()  # the chain's clock passes the event's time (batches wait for that)
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        clock[0] += 1
        for _ in range(5):
            oracle.pipeline.step()
            if oracle.outbox.event_state(key) == "submitted":
                break
            clock[0] += 1
        assert oracle.outbox.event_state(key) == "submitted"
        clock[0] += oracle_files.config().chain.replace_after_seconds + 1
        report = oracle.pipeline.step()
        assert [e.what for e in report.tracked] == ["replaced"]
        batch_id = oracle.outbox.event_row(key).batch_id
        attempts = oracle.outbox.attempts(batch_id)
        assert len(attempts) == 2
        assert int(attempts[1].priority_fee) * 8 >= int(attempts[0].priority_fee) * 9
        assert int(attempts[1].max_fee) * 8 >= int(attempts[0].max_fee) * 9
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    chain.mine()
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    mined = oracle.outbox.batch_row(batch_id).tx_hash
    assert mined == oracle.outbox.attempts(batch_id)[1].tx_hash  # the replacement won
    assert deployment.coin.balanceOf(oracle_files.custodial_address("stuck-cust")) == (5 + 5) * COIN


def test_the_self_check_names_every_mismatch(oracle_files, deployment, accounts) -> None:
    wrong = write_oracle_files(
        oracle_files.directory.parent / "wrong",
        oracle_files.config().chain.rpc_url,
        oracle_files.config().chain.chain_id + 1,
        deployment.registry.address,
        brand_id=1,
    )
    (wrong.directory / "policy.yaml").write_text(
        (wrong.directory / "policy.yaml").read_text().replace("base_reward: 2", "base_reward: 3")
    )
    deployment.registry.setQuorum(1, 2, {"from": accounts[0]})
    try:
        oracle = build_oracle(wrong.config(), environ=wrong.environ)
        problems = oracle.self_check()
    finally:
        deployment.registry.setQuorum(1, 1, {"from": accounts[0]})
    assert any("the config says" in p for p in problems)
    assert any("needs 2 signatures per batch of brand 1; 1 distinct signer(s) configured" in p for p in problems)
    assert any(p.startswith("kinds.csat_rating.base_reward: policy says 3 SVC, the registry pays 2 SVC") for p in problems)


def test_a_second_outbox_for_the_same_brand_is_refused_at_start(oracle, oracle_files, deployment, chain) -> None:
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert generic_event(client, 400, customer="first-outbox").status_code == 202
    run_until(oracle, lambda: oracle.outbox.event_state(event_id(1, "generic", "ev-400")) == "final", chain)
    config = oracle_files.config()
    other = write_oracle_files(
        oracle_files.directory.parent / "other", config.chain.rpc_url, config.chain.chain_id, deployment.registry.address
    )
    problems = build_oracle(other.config(), environ=other.environ).self_check()
    assert problems == [
        "sequence number 1 of brand 1 is already recorded on chain: this outbox is not the brand's latest "
        "(restored from an old backup, or another oracle's?)"
    ]


def test_a_record_the_registry_skips_keeps_the_reason(oracle, oracle_files, deployment, chain, accounts) -> None:
    deployment.registry.setCustomerCap(1, {"from": accounts[0]})  # room for one reward
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        for n in (500, 501):
            assert generic_event(client, n, customer="capped-cust").status_code == 202
    run_until(oracle, lambda: oracle.outbox.counts_by_state() == {"final": 2}, chain)
    first, second = (oracle.outbox.event_row(event_id(1, "generic", f"ev-{n}")) for n in (500, 501))
    assert first.reason is None
    assert second.reason == "not rewarded by this transaction: CustomerCapReached"
    assert deployment.coin.balanceOf(oracle_files.custodial_address("capped-cust")) == (5 + 5) * COIN


def test_a_record_skipped_for_the_customer_cap_is_rewarded_by_a_retry_in_the_next_period(
    oracle, oracle_files, deployment, chain, accounts
) -> None:
    """Nothing earned is lost to a cap: `retry-skipped` sends the record again with its sequence
    number. In the same period the registry skips it again (and pays nothing twice); once the
    period turns, it is rewarded."""
    deployment.registry.setCustomerCap(1, {"from": accounts[0]})
    customer = oracle_files.custodial_address("capped-again")
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        for n in (510, 511):
            assert generic_event(client, n, customer="capped-again").status_code == 202
    run_until(oracle, lambda: oracle.outbox.counts_by_state() == {"final": 2}, chain)
    second = event_id(1, "generic", "ev-511")
    seq = oracle.outbox.event_row(second).seq

    def retry() -> str:
        result = CliRunner().invoke(cli, ["-c", str(oracle_files.config_path), "retry-skipped"], env=oracle_files.environ)
        assert result.exit_code == 0, result.output
        return result.output

    verify = CliRunner().invoke(cli, ["-c", str(oracle_files.config_path), "verify", "ev-511", "--source", "generic"],
                                env=oracle_files.environ)
    assert verify.exit_code == 5  # no record on chain
    assert "the registry skipped it (CustomerCapReached) (`servicecoin retry-skipped` can send it again)" in verify.output
    assert "re-queued 1 record(s): CustomerCapReached 1" in retry()
    run_until(oracle, lambda: oracle.outbox.counts_by_state() == {"final": 2}, chain)
    assert oracle.outbox.event_row(second).reason == "not rewarded by this transaction: CustomerCapReached"
    assert deployment.coin.balanceOf(customer) == (5 + 5) * COIN  # the welcome bonus and one reward

    # The next cap period, then back: later tests (a co-signer on the wall clock) need the
    # chain's clock where it was, and Anvil's revert restores it.
    chain.snapshot()
    try:
        chain.sleep(86_400)
        chain.mine()
        assert "re-queued 1 record(s): CustomerCapReached 1" in retry()
        run_until(oracle, lambda: oracle.outbox.counts_by_state() == {"final": 2}, chain)
        row = oracle.outbox.event_row(second)
        assert (row.reason, row.seq) == (None, seq)
        assert deployment.registry.isRecorded(1, seq)
        assert deployment.coin.balanceOf(customer) == (5 + 5 + 5) * COIN
        assert "nothing to retry" in retry()
    finally:
        chain.revert()


def test_two_of_two_signers_co_sign_each_batch(oracle_files, deployment, chain, accounts) -> None:
    config = oracle_files.config()
    both = write_oracle_files(
        oracle_files.directory.parent / "quorum2", config.chain.rpc_url, config.chain.chain_id,
        deployment.registry.address, signers=[{"keystore": "oracle.json"}, {"keystore": "cosigner.json"}],
    )
    deployment.registry.setQuorum(1, 2, {"from": accounts[0]})
    oracle = build_oracle(both.config(), environ=both.environ)
    assert oracle.self_check() == []
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert generic_event(client, 600, customer="two-signers").status_code == 202
    key = event_id(1, "generic", "ev-600")
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    batch = oracle.outbox.batch_row(oracle.outbox.event_row(key).batch_id)
    assert len(json.loads(batch.signatures)) == 2
    assert deployment.coin.balanceOf(both.custodial_address("two-signers")) == (5 + 5) * COIN


def test_a_batch_signed_before_the_quorum_rose_is_signed_again_by_the_new_keys(
    oracle_files, deployment, chain, accounts
) -> None:
    """The operator raises the quorum; the brand adds the second key and restarts. The batch its
    old configuration signed is refused (QuorumNotReached) and must not wait for its deadline
    (an hour) blocking every later batch: the oracle signs it again with the keys it has now.
    With the same keys signing again would not help, so the batch then waits as it is."""
    config = oracle_files.config()
    both = write_oracle_files(
        oracle_files.directory.parent / "raised", config.chain.rpc_url, config.chain.chain_id,
        deployment.registry.address, signers=[{"keystore": "oracle.json"}, {"keystore": "cosigner.json"}],
    )
    one_key = both.config().model_copy(update={"signers": both.config().signers[:1]})
    before = build_oracle(one_key, environ=both.environ)
    deployment.registry.setQuorum(1, 2, {"from": accounts[0]})
    with serving(before.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert generic_event(client, 650, customer="raised-quorum").status_code == 202
    chain.mine()  # the chain's clock passes the event's time (batches wait for that)
    problems = step_until_problem(before, chain, steps=80, pause=0.1)
    assert any("QuorumNotReached(1, 2)" in p for p in problems), problems
    key = event_id(1, "generic", "ev-650")
    batch_id = before.outbox.event_row(key).batch_id
    signed_once = before.outbox.batch_row(batch_id).signatures
    for _ in range(3):  # the same keys: refused the same way, left as it is
        before.pipeline.step()
    assert (before.outbox.batch_row(batch_id).state, before.outbox.batch_row(batch_id).signatures) == ("signed", signed_once)

    after = build_oracle(both.config(), environ=both.environ)  # the restart with both keys
    run_until(after, lambda: after.outbox.event_state(key) == "final", chain)
    assert after.outbox.event_row(key).batch_id == batch_id
    assert len(json.loads(after.outbox.batch_row(batch_id).signatures)) == 2
    assert deployment.coin.balanceOf(both.custodial_address("raised-quorum")) == (5 + 5) * COIN


def test_an_independent_cosigner_completes_a_two_of_two_quorum(oracle_files, deployment, chain, accounts) -> None:
    """The co-signer runs its own service with its own key and its own copy of the policy; the
    oracle asks it over HTTP. While it refuses, the batch waits; nothing is sent."""
    from eth_account import Account

    from oracle.cosign.server import create_cosigner_app
    from oracle.policy import load_policy
    from oracle.signer import BatchSigner
    from oracle.typed_data import Domain
    from scripts.local_oracle import COSIGNER_KEY

    config = oracle_files.config()
    domain = Domain(chain_id=config.chain.chain_id, verifying_contract=deployment.registry.address)
    cosigner = BatchSigner(Account.from_key(COSIGNER_KEY), domain)
    deployment.registry.setQuorum(1, 2, {"from": accounts[0]})
    with serving(create_cosigner_app(cosigner, load_policy(EXAMPLE_POLICY), "cosign-secret")) as cosigner_url:
        files = write_oracle_files(
            oracle_files.directory.parent / "remote", config.chain.rpc_url, config.chain.chain_id,
            deployment.registry.address,
            cosigners=[{"url": cosigner_url, "address": cosigner.address, "secret_env": "COSIGN_SECRET"}],
        )
        environ = {**files.environ, "COSIGN_SECRET": "cosign-secret"}
        oracle = build_oracle(files.config(), environ=environ)
        assert oracle.self_check() == []
        with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
            assert generic_event(client, 700, customer="cosigned").status_code == 202
        key = event_id(1, "generic", "ev-700")
        run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
        batch = oracle.outbox.batch_row(oracle.outbox.event_row(key).batch_id)
        assert len(json.loads(batch.signatures)) == 2
        assert deployment.coin.balanceOf(files.custodial_address("cosigned")) == (5 + 5) * COIN

        # The oracle's policy file changes, but not the co-signer's published copy: it refuses.
        (files.directory / "policy.yaml").write_text((files.directory / "policy.yaml").read_text() + "\n# v1.1\n")
        changed = build_oracle(files.config(), environ=environ)
        with serving(changed.app) as url, httpx.Client(base_url=url, timeout=10) as client:
            assert generic_event(client, 701, customer="cosigned").status_code == 202
        chain.mine()  # the chain's clock passes the event's time (batches wait for that)
        problems = step_until_problem(changed, chain, steps=30, pause=0.3)
        assert problems and "is not the published policy" in problems[0]
        assert changed.outbox.batches_in(("open",))  # waiting, unsigned, unsent


def test_a_chain_clock_ahead_of_the_oracles_does_not_expire_its_batches(oracle, oracle_files, deployment, chain) -> None:
    """Deadlines follow the chain's clock: signed on the oracle's alone, a batch would be
    expired on arrival at a chain two hours ahead, and signed again forever."""
    chain.sleep(7200)
    chain.mine()
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert generic_event(client, 800, customer="time-traveller").status_code == 202
    key = event_id(1, "generic", "ev-800")
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    assert oracle.outbox.batch_row(oracle.outbox.event_row(key).batch_id).deadline > chain.time()


def test_a_nonce_used_by_another_transaction_is_detected_after_a_grace_and_resent(
    oracle_files, deployment, chain, web3
) -> None:
    """Another process with the same key sends a transaction at the batch's nonce and wins: the
    batch has no receipt. After the grace period (a node may count a nonce before it serves the
    receipt) the oracle sends the batch again at a new nonce."""
    from eth_account import Account

    from oracle.chain.submitter import NONCE_TAKEN_GRACE
    from scripts.local_oracle import SIGNER_KEY

    clock = [time.time()]
    oracle = build_oracle(oracle_files.config(), environ=oracle_files.environ, clock=lambda: clock[0])
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert generic_event(client, 900, customer="nonce-cust").status_code == 202
    key = event_id(1, "generic", "ev-900")
    chain.mine()
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        for _ in range(5):
            clock[0] += 1  # the batch's age passes max_age_seconds
            oracle.pipeline.step()
            if oracle.outbox.event_state(key) == "submitted":
                break
        row = oracle.outbox.batch_row(oracle.outbox.event_row(key).batch_id)
        sender = Account.from_key(SIGNER_KEY)
        rival = sender.sign_transaction({
            "type": 2, "chainId": web3.eth.chain_id, "nonce": row.nonce, "to": sender.address, "value": 0,
            "gas": 21000, "maxFeePerGas": 10**12, "maxPriorityFeePerGas": 10**11,
        })
        web3.eth.send_raw_transaction(rival.raw_transaction)  # replaces the batch in the pool
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    chain.mine()
    assert [e.what for e in oracle.pipeline.step().tracked] == []  # within the grace: wait
    clock[0] += NONCE_TAKEN_GRACE + 1
    assert "nonce_taken" in [e.what for e in oracle.pipeline.step().tracked]
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    assert oracle.outbox.event_row(key).reason is None
    assert deployment.coin.balanceOf(oracle_files.custodial_address("nonce-cust")) == (5 + 5) * COIN


def test_only_records_never_rewarded_are_reported_as_skipped(oracle, deployment, accounts) -> None:
    """A resubmitted record whose reward is already on chain is not 'not rewarded'; a record
    whose sequence number another event took is."""
    from oracle.typed_data import Domain, FeedbackBatch, FeedbackRecord, sign_batch
    from scripts.local_oracle import SIGNER_KEY

    domain = Domain(chain_id=deployment.registry.eip712Domain()[3], verifying_contract=deployment.registry.address)
    now = oracle.w3.eth.get_block("latest")["timestamp"] - 60  # the chain's clock: earlier tests move it
    first = FeedbackRecord(b"\x01" * 32, accounts[5].address, 1, 1, now, b"\x09" * 32)
    thief = FeedbackRecord(b"\x02" * 32, accounts[6].address, 2, 1, now, b"\x09" * 32)

    def submit(records):
        batch = FeedbackBatch(1, b"\x00" * 32, now + 3600, tuple(records))
        return deployment.registry.submitBatch(batch.as_packed(), sign_batch([SIGNER_KEY], domain, batch), {"from": accounts[0]})

    submit([first, thief])
    victim = FeedbackRecord(b"\x03" * 32, accounts[7].address, 2, 1, now, b"\x09" * 32)  # seq 2 again
    again = submit([first, victim])
    receipt = fetch_receipt(oracle.w3, bytes.fromhex(again.txid.removeprefix("0x")))
    assert oracle.registry.not_rewarded(receipt) == {b"\x03" * 32: "AlreadyRecorded"}

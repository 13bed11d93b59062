"""The redemption loop on Anvil, end to end over real HTTP: a customer earns coins through a real
batch, redeems, and the oracle (assembled from its config file as `servicecoin run` does) follows
the chain, asks the brand's fulfilment endpoint to deliver, and fulfils or refunds on chain from
its operations account. The arbiter's decisions go through the `servicecoin` CLI.

    brownie test tests/integration/test_redemption_loop.py --network dev-b
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_utils import keccak

from oracle.cli import main as cli
from oracle.custody import CustodialWallets
from oracle.ingest.server import serving
from oracle.redeem.keys import redemption_key
from oracle.redeem.loop import build_redemption_loop
from oracle.service import build_oracle, build_redemptions
from scripts.local_oracle import PASSWORD, write_oracle_files
from tests.integration.test_pipeline_on_chain import COIN, generic_event, run_until
from tests.oracle.brand_endpoint import SECRET, BrandEndpoint, Reply

OPERATIONS_KEY = keccak(text="servicecoin-test-operations-account")
BRAND = 1  # the brand of scripts/local_oracle.py's oracle
PENDING, FULFILLED, DISPUTED, REFUNDED, SETTLED = 1, 2, 3, 4, 5
PERK = (5 * COIN, 100, 0, 0, 3, 0, 0, True)  # a 5-coin digital product, 100 in stock, no limits


@pytest.fixture
def brand():
    endpoint = BrandEndpoint()
    with endpoint.serving() as url:
        endpoint.url = url
        yield endpoint


@pytest.fixture
def perk(deployment, accounts) -> int:
    """A perk one reward can buy; the operations account gets gas and its two roles."""
    redemption = deployment.redemption
    operations = Account.from_key(OPERATIONS_KEY).address
    for role in (redemption.fulfillerRole(BRAND), redemption.ARBITER_ROLE()):
        redemption.grantRole(role, operations, {"from": accounts[0]})
    accounts[0].transfer(operations, "10 ether")
    item_id = redemption.itemCount()
    redemption.addItem(BRAND, PERK, {"from": accounts[0]})
    return item_id


@pytest.fixture
def files(tmp_path, deployment, web3, brand, perk):
    files = write_oracle_files(
        tmp_path / "oracle", web3.provider.endpoint_uri, web3.eth.chain_id, deployment.registry.address,
        chain={"redemption": deployment.redemption.address, "start_block": web3.eth.block_number},
        operations={"keystore": "operations.json"},
        fulfilment={"url": brand.url, "secret_env": "FULFILMENT_SECRET", "timeout_seconds": 2, "max_attempts": 3,
                    "first_retry_seconds": 0.2, "max_retry_seconds": 0.5},
    )
    (files.directory / "operations.json").write_text(json.dumps(Account.encrypt(OPERATIONS_KEY, PASSWORD)))
    files.environ["FULFILMENT_SECRET"] = SECRET.decode()
    return files


@pytest.fixture
def oracle(files):
    return build_oracle(files.config(), environ=files.environ)


@pytest.fixture
def loop(oracle, files):
    return build_redemptions(files.config(), oracle.outbox, oracle.w3, oracle.metrics, environ=files.environ)


def earn(oracle, chain, customer: str, events: int = 1, first: int = 0) -> None:
    """Rewards `events` survey answers (5 coins each; the first reward brings a 5-coin welcome)."""
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        for n in range(first, first + events):
            assert generic_event(client, n, customer=customer).status_code == 202
    chain.mine()  # the chain's clock passes the events' time
    run_until(oracle, lambda: oracle.outbox.counts_by_state().get("final", 0) >= first + events, chain)


def wallet(files, accounts, customer: str):
    """The customer's custodial account, with gas to redeem by themselves (gasless is relayed)."""
    account = accounts.add(CustodialWallets(files.brand_secret, 1).account_for(customer).key.hex())
    accounts[0].transfer(account, "1 ether")
    return account


def redeem(deployment, account, item_id: int, max_price: int) -> int:
    deployment.coin.approve(deployment.redemption, max_price, {"from": account})
    tx = deployment.redemption.redeem(item_id, max_price, {"from": account})
    return int(tx.events["Redeemed"]["redemptionId"])


def step_until(loop, condition, chain, steps: int = 80) -> None:
    for _ in range(steps):
        loop.step()
        if condition():
            return
        chain.mine()
        time.sleep(0.1)
    raise AssertionError(f"not reached; redemptions: {[tuple(r) for r in loop.store.list()]}")


def state(loop, rid: int) -> str | None:
    row = loop.store.get(rid)
    return None if row is None else row.state


def servicecoin(files, *args: str):
    return CliRunner().invoke(cli, ["-c", str(files.config_path), *args], env=files.environ)


def test_a_redemption_is_delivered_by_the_brand_and_fulfilled_with_a_commitment_to_it(
    oracle, loop, files, deployment, perk, brand, chain, accounts
) -> None:
    earn(oracle, chain, "loop-alice")
    alice = wallet(files, accounts, "loop-alice")
    assert deployment.coin.balanceOf(alice) == 10 * COIN
    rid = redeem(deployment, alice, perk, 5 * COIN)
    step_until(loop, lambda: state(loop, rid) == "fulfilled", chain)

    [request] = brand.received
    assert request.signature_ok
    payload = request.payload
    assert payload["customer_id"] == "loop-alice"  # known from the customer's rewarded events
    assert (payload["redemption_id"], payload["customer_address"], payload["item_id"], payload["price"]) == (
        rid, alice.address, perk, str(5 * COIN))
    assert (payload["chain_id"], payload["contract"], payload["tier"]) == (
        chain.id, deployment.redemption.address, 0)
    key = redemption_key(chain.id, deployment.redemption.address, rid, alice.address, perk)
    assert request.key == "0x" + key.hex()

    on_chain = deployment.redemption.redemptionOf(rid)
    row = loop.store.get(rid)
    opened = oracle.outbox.vault.open(key)
    assert on_chain[3] == FULFILLED
    assert on_chain[8] == "0x" + row.delivery_commitment.hex() == "0x" + row.chain_commitment.hex()
    assert opened.commitment == row.delivery_commitment
    assert opened.content == {"delivery": brand.deliveries[request.key]}
    assert deployment.coin.balanceOf(alice) == 5 * COIN

    listed = servicecoin(files, "redemptions", "--json")
    assert listed.exit_code == 0, listed.output
    [view] = json.loads(listed.output)
    assert (view["id"], view["state"], view["fulfil_tx"] is not None) == (rid, "fulfilled", True)
    with serving(oracle.app) as url:
        metrics = httpx.get(f"{url}/metrics").text
    assert 'servicecoin_redemptions_total{outcome="delivered"} 1.0' in metrics
    assert 'servicecoin_redemptions_total{outcome="fulfilled"} 1.0' in metrics


def test_a_brand_that_keeps_failing_ends_in_a_refund(oracle, loop, files, deployment, perk, brand, chain, accounts) -> None:
    earn(oracle, chain, "loop-bob")
    bob = wallet(files, accounts, "loop-bob")
    brand.always = Reply(status=503, body=b'{"error": "warehouse offline"}')
    rid = redeem(deployment, bob, perk, 5 * COIN)
    assert deployment.coin.balanceOf(bob) == 5 * COIN
    step_until(loop, lambda: state(loop, rid) == "refunded", chain)

    assert len(brand.received) == 3 and brand.deliveries_made() == 0  # max_attempts
    assert deployment.redemption.redemptionOf(rid)[3] == REFUNDED
    assert deployment.coin.balanceOf(bob) == 10 * COIN  # the price is back
    assert deployment.redemption.itemOf(perk)[1] == PERK[1]  # and the unit back in stock
    row = loop.store.get(rid)
    assert row.refund_reason == "delivery failed 3 times, last: HTTP 503: warehouse offline"
    assert row.refund_tx is not None


def test_a_dispute_is_reported_and_the_arbiter_refunds_it(
    oracle, loop, files, deployment, perk, brand, chain, accounts
) -> None:
    earn(oracle, chain, "loop-carol")
    carol = wallet(files, accounts, "loop-carol")
    rid = redeem(deployment, carol, perk, 5 * COIN)
    step_until(loop, lambda: state(loop, rid) == "fulfilled", chain)
    deployment.redemption.dispute(rid, {"from": carol})  # within the dispute window
    step_until(loop, lambda: state(loop, rid) == "disputed", chain)

    listed = servicecoin(files, "redemptions", "--state", "disputed")
    assert listed.exit_code == 0 and f"the arbiter decides (servicecoin redemption refund|reject-dispute {rid})" in listed.output
    with serving(oracle.app) as url:
        assert 'servicecoin_redemptions_total{outcome="disputed"} 1.0' in httpx.get(f"{url}/metrics").text

    # Without ARBITER_ROLE the operations account cannot decide a dispute: a clear error, nothing sent.
    operations = Account.from_key(OPERATIONS_KEY).address
    deployment.redemption.revokeRole(deployment.redemption.ARBITER_ROLE(), operations, {"from": accounts[0]})
    refused = servicecoin(files, "redemption", "refund", str(rid))
    assert refused.exit_code == 1
    assert f"the operations account {operations} lacks ARBITER_ROLE on TierRedemption" in refused.output
    deployment.redemption.grantRole(deployment.redemption.ARBITER_ROLE(), operations, {"from": accounts[0]})

    refunded = servicecoin(files, "redemption", "refund", str(rid))
    assert refunded.exit_code == 0, refunded.output
    assert f"redemption {rid} refunded: tx 0x" in refunded.output
    step_until(loop, lambda: state(loop, rid) == "refunded", chain)
    assert deployment.coin.balanceOf(carol) == 10 * COIN
    again = servicecoin(files, "redemption", "reject-dispute", str(rid))
    assert again.exit_code == 1 and f"redemption {rid} is refunded on chain" in again.output


def test_a_rejected_dispute_settles(oracle, loop, files, deployment, perk, brand, chain, accounts) -> None:
    earn(oracle, chain, "loop-dave")
    dave = wallet(files, accounts, "loop-dave")
    rid = redeem(deployment, dave, perk, 5 * COIN)
    step_until(loop, lambda: state(loop, rid) == "fulfilled", chain)
    deployment.redemption.dispute(rid, {"from": dave})
    result = servicecoin(files, "redemption", "reject-dispute", str(rid))
    assert result.exit_code == 0, result.output
    step_until(loop, lambda: state(loop, rid) == "settled", chain)
    assert deployment.redemption.redemptionOf(rid)[3] == SETTLED
    assert deployment.coin.balanceOf(dave) == 5 * COIN


def test_a_price_announcement_changes_nothing_before_its_notice_period_ends(
    oracle, loop, files, deployment, perk, brand, chain, accounts
) -> None:
    earn(oracle, chain, "loop-erin", events=2)
    erin = wallet(files, accounts, "loop-erin")
    assert deployment.coin.balanceOf(erin) == 15 * COIN
    notice = deployment.redemption.PRICE_NOTICE_PERIOD()
    tx = deployment.redemption.announcePrice(perk, 8 * COIN, {"from": accounts[0]})
    effective_at = tx.events["PriceChangeAnnounced"]["effectiveAt"]
    step_until(loop, lambda: len(loop.store.announcements()) == 1, chain)
    upcoming = json.loads(servicecoin(files, "prices", "--json").output)
    assert upcoming == [{"item": perk, "old_price_units": str(5 * COIN), "new_price_units": str(8 * COIN),
                         "announced_at": chain[tx.block_number].timestamp, "effective_at": effective_at,
                         "state": "upcoming", "tx": tx.txid}]

    chain.sleep(effective_at - chain.time() - 30)  # just before the new price takes effect
    before = redeem(deployment, erin, perk, 8 * COIN)
    assert deployment.redemption.redemptionOf(before)[4] == 5 * COIN  # the old price, though 8 was allowed
    chain.sleep(60)
    chain.mine()
    assert deployment.redemption.priceOf(perk) == 8 * COIN
    after = redeem(deployment, erin, perk, 8 * COIN)
    assert deployment.redemption.redemptionOf(after)[4] == 8 * COIN
    assert deployment.coin.balanceOf(erin) == 2 * COIN
    step_until(loop, lambda: state(loop, after) == "fulfilled", chain)
    assert [(r.redemption_id, r.price) for r in loop.store.list()] == [(before, str(5 * COIN)), (after, str(8 * COIN))]
    listed = servicecoin(files, "prices")
    assert listed.exit_code == 0 and f"item {perk}: 5 -> 8 SVC, effective " in listed.output and "(effective)" in listed.output
    assert notice > 60


def test_a_pause_pushes_the_listed_effect_time_of_a_price_change_back(
    loop, files, deployment, perk, chain, accounts
) -> None:
    """The event's effectiveAt is as announced; `servicecoin prices` shows the time the chain
    will apply it, later by the pause since (TierRedemption never spends a notice paused)."""
    redemption = deployment.redemption
    tx = redemption.announcePrice(perk, 8 * COIN, {"from": accounts[0]})
    announced = tx.events["PriceChangeAnnounced"]["effectiveAt"]
    step_until(loop, lambda: len(loop.store.announcements()) == 1, chain)
    paused_at = redemption.pause({"from": accounts[0]}).timestamp
    chain.sleep(redemption.PRICE_NOTICE_PERIOD() + 3600)  # past the announced time, still paused
    unpaused_at = redemption.unpause({"from": accounts[0]}).timestamp
    listed = json.loads(servicecoin(files, "prices", "--json").output)
    assert [(r["effective_at"], r["state"]) for r in listed] == [(announced + unpaused_at - paused_at, "upcoming")]
    assert redemption.priceOf(perk) == 5 * COIN


def test_a_reorg_under_the_follower_neither_loses_nor_duplicates_a_redemption(
    oracle, loop, files, deployment, perk, brand, chain, accounts
) -> None:
    for n, customer in enumerate(("reorg-alice", "reorg-bob", "reorg-carol")):
        earn(oracle, chain, customer, first=n)
    alice, bob, carol = (wallet(files, accounts, c) for c in ("reorg-alice", "reorg-bob", "reorg-carol"))
    chain.snapshot()
    # The chain that will be replaced: Alice's and Carol's redemptions, delivered and fulfilled.
    assert redeem(deployment, alice, perk, 5 * COIN) == 0
    assert redeem(deployment, carol, perk, 5 * COIN) == 1
    step_until(loop, lambda: state(loop, 0) == state(loop, 1) == "fulfilled", chain)
    old_height = chain.height
    sealed = loop.store.get(0).delivery_commitment
    assert len(brand.received) == 2

    chain.revert()
    # The chain that wins, longer: Alice's redemption mined again (as her transaction would be),
    # and Bob's instead of Carol's, which never happened on this chain.
    assert redeem(deployment, alice, perk, 5 * COIN) == 0
    assert redeem(deployment, bob, perk, 5 * COIN) == 1
    chain.mine(old_height - chain.height + 3)
    assert loop.follower.poll().rewound_to is not None  # its last block is not on this chain
    step_until(loop, lambda: state(loop, 0) == state(loop, 1) == "fulfilled", chain)

    rows = loop.store.list()
    assert [(r.redemption_id, r.customer_address) for r in rows] == [(0, alice.address), (1, bob.address)]
    # Alice's delivery was made once and fulfilled again on the new chain with the same commitment.
    assert [r.payload["customer_address"] for r in brand.received] == [alice.address, carol.address, bob.address]
    assert rows[0].delivery_commitment == sealed
    for row in rows:
        on_chain = deployment.redemption.redemptionOf(row.redemption_id)
        assert on_chain[3] == FULFILLED and on_chain[8] == "0x" + row.delivery_commitment.hex()
    assert deployment.redemption.redemptionCount() == 2


def test_a_redemption_removed_by_anvil_reorg_is_orphaned_and_never_delivered(
    oracle, loop, files, deployment, perk, brand, chain, accounts, web3
) -> None:
    earn(oracle, chain, "reorg-frank")
    frank = wallet(files, accounts, "reorg-frank")
    # The watcher alone (no fulfiller) reads the redemption before the reorg.
    watcher_only = build_redemption_loop(files.config().model_copy(update={"fulfilment": None}), oracle.outbox,
                                         oracle.w3, None)
    rid = redeem(deployment, frank, perk, 5 * COIN)
    watcher_only.follower.catch_up()
    assert state(loop, rid) == "pending"
    # The last blocks (the redemption's among them) are replaced by empty ones of the same height.
    depth = chain.height - loop.store.get(rid).redeemed_block + 1
    assert web3.provider.make_request("anvil_reorg", [depth, []]).get("error") is None
    assert deployment.redemption.redemptionCount() == 0
    step_until(loop, lambda: state(loop, rid) == "orphaned", chain)
    for _ in range(3):
        loop.step()
    assert brand.received == [] and deployment.coin.balanceOf(frank) == 10 * COIN
    assert state(loop, rid) == "orphaned"


def test_servicecoin_run_fulfils_redemptions_in_its_background_loop(
    oracle, files, deployment, perk, brand, chain, accounts
) -> None:
    earn(oracle, chain, "run-grace")
    grace = wallet(files, accounts, "run-grace")
    servicecoin_bin = str(Path(sys.executable).with_name("servicecoin"))
    process = subprocess.Popen([servicecoin_bin, "-c", str(files.config_path), "run"],
                               env={**os.environ, **files.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        rid = redeem(deployment, grace, perk, 5 * COIN)
        deadline = time.monotonic() + 60
        while deployment.redemption.redemptionOf(rid)[3] != FULFILLED:
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "not fulfilled by `servicecoin run`"
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert len(brand.received) == 1 and brand.received[0].payload["customer_id"] == "run-grace"

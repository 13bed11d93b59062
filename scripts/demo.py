"""`make demo`: the whole product on an embedded local chain.

Deploys with the same `deploy()` operators use, starts the oracle exactly as `servicecoin run`
assembles it (config file, encrypted keystore, SQLite outbox, webhook server on a free port),
replays a month of a Zendesk helpdesk through real HTTP with real signatures, waits until
every reward is final on chain, lets customers redeem perks with gasless permits signed by
their custodial wallets, has them fulfilled, and verifies one record end to end.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from brownie import accounts, chain, web3
from tqdm import tqdm

from oracle.chain.record_lookup import record_from_outbox_row
from oracle.custody import CustodialWallets
from oracle.ingest.server import serving
from oracle.pipeline import PipelineRunner
from oracle.service import build_oracle
from oracle.typed_data import Domain, permit_typed_data, sign_permit
from scripts import brownie_compat
from scripts.demo_dataset import helpdesk_month
from scripts.deploy import deploy
from scripts.deploy_config import config_for_network
from scripts.local_oracle import GENERIC_SECRET, ZENDESK_SECRET, BlockTicker, signer_addresses, write_oracle_files

COIN = 10**18
TIER_NAMES = ("Bronze", "Silver", "Gold", "Platinum")
IN_FLIGHT = ("received", "eligible", "batched", "submitted", "confirmed")


def quietly() -> contextlib.AbstractContextManager[object]:
    """Hides brownie's per-transaction console lines (its ContractTx ignores --silent)."""
    return contextlib.redirect_stdout(io.StringIO())


def main() -> None:
    brownie_compat.install()
    started = time.monotonic()
    admin = accounts[0]
    signer = signer_addresses()[0]
    config = config_for_network("development").with_signers([signer])
    with quietly():
        d = deploy(admin, config)
        admin.transfer(signer, "10 ether")  # the oracle's signer pays for its batches
    print(f"\nDeployed ServiceCoin {d.coin.address}\n         FeedbackRegistry {d.registry.address}"
          f"\n         TierRedemption {d.redemption.address}   (chain {chain.id}, {web3.provider.endpoint_uri})")

    with tempfile.TemporaryDirectory(prefix="servicecoin-demo-") as workdir:
        files = write_oracle_files(
            Path(workdir), web3.provider.endpoint_uri, chain.id, d.registry.address,
            batching={"max_size": 100, "max_age_seconds": 1}, chain={"finality_depth": 2},
        )
        oracle = build_oracle(files.config(), environ=files.environ)
        problems = oracle.self_check()
        if problems:
            raise SystemExit("oracle self-check failed: " + "; ".join(problems))
        answers = replay_helpdesk(oracle, files)
        rewards_gas, batches = gas_of_final_batches(oracle)
        redeemed = redeem_and_fulfil(d, oracle, files, admin)
        report(d, oracle, files, answers, rewards_gas, batches, redeemed)
        verify_one_record(oracle)
    print(f"\ndone in {time.monotonic() - started:.0f} s")


def replay_helpdesk(oracle, files) -> Counter:
    """Every delivery over HTTP, signed; then the oracle runs until nothing is in flight."""
    deliveries = helpdesk_month(int(time.time()))
    runner = PipelineRunner(oracle.pipeline, interval=0.2)
    answers: Counter = Counter()
    with serving(oracle.app) as url, BlockTicker(web3.provider.endpoint_uri, 0.5), httpx.Client(base_url=url) as client:
        print(f"oracle listening on {url}, signer {oracle.submitter.address}\n")
        runner.start()
        try:
            for delivery in tqdm(deliveries, desc="helpdesk webhooks", unit="event"):
                headers = delivery.headers(ZENDESK_SECRET.encode(), GENERIC_SECRET.encode(), int(time.time()))
                response = client.post(f"/webhooks/{delivery.route}", content=delivery.body, headers=headers)
                answers["repeated delivery" if delivery.repeat else str(response.status_code)] += 1
                if response.status_code not in (200, 202):
                    raise SystemExit(f"the oracle refused a delivery: {response.status_code} {response.text}")
            wait_until_settled(oracle, runner)
        finally:
            runner.stop()
    return answers


def wait_until_settled(oracle, runner: PipelineRunner, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    with tqdm(desc="rewards final on chain", unit="event") as bar:
        while True:
            counts = oracle.outbox.counts_by_state()
            bar.n = counts.get("final", 0)
            bar.refresh()
            if not any(counts.get(state) for state in IN_FLIGHT):
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"events still in flight after {timeout:.0f} s: {counts} ({runner.last_error})")
            time.sleep(0.2)


def gas_of_final_batches(oracle) -> tuple[int, int]:
    rows = oracle.outbox.batches_in(("final",))
    return sum(oracle.w3.eth.get_transaction_receipt(row.tx_hash)["gasUsed"] for row in rows), len(rows)


def redeem_and_fulfil(d, oracle, files, admin) -> Counter:
    """Customers with enough coins redeem the e-book (item 3) or, from Silver, priority support
    (item 1). Their custodial wallets sign an EIP-2612 permit, so no approval transaction is needed."""
    wallets = CustodialWallets(files.brand_secret, 1)
    name, version, chain_id, verifying = d.coin.eip712Domain()[1:5]
    coin_domain = Domain(chain_id=chain_id, verifying_contract=verifying, name=name, version=version)
    redeemed: Counter = Counter()
    for customer_id in sorted(customer_ids(oracle)):
        account = wallets.account_for(customer_id)
        for item_id in (1, 3):
            price, min_tier = d.redemption.priceOf(item_id), d.redemption.itemOf(item_id)[3]
            if d.coin.balanceOf(account.address) < price or d.redemption.tierOf(account.address) < min_tier:
                continue
            deadline = chain.time() + 3600
            permit = permit_typed_data(coin_domain, account.address, d.redemption.address, price,
                                       d.coin.nonces(account.address), deadline)
            v, r, s = sign_permit(account.key, permit)
            holder = accounts.add(account.key)
            with quietly():
                admin.transfer(holder, "1 ether")  # the custodial service pays the customer's gas
                tx = d.redemption.redeemWithPermit(item_id, price, deadline, v, r, s, {"from": holder})
                redemption_id = tx.events["Redeemed"]["redemptionId"]
                d.redemption.fulfil(redemption_id, b"\x11" * 32, {"from": admin})
            redeemed[customer_id] += 1
    return redeemed


def customer_ids(oracle) -> set[str]:
    with oracle.outbox._engine.connect() as connection:
        return {row[0] for row in connection.exec_driver_sql("SELECT DISTINCT customer_id FROM events")}


def report(d, oracle, files, answers, rewards_gas, batches, redeemed) -> None:
    counts = oracle.outbox.counts_by_state()
    rewarded = counts.get("final", 0) - sum(oracle.outbox.reasons("final").values())
    print(f"\nwebhooks: {sum(answers.values())} deliveries: "
          + ", ".join(f"{n} {what}" for what, n in sorted(answers.items())))
    print(f"policy:   {counts.get('final', 0)} eligible, {counts.get('ineligible', 0)} not")
    for reason, n in sorted(oracle.outbox.reasons("ineligible").items(), key=lambda kv: -kv[1]):
        print(f"          {n:4} {reason}")
    for reason, n in oracle.outbox.reasons("final").items():
        # The registry's per-customer cap is per chain day, and the month replays in one.
        print(f"          {n:4} {reason} (the on-chain cap per customer per day)")
    print(f"chain:    {rewarded} rewards in {batches} batches, {rewards_gas // max(rewarded, 1):,} gas per rewarded event"
          " (welcome bonuses and first-time customers included)")

    rows = []
    for customer_id in customer_ids(oracle):
        address = files.custodial_address(customer_id)
        rows.append((d.registry.lifetimeEarned(address), customer_id, address))
    print("\ncustomer        custodial address                             balance  lifetime  tier      redeemed")
    for lifetime, customer_id, address in sorted(rows, reverse=True)[:12]:
        tier = TIER_NAMES[d.redemption.tierOf(address)]
        print(f"{customer_id:14}  {address}  {d.coin.balanceOf(address) / COIN:7.1f}  {lifetime / COIN:8.1f}"
              f"  {tier:8}  {redeemed[customer_id]:>8}")
    print(f"... {len(rows)} customers; {sum(redeemed.values())} redemptions fulfilled; "
          f"total supply {d.coin.totalSupply() / COIN:,.1f} SVC")


def verify_one_record(oracle) -> None:
    """The first rewarded event: on chain once, in a final block, with its content commitment
    opening to the encrypted content the oracle holds."""
    with oracle.outbox._engine.connect() as connection:
        key = connection.exec_driver_sql(
            "SELECT event_id FROM events WHERE state = 'final' AND reason IS NULL ORDER BY seq LIMIT 1"
        ).scalar_one()
    proof = oracle.registry.find_record(1, key, record=record_from_outbox_row(oracle.outbox.event_row(key)))
    assert proof is not None, "the first rewarded event has no on-chain record"
    assert oracle.registry.is_recorded(1, proof.seq)
    verdict = oracle.outbox.vault.verify(key, proof.content_commitment)
    assert verdict == "match", verdict
    print(f"\nverified: event 0x{key.hex()[:16]}… is recorded as seq {proof.seq} in block {proof.block_number} "
          f"(tx 0x{proof.tx_hash.hex()[:16]}…), reward {proof.reward / COIN} SVC to {proof.customer}; "
          f"its on-chain commitment opens to the stored content ({verdict})")

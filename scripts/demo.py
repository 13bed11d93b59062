"""`make demo`: the contracts' main job on an embedded local chain.

Deploys with the same `deploy()` operators use, rewards a deterministic set of customers for
their helpdesk participation in EIP-712 signed batches (as the oracle will), lets some of them
redeem catalog items that a fulfiller then delivers, and prints what happened with its gas.
"""

from __future__ import annotations

import contextlib
import io
import random
from collections import Counter

from brownie import accounts, chain
from eth_account import Account
from eth_utils import keccak

from oracle.kinds import FeedbackKind
from oracle.typed_data import Domain, FeedbackBatch, FeedbackRecord, batch_digest, sign_batch
from scripts import brownie_compat
from scripts.deploy import deploy
from scripts.deploy_config import config_for_network

COIN = 10**18
BRAND_ID = 1
CUSTOMERS = 24
EVENTS = 240
BATCH_SIZE = 60
TIER_NAMES = ("Bronze", "Silver", "Gold", "Platinum")


def quietly() -> contextlib.AbstractContextManager[object]:
    """Hides brownie's per-transaction console lines (its ContractTx ignores --silent)."""
    return contextlib.redirect_stdout(io.StringIO())


def dataset(customers: list[str], now: int) -> list[FeedbackRecord]:
    """Helpdesk events, generated from a fixed seed so every run shows the same story."""
    rng = random.Random(2026)
    kinds = list(FeedbackKind)
    weights = [30, 20, 15, 15, 5, 15]
    records = []
    for seq in range(1, EVENTS + 1):
        # Some customers take part far more often than others.
        customer = rng.choices(customers, weights=[1 + (i % 5) for i in range(len(customers))])[0]
        kind = rng.choices(kinds, weights)[0]
        records.append(
            FeedbackRecord(
                event_id=keccak(text=f"acme/zendesk/{10_000 + seq}"),
                customer=customer,
                seq=seq,
                kind=int(kind),
                occurred_at=now - (EVENTS - seq) * 30,
                content_commitment=keccak(text=f"demo-salt-{seq}|encrypted-content"),
            )
        )
    return records


def main() -> None:
    brownie_compat.install()
    admin = accounts[0]
    signer = Account.from_key(keccak(text="servicecoin-demo-oracle-signer"))
    config = config_for_network("development").model_copy(update={"signers": [signer.address], "quorum": 1})
    with quietly():
        d = deploy(admin, config)
    print(f"\nDeployed ServiceCoin {d.coin.address}\n         FeedbackRegistry {d.registry.address}"
          f"\n         TierRedemption {d.redemption.address}")

    customer_accounts = [accounts.add(keccak(text=f"demo-customer-{i}")) for i in range(CUSTOMERS)]
    customers = [a.address for a in customer_accounts]
    records = dataset(customers, chain.time())
    domain = Domain(chain_id=chain.id, verifying_contract=d.registry.address)

    gas, rewarded = 0, 0
    for start in range(0, len(records), BATCH_SIZE):
        batch = FeedbackBatch(BRAND_ID, keccak(text="policy-v1"), chain.time() + 600,
                              tuple(records[start:start + BATCH_SIZE]))
        with quietly():
            tx = d.registry.submitBatch(batch.as_tuple(), sign_batch([signer.key], domain, batch), {"from": admin})
        gas += tx.gas_used
        rewarded += tx.events["BatchRecorded"]["recorded"]
        print(f"batch {start // BATCH_SIZE + 1}: {len(batch.records)} records, "
              f"{tx.events['BatchRecorded']['recorded']} rewarded, {tx.gas_used:,} gas")

    # Retrying a batch is safe: everything in it is already recorded, so nothing is paid twice.
    retry = FeedbackBatch(BRAND_ID, keccak(text="policy-v1"), chain.time() + 600, tuple(records[:BATCH_SIZE]))
    with quietly():
        tx = d.registry.submitBatch(retry.as_tuple(), sign_batch([signer.key], domain, retry), {"from": admin})
    print(f"retry of batch 1: {tx.events['BatchRecorded']['recorded']} rewarded "
          f"({len(tx.events['RecordNotRewarded'])} skipped as already recorded)")

    # Customers with enough coins redeem the e-book (item 3) or, from Silver, priority support.
    redeemed = Counter()
    for customer in customer_accounts:
        for item_id in (1, 3):
            price = d.redemption.priceOf(item_id)
            item = d.redemption.itemOf(item_id)
            if d.coin.balanceOf(customer) < price or d.redemption.tierOf(customer) < item[3]:
                continue
            with quietly():
                admin.transfer(customer, "1 ether")
                d.coin.approve(d.redemption, price, {"from": customer})
                rtx = d.redemption.redeem(item_id, price, {"from": customer})
                rid = rtx.events["Redeemed"]["redemptionId"]
                d.redemption.fulfil(rid, keccak(text=f"delivered-code-{rid}"), {"from": admin})
            redeemed[customer.address] += 1

    print("\ncustomer                                     balance   lifetime  tier       redeemed")
    for customer in customers:
        balance = d.coin.balanceOf(customer) / COIN
        lifetime = d.registry.lifetimeEarned(customer) / COIN
        tier = TIER_NAMES[d.redemption.tierOf(customer)]
        print(f"{customer}  {balance:8.1f}  {lifetime:8.1f}  {tier:9}  {redeemed[customer]:>8}")
    print(f"\n{rewarded} of {EVENTS} events rewarded for {CUSTOMERS} customers; "
          f"{sum(redeemed.values())} redemptions fulfilled; total supply {d.coin.totalSupply() / COIN:,.1f} SVC")
    print(f"gas per rewarded event (batches of {BATCH_SIZE}, welcome bonuses included): {gas // rewarded:,}")

    # Verify one record end to end: the event is on chain, its digest was signed by the oracle.
    first = records[0]
    assert d.registry.isRecorded(BRAND_ID, first.seq)
    signed = FeedbackBatch(BRAND_ID, keccak(text="policy-v1"), retry.deadline, retry.records)
    assert d.registry.batchDigest(signed.as_tuple()) == "0x" + batch_digest(domain, signed).hex()
    print(f"verified: event {first.event_id.hex()[:16]}… (seq {first.seq}) is recorded once on chain, "
          f"and the registry computes the same EIP-712 digest the oracle signed")

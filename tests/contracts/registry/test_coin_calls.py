"""The registry's two calls to the coin per batch (contracts/CoinBatchCall.sol), made from memory
laid out as their calldata: the holder data read for the batch's distinct customers, and the
mint, from which customers whose every record was skipped are left out in place.

Every registry test goes through both calls; these pin the cases the layout makes delicate:
customers left out before, between and after rewarded ones, and the coin's refusal passed on.
"""

from __future__ import annotations

import brownie

from oracle.kinds import FeedbackKind

from .helpers import error

ZERO = "0x0000000000000000000000000000000000000000"
UNREWARDED_KIND = 200  # no base reward is set for it: its records are skipped (KindNotRewarded)


def test_customers_whose_records_were_all_skipped_get_no_transfer_and_keep_their_account(
    batches, registry, coin, alice, bob, carol, outsider
):
    assert registry.baseReward(UNREWARDED_KIND) == 0
    batches.reward([carol])  # carol's account is not empty before the batch
    carol_before = registry.accountOf(carol)
    records = [
        batches.record(bob, kind=UNREWARDED_KIND),  # skipped, first
        batches.record(alice),
        batches.record(carol, kind=UNREWARDED_KIND),  # skipped, between
        batches.record(alice),
        batches.record(outsider),
        batches.record(outsider, kind=UNREWARDED_KIND),  # one of two skipped: still minted
        batches.record(bob, kind=UNREWARDED_KIND),
    ]
    tx = batches.submit(batches.batch(records))

    base = registry.baseReward(FeedbackKind.SURVEY_RESPONSE)
    welcome = registry.welcomeBonus()
    transfers = [(e["from"], e["to"], e["value"]) for e in tx.events["Transfer"]]
    assert transfers == [(ZERO, alice, 2 * base + welcome), (ZERO, outsider, base + welcome)]
    assert tx.events["BatchRecorded"]["minted"] == 3 * base + 2 * welcome
    assert (registry.accountOf(bob), coin.balanceOf(bob)) == ((0, 0, 0, False), 0)
    assert registry.accountOf(carol) == carol_before
    assert registry.accountOf(alice)[0:2] == (2 * base, 2)  # lifetime earned, rewards this period
    assert registry.accountOf(outsider)[0:2] == (base, 1)


def test_a_batch_whose_customers_were_all_skipped_calls_no_mint(batches, registry, alice, bob):
    tx = batches.submit(batches.batch([batches.record(alice, kind=UNREWARDED_KIND), batches.record(bob, kind=UNREWARDED_KIND)]))
    assert "Transfer" not in tx.events
    assert tx.events["BatchRecorded"]["recorded"] == 0


def test_the_coin_refusing_the_mint_reverts_the_batch_with_the_coin_error(batches, registry, coin, admin, alice):
    coin.pause({"from": admin})
    batch = batches.batch([batches.record(alice)])
    with brownie.reverts(revert_pattern=error("EnforcedPause")):
        batches.submit(batch)
    assert not registry.isRecorded(batch.brand_id, batch.records[0].seq)
    coin.unpause({"from": admin})
    batches.submit(batch)
    assert registry.isRecorded(batch.brand_id, batch.records[0].seq)

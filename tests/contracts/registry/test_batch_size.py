"""A batch holds 1 to MAX_BATCH_SIZE records."""

import brownie
import pytest
from brownie import web3

from .helpers import BRAND, COIN, UINT96_MAX, WELCOME, error, expected_rewards, submit_unmined

MAX = 500
# Brownie's default development chains (Ganache, Anvil) have a 12M block gas limit.
DEFAULT_BLOCK_GAS_LIMIT = 12_000_000


def test_max_batch_size_is_500(registry):
    assert registry.MAX_BATCH_SIZE() == MAX


def test_empty_batch_is_out_of_range(batches):
    batch = batches.batch([])
    with brownie.reverts(revert_pattern=error("BatchSizeOutOfRange", 0, MAX)):
        batches.submit(batch)


def test_batch_above_the_maximum_is_out_of_range(batches, registry, alice):
    batch = batches.batch([batches.record(alice, seq=s) for s in range(MAX + 1)])
    with brownie.reverts(revert_pattern=error("BatchSizeOutOfRange", MAX + 1, MAX)):
        batches.submit(batch)
    assert not registry.isRecorded(BRAND, 0)


# Tracing a 500-record batch opcode by opcode takes brownie's coverage longer than the rest of
# the suite; the branches it runs are the ones smaller batches run.
@pytest.mark.skip_coverage
def test_batch_of_exactly_the_maximum_is_recorded_within_a_default_block(batches, registry, admin, coin, alice):
    # One customer, so that the per-customer cap is the only limit to lift; 500 distinct new
    # customers need ~63k gas each (~32M), more than even a 30M block.
    registry.setCustomerCap(2**24 - 1, {"from": admin})
    batch = batches.batch([batches.record(alice, seq=s) for s in range(MAX)])
    # Waited for with web3, not brownie: under load Anvil can show the sender's next nonce before
    # the receipt of a transaction this large, and brownie then calls it "dropped".
    sent = submit_unmined(registry, batches, batch, gas_limit=DEFAULT_BLOCK_GAS_LIMIT)
    receipt = web3.eth.wait_for_transaction_receipt(sent.txid, timeout=120)
    assert receipt.status == 1  # the gas limit above is the default block's: it fits
    assert receipt.gasUsed < DEFAULT_BLOCK_GAS_LIMIT
    assert all(registry.isRecorded(BRAND, s) for s in (0, 255, 256, MAX - 1))
    rewards = expected_rewards(5 * COIN, MAX)
    assert registry.lifetimeEarned(alice) == sum(rewards)
    assert coin.balanceOf(alice) == sum(rewards) + WELCOME

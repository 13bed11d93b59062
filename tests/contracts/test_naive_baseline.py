"""The benchmarks' naive baseline does what it claims: one signed reward per event, each event
once; or a batch under one signature."""

from __future__ import annotations

import brownie
import pytest
from brownie import NaiveRewards
from eth_account import Account
from eth_utils import keccak

from scripts.naive_baseline import NaiveOracle, NaiveReward
from tests.contracts.revert_patterns import error

KEY = keccak(text="naive-oracle")


@pytest.fixture(scope="module")
def naive(accounts):
    return NaiveRewards.deploy(Account.from_key(KEY).address, {"from": accounts[0]})


@pytest.fixture(scope="module")
def oracle(naive, chain):
    return NaiveOracle(KEY, chain.id, naive.address)


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


def test_a_signed_reward_mints_once(naive, oracle, accounts) -> None:
    reward = NaiveReward(keccak(text="e1"), accounts[1].address, 5 * 10**18)
    naive.reward(reward.as_tuple(), oracle.sign_reward(reward), {"from": accounts[0]})
    assert naive.balanceOf(accounts[1]) == 5 * 10**18
    with brownie.reverts(revert_pattern=error("AlreadyRewarded", reward.event_id)):
        naive.reward(reward.as_tuple(), oracle.sign_reward(reward), {"from": accounts[0]})


def test_another_signer_is_refused(naive, chain, accounts) -> None:
    impostor = NaiveOracle(keccak(text="impostor"), chain.id, naive.address)
    reward = NaiveReward(keccak(text="e2"), accounts[1].address, 1)
    impostor_address = Account.from_key(keccak(text="impostor")).address
    with brownie.reverts(revert_pattern=error("NotTheOracle", impostor_address)):
        naive.reward(reward.as_tuple(), impostor.sign_reward(reward), {"from": accounts[0]})


def test_a_batch_under_one_signature(naive, oracle, accounts) -> None:
    rewards = [NaiveReward(keccak(text=f"b{i}"), accounts[2 + i % 3].address, 10**18) for i in range(9)]
    naive.rewardBatch([r.as_tuple() for r in rewards], oracle.sign_batch(rewards), {"from": accounts[0]})
    assert [naive.balanceOf(accounts[i]) for i in (2, 3, 4)] == [3 * 10**18] * 3

"""Stateful test: random mints (with and without holder data), burns, transfers, relocations,
holder-data writes and policy changes, compared after every step with a Python model of the
balances and the holder data (totalSupply == sum of balances; no balance change touches the
data that shares its storage slot)."""

from __future__ import annotations

import brownie
from brownie.test import strategy

COIN = 10**18


class CoinMachine:
    """Holders 0-1 are customers, 2 holds PROTOCOL_ROLE, 3 holds BURNER_ROLE."""

    st_holder = strategy("uint8", max_value=3)
    st_amount = strategy("uint256", max_value=30 * COIN)
    st_open = strategy("bool")
    st_data = strategy("uint160")

    def __init__(cls, coin, admin, minter, linker, holders, err):
        cls.err = staticmethod(err)  # a plain function on the class would bind to self
        cls.coin = coin
        cls.admin = admin
        cls.minter = minter
        cls.linker = linker
        cls.holders = holders

    def setup(self):
        self.balances = [0] * len(self.holders)
        self.data = [0] * len(self.holders)
        self.open = False

    def rule_mint(self, st_holder, st_amount):
        self.coin.mintBatch([self.holders[st_holder]], [st_amount], {"from": self.minter})
        self.balances[st_holder] += st_amount

    def rule_mint_with_data(self, st_holder, st_amount, st_data):
        self.coin.mintBatchWithData([self.holders[st_holder]], [st_amount], [st_data], {"from": self.minter})
        self.balances[st_holder] += st_amount
        self.data[st_holder] = st_data

    def rule_set_data(self, st_holder, st_data):
        self.coin.setHolderData(self.holders[st_holder], st_data, {"from": self.minter})
        self.data[st_holder] = st_data

    def rule_burn(self, st_amount):
        burner = self.holders[3]
        if st_amount > self.balances[3]:
            with brownie.reverts(
                revert_pattern=self.err("ERC20InsufficientBalance", burner, self.balances[3], st_amount)
            ):
                self.coin.burn(st_amount, {"from": burner})
        else:
            self.coin.burn(st_amount, {"from": burner})
            self.balances[3] -= st_amount

    def rule_transfer(self, sender="st_holder", receiver="st_holder", st_amount="st_amount"):
        source, target = self.holders[sender], self.holders[receiver]
        if not self.open and sender != 2:
            expected = self.err("TransferRestricted", source, target, source)
        elif st_amount > self.balances[sender]:
            expected = self.err("ERC20InsufficientBalance", source, self.balances[sender], st_amount)
        else:
            self.coin.transfer(target, st_amount, {"from": source})
            self.balances[sender] -= st_amount
            self.balances[receiver] += st_amount
            return
        with brownie.reverts(revert_pattern=expected):
            self.coin.transfer(target, st_amount, {"from": source})

    def rule_relocate(self, sender="st_holder", receiver="st_holder", st_amount="st_amount"):
        source, target = self.holders[sender], self.holders[receiver]
        if st_amount > self.balances[sender]:
            expected = self.err("ERC20InsufficientBalance", source, self.balances[sender], st_amount)
            with brownie.reverts(revert_pattern=expected):
                self.coin.relocate(source, target, st_amount, {"from": self.linker})
        else:
            self.coin.relocate(source, target, st_amount, {"from": self.linker})
            self.balances[sender] -= st_amount
            self.balances[receiver] += st_amount

    def rule_set_policy(self, st_open):
        self.coin.setTransfersOpen(st_open, {"from": self.admin})
        self.open = st_open

    def invariant_balances_match_the_model(self):
        assert [self.coin.balanceOf(h) for h in self.holders] == self.balances

    def invariant_holder_data_matches_the_model(self):
        assert self.coin.holderDataOf(self.holders) == self.data

    def invariant_total_supply_is_the_sum_of_balances(self):
        assert self.coin.totalSupply() == sum(self.balances)

    def invariant_policy_matches_the_model(self):
        assert self.coin.transfersOpen() is self.open


def test_balances_and_supply_follow_the_model(
    state_machine, coin, admin, minter, linker, protocol, burner, alice, bob, err
):
    state_machine(
        CoinMachine,
        coin,
        admin,
        minter,
        linker,
        [alice, bob, protocol, burner],
        err,
        settings={"max_examples": 12, "stateful_step_count": 14},
    )

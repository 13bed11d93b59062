"""Rules on the ServiceCoin: transfers, transferFroms and approvals under each transfer policy,
and the policy itself. Amounts: nothing, half or all of the balance, or one unit more."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.contracts.revert_patterns import error

from .machine_base import MachineBase
from .model import ZERO_ADDRESS

COIN = 10**18
MAX_UINT256 = 2**256 - 1


class CoinRules(MachineBase):
    st_holder = st.integers(0, 3)  # index into holders: the customers, then a staff account
    st_receiver = st.integers(0, 5)  # index into receivers: holders, the redemption contract, address(0)
    st_fraction = st.sampled_from(["zero", "half", "all", "above"])
    st_allowance = st.sampled_from([0, 10 * COIN, 50 * COIN, MAX_UINT256])
    st_open = st.sampled_from([True, True, False])  # opening is the rarer state to reach

    @staticmethod
    def _amount(fraction: str, balance: int) -> int:
        return {"zero": 0, "half": balance // 2, "all": balance, "above": balance + 1}[fraction]

    def _transfer_error(self, operator, source, target, amount: int) -> str | None:
        """OpenZeppelin's _transfer with ServiceCoin's _update, in order: receiver, pause,
        policy, balance."""
        coin = self.model.coin
        if str(target).lower() == ZERO_ADDRESS:
            return error("ERC20InvalidReceiver", ZERO_ADDRESS)
        if coin.paused:
            return error("EnforcedPause")
        if not coin.transfers_open and not self.has_role("coin", "PROTOCOL_ROLE", operator):
            return error("TransferRestricted", source, target, operator)
        if coin.balance(str(source)) < amount:
            return error("ERC20InsufficientBalance", source, coin.balance(str(source)), amount)
        return None

    def _move(self, source, target, amount: int) -> None:
        self.model.coin.move(str(source), str(target), amount)
        if str(target).lower() == str(self.redemption).lower():
            self.model.donations += amount

    def rule_transfer(self, sender="st_holder", receiver="st_receiver", fraction="st_fraction"):
        """Includes zero amounts, self-transfers, transfers to the escrow and to address(0)."""
        source, target = self.holders[sender], self.receivers[receiver]
        amount = self._amount(fraction, self.model.coin.balance(str(source)))
        expected = self._transfer_error(source, source, target, amount)
        if self.call("transfer", expected, self.coin.transfer, target, amount, sender=source):
            self._move(source, target, amount)

    def rule_transfer_from(self, spender="st_holder", owner="st_holder", receiver="st_receiver", fraction="st_fraction"):
        source, target, operator = self.holders[owner], self.receivers[receiver], self.holders[spender]
        coin = self.model.coin
        amount = self._amount(fraction, coin.balance(str(source)))
        allowance = coin.allowance(str(source), str(operator))
        expected = None
        if allowance < amount:
            expected = error("ERC20InsufficientAllowance", operator, allowance, amount)
        else:
            expected = self._transfer_error(operator, source, target, amount)
        if self.call("transfer_from", expected, self.coin.transferFrom, source, target, amount, sender=operator):
            coin.spend_allowance(str(source), str(operator), amount)
            self._move(source, target, amount)

    def rule_approve(self, owner="st_holder", spender="st_receiver", amount="st_allowance"):
        """Approvals overwrite (and work while paused); address(0) cannot be a spender."""
        holder, approved = self.holders[owner], self.receivers[spender]
        expected = error("ERC20InvalidSpender", ZERO_ADDRESS) if str(approved).lower() == ZERO_ADDRESS else None
        if self.call("approve", expected, self.coin.approve, approved, amount, sender=holder):
            self.model.coin.approve(str(holder), str(approved), amount)

    def rule_set_transfers_open(self, open_="st_open", operator="st_operator"):
        caller = self.operators[operator]
        expected = self.unauthorized("coin", "DEFAULT_ADMIN_ROLE", caller)
        if self.call("set_transfers_open", expected, self.coin.setTransfersOpen, open_, sender=caller):
            self.model.coin.transfers_open = open_

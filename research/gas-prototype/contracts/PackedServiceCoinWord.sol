// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EarnOutcome} from "./EarnOutcome.sol";

/// @title PackedServiceCoinWord (GAS PROTOTYPE, experiment): PackedServiceCoin with the holder
/// slot packed by hand (shifts and masks on a uint256, no struct copies); same layout, same ABI.
/// Original notes follow.
/// @notice OpenZeppelin ERC20 + permit + access control, but each holder's whole state lives in
/// ONE storage slot: balance | lifetimeEarned | period | rewardsInPeriod | welcomed. A reward
/// then costs one slot write for everything per-customer (balance, tier input, cap counter).
/// @dev What is bypassed in OpenZeppelin's ERC20: its private `_balances` and `_totalSupply`
/// are never written; `_update`, `balanceOf` and `totalSupply` are replaced below. Everything
/// else (allowances, permit, nonces, EIP-712 domain, `_transfer`/`_mint`/`_burn` argument
/// checks, errors) is OpenZeppelin's and routes through the replaced `_update`.
/// Invariant to keep by hand now: `_supply` equals the sum of `_holders[*].balance`, and stays
/// at most type(uint96).max (so no balance can overflow its uint96 field).
contract PackedServiceCoinWord is ERC20, ERC20Permit, Pausable, AccessControlDefaultAdminRules {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant BURNER_ROLE = keccak256("BURNER_ROLE");
    bytes32 public constant PROTOCOL_ROLE = keccak256("PROTOCOL_ROLE");
    bytes32 public constant WALLET_LINKER_ROLE = keccak256("WALLET_LINKER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    uint256 private constant BPS = 10_000;

    /// @notice One holder's state: one storage slot (96 + 96 + 32 + 24 + 8 = 256 bits).
    /// @param balance The ERC-20 balance.
    /// @param lifetimeEarned Everything ever earned as rewards (welcome bonuses excluded); drives tiers.
    /// @param period The cap period `rewardsInPeriod` belongs to.
    /// @param rewardsInPeriod Rewards received during `period` (the per-customer cap is a count).
    /// @param welcomed Whether the first reward (which carries the welcome bonus) was received.
    struct Holder {
        uint96 balance;
        uint96 lifetimeEarned;
        uint32 period;
        uint24 rewardsInPeriod;
        bool welcomed;
    }

    /// @notice What the minter fixes for one `earnBatch` call.
    /// @param period The current cap period.
    /// @param maxRewardsPerPeriod The most rewards one customer may receive in a period.
    /// @param budget The most this call may mint in total (the brand's remaining cap).
    /// @param welcomeBonus Added to a customer's first reward (counts toward `budget`).
    /// @param thresholds The tier schedule: lifetime-earned thresholds, ascending, first zero
    /// (empty: no tiers, the amounts are credited as given).
    /// @param multipliersBps The tier multipliers in basis points, one per threshold.
    struct EarnTerms {
        uint32 period;
        uint24 maxRewardsPerPeriod;
        uint96 budget;
        uint96 welcomeBonus;
        uint256[] thresholds;
        uint256[] multipliersBps;
    }

    /// @notice Why `earnBatch` refused a reward (nothing changed for that entry).
    enum Refusal {
        None,
        CustomerCapReached,
        BudgetExhausted,
        LifetimeLimitReached
    }

    error TransferRestricted(address from, address to, address operator);
    error LengthMismatch(uint256 customers, uint256 amounts);
    error SupplyLimitExceeded(uint256 supply, uint256 max);

    event TransferPolicyChanged(bool open);

    bool public transfersOpen;
    uint256 private _supply;
    /// @dev Holder fields by bit: balance 0-95, lifetimeEarned 96-191, period 192-223,
    /// rewardsInPeriod 224-247, welcomed 248 (the layout Solidity gives the Holder struct).
    mapping(address holder => uint256) private _holderWords;

    constructor(address admin, uint48 adminTransferDelay)
        ERC20("Service Coin", "SVC")
        ERC20Permit("Service Coin")
        AccessControlDefaultAdminRules(adminTransferDelay, admin)
    {}

    // ================================================================ rewards

    /// @notice Credits one reward per entry, each `amounts[i] x tier multiplier` (the tier
    /// taken from the customer's lifetime earned, before this reward), within the per-customer
    /// count cap and the call's budget. Refused entries change nothing. One Transfer per credit.
    /// @dev Only MINTER_ROLE (the registry).
    /// @return outcomes One per entry (see EarnOutcome).
    /// @return minted Total credited, welcome bonuses included.
    function earnBatch(address[] calldata customers, uint256[] calldata amounts, EarnTerms memory terms)
        external
        onlyRole(MINTER_ROLE)
        whenNotPaused
        returns (uint256[] memory outcomes, uint256 minted)
    {
        uint256 count = customers.length;
        if (amounts.length != count) revert LengthMismatch(count, amounts.length);
        outcomes = new uint256[](count);
        uint256 budget = terms.budget;
        for (uint256 i; i < count; ++i) {
            uint256 credit;
            (outcomes[i], credit) = _earn(customers[i], amounts[i], terms, budget);
            budget -= credit;
        }
        minted = terms.budget - budget;
        _setSupply(_supply + minted);
    }

    /// @dev One entry of earnBatch: reads and writes the customer's one slot.
    function _earn(address customer, uint256 amount, EarnTerms memory terms, uint256 budget)
        private
        returns (uint256 outcome, uint256 credit)
    {
        uint256 word = _holderWords[customer];
        uint256 lifetime = uint96(word >> 96);
        uint256 count = uint32(word >> 192) == terms.period ? uint24(word >> 224) : 0;
        bool welcomed = word >> 248 != 0;
        uint256 reward = amount * _multiplierBps(lifetime, terms) / BPS;
        uint256 welcome = welcomed ? 0 : terms.welcomeBonus;
        if (count >= terms.maxRewardsPerPeriod) return (EarnOutcome.refused(uint256(Refusal.CustomerCapReached)), 0);
        if (reward + welcome > budget) return (EarnOutcome.refused(uint256(Refusal.BudgetExhausted)), 0);
        if (lifetime + reward > type(uint96).max) return (EarnOutcome.refused(uint256(Refusal.LifetimeLimitReached)), 0);
        credit = reward + welcome;
        uint256 balance = uint96(word) + credit;
        if (balance > type(uint96).max) revert SupplyLimitExceeded(balance, type(uint96).max);
        _holderWords[customer] = _pack(balance, lifetime + reward, terms.period, count + 1, true);
        emit Transfer(address(0), customer, credit);
        return (EarnOutcome.credited(reward, welcome != 0), credit);
    }

    function _pack(uint256 balance, uint256 lifetime, uint256 period, uint256 count, bool welcomed)
        private
        pure
        returns (uint256)
    {
        return balance | lifetime << 96 | period << 192 | count << 224 | (welcomed ? 1 << 248 : 0);
    }

    function _unpack(uint256 word) private pure returns (Holder memory) {
        return Holder({
            balance: uint96(word),
            lifetimeEarned: uint96(word >> 96),
            period: uint32(word >> 192),
            rewardsInPeriod: uint24(word >> 224),
            welcomed: word >> 248 != 0
        });
    }

    /// @dev The multiplier of the highest tier whose threshold `lifetime` reaches (1x if none).
    function _multiplierBps(uint256 lifetime, EarnTerms memory terms) private pure returns (uint256) {
        uint256 tier = terms.thresholds.length;
        while (tier > 1 && lifetime < terms.thresholds[tier - 1]) --tier;
        return tier == 0 ? BPS : terms.multipliersBps[tier - 1];
    }

    // ================================================================ protocol moves

    /// @notice Burns coins held by the caller. Only BURNER_ROLE.
    function burn(uint256 amount) external onlyRole(BURNER_ROLE) {
        _burn(_msgSender(), amount);
    }

    /// @notice Moves a holder's coins and reward history to another address of the same customer.
    /// Only WALLET_LINKER_ROLE (which also needs PROTOCOL_ROLE for the move).
    function relocateHolder(address from, address to, uint32 period) external onlyRole(WALLET_LINKER_ROLE) {
        _transfer(from, to, uint96(_holderWords[from]));
        Holder memory source = _unpack(_holderWords[from]);
        Holder memory target = _unpack(_holderWords[to]);
        uint256 sourceCount = source.period == period ? source.rewardsInPeriod : 0;
        uint256 targetCount = target.period == period ? target.rewardsInPeriod : 0;
        _holderWords[to] = _pack(
            target.balance,
            uint256(target.lifetimeEarned) + source.lifetimeEarned,
            period,
            sourceCount + targetCount,
            target.welcomed || source.welcomed
        );
        _holderWords[from] = _pack(0, 0, period, 0, true);
    }

    function setTransfersOpen(bool open) external onlyRole(DEFAULT_ADMIN_ROLE) {
        transfersOpen = open;
        emit TransferPolicyChanged(open);
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ================================================================ views

    /// @inheritdoc ERC20
    function balanceOf(address account) public view override returns (uint256) {
        return uint96(_holderWords[account]);
    }

    /// @inheritdoc ERC20
    function totalSupply() public view override returns (uint256) {
        return _supply;
    }

    /// @notice Everything ever earned as rewards by `holder` (drives tiers).
    function lifetimeEarned(address holder) external view returns (uint256) {
        return uint96(_holderWords[holder] >> 96);
    }

    function holderOf(address holder) external view returns (Holder memory) {
        return _unpack(_holderWords[holder]);
    }

    // ================================================================ accounting

    /// @dev Replaces OpenZeppelin's ERC20._update entirely (its `_balances`/`_totalSupply` stay
    /// unused), keeping its semantics: mint when `from` is zero, burn when `to` is zero, the
    /// same ERC20InsufficientBalance error, one Transfer event. Adds the pause check
    /// (ERC20Pausable's) and the restricted transfer policy (the project's ServiceCoin's).
    function _update(address from, address to, uint256 value) internal override {
        _requireNotPaused();
        if (
            from != address(0) && to != address(0) && !transfersOpen && !hasRole(PROTOCOL_ROLE, _msgSender())
        ) {
            revert TransferRestricted(from, to, _msgSender());
        }
        if (from == address(0)) {
            _setSupply(_supply + value); // bounds value by uint96 max, so the casts below are safe
        } else {
            uint256 fromWord = _holderWords[from];
            uint256 fromBalance = uint96(fromWord);
            if (fromBalance < value) revert ERC20InsufficientBalance(from, fromBalance, value);
            _holderWords[from] = fromWord - value; // the balance is the low 96 bits
        }
        if (to == address(0)) {
            _supply -= value;
        } else {
            _holderWords[to] += value; // balance + value <= supply <= uint96 max: no carry out
        }
        emit Transfer(from, to, value);
    }

    function _setSupply(uint256 supply) private {
        if (supply > type(uint96).max) revert SupplyLimitExceeded(supply, type(uint96).max);
        _supply = supply;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Pausable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Pausable.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IServiceCoin} from "./interfaces/IServiceCoin.sol";

/// @title ServiceCoin
/// @notice OpenZeppelin ERC20 + permit + pausable, with role-gated mint and burn and a transfer
/// policy. All token accounting is OpenZeppelin's; this contract only adds rules in `_update`,
/// so the invariant "totalSupply equals the sum of balances" is OpenZeppelin's to keep.
/// @dev Roles: MINTER_ROLE (FeedbackRegistry), BURNER_ROLE (TierRedemption), PROTOCOL_ROLE
/// (contracts allowed to move coins while transfers are restricted), WALLET_LINKER_ROLE
/// (FeedbackRegistry, for wallet links), PAUSER_ROLE. The admin role is handed over in two
/// steps with a delay (AccessControlDefaultAdminRules).
contract ServiceCoin is ERC20, ERC20Permit, ERC20Pausable, AccessControlDefaultAdminRules, IServiceCoin {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant BURNER_ROLE = keccak256("BURNER_ROLE");
    bytes32 public constant PROTOCOL_ROLE = keccak256("PROTOCOL_ROLE");
    bytes32 public constant WALLET_LINKER_ROLE = keccak256("WALLET_LINKER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @inheritdoc IServiceCoin
    bool public transfersOpen;

    /// @param admin The initial DEFAULT_ADMIN_ROLE holder.
    /// @param adminTransferDelay Seconds a started admin hand-over waits before it can be accepted.
    constructor(address admin, uint48 adminTransferDelay)
        ERC20("Service Coin", "SVC")
        ERC20Permit("Service Coin")
        AccessControlDefaultAdminRules(adminTransferDelay, admin)
    {}

    /// @inheritdoc IServiceCoin
    function mintBatch(address[] calldata to, uint256[] calldata amounts) external onlyRole(MINTER_ROLE) {
        if (to.length != amounts.length) revert LengthMismatch(to.length, amounts.length);
        for (uint256 i; i < to.length; ++i) {
            _mint(to[i], amounts[i]);
        }
    }

    /// @inheritdoc IServiceCoin
    function burn(uint256 amount) external onlyRole(BURNER_ROLE) {
        _burn(_msgSender(), amount);
    }

    /// @inheritdoc IServiceCoin
    /// @dev The caller holds PROTOCOL_ROLE too, which is what lets `_update` allow the move.
    function relocate(address from, address to, uint256 amount) external onlyRole(WALLET_LINKER_ROLE) {
        _transfer(from, to, amount);
    }

    /// @inheritdoc IServiceCoin
    function setTransfersOpen(bool open) external onlyRole(DEFAULT_ADMIN_ROLE) {
        transfersOpen = open;
        emit TransferPolicyChanged(open);
    }

    /// @inheritdoc IServiceCoin
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IServiceCoin
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /// @dev The transfer policy. Mints and burns are already gated by role. Other moves are
    /// allowed while transfers are restricted only when a protocol contract performs them
    /// (redeem pulls into escrow, refund pays back, a wallet link relocates): a customer cannot
    /// hand coins to anyone, including by sending them to a protocol contract by mistake.
    /// ERC20Pausable's check (nothing moves while paused) runs in super._update.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Pausable) {
        if (
            from != address(0) && to != address(0) && !transfersOpen && !hasRole(PROTOCOL_ROLE, _msgSender())
        ) {
            revert TransferRestricted(from, to, _msgSender());
        }
        super._update(from, to, value);
    }
}

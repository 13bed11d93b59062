// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title ServiceCoin, the customer-service reward token
/// @notice An ERC-20 (with EIP-2612 permit) minted only by the feedback registry and burned
/// only by the redemption contract. Under the default, restricted transfer policy coins move
/// only when a protocol contract moves them (redeem, refund, wallet link); the admin can open
/// general transfers. Whatever the policy, totalSupply equals the sum of all balances.
interface IServiceCoin is IERC20 {
    /// @notice A transfer that the restricted transfer policy does not allow.
    /// @param from The holder the coins would leave.
    /// @param to The receiver.
    /// @param operator The account that asked for the move (neither a protocol contract).
    error TransferRestricted(address from, address to, address operator);

    /// @notice Batch arguments of different lengths.
    error LengthMismatch(uint256 recipients, uint256 amounts);

    /// @notice A mint would take the total supply past MAX_SUPPLY.
    error SupplyLimitExceeded(uint256 supply, uint256 max);

    /// @notice The transfer policy changed.
    /// @param open True when any holder may now transfer; false when only protocol moves are allowed.
    event TransferPolicyChanged(bool open);

    /// @notice Mints rewards to many customers in one call (one Transfer event each).
    /// @dev Only MINTER_ROLE (the FeedbackRegistry).
    /// @param to The customers.
    /// @param amounts The amounts, index by index.
    function mintBatch(address[] calldata to, uint256[] calldata amounts) external;

    /// @notice Mints to many holders and sets each one's holder data, in one storage write per
    /// entry (one Transfer event each, whatever the amount, zero included).
    /// @dev Only MINTER_ROLE, and not while paused. An entry's data replaces what the holder
    /// had; a holder listed twice ends with the later entry's data and the sum of the amounts.
    /// @param to The holders.
    /// @param amounts The amounts, index by index.
    /// @param data The holder data, index by index.
    function mintBatchWithData(address[] calldata to, uint256[] calldata amounts, uint160[] calldata data)
        external;

    /// @notice Replaces a holder's data, leaving the balance as it is.
    /// @dev Only MINTER_ROLE, and not while paused.
    function setHolderData(address holder, uint160 data) external;

    /// @notice The 160 bits the minter keeps beside a holder's balance (the FeedbackRegistry's
    /// reward accounting). The coin gives them no meaning: only the minter writes them, and
    /// transfers, burns and relocations leave them as they are.
    function holderData(address holder) external view returns (uint160);

    /// @notice holderData of each holder, in order: one call for a whole batch.
    function holderDataOf(address[] calldata holders) external view returns (uint160[] memory);

    /// @notice How many more coins may be minted: MAX_SUPPLY minus the total supply.
    function mintableSupply() external view returns (uint256);

    /// @notice The most coins that can exist (uint96's maximum): every balance then fits the
    /// 96 bits the coin stores it in.
    function MAX_SUPPLY() external view returns (uint256);

    /// @notice Burns coins held by the caller (redeemed coins leaving circulation).
    /// @dev Only BURNER_ROLE (the TierRedemption contract).
    /// @param amount The amount to burn from the caller's balance.
    function burn(uint256 amount) external;

    /// @notice Moves a holder's coins to another address on a path a protocol contract has
    /// authorised (a customer linking their own wallet).
    /// @dev Only WALLET_LINKER_ROLE (the FeedbackRegistry, after verifying the holder's signature).
    /// The caller must also hold PROTOCOL_ROLE: while transfers are restricted, the transfer
    /// policy lets only protocol contracts move coins, and deploy() grants the registry both.
    /// @param from The holder.
    /// @param to The holder's new address.
    /// @param amount The amount to move.
    function relocate(address from, address to, uint256 amount) external;

    /// @notice Opens or restricts general transfers.
    /// @dev Only DEFAULT_ADMIN_ROLE.
    /// @param open True to let any holder transfer.
    function setTransfersOpen(bool open) external;

    /// @notice Whether any holder may transfer (true) or only protocol contracts may move coins (false).
    function transfersOpen() external view returns (bool);

    /// @notice Stops every balance change (mint, burn, transfer). Only PAUSER_ROLE.
    function pause() external;

    /// @notice Resumes balance changes. Only DEFAULT_ADMIN_ROLE.
    function unpause() external;
}

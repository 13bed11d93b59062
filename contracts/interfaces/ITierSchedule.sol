// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The tier schedule the FeedbackRegistry multiplies rewards by
/// @notice Tiers are reached by lifetime earned (never by balance: balance can be spent or
/// moved, lifetime earnings cannot be bought). Tier i applies from thresholds[i] on.
interface ITierSchedule {
    /// @notice The whole schedule, read once per batch by the registry.
    /// @return thresholds Lifetime-earned thresholds, strictly ascending, the first one zero.
    /// @return multipliersBps Reward multipliers in basis points (10_000 = 1x), one per tier.
    function tierSchedule() external view returns (uint256[] memory thresholds, uint256[] memory multipliersBps);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ITierRedemption} from "./interfaces/ITierRedemption.sol";
import {ITierSchedule} from "./interfaces/ITierSchedule.sol";
import {IFeedbackRegistry} from "./interfaces/IFeedbackRegistry.sol";

/// @title Tiers
/// @notice TierRedemption's tier schedule: thresholds of lifetime earned (read from the
/// FeedbackRegistry, never the balance) and the reward multiplier of each tier, which the
/// registry reads on every batch.
abstract contract Tiers is ITierRedemption, AccessControlDefaultAdminRules {
    /// @inheritdoc ITierRedemption
    uint256 public constant MAX_TIERS = 16;
    /// @inheritdoc ITierRedemption
    uint256 public constant MAX_MULTIPLIER_BPS = 100_000;

    IFeedbackRegistry public immutable registry;

    /// @dev A tier in 128 bits, `threshold << 32 | multiplierBps`, so that two tiers share a
    /// storage slot: the registry reads the whole schedule on every batch, and each slot is a
    /// cold read. Lifetime earnings are uint96 in the registry, so no reachable threshold is
    /// lost; multipliers are at most MAX_MULTIPLIER_BPS < 2^32.
    uint128[] private _tiers;

    /// @param registry_ The FeedbackRegistry whose lifetime earnings decide tiers.
    constructor(IFeedbackRegistry registry_) {
        registry = registry_;
        _tiers.push(_packTier(0, 10_000));
    }

    /// @inheritdoc ITierRedemption
    function setTiers(uint256[] calldata thresholds, uint256[] calldata multipliersBps)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        uint256 count = thresholds.length;
        if (count == 0 || count > MAX_TIERS || multipliersBps.length != count) revert InvalidTierSchedule(count);
        delete _tiers;
        for (uint256 i; i < count; ++i) {
            bool thresholdOk = i == 0
                ? thresholds[0] == 0
                : thresholds[i] > thresholds[i - 1] && thresholds[i] <= type(uint96).max;
            if (!thresholdOk || multipliersBps[i] == 0 || multipliersBps[i] > MAX_MULTIPLIER_BPS) {
                revert InvalidTierSchedule(i);
            }
            _tiers.push(_packTier(thresholds[i], multipliersBps[i]));
        }
        emit TiersChanged(thresholds, multipliersBps);
    }

    /// @inheritdoc ITierSchedule
    function tierSchedule() external view returns (uint256[] memory thresholds, uint256[] memory multipliersBps) {
        uint256 count = _tiers.length;
        thresholds = new uint256[](count);
        multipliersBps = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            uint128 tier = _tiers[i];
            thresholds[i] = _threshold(tier);
            multipliersBps[i] = uint32(tier);
        }
    }

    /// @inheritdoc ITierRedemption
    function tierOf(address customer) public view returns (uint256 tier) {
        uint256 lifetime = registry.lifetimeEarned(customer);
        tier = _tiers.length - 1;
        while (tier > 0 && lifetime < _threshold(_tiers[tier])) --tier;
    }

    /// @dev Both fit (setTiers bounded the threshold to uint96 and the multiplier to
    /// MAX_MULTIPLIER_BPS), so nothing is cut off.
    function _packTier(uint256 threshold, uint256 multiplierBps) private pure returns (uint128) {
        return uint128(threshold << 32 | multiplierBps);
    }

    function _threshold(uint128 tier) private pure returns (uint256) {
        return tier >> 32;
    }
}

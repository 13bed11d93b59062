// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFeedbackRegistry} from "./interfaces/IFeedbackRegistry.sol";

/// @title PackedAccount
/// @notice A customer's reward accounting in the 160 bits of holder data that ServiceCoin keeps
/// beside the customer's balance, so that a reward writes one storage slot, not two.
/// Layout (bit 0 is the lowest): lifetimeEarned in bits 0-95, period in 96-127,
/// rewardsInPeriod in 128-151, welcomed in bit 152; bits 153-159 stay zero.
library PackedAccount {
    uint256 private constant PERIOD_SHIFT = 96;
    uint256 private constant REWARDS_SHIFT = 128;
    uint256 private constant WELCOMED_SHIFT = 152;

    function lifetimeEarned(uint256 word) internal pure returns (uint256) {
        return word & type(uint96).max;
    }

    function period(uint256 word) internal pure returns (uint32) {
        return uint32(word >> PERIOD_SHIFT);
    }

    function rewardsInPeriod(uint256 word) internal pure returns (uint256) {
        return uint24(word >> REWARDS_SHIFT);
    }

    /// @dev The records rewarded in `period_`: the stored count if it belongs to that period,
    /// else zero (a new period starts from nothing).
    function rewardsIn(uint256 word, uint32 period_) internal pure returns (uint256) {
        return period(word) == period_ ? rewardsInPeriod(word) : 0;
    }

    function welcomed(uint256 word) internal pure returns (bool) {
        return (word >> WELCOMED_SHIFT) & 1 == 1;
    }

    /// @dev Callers pass values that fit their fields (lifetime <= uint96, rewards <= uint24):
    /// a wider value would spill into the next field, so each caller checks before packing.
    function pack(uint256 lifetime, uint32 period_, uint256 rewards, bool welcomed_)
        internal
        pure
        returns (uint160)
    {
        return uint160(
            lifetime | uint256(period_) << PERIOD_SHIFT | rewards << REWARDS_SHIFT
                | (welcomed_ ? 1 << WELCOMED_SHIFT : 0)
        );
    }

    function toAccount(uint256 word) internal pure returns (IFeedbackRegistry.Account memory) {
        return IFeedbackRegistry.Account({
            lifetimeEarned: uint96(lifetimeEarned(word)),
            rewardsInPeriod: uint24(rewardsInPeriod(word)),
            period: period(word),
            welcomed: welcomed(word)
        });
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title EarnOutcome: what PackedServiceCoin.earnBatch did with one entry, in one uint256
/// @dev bits 0-95: the reward credited; bit 96: the welcome bonus came with it;
/// bits 128-135: the refusal (0 = credited; then nothing changed for the entry).
library EarnOutcome {
    uint256 private constant WELCOMED = 1 << 96;
    uint256 private constant REFUSAL_SHIFT = 128;

    function credited(uint256 reward, bool welcomed_) internal pure returns (uint256) {
        return welcomed_ ? reward | WELCOMED : reward;
    }

    function refused(uint256 refusal_) internal pure returns (uint256) {
        return refusal_ << REFUSAL_SHIFT;
    }

    function reward(uint256 outcome) internal pure returns (uint256) {
        return uint96(outcome);
    }

    function welcomed(uint256 outcome) internal pure returns (bool) {
        return outcome & WELCOMED != 0;
    }

    function refusal(uint256 outcome) internal pure returns (uint256) {
        return outcome >> REFUSAL_SHIFT;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ProtoRegistryBase} from "./ProtoRegistryBase.sol";
import {PackedServiceCoin} from "./PackedServiceCoin.sol";

/// @title ProtoRegistry (GAS PROTOTYPE, main variant): the coin applies the tier.
/// @notice The registry passes each record's base reward and the tier schedule (read once per
/// batch from the tier source) to the coin, which multiplies by the tier of the customer's
/// lifetime earned, read from the same slot it is about to write: no extra read per record.
contract ProtoRegistry is ProtoRegistryBase {
    constructor(address admin, PackedServiceCoin coin_, uint256 periodLength, uint48 adminTransferDelay)
        ProtoRegistryBase(admin, coin_, periodLength, adminTransferDelay)
    {}

    function _amountFor(address, uint256 base, BatchState memory) internal pure override returns (uint256) {
        return base;
    }

    function _coinSchedule(BatchState memory state)
        internal
        pure
        override
        returns (uint256[] memory thresholds, uint256[] memory multipliersBps)
    {
        return (state.thresholds, state.multipliersBps);
    }
}

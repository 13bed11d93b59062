// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ProtoRegistryBase} from "./ProtoRegistryBase.sol";
import {PackedServiceCoin} from "./PackedServiceCoin.sol";

/// @title ProtoRegistryView (GAS PROTOTYPE, alternative): the registry applies the tier,
/// reading each customer's lifetime earned from the coin with one view call per record.
/// @dev A customer appearing twice in one batch gets the tier of their lifetime at batch start
/// (the coin is called once, after pass 1).
contract ProtoRegistryView is ProtoRegistryBase {
    constructor(address admin, PackedServiceCoin coin_, uint256 periodLength, uint48 adminTransferDelay)
        ProtoRegistryBase(admin, coin_, periodLength, adminTransferDelay)
    {}

    function _amountFor(address customer, uint256 base, BatchState memory state)
        internal
        view
        override
        returns (uint256)
    {
        return base * _multiplierBps(coin.lifetimeEarned(customer), state) / BPS;
    }

    function _coinSchedule(BatchState memory)
        internal
        pure
        override
        returns (uint256[] memory thresholds, uint256[] memory multipliersBps)
    {
        return (new uint256[](0), new uint256[](0)); // the amounts are final: 1x
    }
}

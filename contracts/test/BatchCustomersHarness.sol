// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFeedbackRegistry} from "../interfaces/IFeedbackRegistry.sol";
import {BatchCustomers} from "../BatchCustomers.sol";
import {BatchCustomersReference} from "./BatchCustomersReference.sol";

/// @title BatchCustomersHarness
/// @notice Test only: BatchCustomers.distinct beside the plain Solidity it replaces, on the same
/// input, so that a differential test can call both (tests/contracts/registry/test_batch_customers.py).
contract BatchCustomersHarness {
    function plain(IFeedbackRegistry.FeedbackRecord[] calldata records)
        external
        pure
        returns (address[] memory customers, uint256[] memory indexOf)
    {
        return BatchCustomersReference.distinct(records);
    }

    function assembled(IFeedbackRegistry.FeedbackRecord[] calldata records)
        external
        pure
        returns (address[] memory customers, uint256[] memory indexOf)
    {
        return BatchCustomers.distinct(records);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RecordCalldata} from "../RecordCalldata.sol";
import {BatchCustomers} from "../BatchCustomers.sol";
import {BatchCustomersReference} from "./BatchCustomersReference.sol";

/// @title BatchCustomersHarness
/// @notice Test only: BatchCustomers.distinct beside the plain Solidity it replaces, on the same
/// input, so that a differential test can call both (tests/contracts/registry/test_batch_customers.py).
contract BatchCustomersHarness {
    /// @param records Packed records (IFeedbackRegistry.PackedFeedbackBatch).
    function plain(bytes calldata records)
        external
        pure
        returns (address[] memory customers, uint256[] memory indexOf)
    {
        _dirtyFreeMemory(RecordCalldata.count(records));
        return BatchCustomersReference.distinct(records);
    }

    function assembled(bytes calldata records)
        external
        pure
        returns (address[] memory customers, uint256[] memory indexOf)
    {
        uint256 size = RecordCalldata.count(records);
        _dirtyFreeMemory(size);
        return BatchCustomers.distinct(records, size);
    }

    /// @dev Fills the memory past the free memory pointer with ones, as far as distinct() can
    /// reach for `size` records (its two arrays and a table of fewer than 4 * size entries), so
    /// that the test also shows it clears its table: in the registry, memory there is not zero
    /// (record hashing and ABI encoding use it as scratch).
    function _dirtyFreeMemory(uint256 size) private pure {
        assembly ("memory-safe") {
            let from := mload(0x40)
            let to := add(from, add(mul(size, 0xc0), 0x100))
            for { let p := from } lt(p, to) { p := add(p, 0x20) } { mstore(p, not(0)) }
        }
    }
}

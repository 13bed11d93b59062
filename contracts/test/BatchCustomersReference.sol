// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RecordCalldata} from "../RecordCalldata.sol";

/// @title BatchCustomersReference
/// @notice Test only: the plain Solidity that contracts/BatchCustomers.sol's assembly replaces,
/// kept as the reference it is compared with (tests/contracts/registry/test_batch_customers.py).
library BatchCustomersReference {
    /// @return customers Each customer once, in order of first appearance.
    /// @return indexOf For each record, its customer's index in `customers`.
    /// @dev An open-addressing table in memory, keyed by the address's low bits, at most half
    /// full, with linear probing.
    /// @param records Packed records (IFeedbackRegistry.PackedFeedbackBatch).
    function distinct(bytes calldata records)
        internal
        pure
        returns (address[] memory customers, uint256[] memory indexOf)
    {
        uint256 size = RecordCalldata.count(records);
        uint256 tableSize = 2;
        while (tableSize < 2 * size) tableSize <<= 1;
        uint256 mask = tableSize - 1;
        // Entry: index in `found` plus one; zero marks an empty entry.
        uint256[] memory table = new uint256[](tableSize);
        address[] memory found = new address[](size);
        indexOf = new uint256[](size);
        uint256 count;
        for (uint256 i; i < size; ++i) {
            uint256 at = i * RecordCalldata.RECORD_BYTES + 32;
            address customer = address(bytes20(records[at:at + 20]));
            uint256 slot = uint160(customer) & mask;
            while (true) {
                uint256 entry = table[slot];
                if (entry == 0) {
                    found[count] = customer;
                    indexOf[i] = count;
                    table[slot] = ++count;
                    break;
                }
                if (found[entry - 1] == customer) {
                    indexOf[i] = entry - 1;
                    break;
                }
                slot = (slot + 1) & mask;
            }
        }
        customers = new address[](count);
        for (uint256 j; j < count; ++j) {
            customers[j] = found[j];
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BatchCustomers
/// @notice The distinct customers of a batch, so that the registry reads each customer's account
/// once (one call to the coin for the whole batch), applies every record of that customer to it
/// in memory, and writes it once.
/// @dev Why assembly: the plain Solidity (contracts/test/BatchCustomersReference.sol) spent about
/// 750 gas per record, mostly on bounds checks and checked arithmetic that the table's own
/// bounds make needless. Equal to it: tests/contracts/registry/test_batch_customers.py compares
/// both on random batches.
library BatchCustomers {
    /// @return customers Each customer once, in order of first appearance.
    /// @return indexOf For each record, its customer's index in `customers`.
    /// @dev An open-addressing table in memory, keyed by the address's low bits (addresses are
    /// hashes, so they spread; a submitter that grinds colliding addresses only makes its own
    /// transaction dearer). At most half full, so a lookup probes about two entries.
    /// @param records A PackedFeedbackBatch's records; `size` of them (RecordCalldata.count).
    function distinct(bytes calldata records, uint256 size)
        internal
        pure
        returns (address[] memory customers, uint256[] memory indexOf)
    {
        uint256 tableSize = 2;
        while (tableSize < 2 * size) tableSize <<= 1;
        // As long as the batch (each record could bring a new customer); shortened below.
        customers = new address[](size);
        indexOf = new uint256[](size);
        assembly ("memory-safe") {
            // The table is scratch past the free memory pointer: used by this block only, never
            // allocated. calldatacopy from past the calldata's end zeroes it (memory there may
            // hold an earlier scratch). An entry holds the customer in its low 160 bits and its
            // index plus one above them (zero: empty), so a probe compares within the table.
            // Slots are byte offsets into it: `slotMask` keeps them inside (tableSize is a power
            // of two), and the table is at most half full, so every probe ends. The bounds
            // checks the plain code paid for hold by construction: a new customer is stored at
            // index count <= i, and record i's index at i, both below size.
            let table := mload(0x40)
            calldatacopy(table, calldatasize(), shl(5, tableSize))
            let slotMask := sub(shl(5, tableSize), 0x20)
            let addressMask := shr(96, not(0))
            let count := 0
            let i := 0
            // Record i's customer: its bytes 32-51 (RecordCalldata.RECORD_BYTES = 98). The
            // compiler checked that `records` lies within the calldata, count() that `size`
            // records fill it.
            let word := add(records.offset, 32)
            for {} lt(i, size) {
                i := add(i, 1)
                word := add(word, 98)
            } {
                let customer := shr(96, calldataload(word))
                let slot := and(shl(5, customer), slotMask)
                let index := 0
                for {} 1 { slot := and(add(slot, 0x20), slotMask) } {
                    let entry := mload(add(table, slot))
                    if iszero(entry) {
                        index := count
                        count := add(count, 1)
                        mstore(add(table, slot), or(shl(160, count), customer))
                        mstore(add(customers, shl(5, count)), customer)
                        break
                    }
                    if eq(and(entry, addressMask), customer) {
                        index := sub(shr(160, entry), 1)
                        break
                    }
                }
                mstore(add(indexOf, shl(5, add(i, 1))), index)
            }
            // Shortening an array in place: its length word only, within its own allocation.
            mstore(customers, count)
        }
    }
}

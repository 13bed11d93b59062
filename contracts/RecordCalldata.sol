// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFeedbackRegistry} from "./interfaces/IFeedbackRegistry.sol";

/// @title RecordCalldata
/// @notice Reads a batch's packed records (IFeedbackRegistry.PackedFeedbackBatch) straight from
/// calldata. Why packed: the ABI pads a record's six fields to 192 bytes, 94 of them zeros the
/// transaction pays for (4 gas each); packed, every byte carries a field, and a field cannot
/// hold bits beyond its type, so nothing needs checking. Why assembly: five word reads and
/// shifts unpack a record where Solidity's slicing checks bounds at every field.
/// @dev Equal to the plain slicing in contracts/test/RecordCalldataHarness.sol and to the
/// oracle's packer: tests/contracts/registry/test_record_calldata.py compares all three.
/// Callers pass an `i` below `count(records)`, which checks that the records fill `records`
/// exactly; the compiler checked that `records` lies within the calldata.
library RecordCalldata {
    /// @notice eventId 32, customer 20, seq 8, kind 1, occurredAt 5, contentCommitment 32.
    uint256 internal constant RECORD_BYTES = 98;

    /// @notice How many records `records` packs; reverts unless its length is a whole number.
    function count(bytes calldata records) internal pure returns (uint256) {
        if (records.length % RECORD_BYTES != 0) {
            revert IFeedbackRegistry.MalformedRecords(records.length, RECORD_BYTES);
        }
        return records.length / RECORD_BYTES;
    }

    /// @notice A memory FeedbackRecord that load() fills, with the word before it holding
    /// `typehash`: the record's fields are then, in place, what its EIP-712 hashStruct hashes.
    function allocate(bytes32 typehash) internal pure returns (IFeedbackRegistry.FeedbackRecord memory record) {
        assembly ("memory-safe") {
            let hashInput := mload(0x40)
            mstore(0x40, add(hashInput, 0xe0))
            mstore(hashInput, typehash)
            record := add(hashInput, 0x20)
        }
    }

    /// @notice Unpacks record `i` into `out` (from allocate()) and returns its EIP-712 hashStruct.
    function load(bytes calldata records, uint256 i, IFeedbackRegistry.FeedbackRecord memory out)
        internal
        pure
        returns (bytes32 structHash)
    {
        assembly ("memory-safe") {
            let source := add(records.offset, mul(i, RECORD_BYTES))
            // Bytes 32-63: customer (20), seq (8), kind (1), then occurredAt's first three.
            let middle := calldataload(add(source, 32))
            // A memory struct of static fields is its fields' words, in order.
            mstore(out, calldataload(source))
            mstore(add(out, 0x20), shr(96, middle))
            mstore(add(out, 0x40), and(shr(32, middle), 0xffffffffffffffff))
            mstore(add(out, 0x60), and(shr(24, middle), 0xff))
            mstore(add(out, 0x80), shr(216, calldataload(add(source, 61))))
            mstore(add(out, 0xa0), calldataload(add(source, 66)))
            structHash := keccak256(sub(out, 0x20), 0xe0)
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFeedbackRegistry} from "./interfaces/IFeedbackRegistry.sol";

/// @title RecordCalldata
/// @notice Reads a batch's records straight from calldata. Why assembly: Solidity copies a
/// calldata struct array to memory, or re-checks the array on every field read, at about 2,000
/// gas per record (measured by scripts/gas_breakdown.py); here a record costs one copy and one
/// check. A FeedbackRecord is six static ABI words (192 bytes), which are also exactly what its
/// EIP-712 hashStruct hashes after the typehash, so the record's hash is taken from the same
/// bytes.
/// @dev Equal to the plain Solidity it replaces, including its refusals: a field whose word
/// holds bits beyond its type is rejected (the ABI decoder rejects it too). Callers pass an `i`
/// below `records.length` (their loops are bounded by it); the compiler checked, when the array
/// was accessed, that its `length` records lie within the calldata.
/// tests/contracts/registry/test_record_calldata.py compares both on random, dirtied input.
library RecordCalldata {
    uint256 internal constant RECORD_BYTES = 192;

    /// @notice Copies record `i` into `out` and returns its EIP-712 hashStruct under `typehash`.
    function load(
        IFeedbackRegistry.FeedbackRecord[] calldata records,
        uint256 i,
        IFeedbackRegistry.FeedbackRecord memory out,
        bytes32 typehash
    ) internal pure returns (bytes32 structHash) {
        bool clean;
        assembly ("memory-safe") {
            let source := add(records.offset, mul(i, RECORD_BYTES))
            // A memory struct of static fields is its fields' words, in order.
            calldatacopy(out, source, RECORD_BYTES)
            clean := iszero(
                or(
                    or(shr(160, mload(add(out, 0x20))), shr(64, mload(add(out, 0x40)))),
                    or(shr(8, mload(add(out, 0x60))), shr(40, mload(add(out, 0x80))))
                )
            )
            // hashStruct = keccak256(typehash || the six words), built past the free memory
            // pointer (scratch: not allocated, not kept).
            let scratch := mload(0x40)
            mstore(scratch, typehash)
            calldatacopy(add(scratch, 0x20), source, RECORD_BYTES)
            structHash := keccak256(scratch, add(0x20, RECORD_BYTES))
        }
        if (!clean) revert IFeedbackRegistry.RecordFieldOutOfRange(i);
    }

    /// @notice The customer of record `i`.
    function customerAt(IFeedbackRegistry.FeedbackRecord[] calldata records, uint256 i)
        internal
        pure
        returns (address customer)
    {
        uint256 word;
        assembly ("memory-safe") {
            word := calldataload(add(add(records.offset, mul(i, RECORD_BYTES)), 0x20))
        }
        if (word >> 160 != 0) revert IFeedbackRegistry.RecordFieldOutOfRange(i);
        customer = address(uint160(word));
    }
}

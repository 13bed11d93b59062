// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFeedbackRegistry} from "./interfaces/IFeedbackRegistry.sol";

/// @title BatchLog
/// @notice BatchRecorded's data, laid out in memory as the log's ABI encoding from the start:
/// the registry fills the records' hashes and outcomes where the log reads them, hashes the
/// records' hashes for the EIP-712 digest where they lie, and logs the buffer as it is.
/// Why: `emit` copied both arrays once more to encode them, and `abi.encodePacked` copied the
/// hashes again for the digest, each copy growing memory (whose cost rises with its size).
/// The log is the same (every registry test decodes it with the interface's ABI).
/// @dev Layout, from `start`: policyHash, recorded, skipped, minted, the offsets of the two
/// arrays (0xc0 and past the first), then each array: its length, then its words.
library BatchLog {
    struct Buffer {
        uint256 start;
        bytes32[] recordHashes;
        uint256[] outcomes;
    }

    /// @dev The log data's head: four words, then the arrays' two offsets.
    uint256 private constant HEAD = 0xc0;

    /// @notice A zeroed buffer for a batch of `size` records.
    function allocate(uint256 size) internal pure returns (Buffer memory buffer) {
        uint256 arrayBytes = (size + 1) * 0x20;
        // Zero-filled, as Solidity fills every memory array it allocates: outcomes start at 0.
        bytes memory raw = new bytes(HEAD + 2 * arrayBytes);
        assembly ("memory-safe") {
            let start := add(raw, 0x20)
            let hashes := add(start, HEAD)
            let outcomes := add(hashes, arrayBytes)
            mstore(hashes, size)
            mstore(outcomes, size)
            mstore(add(start, 0x80), HEAD)
            mstore(add(start, 0xa0), add(HEAD, arrayBytes))
            mstore(buffer, start)
            mstore(add(buffer, 0x20), hashes)
            mstore(add(buffer, 0x40), outcomes)
        }
    }

    /// @notice keccak256 of the records' hashes, concatenated: how EIP-712 encodes an array of
    /// structs (FeedbackHashing).
    function recordsHash(Buffer memory buffer) internal pure returns (bytes32 hash) {
        bytes32[] memory hashes = buffer.recordHashes;
        assembly ("memory-safe") {
            hash := keccak256(add(hashes, 0x20), shl(5, mload(hashes)))
        }
    }

    /// @notice Emits BatchRecorded with the buffer's arrays as they are.
    function emitBatchRecorded(
        Buffer memory buffer,
        uint32 brandId,
        bytes32 digest,
        bytes32 policyHash,
        uint256 recorded,
        uint256 skipped,
        uint256 minted
    ) internal {
        bytes32 topic = IFeedbackRegistry.BatchRecorded.selector;
        assembly ("memory-safe") {
            let start := mload(buffer)
            mstore(start, policyHash)
            mstore(add(start, 0x20), recorded)
            mstore(add(start, 0x40), skipped)
            mstore(add(start, 0x60), minted)
            // The outcomes array is the last part: the data ends after its words.
            let outcomes := mload(add(buffer, 0x40))
            let end := add(add(outcomes, 0x20), shl(5, mload(outcomes)))
            log3(start, sub(end, start), topic, brandId, digest)
        }
    }
}

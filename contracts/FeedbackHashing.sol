// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IFeedbackRegistry} from "./interfaces/IFeedbackRegistry.sol";
import {RecordCalldata} from "./RecordCalldata.sol";

/// @title FeedbackHashing
/// @notice The EIP-712 encoding of feedback records and batches: what the oracle's signers sign
/// and what FeedbackRegistry verifies, and the packing of records in submitBatch's input. Kept
/// apart so that the encodings, which the oracle mirrors in Python (oracle/typed_data.py),
/// read in one place.
abstract contract FeedbackHashing is IFeedbackRegistry, EIP712 {
    /// @inheritdoc IFeedbackRegistry
    bytes32 public constant FEEDBACK_RECORD_TYPEHASH = keccak256(
        "FeedbackRecord(bytes32 eventId,address customer,uint64 seq,uint8 kind,uint40 occurredAt,bytes32 contentCommitment)"
    );

    /// @inheritdoc IFeedbackRegistry
    bytes32 public constant FEEDBACK_BATCH_TYPEHASH = keccak256(
        "FeedbackBatch(uint32 brandId,bytes32 policyHash,uint64 deadline,FeedbackRecord[] records)"
        "FeedbackRecord(bytes32 eventId,address customer,uint64 seq,uint8 kind,uint40 occurredAt,bytes32 contentCommitment)"
    );

    /// @inheritdoc IFeedbackRegistry
    uint256 public constant RECORD_BYTES = RecordCalldata.RECORD_BYTES;

    /// @inheritdoc IFeedbackRegistry
    function unpackRecords(bytes calldata records)
        external
        pure
        returns (FeedbackRecord[] memory unpacked, bytes32[] memory recordHashes)
    {
        uint256 size = RecordCalldata.count(records);
        unpacked = new FeedbackRecord[](size);
        recordHashes = new bytes32[](size);
        for (uint256 i; i < size; ++i) {
            FeedbackRecord memory record = RecordCalldata.allocate(FEEDBACK_RECORD_TYPEHASH);
            recordHashes[i] = RecordCalldata.load(records, i, record);
            unpacked[i] = record;
        }
    }

    /// @inheritdoc IFeedbackRegistry
    function hashRecord(FeedbackRecord calldata record) external pure returns (bytes32) {
        return _hashRecord(record);
    }

    /// @inheritdoc IFeedbackRegistry
    function batchDigest(FeedbackBatch calldata batch) external view returns (bytes32) {
        uint256 size = batch.records.length;
        bytes32[] memory recordHashes = new bytes32[](size);
        for (uint256 i; i < size; ++i) {
            recordHashes[i] = _hashRecord(batch.records[i]);
        }
        return _batchDigest(batch.brandId, batch.policyHash, batch.deadline, keccak256(abi.encodePacked(recordHashes)));
    }

    /// @dev EIP-712 hashStruct(FeedbackRecord): every field is a static type, encoded as is.
    function _hashRecord(FeedbackRecord memory record) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                FEEDBACK_RECORD_TYPEHASH,
                record.eventId,
                record.customer,
                record.seq,
                record.kind,
                record.occurredAt,
                record.contentCommitment
            )
        );
    }

    /// @dev The digest the signers sign: the EIP-712 hash of FeedbackBatch, whose array of
    /// structs is encoded as `recordsHash`, the keccak256 of its members' hashStruct values,
    /// concatenated.
    function _batchDigest(uint32 brandId, bytes32 policyHash, uint64 deadline, bytes32 recordsHash)
        internal
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(FEEDBACK_BATCH_TYPEHASH, brandId, policyHash, deadline, recordsHash)));
    }
}

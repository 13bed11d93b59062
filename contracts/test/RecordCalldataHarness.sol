// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFeedbackRegistry} from "../interfaces/IFeedbackRegistry.sol";
import {RecordCalldata} from "../RecordCalldata.sol";

/// @title RecordCalldataHarness
/// @notice Test only: RecordCalldata beside plain Solidity slicing of the same packed records,
/// so that a differential test can call both (tests/contracts/registry/test_record_calldata.py).
contract RecordCalldataHarness {
    bytes32 private constant FEEDBACK_RECORD_TYPEHASH = keccak256(
        "FeedbackRecord(bytes32 eventId,address customer,uint64 seq,uint8 kind,uint40 occurredAt,bytes32 contentCommitment)"
    );

    /// @notice The plain way: each field sliced at its offset, and hashStruct by abi.encode.
    function plain(bytes calldata records)
        external
        pure
        returns (IFeedbackRegistry.FeedbackRecord[] memory decoded, bytes32[] memory hashes)
    {
        uint256 width = RecordCalldata.RECORD_BYTES;
        if (records.length % width != 0) revert IFeedbackRegistry.MalformedRecords(records.length, width);
        uint256 size = records.length / width;
        decoded = new IFeedbackRegistry.FeedbackRecord[](size);
        hashes = new bytes32[](size);
        for (uint256 i; i < size; ++i) {
            bytes calldata r = records[i * width:(i + 1) * width];
            decoded[i] = IFeedbackRegistry.FeedbackRecord({
                eventId: bytes32(r[0:32]),
                customer: address(bytes20(r[32:52])),
                seq: uint64(bytes8(r[52:60])),
                kind: uint8(r[60]),
                occurredAt: uint40(bytes5(r[61:66])),
                contentCommitment: bytes32(r[66:98])
            });
            IFeedbackRegistry.FeedbackRecord memory d = decoded[i];
            hashes[i] = keccak256(
                abi.encode(
                    FEEDBACK_RECORD_TYPEHASH, d.eventId, d.customer, d.seq, d.kind, d.occurredAt, d.contentCommitment
                )
            );
        }
    }

    /// @notice RecordCalldata's way, one memory struct reused as the registry does.
    function assembled(bytes calldata records)
        external
        pure
        returns (IFeedbackRegistry.FeedbackRecord[] memory decoded, bytes32[] memory hashes)
    {
        uint256 size = RecordCalldata.count(records);
        decoded = new IFeedbackRegistry.FeedbackRecord[](size);
        hashes = new bytes32[](size);
        IFeedbackRegistry.FeedbackRecord memory record = RecordCalldata.allocate(FEEDBACK_RECORD_TYPEHASH);
        for (uint256 i; i < size; ++i) {
            hashes[i] = RecordCalldata.load(records, i, record);
            decoded[i] = IFeedbackRegistry.FeedbackRecord(
                record.eventId, record.customer, record.seq, record.kind, record.occurredAt, record.contentCommitment
            );
        }
    }
}

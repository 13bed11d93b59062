// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFeedbackRegistry} from "../interfaces/IFeedbackRegistry.sol";
import {RecordCalldata} from "../RecordCalldata.sol";

/// @title RecordCalldataHarness
/// @notice Test only: RecordCalldata beside the plain Solidity it replaces, on the same input,
/// so that a differential test can call both (tests/contracts/registry/test_record_calldata.py).
contract RecordCalldataHarness {
    bytes32 private constant FEEDBACK_RECORD_TYPEHASH = keccak256(
        "FeedbackRecord(bytes32 eventId,address customer,uint64 seq,uint8 kind,uint40 occurredAt,bytes32 contentCommitment)"
    );

    /// @notice The plain way: the ABI decoder's copy, and hashStruct by abi.encode of the fields.
    function plain(IFeedbackRegistry.FeedbackRecord[] calldata records)
        external
        pure
        returns (IFeedbackRegistry.FeedbackRecord[] memory decoded, bytes32[] memory hashes, address[] memory customers)
    {
        decoded = records;
        hashes = new bytes32[](decoded.length);
        customers = new address[](decoded.length);
        for (uint256 i; i < decoded.length; ++i) {
            IFeedbackRegistry.FeedbackRecord memory r = decoded[i];
            hashes[i] = keccak256(
                abi.encode(
                    FEEDBACK_RECORD_TYPEHASH, r.eventId, r.customer, r.seq, r.kind, r.occurredAt, r.contentCommitment
                )
            );
            customers[i] = r.customer;
        }
    }

    /// @notice RecordCalldata's way, one memory struct reused as the registry does.
    function assembled(IFeedbackRegistry.FeedbackRecord[] calldata records)
        external
        pure
        returns (IFeedbackRegistry.FeedbackRecord[] memory decoded, bytes32[] memory hashes, address[] memory customers)
    {
        uint256 size = records.length;
        decoded = new IFeedbackRegistry.FeedbackRecord[](size);
        hashes = new bytes32[](size);
        customers = new address[](size);
        IFeedbackRegistry.FeedbackRecord memory record;
        for (uint256 i; i < size; ++i) {
            customers[i] = RecordCalldata.customerAt(records, i);
            hashes[i] = RecordCalldata.load(records, i, record, FEEDBACK_RECORD_TYPEHASH);
            decoded[i] = IFeedbackRegistry.FeedbackRecord(
                record.eventId, record.customer, record.seq, record.kind, record.occurredAt, record.contentCommitment
            );
        }
    }
}

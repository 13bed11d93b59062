// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ProtoRegistry} from "./ProtoRegistry.sol";
import {PackedServiceCoin} from "./PackedServiceCoin.sol";
import {IFeedbackRegistry} from "../interfaces/IFeedbackRegistry.sol";

/// @title ProtoRegistryMinEvent (GAS PROTOTYPE, event experiment): ProtoRegistry with the
/// smallest per-record event that still rebuilds a customer's history (who, which seq, what
/// kind, how much); eventId, occurredAt and contentCommitment are then read from the
/// transaction input (the signed record), located by seq.
contract ProtoRegistryMinEvent is ProtoRegistry {
    event FeedbackRecordedMin(address indexed customer, uint64 seq, uint8 kind, uint256 reward);

    constructor(address admin, PackedServiceCoin coin_, uint256 periodLength, uint48 adminTransferDelay)
        ProtoRegistry(admin, coin_, periodLength, adminTransferDelay)
    {}

    function _emitRecorded(IFeedbackRegistry.FeedbackRecord memory record, uint256 reward) internal override {
        emit FeedbackRecordedMin(record.customer, record.seq, record.kind, reward);
    }
}

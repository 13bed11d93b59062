// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFeedbackRegistry} from "../interfaces/IFeedbackRegistry.sol";
import {RecordRewards} from "../RecordRewards.sol";
import {RecordRewardsReference} from "./RecordRewardsReference.sol";

/// @title RecordRewardsHarness
/// @notice Test only: RecordRewards.applyRecord beside the plain Solidity it replaces, run over
/// the same records from the same storage, so that a differential test can compare what each
/// leaves (tests/contracts/registry/test_record_rewards.py). Called with eth_call, so that
/// neither run's bitmap writes outlive it.
contract RecordRewardsHarness {
    mapping(uint256 word => uint256 bits) private _words;
    mapping(uint8 kind => uint256) private _baseReward;

    function setBaseReward(uint8 kind, uint256 amount) external {
        _baseReward[kind] = amount;
    }

    function setWord(uint256 index, uint256 bits) external {
        _words[index] = bits;
    }

    /// @return result The batch once every record is applied and finish() has run.
    /// @return words The bitmap words at `wordIndices` afterwards.
    function run(
        bool assembled,
        IFeedbackRegistry.FeedbackRecord[] memory records,
        RecordRewards.Batch memory batch,
        uint256[] memory wordIndices
    ) external returns (RecordRewards.Batch memory result, uint256[] memory words) {
        for (uint256 i; i < records.length; ++i) {
            if (assembled) RecordRewards.applyRecord(records[i], i, batch, _words, _baseReward);
            else RecordRewardsReference.applyRecord(records[i], i, batch, _words, _baseReward);
        }
        RecordRewards.finish(batch, _words);
        words = new uint256[](wordIndices.length);
        for (uint256 j; j < wordIndices.length; ++j) {
            words[j] = _words[wordIndices[j]];
        }
        return (batch, words);
    }
}

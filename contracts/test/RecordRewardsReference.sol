// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFeedbackRegistry} from "../interfaces/IFeedbackRegistry.sol";
import {PackedAccount} from "../PackedAccount.sol";
import {RecordRewards} from "../RecordRewards.sol";

/// @title RecordRewardsReference
/// @notice Test only: the plain Solidity that contracts/RecordRewards.sol's assembly replaces
/// (FeedbackRegistry's former _applyRecord), kept as the reference it is compared with
/// (tests/contracts/registry/test_record_rewards.py).
library RecordRewardsReference {
    function applyRecord(
        IFeedbackRegistry.FeedbackRecord memory record,
        uint256 i,
        RecordRewards.Batch memory batch,
        mapping(uint256 => uint256) storage words,
        mapping(uint8 => uint256) storage baseReward
    ) internal {
        uint256 wordIndex = record.seq >> 8;
        if (wordIndex != batch.wordIndex) {
            if (batch.wordIndex != type(uint256).max) words[batch.wordIndex] = batch.word;
            batch.wordIndex = wordIndex;
            batch.word = words[wordIndex];
        }
        batch.outcomes[i] = _outcome(record, batch.customerIndex[i], batch, baseReward);
    }

    function _outcome(
        IFeedbackRegistry.FeedbackRecord memory record,
        uint256 customer,
        RecordRewards.Batch memory batch,
        mapping(uint8 => uint256) storage baseReward
    ) private view returns (uint256) {
        uint256 bit = 1 << (record.seq & 0xff);
        if (batch.word & bit != 0) return _skipped(IFeedbackRegistry.SkipReason.AlreadyRecorded);

        uint256 base = baseReward[record.kind];
        if (base == 0) return _skipped(IFeedbackRegistry.SkipReason.KindNotRewarded);
        if (record.customer == address(0)) return _skipped(IFeedbackRegistry.SkipReason.ZeroCustomer);
        if (record.occurredAt > block.timestamp) return _skipped(IFeedbackRegistry.SkipReason.OccursInFuture);

        uint256 account = batch.accounts[customer];
        uint256 lifetime = PackedAccount.lifetimeEarned(account);
        uint256 rewards = PackedAccount.rewardsIn(account, batch.period);
        if (rewards >= batch.customerCap) return _skipped(IFeedbackRegistry.SkipReason.CustomerCapReached);
        uint256 reward =
            base * RecordRewards.multiplierBps(batch.thresholds, batch.multipliersBps, lifetime) / RecordRewards.BPS;
        uint256 welcome = PackedAccount.welcomed(account) ? 0 : batch.welcomeBonus;
        uint256 issued = batch.issued + reward + welcome;
        if (issued > batch.issueLimit) {
            return _skipped(
                issued > batch.capPerPeriod
                    ? IFeedbackRegistry.SkipReason.BrandCapReached
                    : IFeedbackRegistry.SkipReason.SupplyLimitReached
            );
        }
        if (lifetime + reward > type(uint96).max) return _skipped(IFeedbackRegistry.SkipReason.LifetimeLimitReached);

        unchecked {
            batch.word |= bit;
            batch.issued = issued;
            batch.accounts[customer] = PackedAccount.pack(lifetime + reward, batch.period, rewards + 1, true);
            batch.amounts[customer] += reward + welcome;
            batch.touched[customer] = true;
            batch.recorded += 1;
            batch.minted += reward + welcome;
        }
        return welcome << 96 | reward;
    }

    function _skipped(IFeedbackRegistry.SkipReason reason) private pure returns (uint256) {
        return (uint256(reason) + 1) << 192;
    }
}

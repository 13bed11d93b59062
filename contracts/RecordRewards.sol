// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFeedbackRegistry} from "./interfaces/IFeedbackRegistry.sol";

/// @title RecordRewards
/// @notice The rules that reward a feedback record or skip it with a reason, applied one record
/// at a time to a batch held in memory: the record-once bitmap, the public reward schedule
/// (base reward per kind, tier multiplier by lifetime earned, welcome bonus) and the caps.
/// Why assembly: the plain Solidity (contracts/test/RecordRewardsReference.sol) spent about
/// 2,100 gas per record, much of it on bounds checks, checked arithmetic that the fields'
/// widths make needless, and struct reads; this spends about 1,390, the base reward's storage
/// read included (scripts/gas_breakdown.py, a batch of returning customers).
/// @dev Equal to the plain Solidity, its reverts included: tests/contracts/registry/
/// test_record_rewards.py compares both on random batches. What it relies on: `i` is below the
/// batch's length, `customerIndex[i]` below the customers' count (BatchCustomers.distinct
/// builds both), and the numbers FeedbackRegistry's setters bound (base rewards, caps and the
/// welcome bonus below 2^96, the customer cap below 2^24, `issued` below its cap).
library RecordRewards {
    /// @notice One batch's state. The first eight fields stay as set; the rest accumulate.
    /// @dev The assembly reads fields by their offsets below: keep the order.
    struct Batch {
        uint32 period; // 0x000
        uint256 customerCap; // 0x020: rewarded records per customer per period
        uint256 welcomeBonus; // 0x040
        uint256 capPerPeriod; // 0x060: the brand's
        uint256 issueLimit; // 0x080: the lower of the brand's cap and what the coin can mint
        uint256[] thresholds; // 0x0a0: the tier schedule (ITierSchedule)
        uint256[] multipliersBps; // 0x0c0
        uint256[] customerIndex; // 0x0e0: each record's customer, an index into the next three
        uint160[] accounts; // 0x100: each customer's PackedAccount word
        uint256[] amounts; // 0x120: what each customer is minted
        bool[] touched; // 0x140: whether any record of the customer is rewarded
        uint256[] outcomes; // 0x160: each record's outcome, as BatchRecorded logs it
        uint256 issued; // 0x180: the brand's issued sum in the period
        uint256 recorded; // 0x1a0: records rewarded
        uint256 minted; // 0x1c0: rewards and welcome bonuses
        uint256 wordIndex; // 0x1e0: the bitmap word held in `word` (type(uint256).max: none yet)
        uint256 word; // 0x200
    }

    uint256 internal constant BPS = 10_000;

    /// @notice Rewards record `i` of the batch, or skips it: writes its outcome and, if rewarded,
    /// its bit and its customer's account, amount and `touched`.
    /// @param words The brand's record-once bitmap: word seq / 256, bit seq % 256.
    /// @param baseReward The base reward of each kind (zero: not rewarded).
    function applyRecord(
        IFeedbackRegistry.FeedbackRecord memory record,
        uint256 i,
        Batch memory batch,
        mapping(uint256 => uint256) storage words,
        mapping(uint8 => uint256) storage baseReward
    ) internal {
        assembly ("memory-safe") {
            // A skipped record's outcome: its SkipReason one up, so that zero means rewarded.
            function skipped(reason) -> outcome {
                outcome := shl(192, add(reason, 1))
            }

            function panic(code) {
                mstore(0, shl(224, 0x4e487b71))
                mstore(4, code)
                revert(0, 0x24)
            }

            // The multiplier of the highest tier whose threshold `lifetime` reaches, walking up
            // from the lowest, where most customers are.
            function multiplierBps(b, lifetime) -> m {
                let thresholds := mload(add(b, 0xa0))
                let count := mload(thresholds)
                if iszero(count) {
                    m := 10000
                    leave
                }
                let tier := 0
                for {} lt(add(tier, 1), count) { tier := add(tier, 1) } {
                    if lt(lifetime, mload(add(thresholds, shl(5, add(tier, 2))))) { break }
                }
                let multipliers := mload(add(b, 0xc0))
                // A schedule with fewer multipliers than thresholds: the index check's panic.
                if iszero(lt(tier, mload(multipliers))) { panic(0x32) }
                m := mload(add(multipliers, shl(5, add(tier, 1))))
            }

            // The outcome of a record whose bit is not set, with the batch updated if it is rewarded.
            function rewardOf(b, r, c, rewardSlot) -> outcome {
                mstore(0, mload(add(r, 0x60)))
                mstore(0x20, rewardSlot)
                let base := sload(keccak256(0, 0x40))
                if iszero(base) {
                    outcome := skipped(1) // KindNotRewarded
                    leave
                }
                if iszero(mload(add(r, 0x20))) {
                    outcome := skipped(2) // ZeroCustomer
                    leave
                }
                if gt(mload(add(r, 0x80)), timestamp()) {
                    outcome := skipped(3) // OccursInFuture
                    leave
                }
                // PackedAccount: lifetime in bits 0-95, period 96-127, rewards 128-151, welcomed 152.
                let accountAt := add(mload(add(b, 0x100)), shl(5, add(c, 1)))
                let account := mload(accountAt)
                let lifetime := and(account, 0xffffffffffffffffffffffff)
                let period := mload(b)
                let rewards := 0
                if eq(and(shr(96, account), 0xffffffff), period) { rewards := and(shr(128, account), 0xffffff) }
                if iszero(lt(rewards, mload(add(b, 0x20)))) {
                    outcome := skipped(4) // CustomerCapReached
                    leave
                }
                let multiplier := multiplierBps(b, lifetime)
                let product := mul(base, multiplier)
                // Only a tier source gone mad overflows this; the plain code's checked product panics.
                if iszero(or(iszero(multiplier), eq(div(product, multiplier), base))) { panic(0x11) }
                let reward := div(product, 10000)
                let welcome := mul(iszero(and(shr(152, account), 1)), mload(add(b, 0x40)))
                // No overflow: the issued sum and the bonus are below 2^96, the reward below 2^243.
                let issued := add(add(mload(add(b, 0x180)), reward), welcome)
                if gt(issued, mload(add(b, 0x80))) {
                    // Past the brand's cap: BrandCapReached (5); else past what the coin can still
                    // mint: SupplyLimitReached (7). (The coin would revert the whole batch; a skip
                    // keeps the rest, and the record retryable.)
                    outcome := skipped(sub(7, shl(1, gt(issued, mload(add(b, 0x60))))))
                    leave
                }
                // Below 2^97 (the issue limit just bounded the reward to 2^96).
                lifetime := add(lifetime, reward)
                if gt(lifetime, 0xffffffffffffffffffffffff) {
                    outcome := skipped(6) // LifetimeLimitReached
                    leave
                }
                // Rewarded. rewards + 1 <= customerCap < 2^24 fits its field; the welcome comes
                // with the first reward, whatever the bonus is then (even zero).
                mstore(add(b, 0x180), issued)
                mstore(accountAt, or(or(lifetime, shl(96, period)), or(shl(128, add(rewards, 1)), shl(152, 1))))
                let amount := add(reward, welcome)
                let element := shl(5, add(c, 1))
                let amountAt := add(mload(add(b, 0x120)), element)
                mstore(amountAt, add(mload(amountAt), amount))
                mstore(add(mload(add(b, 0x140)), element), 1)
                mstore(add(b, 0x1a0), add(mload(add(b, 0x1a0)), 1))
                mstore(add(b, 0x1c0), add(mload(add(b, 0x1c0)), amount))
                outcome := or(shl(96, welcome), reward)
            }

            // The bitmap word of the record's seq, read once per word: the previous word is
            // written back when the batch moves to another (and by finish()).
            let seq := mload(add(record, 0x40))
            let wordIndex := shr(8, seq)
            let word := mload(add(batch, 0x200))
            let heldIndex := mload(add(batch, 0x1e0))
            if iszero(eq(wordIndex, heldIndex)) {
                mstore(0x20, words.slot)
                if iszero(eq(heldIndex, not(0))) {
                    mstore(0, heldIndex)
                    sstore(keccak256(0, 0x40), word)
                }
                mstore(0, wordIndex)
                word := sload(keccak256(0, 0x40))
                mstore(add(batch, 0x1e0), wordIndex)
            }
            let bit := shl(and(seq, 0xff), 1)
            let outcome := skipped(0) // AlreadyRecorded
            if iszero(and(word, bit)) {
                let customer := mload(add(mload(add(batch, 0xe0)), shl(5, add(i, 1))))
                outcome := rewardOf(batch, record, customer, baseReward.slot)
                // Rewarded outcomes are below 2^192, skipped ones are not.
                if iszero(shr(192, outcome)) { word := or(word, bit) }
            }
            mstore(add(batch, 0x200), word)
            mstore(add(mload(add(batch, 0x160)), shl(5, add(i, 1))), outcome)
        }
    }

    /// @notice Writes the bitmap word the batch still holds: call once, after the last record.
    function finish(Batch memory batch, mapping(uint256 => uint256) storage words) internal {
        if (batch.wordIndex != type(uint256).max) words[batch.wordIndex] = batch.word;
    }

    /// @notice The multiplier of the highest tier whose threshold `lifetime` reaches (for views;
    /// applyRecord() walks the same schedule in assembly). Thresholds ascend strictly (Tiers.setTiers).
    function multiplierBps(uint256[] memory thresholds, uint256[] memory multipliersBps, uint256 lifetime)
        internal
        pure
        returns (uint256)
    {
        uint256 count = thresholds.length;
        if (count == 0) return BPS;
        uint256 tier;
        // tier < count - 1, the length of a memory array: `tier + 1` cannot overflow.
        unchecked {
            while (tier + 1 < count && lifetime >= thresholds[tier + 1]) ++tier;
        }
        return multipliersBps[tier];
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IFeedbackRegistry} from "../interfaces/IFeedbackRegistry.sol";
import {ITierSchedule} from "../interfaces/ITierSchedule.sol";
import {PackedServiceCoin} from "./PackedServiceCoin.sol";
import {EarnOutcome} from "./EarnOutcome.sol";

/// @title ProtoRegistryBase (GAS PROTOTYPE)
/// @notice The project's FeedbackRegistry rules (EIP-712 k-of-n batch signatures, bitmap dedupe
/// of dense sequence numbers, base reward per kind x tier multiplier, per-brand cap per period,
/// per-customer cap per period) with the per-customer state kept in the coin's holder slot.
/// The registry stores nothing per customer.
///
/// A batch is two passes over its records:
/// 1. hash each record (EIP-712), check and mark its dedupe bit (one storage write per 256-bit
///    word), check kind/customer/time, and collect (customer, amount) for the coin;
/// then, once the signatures verify, ONE call to `coin.earnBatch`, which applies the customer
///    cap, the brand's remaining budget and the tier, and credits each reward;
/// 2. report: FeedbackRecorded for each credited record, RecordNotRewarded (and the dedupe bit
///    cleared again, so that it can be retried) for each one the coin refused.
/// The variants differ only in where the tier multiplier is applied (`_amountFor`, `_coinSchedule`).
abstract contract ProtoRegistryBase is AccessControlDefaultAdminRules, Pausable, EIP712 {
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    uint256 public constant MAX_BATCH_SIZE = 500;

    bytes32 public constant FEEDBACK_RECORD_TYPEHASH = keccak256(
        "FeedbackRecord(bytes32 eventId,address customer,uint64 seq,uint8 kind,uint40 occurredAt,bytes32 contentCommitment)"
    );
    bytes32 public constant FEEDBACK_BATCH_TYPEHASH = keccak256(
        "FeedbackBatch(uint32 brandId,bytes32 policyHash,uint64 deadline,FeedbackRecord[] records)"
        "FeedbackRecord(bytes32 eventId,address customer,uint64 seq,uint8 kind,uint40 occurredAt,bytes32 contentCommitment)"
    );

    uint256 internal constant BPS = 10_000;

    /// @dev Same order as IFeedbackRegistry.SkipReason.
    enum SkipReason {
        AlreadyRecorded,
        KindNotRewarded,
        ZeroCustomer,
        OccursInFuture,
        CustomerCapReached,
        BrandCapReached,
        LifetimeLimitReached
    }

    error BatchSizeOutOfRange(uint256 size, uint256 max);
    error BatchExpired(uint64 deadline, uint256 nowTimestamp);
    error BrandNotActive(uint32 brandId);
    error QuorumNotReached(uint256 signatures, uint256 quorum);
    error UnknownSigner(address recovered);
    error SignersNotAscending(address previous, address next);
    error InvalidQuorum(uint256 quorum, uint256 signerCount);
    error SignerAlreadyRegistered(address signer);
    error BrandAlreadyRegistered(uint32 brandId);
    error AmountTooLarge(uint256 amount, uint256 max);
    error TierSourceNotSet();

    /// @notice A record was rewarded. The brand, policy hash and signatures are in the batch's
    /// BatchRecorded event and the transaction input (which also holds occurredAt).
    event FeedbackRecorded(
        address indexed customer, uint64 seq, uint8 kind, uint256 reward, bytes32 eventId, bytes32 contentCommitment
    );
    event RecordNotRewarded(uint32 indexed brandId, bytes32 indexed eventId, uint64 seq, SkipReason reason);
    event WelcomeGranted(address indexed customer, uint32 indexed brandId, uint256 amount);
    event BatchRecorded(
        uint32 indexed brandId, bytes32 indexed digest, bytes32 policyHash, uint256 recorded, uint256 skipped, uint256 minted
    );

    PackedServiceCoin public immutable coin;
    uint256 public immutable PERIOD_LENGTH;

    ITierSchedule public tierSource;
    /// @notice The most rewards one customer may receive per period (a count).
    uint24 public customerRewardCap;
    uint96 public welcomeBonus;
    uint256 public signerCount;
    uint256 public quorum;

    mapping(address signer => bool) public isSigner;
    mapping(uint8 kind => uint256) public baseReward;
    mapping(uint32 brandId => IFeedbackRegistry.Brand) private _brands;
    /// @dev brand => word index (seq / 256) => bitmap of recorded seqs (bit seq % 256).
    mapping(uint32 brandId => mapping(uint256 word => uint256 bits)) private _recorded;

    /// @dev What one submitBatch accumulates in memory.
    struct BatchState {
        uint32 brandId;
        uint32 period;
        uint256 wordIndex;
        uint256 word;
        uint256 candidates;
        address[] customers;
        uint256[] amounts;
        IFeedbackRegistry.FeedbackRecord[] records;
        uint256[] thresholds;
        uint256[] multipliersBps;
    }

    constructor(address admin, PackedServiceCoin coin_, uint256 periodLength, uint48 adminTransferDelay)
        AccessControlDefaultAdminRules(adminTransferDelay, admin)
        EIP712("ServiceCoin FeedbackRegistry", "1")
    {
        coin = coin_;
        PERIOD_LENGTH = periodLength;
        quorum = 1;
    }

    // ================================================================ recording

    function submitBatch(IFeedbackRegistry.FeedbackBatch calldata batch, bytes[] calldata signatures)
        external
        whenNotPaused
        returns (uint256 recorded)
    {
        uint256 size = batch.records.length;
        if (size == 0 || size > MAX_BATCH_SIZE) revert BatchSizeOutOfRange(size, MAX_BATCH_SIZE);
        if (block.timestamp > batch.deadline) revert BatchExpired(batch.deadline, block.timestamp);
        IFeedbackRegistry.Brand memory brand = _brands[batch.brandId];
        if (!brand.active) revert BrandNotActive(batch.brandId);

        BatchState memory state = _startBatch(batch.brandId, size);
        if (brand.period != state.period) {
            brand.period = state.period;
            brand.issuedInPeriod = 0;
        }

        // Pass 1. If the signatures do not verify below, the transaction reverts whole.
        bytes32[] memory recordHashes = new bytes32[](size);
        for (uint256 i; i < size; ++i) {
            IFeedbackRegistry.FeedbackRecord memory record = batch.records[i]; // decoded and validated once
            recordHashes[i] = _hashRecord(record);
            _collect(record, state);
        }
        if (state.wordIndex != type(uint256).max) _recorded[batch.brandId][state.wordIndex] = state.word;

        bytes32 digest = _hashTypedDataV4(_hashBatch(batch, keccak256(abi.encodePacked(recordHashes))));
        _requireQuorum(digest, signatures);

        uint256 minted;
        if (state.candidates != 0) {
            uint256[] memory outcomes;
            (outcomes, minted) = _earn(state, brand);
            recorded = _report(state, outcomes); // pass 2
            brand.issuedInPeriod += uint96(minted); // minted <= the budget given: cap - issued
        }
        _brands[batch.brandId] = brand;
        emit BatchRecorded(batch.brandId, digest, batch.policyHash, recorded, size - recorded, minted);
    }

    /// @dev Pass 1 for one record. Dedupe bits are read and written through `state.word`, so a
    /// run of sequence numbers in one 256-bit word costs one storage write.
    function _collect(IFeedbackRegistry.FeedbackRecord memory record, BatchState memory state)
        private
    {
        uint256 wordIndex = record.seq >> 8;
        uint256 bit = 1 << (record.seq & 0xff);
        if (wordIndex != state.wordIndex) {
            if (state.wordIndex != type(uint256).max) _recorded[state.brandId][state.wordIndex] = state.word;
            state.wordIndex = wordIndex;
            state.word = _recorded[state.brandId][wordIndex];
        }
        if (state.word & bit != 0) return _skip(state.brandId, record, SkipReason.AlreadyRecorded);
        uint256 base = baseReward[record.kind];
        if (base == 0) return _skip(state.brandId, record, SkipReason.KindNotRewarded);
        if (record.customer == address(0)) return _skip(state.brandId, record, SkipReason.ZeroCustomer);
        if (record.occurredAt > block.timestamp) return _skip(state.brandId, record, SkipReason.OccursInFuture);

        state.word |= bit; // cleared again in pass 2 if the coin refuses the reward
        uint256 n = state.candidates;
        state.customers[n] = record.customer;
        state.amounts[n] = _amountFor(record.customer, base, state);
        state.records[n] = record;
        state.candidates = n + 1;
    }

    /// @dev The one external call of the batch.
    function _earn(BatchState memory state, IFeedbackRegistry.Brand memory brand)
        private
        returns (uint256[] memory outcomes, uint256 minted)
    {
        uint256 budget = brand.capPerPeriod > brand.issuedInPeriod ? brand.capPerPeriod - brand.issuedInPeriod : 0;
        PackedServiceCoin.EarnTerms memory terms = PackedServiceCoin.EarnTerms({
            period: state.period,
            maxRewardsPerPeriod: customerRewardCap,
            budget: uint96(budget),
            welcomeBonus: welcomeBonus,
            thresholds: new uint256[](0),
            multipliersBps: new uint256[](0)
        });
        (terms.thresholds, terms.multipliersBps) = _coinSchedule(state);
        if (state.candidates != state.customers.length) _shrink(state);
        return coin.earnBatch(state.customers, state.amounts, terms);
    }

    /// @dev Pass 2: one event per candidate, from the coin's outcome.
    function _report(BatchState memory state, uint256[] memory outcomes) private returns (uint256 recorded) {
        uint256 welcome = welcomeBonus;
        for (uint256 j; j < state.candidates; ++j) {
            IFeedbackRegistry.FeedbackRecord memory record = state.records[j];
            uint256 outcome = outcomes[j];
            uint256 refusal = EarnOutcome.refusal(outcome);
            if (refusal == uint256(PackedServiceCoin.Refusal.None)) {
                _emitRecorded(record, EarnOutcome.reward(outcome));
                if (EarnOutcome.welcomed(outcome)) emit WelcomeGranted(record.customer, state.brandId, welcome);
                ++recorded;
            } else {
                // Rare: un-mark, so that the record can be retried (next period, raised cap).
                _recorded[state.brandId][record.seq >> 8] &= ~(1 << (record.seq & 0xff));
                _skip(state.brandId, record, SkipReason(uint256(SkipReason.CustomerCapReached) + refusal - 1));
            }
        }
    }

    function _skip(uint32 brandId, IFeedbackRegistry.FeedbackRecord memory record, SkipReason reason) private {
        emit RecordNotRewarded(brandId, record.eventId, record.seq, reason);
    }

    function _startBatch(uint32 brandId, uint256 size) private view returns (BatchState memory state) {
        if (address(tierSource) == address(0)) revert TierSourceNotSet();
        (state.thresholds, state.multipliersBps) = tierSource.tierSchedule();
        state.brandId = brandId;
        state.period = _period();
        state.wordIndex = type(uint256).max;
        state.customers = new address[](size);
        state.amounts = new uint256[](size);
        state.records = new IFeedbackRegistry.FeedbackRecord[](size);
    }

    /// @dev Rare (some records skipped in pass 1): copies the filled part of the arrays.
    function _shrink(BatchState memory state) private pure {
        uint256 n = state.candidates;
        address[] memory customers = new address[](n);
        uint256[] memory amounts = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            customers[i] = state.customers[i];
            amounts[i] = state.amounts[i];
        }
        state.customers = customers;
        state.amounts = amounts;
    }

    /// @dev The per-record event (a variant may emit a leaner one).
    function _emitRecorded(IFeedbackRegistry.FeedbackRecord memory record, uint256 reward) internal virtual {
        emit FeedbackRecorded(record.customer, record.seq, record.kind, reward, record.eventId, record.contentCommitment);
    }

    /// @dev What the coin is asked to credit for one record (before the coin's checks).
    function _amountFor(address customer, uint256 base, BatchState memory state)
        internal
        view
        virtual
        returns (uint256);

    /// @dev The tier schedule the coin applies to the amounts (empty: none).
    function _coinSchedule(BatchState memory state)
        internal
        pure
        virtual
        returns (uint256[] memory thresholds, uint256[] memory multipliersBps);

    /// @dev The multiplier of the highest tier whose threshold `lifetime` reaches.
    function _multiplierBps(uint256 lifetime, BatchState memory state) internal pure returns (uint256) {
        uint256 tier = state.thresholds.length;
        while (tier > 1 && lifetime < state.thresholds[tier - 1]) --tier;
        return tier == 0 ? BPS : state.multipliersBps[tier - 1];
    }

    function _requireQuorum(bytes32 digest, bytes[] calldata signatures) private view {
        uint256 required = quorum;
        if (signatures.length < required) revert QuorumNotReached(signatures.length, required);
        address previous;
        for (uint256 i; i < signatures.length; ++i) {
            address signer = ECDSA.recover(digest, signatures[i]);
            if (signer <= previous) revert SignersNotAscending(previous, signer);
            if (!isSigner[signer]) revert UnknownSigner(signer);
            previous = signer;
        }
    }

    function _hashRecord(IFeedbackRegistry.FeedbackRecord memory record) private pure returns (bytes32) {
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

    function _hashBatch(IFeedbackRegistry.FeedbackBatch calldata batch, bytes32 recordsHash)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(FEEDBACK_BATCH_TYPEHASH, batch.brandId, batch.policyHash, batch.deadline, recordsHash));
    }

    function _period() private view returns (uint32) {
        return uint32(block.timestamp / PERIOD_LENGTH);
    }

    // ================================================================ administration (minimal)

    function addSigner(address signer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (signer == address(0) || isSigner[signer]) revert SignerAlreadyRegistered(signer);
        isSigner[signer] = true;
        ++signerCount;
    }

    function setQuorum(uint256 newQuorum) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newQuorum == 0 || newQuorum > signerCount) revert InvalidQuorum(newQuorum, signerCount);
        quorum = newQuorum;
    }

    function registerBrand(uint32 brandId, uint256 capPerPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_brands[brandId].registered) revert BrandAlreadyRegistered(brandId);
        _brands[brandId] = IFeedbackRegistry.Brand({
            capPerPeriod: _checkedUint96(capPerPeriod),
            issuedInPeriod: 0,
            period: 0,
            active: true,
            registered: true
        });
    }

    function setBrandCap(uint32 brandId, uint256 capPerPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _brands[brandId].capPerPeriod = _checkedUint96(capPerPeriod);
    }

    function setBaseReward(uint8 kind, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        baseReward[kind] = _checkedUint96(amount);
    }

    function setCustomerRewardCap(uint24 rewardsPerPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        customerRewardCap = rewardsPerPeriod;
    }

    function setWelcomeBonus(uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        welcomeBonus = _checkedUint96(amount);
    }

    function setTierSource(address source) external onlyRole(DEFAULT_ADMIN_ROLE) {
        tierSource = ITierSchedule(source);
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ================================================================ views

    function isRecorded(uint32 brandId, uint64 seq) external view returns (bool) {
        return _recorded[brandId][seq >> 8] & (1 << (seq & 0xff)) != 0;
    }

    /// @notice Read by TierRedemption.tierOf: the coin holds it now.
    function lifetimeEarned(address customer) external view returns (uint256) {
        return coin.lifetimeEarned(customer);
    }

    function brandOf(uint32 brandId) external view returns (IFeedbackRegistry.Brand memory) {
        return _brands[brandId];
    }

    function _checkedUint96(uint256 amount) private pure returns (uint96) {
        if (amount > type(uint96).max) revert AmountTooLarge(amount, type(uint96).max);
        return uint96(amount);
    }
}

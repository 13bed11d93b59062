// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Brands} from "./Brands.sol";
import {IFeedbackRegistry} from "./interfaces/IFeedbackRegistry.sol";
import {FeedbackHashing} from "./FeedbackHashing.sol";
import {BatchCustomers} from "./BatchCustomers.sol";
import {BatchLog} from "./BatchLog.sol";
import {CoinBatchCall} from "./CoinBatchCall.sol";
import {RecordCalldata} from "./RecordCalldata.sol";
import {RecordRewards} from "./RecordRewards.sol";
import {PackedAccount} from "./PackedAccount.sol";
import {IServiceCoin} from "./interfaces/IServiceCoin.sol";
import {ITierSchedule} from "./interfaces/ITierSchedule.sol";

/// @title FeedbackRegistry
/// @notice Records signed customer-service events once and mints their rewards. See
/// IFeedbackRegistry for the rules; this header states the invariants the code keeps:
/// - a batch is accepted only with its brand's quorum of that brand's signers (Brands), so a
///   key can set bits and issue rewards for the brands it is registered for, and no other;
/// - a (brand, seq) is rewarded at most once: its bit in `_recorded` is set in the same
///   transaction that mints its reward, and never cleared;
/// - coins minted by this contract equal the sum of the rewards and welcome bonuses in the
///   outcomes of BatchRecorded events;
/// - no batch reverts at the coin's supply limit: a record that would pass it is skipped;
/// - within one period, no customer has more than `customerCapPerPeriod` records rewarded and
///   no brand issues more than its `capPerPeriod` (welcome bonuses included);
/// - `lifetimeEarned` never decreases, except when moved whole to a linked wallet.
/// @dev Gas: one storage write per 256 events (the bitmap word) and one per customer: the
/// Account lives in the coin's holder data beside the balance (PackedAccount), written with the mint.
contract FeedbackRegistry is FeedbackHashing, Brands, Pausable {
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @dev Relays wallet links: the brand's oracle, which knows that both addresses belong to
    /// the same customer. Without this gate a holder could sign its coins over to a buyer and
    /// so trade around the coin's restricted transfer policy.
    bytes32 public constant LINK_OPERATOR_ROLE = keccak256("LINK_OPERATOR_ROLE");

    /// @inheritdoc IFeedbackRegistry
    uint256 public constant MAX_BATCH_SIZE = 500;

    /// @inheritdoc IFeedbackRegistry
    bytes32 public constant LINK_WALLET_TYPEHASH =
        keccak256("LinkWallet(address from,address to,uint256 nonce,uint256 deadline)");

    IServiceCoin public immutable coin;
    /// @inheritdoc IFeedbackRegistry
    uint256 public immutable PERIOD_LENGTH;

    // Every batch reads the tier source, the customer cap and the welcome bonus: packed into
    // two slots, they cost two cold reads per batch instead of three. (The brand's quorum is in
    // its Brand slot: Brands.)
    ITierSchedule public tierSource;
    uint96 private _customerCapPerPeriod;
    uint96 private _welcomeBonus;

    mapping(uint8 kind => uint256) public baseReward;
    mapping(address holder => uint256) public linkNonce;
    /// @dev brand => word index (seq / 256) => bitmap of recorded seqs (bit seq % 256).
    mapping(uint32 brandId => mapping(uint256 word => uint256 bits)) private _recorded;

    /// @param admin The initial DEFAULT_ADMIN_ROLE holder.
    /// @param coin_ The ServiceCoin this registry mints.
    /// @param periodLength Length of a cap period in seconds (e.g. 86400 for daily caps).
    /// @param adminTransferDelay Seconds a started admin hand-over waits before it can be accepted.
    constructor(address admin, IServiceCoin coin_, uint256 periodLength, uint48 adminTransferDelay)
        AccessControlDefaultAdminRules(adminTransferDelay, admin)
        EIP712("ServiceCoin FeedbackRegistry", "1")
    {
        if (periodLength == 0) revert InvalidPeriodLength(periodLength);
        coin = coin_;
        PERIOD_LENGTH = periodLength;
    }

    // ================================================================ recording

    /// @inheritdoc IFeedbackRegistry
    function submitBatch(PackedFeedbackBatch calldata batch, bytes[] calldata signatures)
        external
        whenNotPaused
        returns (uint256 recorded)
    {
        uint256 size = RecordCalldata.count(batch.records);
        if (size == 0 || size > MAX_BATCH_SIZE) revert BatchSizeOutOfRange(size, MAX_BATCH_SIZE);
        if (block.timestamp > batch.deadline) revert BatchExpired(batch.deadline, block.timestamp);
        Brand memory brand = _brands[batch.brandId];
        if (!brand.active) revert BrandNotActive(batch.brandId);

        (RecordRewards.Batch memory state, CoinBatchCall.Buffer memory coinCall, BatchLog.Buffer memory log) =
            _startBatch(batch.records, size, brand);
        _applyRecords(batch.records, size, state, _recorded[batch.brandId], log.recordHashes);
        // Below the brand's uint96 cap: records that would pass it were skipped.
        brand.issuedInPeriod = uint96(state.issued);
        _brands[batch.brandId] = brand;

        bytes32 digest = _batchDigest(batch.brandId, batch.policyHash, batch.deadline, BatchLog.recordsHash(log));
        _requireQuorum(batch.brandId, brand.quorum, digest, signatures);

        recorded = state.recorded;
        // One call mints every reward and writes each rewarded customer's account (one
        // Transfer per customer); customers with every record skipped are left out.
        if (recorded != 0) CoinBatchCall.mint(coin, coinCall, state.touched);
        BatchLog.emitBatchRecorded(
            log, batch.brandId, digest, batch.policyHash, recorded, size - recorded, state.minted
        );
    }

    /// @dev One pass over the records, each unpacked from calldata into the same memory struct
    /// (RecordCalldata): hashes it into `recordHashes` and applies it (RecordRewards).
    function _applyRecords(
        bytes calldata records,
        uint256 size,
        RecordRewards.Batch memory state,
        mapping(uint256 => uint256) storage words,
        bytes32[] memory recordHashes
    ) private {
        FeedbackRecord memory record = RecordCalldata.allocate(FEEDBACK_RECORD_TYPEHASH);
        for (uint256 i; i < size; ++i) {
            recordHashes[i] = RecordCalldata.load(records, i, record);
            RecordRewards.applyRecord(record, i, state, words, baseReward);
        }
        RecordRewards.finish(state, words);
    }

    /// @dev The batch's state before its first record: the schedule, the caps and the period
    /// (a new period starts the brand's issued sum from zero), the accounts of its customers,
    /// and the log's buffer, which the records' hashes and outcomes fill.
    function _startBatch(bytes calldata records, uint256 size, Brand memory brand)
        private
        view
        returns (RecordRewards.Batch memory state, CoinBatchCall.Buffer memory coinCall, BatchLog.Buffer memory log)
    {
        if (address(tierSource) == address(0)) revert TierSourceNotSet();
        (state.thresholds, state.multipliersBps) = tierSource.tierSchedule();
        state.period = _period();
        if (brand.period != state.period) {
            brand.period = state.period;
            brand.issuedInPeriod = 0;
        }
        // Read once per batch: each stays the same for the whole transaction.
        state.customerCap = _customerCapPerPeriod;
        state.welcomeBonus = _welcomeBonus;
        state.capPerPeriod = brand.capPerPeriod;
        state.issued = brand.issuedInPeriod;
        // The brand's cap and the coin's MAX_SUPPLY in one bound (the brand's issued sum and the
        // batch's minted sum grow together): one check per record covers both.
        uint256 supplyLimit = brand.issuedInPeriod + coin.mintableSupply();
        state.issueLimit = brand.capPerPeriod < supplyLimit ? brand.capPerPeriod : supplyLimit;
        state.wordIndex = type(uint256).max;
        address[] memory customers;
        (customers, state.customerIndex) = BatchCustomers.distinct(records, size);
        coinCall = CoinBatchCall.readAccounts(coin, customers);
        state.accounts = coinCall.accounts;
        state.amounts = coinCall.amounts;
        state.touched = new bool[](customers.length);
        log = BatchLog.allocate(size);
        state.outcomes = log.outcomes;
    }

    // ================================================================ wallet link

    /// @inheritdoc IFeedbackRegistry
    function linkWallet(address from, address to, uint256 deadline, bytes calldata signature)
        external
        whenNotPaused
        onlyRole(LINK_OPERATOR_ROLE)
    {
        if (to == address(0) || to == from) revert InvalidLinkTarget(from, to);
        if (block.timestamp > deadline) revert LinkExpired(deadline, block.timestamp);
        _consumeLinkSignature(from, to, deadline, signature);
        uint256 lifetimeMoved = _moveAccount(from, to);
        uint256 balance = coin.balanceOf(from);
        if (balance != 0) coin.relocate(from, to, balance);
        emit WalletLinked(from, to, balance, lifetimeMoved);
    }

    /// @dev Checks the holder's LinkWallet signature and uses up its nonce (no replay).
    function _consumeLinkSignature(address from, address to, uint256 deadline, bytes calldata signature) private {
        uint256 nonce = linkNonce[from];
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(LINK_WALLET_TYPEHASH, from, to, nonce, deadline)));
        address recovered = ECDSA.recover(digest, signature);
        if (recovered != from) revert InvalidLinkSignature(from, recovered);
        linkNonce[from] = nonce + 1;
    }

    /// @dev The history moves with the coins: tiers and caps follow the customer, not the address.
    function _moveAccount(address from, address to) private returns (uint256 lifetimeMoved) {
        uint256 source = coin.holderData(from);
        uint256 target = coin.holderData(to);
        uint32 period = _period();
        lifetimeMoved = PackedAccount.lifetimeEarned(source);
        uint256 lifetime = _checkedUint96(PackedAccount.lifetimeEarned(target) + lifetimeMoved);
        uint256 rewards = PackedAccount.rewardsIn(source, period) + PackedAccount.rewardsIn(target, period);
        if (rewards > type(uint24).max) revert AmountTooLarge(rewards, type(uint24).max);
        bool welcomed = PackedAccount.welcomed(target) || PackedAccount.welcomed(source);
        coin.setHolderData(to, PackedAccount.pack(lifetime, period, rewards, welcomed));
        // The source keeps `welcomed` so that the address cannot collect a second welcome bonus.
        coin.setHolderData(from, PackedAccount.pack(0, period, 0, true));
    }

    // ================================================================ administration

    /// @inheritdoc IFeedbackRegistry
    function setBaseReward(uint8 kind, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit BaseRewardChanged(kind, baseReward[kind], amount);
        baseReward[kind] = _checkedUint96(amount);
    }

    /// @inheritdoc IFeedbackRegistry
    function setCustomerCap(uint256 rewardsPerPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        // The count is kept in 24 bits of the customer's packed account.
        if (rewardsPerPeriod > type(uint24).max) revert AmountTooLarge(rewardsPerPeriod, type(uint24).max);
        emit CustomerCapChanged(_customerCapPerPeriod, rewardsPerPeriod);
        _customerCapPerPeriod = uint96(rewardsPerPeriod);
    }

    /// @inheritdoc IFeedbackRegistry
    function setWelcomeBonus(uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit WelcomeBonusChanged(_welcomeBonus, amount);
        _welcomeBonus = _checkedUint96(amount);
    }

    /// @inheritdoc IFeedbackRegistry
    function setTierSource(address source) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit TierSourceChanged(address(tierSource), source);
        tierSource = ITierSchedule(source);
    }

    /// @inheritdoc IFeedbackRegistry
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IFeedbackRegistry
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ================================================================ views

    /// @inheritdoc IFeedbackRegistry
    function customerCapPerPeriod() external view returns (uint256) {
        return _customerCapPerPeriod;
    }

    /// @inheritdoc IFeedbackRegistry
    function welcomeBonus() external view returns (uint256) {
        return _welcomeBonus;
    }

    /// @inheritdoc IFeedbackRegistry
    function isRecorded(uint32 brandId, uint64 seq) external view returns (bool) {
        return _recorded[brandId][seq >> 8] & (1 << (seq & 0xff)) != 0;
    }

    /// @inheritdoc IFeedbackRegistry
    function currentPeriod() external view returns (uint32) {
        return _period();
    }

    /// @inheritdoc IFeedbackRegistry
    function rewardFor(address customer, uint8 kind) external view returns (uint256) {
        if (address(tierSource) == address(0)) revert TierSourceNotSet();
        (uint256[] memory thresholds, uint256[] memory multipliersBps) = tierSource.tierSchedule();
        uint256 lifetime = PackedAccount.lifetimeEarned(coin.holderData(customer));
        return baseReward[kind] * RecordRewards.multiplierBps(thresholds, multipliersBps, lifetime) / RecordRewards.BPS;
    }

    /// @inheritdoc IFeedbackRegistry
    function lifetimeEarned(address customer) external view returns (uint256) {
        return PackedAccount.lifetimeEarned(coin.holderData(customer));
    }

    /// @inheritdoc IFeedbackRegistry
    function accountOf(address customer) external view returns (Account memory) {
        return PackedAccount.toAccount(coin.holderData(customer));
    }

    // ================================================================ internals

    function _period() private view returns (uint32) {
        return uint32(block.timestamp / PERIOD_LENGTH);
    }
}

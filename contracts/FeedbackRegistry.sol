// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IFeedbackRegistry} from "./interfaces/IFeedbackRegistry.sol";
import {FeedbackHashing} from "./FeedbackHashing.sol";
import {IServiceCoin} from "./interfaces/IServiceCoin.sol";
import {ITierSchedule} from "./interfaces/ITierSchedule.sol";

/// @title FeedbackRegistry
/// @notice Records signed customer-service events once and mints their rewards. See
/// IFeedbackRegistry for the rules; this header states the invariants the code keeps:
/// - a (brand, seq) is rewarded at most once: its bit in `_recorded` is set in the same
///   transaction that mints its reward, and never cleared;
/// - coins minted by this contract equal the sum of rewards in FeedbackRecorded events plus
///   welcome bonuses in WelcomeGranted events;
/// - no batch reverts at the coin's supply limit: a record that would pass it is skipped;
/// - within one period, no customer earns more than `customerCapPerPeriod` and no brand
///   issues more than its `capPerPeriod` (welcome bonuses count toward the brand's cap only);
/// - `lifetimeEarned` never decreases, except when moved whole to a linked wallet.
/// @dev Gas: recording costs one storage write per 256 events (the bitmap word), one per
/// customer (the Account slot) and the coin's balance write; nothing else per event is stored.
contract FeedbackRegistry is FeedbackHashing, AccessControlDefaultAdminRules, Pausable {
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

    uint256 private constant BPS = 10_000;

    IServiceCoin public immutable coin;
    /// @inheritdoc IFeedbackRegistry
    uint256 public immutable PERIOD_LENGTH;

    // Every batch reads the tier source, the quorum, the customer cap and the welcome bonus:
    // packed into two slots, they cost two cold reads per batch instead of four.
    ITierSchedule public tierSource;
    uint32 private _quorum;
    uint96 private _customerCapPerPeriod;
    uint96 private _welcomeBonus;
    /// @inheritdoc IFeedbackRegistry
    uint256 public signerCount;

    mapping(address signer => bool) public isSigner;
    mapping(uint8 kind => uint256) public baseReward;
    mapping(address holder => uint256) public linkNonce;
    mapping(uint32 brandId => Brand) private _brands;
    mapping(address customer => Account) private _accounts;
    /// @dev brand => word index (seq / 256) => bitmap of recorded seqs (bit seq % 256).
    mapping(uint32 brandId => mapping(uint256 word => uint256 bits)) private _recorded;

    /// @dev What one submitBatch accumulates in memory and writes once at the end.
    struct BatchState {
        uint32 period;
        uint256 customerCap;
        uint256 welcomeBonus;
        uint256 wordIndex;
        uint256 word;
        uint256 recorded;
        uint256 minted;
        uint256 issueLimit;
        uint256[] thresholds;
        uint256[] multipliersBps;
        address[] recipients;
        uint256[] amounts;
    }

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
        // Never zero: with no signer registered yet, no batch can reach a quorum of one.
        _quorum = 1;
    }

    // ================================================================ recording

    /// @inheritdoc IFeedbackRegistry
    function submitBatch(FeedbackBatch calldata batch, bytes[] calldata signatures)
        external
        whenNotPaused
        returns (uint256 recorded)
    {
        uint256 size = batch.records.length;
        if (size == 0 || size > MAX_BATCH_SIZE) revert BatchSizeOutOfRange(size, MAX_BATCH_SIZE);
        if (block.timestamp > batch.deadline) revert BatchExpired(batch.deadline, block.timestamp);
        Brand memory brand = _brands[batch.brandId];
        if (!brand.active) revert BrandNotActive(batch.brandId);

        BatchState memory state = _startBatch(size);
        if (brand.period != state.period) {
            brand.period = state.period;
            brand.issuedInPeriod = 0;
        }
        // The brand may issue up to its cap, and the coin may mint up to its MAX_SUPPLY. The
        // brand's issued sum and the batch's minted sum grow together, so one bound covers
        // both checks at the cost of one per record.
        uint256 brandLimit = brand.capPerPeriod;
        uint256 supplyLimit = brand.issuedInPeriod + coin.mintableSupply();
        state.issueLimit = brandLimit < supplyLimit ? brandLimit : supplyLimit;

        // One pass: hash each record for the signature and apply it. If the signatures do not
        // verify below, the whole transaction reverts, so nothing applied here survives.
        bytes32[] memory recordHashes = new bytes32[](size);
        for (uint256 i; i < size; ++i) {
            // Decoded and validated once: every later read is a plain memory read, where a
            // calldata struct re-checks offsets and bounds on each field access.
            FeedbackRecord memory record = batch.records[i];
            recordHashes[i] = _hashRecord(record);
            _applyRecord(batch.brandId, record, brand, state);
        }
        if (state.wordIndex != type(uint256).max) _recorded[batch.brandId][state.wordIndex] = state.word;
        _brands[batch.brandId] = brand;

        bytes32 digest = _batchDigest(batch, recordHashes);
        _requireQuorum(digest, signatures);

        recorded = state.recorded;
        if (recorded != 0) _mint(state, recorded, size);
        emit BatchRecorded(batch.brandId, digest, batch.policyHash, recorded, size - recorded, state.minted);
    }

    /// @dev Rewards one record, or emits why not. Dedupe bits are read and written through
    /// `state.word` so a run of sequence numbers in one 256-bit word costs one storage write.
    function _applyRecord(uint32 brandId, FeedbackRecord memory record, Brand memory brand, BatchState memory state)
        private
    {
        uint256 wordIndex = record.seq >> 8;
        uint256 bit = 1 << (record.seq & 0xff);
        if (wordIndex != state.wordIndex) {
            if (state.wordIndex != type(uint256).max) _recorded[brandId][state.wordIndex] = state.word;
            state.wordIndex = wordIndex;
            state.word = _recorded[brandId][wordIndex];
        }
        if (state.word & bit != 0) return _skip(brandId, record, SkipReason.AlreadyRecorded);

        uint256 base = baseReward[record.kind];
        if (base == 0) return _skip(brandId, record, SkipReason.KindNotRewarded);
        if (record.customer == address(0)) return _skip(brandId, record, SkipReason.ZeroCustomer);
        if (record.occurredAt > block.timestamp) return _skip(brandId, record, SkipReason.OccursInFuture);

        Account memory account = _accounts[record.customer];
        if (account.period != state.period) {
            account.period = state.period;
            account.earnedInPeriod = 0;
        }
        uint256 reward = base * _multiplierBps(account.lifetimeEarned, state) / BPS;
        // Caps are at most uint96 (enforced by the setters) and so are the stored sums, so
        // these checked sums of uint96 values and a reward revert only on a tier source gone mad.
        if (account.earnedInPeriod + reward > state.customerCap) {
            return _skip(brandId, record, SkipReason.CustomerCapReached);
        }
        uint256 welcome = account.welcomed ? 0 : state.welcomeBonus;
        uint256 issued = brand.issuedInPeriod + reward + welcome;
        if (issued > state.issueLimit) {
            // The coin refuses a mint past its MAX_SUPPLY with a revert; skipping here instead
            // keeps the rest of the batch, and the record, retryable.
            return _skip(
                brandId,
                record,
                issued > brand.capPerPeriod ? SkipReason.BrandCapReached : SkipReason.SupplyLimitReached
            );
        }
        if (account.lifetimeEarned + reward > type(uint96).max) {
            return _skip(brandId, record, SkipReason.LifetimeLimitReached);
        }

        // No overflow below: the three checks above bound reward + welcome and every updated
        // sum by a uint96 cap, and `minted` adds at most MAX_BATCH_SIZE such amounts.
        unchecked {
            state.word |= bit;
            account.earnedInPeriod += uint96(reward);
            account.lifetimeEarned += uint96(reward);
            brand.issuedInPeriod += uint96(reward + welcome);
            // The welcome comes with the first reward, whatever the bonus is then (even zero).
            account.welcomed = true;
            _accounts[record.customer] = account;

            uint256 n = state.recorded;
            state.recipients[n] = record.customer;
            state.amounts[n] = reward + welcome;
            state.recorded = n + 1;
            state.minted += reward + welcome;
        }
        _emitRecorded(brandId, record, reward);
        if (welcome != 0) emit WelcomeGranted(record.customer, brandId, welcome);
    }

    function _emitRecorded(uint32 brandId, FeedbackRecord memory record, uint256 reward) private {
        emit FeedbackRecorded(
            record.customer,
            brandId,
            record.eventId,
            record.seq,
            record.kind,
            record.occurredAt,
            record.contentCommitment,
            reward
        );
    }

    function _skip(uint32 brandId, FeedbackRecord memory record, SkipReason reason) private {
        emit RecordNotRewarded(brandId, record.eventId, record.seq, reason);
    }

    function _startBatch(uint256 size) private view returns (BatchState memory state) {
        if (address(tierSource) == address(0)) revert TierSourceNotSet();
        (state.thresholds, state.multipliersBps) = tierSource.tierSchedule();
        state.period = _period();
        // Read once per batch: each stays the same for the whole transaction.
        state.customerCap = _customerCapPerPeriod;
        state.welcomeBonus = _welcomeBonus;
        state.wordIndex = type(uint256).max;
        state.recipients = new address[](size);
        state.amounts = new uint256[](size);
    }

    /// @dev The multiplier of the highest tier whose threshold `lifetime` reaches.
    /// Walks up from the lowest tier, where most customers are, so the common case costs one
    /// comparison. Thresholds ascend strictly (TierRedemption.setTiers enforces it).
    function _multiplierBps(uint256 lifetime, BatchState memory state) private pure returns (uint256) {
        uint256[] memory thresholds = state.thresholds;
        uint256 count = thresholds.length;
        if (count == 0) return BPS;
        uint256 tier;
        // tier < count - 1, the length of a memory array: `tier + 1` cannot overflow.
        unchecked {
            while (tier + 1 < count && lifetime >= thresholds[tier + 1]) ++tier;
        }
        return state.multipliersBps[tier];
    }

    /// @dev One external call mints every reward of the batch. Skipped records left the tail
    /// of the arrays empty; copy the filled part only in that (rare) case.
    function _mint(BatchState memory state, uint256 recorded, uint256 size) private {
        if (recorded == size) return coin.mintBatch(state.recipients, state.amounts);
        address[] memory recipients = new address[](recorded);
        uint256[] memory amounts = new uint256[](recorded);
        for (uint256 i; i < recorded; ++i) {
            recipients[i] = state.recipients[i];
            amounts[i] = state.amounts[i];
        }
        coin.mintBatch(recipients, amounts);
    }

    /// @dev Signers must be distinct registered signers, given in strictly ascending order.
    /// ECDSA.recover rejects malformed, high-s and wrong-v signatures with its own errors,
    /// so a signature can never count twice through its malleable twin.
    function _requireQuorum(bytes32 digest, bytes[] calldata signatures) private view {
        uint256 required = _quorum;
        if (signatures.length < required) revert QuorumNotReached(signatures.length, required);
        address previous;
        for (uint256 i; i < signatures.length; ++i) {
            address signer = ECDSA.recover(digest, signatures[i]);
            if (signer <= previous) revert SignersNotAscending(previous, signer);
            if (!isSigner[signer]) revert UnknownSigner(signer);
            previous = signer;
        }
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
        Account memory source = _accounts[from];
        Account memory target = _accounts[to];
        uint32 period = _period();
        uint256 sourceInPeriod = source.period == period ? source.earnedInPeriod : 0;
        uint256 targetInPeriod = target.period == period ? target.earnedInPeriod : 0;
        target.lifetimeEarned = _checkedUint96(uint256(target.lifetimeEarned) + source.lifetimeEarned);
        target.earnedInPeriod = _checkedUint96(sourceInPeriod + targetInPeriod);
        target.period = period;
        target.welcomed = target.welcomed || source.welcomed;
        _accounts[to] = target;
        // The source keeps `welcomed` so that the address cannot collect a second welcome bonus.
        _accounts[from] = Account({lifetimeEarned: 0, earnedInPeriod: 0, period: period, welcomed: true});
        return source.lifetimeEarned;
    }

    // ================================================================ administration

    /// @inheritdoc IFeedbackRegistry
    function addSigner(address signer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addSigner(signer);
    }

    /// @inheritdoc IFeedbackRegistry
    function removeSigner(address signer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _removeSigner(signer);
        if (_quorum > signerCount) revert InvalidQuorum(_quorum, signerCount);
    }

    /// @inheritdoc IFeedbackRegistry
    function rotateSigner(address oldSigner, address newSigner) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _removeSigner(oldSigner);
        _addSigner(newSigner);
    }

    /// @inheritdoc IFeedbackRegistry
    function setQuorum(uint256 newQuorum) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newQuorum == 0 || newQuorum > signerCount) revert InvalidQuorum(newQuorum, signerCount);
        emit QuorumChanged(_quorum, newQuorum);
        // Fits: newQuorum <= signerCount, and each signer took one transaction to add.
        _quorum = SafeCast.toUint32(newQuorum);
    }

    /// @inheritdoc IFeedbackRegistry
    function registerBrand(uint32 brandId, uint256 capPerPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_brands[brandId].registered) revert BrandAlreadyRegistered(brandId);
        _brands[brandId] = Brand({
            capPerPeriod: _checkedUint96(capPerPeriod),
            issuedInPeriod: 0,
            period: 0,
            active: true,
            registered: true
        });
        emit BrandRegistered(brandId, capPerPeriod);
    }

    /// @inheritdoc IFeedbackRegistry
    function setBrandCap(uint32 brandId, uint256 capPerPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Brand storage brand = _registeredBrand(brandId);
        emit BrandCapChanged(brandId, brand.capPerPeriod, capPerPeriod);
        brand.capPerPeriod = _checkedUint96(capPerPeriod);
    }

    /// @inheritdoc IFeedbackRegistry
    function setBrandActive(uint32 brandId, bool active) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _registeredBrand(brandId).active = active;
        emit BrandActiveChanged(brandId, active);
    }

    /// @inheritdoc IFeedbackRegistry
    function setBaseReward(uint8 kind, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit BaseRewardChanged(kind, baseReward[kind], amount);
        baseReward[kind] = _checkedUint96(amount);
    }

    /// @inheritdoc IFeedbackRegistry
    function setCustomerCap(uint256 capPerPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit CustomerCapChanged(_customerCapPerPeriod, capPerPeriod);
        _customerCapPerPeriod = _checkedUint96(capPerPeriod);
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
    function quorum() external view returns (uint256) {
        return _quorum;
    }

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
        BatchState memory state;
        (state.thresholds, state.multipliersBps) = tierSource.tierSchedule();
        return baseReward[kind] * _multiplierBps(_accounts[customer].lifetimeEarned, state) / BPS;
    }

    /// @inheritdoc IFeedbackRegistry
    function lifetimeEarned(address customer) external view returns (uint256) {
        return _accounts[customer].lifetimeEarned;
    }

    /// @inheritdoc IFeedbackRegistry
    function accountOf(address customer) external view returns (Account memory) {
        return _accounts[customer];
    }

    /// @inheritdoc IFeedbackRegistry
    function brandOf(uint32 brandId) external view returns (Brand memory) {
        return _brands[brandId];
    }

    // ================================================================ internals

    function _period() private view returns (uint32) {
        return uint32(block.timestamp / PERIOD_LENGTH);
    }

    function _addSigner(address signer) private {
        if (signer == address(0) || isSigner[signer]) revert SignerAlreadyRegistered(signer);
        isSigner[signer] = true;
        ++signerCount;
        emit SignerAdded(signer);
    }

    function _removeSigner(address signer) private {
        if (!isSigner[signer]) revert SignerNotRegistered(signer);
        isSigner[signer] = false;
        --signerCount;
        emit SignerRemoved(signer);
    }

    function _registeredBrand(uint32 brandId) private view returns (Brand storage brand) {
        brand = _brands[brandId];
        if (!brand.registered) revert BrandNotRegistered(brandId);
    }

    function _checkedUint96(uint256 amount) private pure returns (uint96) {
        if (amount > type(uint96).max) revert AmountTooLarge(amount, type(uint96).max);
        return uint96(amount);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title FeedbackRegistry: records each rewarded customer-service event once and mints its reward
/// @notice Oracle signers (k of n, EIP-712) sign batches of feedback records for one brand;
/// each brand has its own signers and quorum, so one brand's key can never sign for another.
/// Anyone may submit a signed batch. Each record is recorded at most once, keyed by the brand's
/// dense sequence number `seq` (a bitmap: 256 events share one storage slot). The reward is not
/// chosen by the oracle: it is the public on-chain base reward of the record's kind times the
/// customer's tier multiplier. It never depends on how positive a rating is: a record carries no
/// rating, only a salted commitment to its (encrypted, off-chain) content.
///
/// What a batch does with a record it cannot reward (already recorded, unknown kind, a cap
/// reached, ...): it skips it, logs the reason as its outcome in BatchRecorded, and rewards the rest.
/// Skipped records are not marked, except those already recorded. So a batch may be retried
/// as often as needed: a retry rewards nothing twice.
interface IFeedbackRegistry {
    /// @notice One rewarded customer-service event, as signed by the oracle.
    /// @param eventId keccak256 of (brand, helpdesk source, helpdesk event id): the event's
    /// deterministic identity across retries.
    /// @param customer The address credited (custodial or the customer's own wallet).
    /// @param seq The brand's dense sequence number for this event: the record-once key.
    /// @param kind The kind of participation (see the reward schedule).
    /// @param occurredAt When the event happened at the helpdesk (unix seconds).
    /// @param contentCommitment keccak256 of (salt, encrypted content): no personal data on-chain.
    struct FeedbackRecord {
        bytes32 eventId;
        address customer;
        uint64 seq;
        uint8 kind;
        uint40 occurredAt;
        bytes32 contentCommitment;
    }

    /// @notice A signed batch of records for one brand.
    /// @param brandId The brand whose events these are (its caps apply).
    /// @param policyHash keccak256 of the reward-policy file the oracle applied.
    /// @param deadline The last second (inclusive) at which the batch may be recorded.
    /// @param records The records.
    struct FeedbackBatch {
        uint32 brandId;
        bytes32 policyHash;
        uint64 deadline;
        FeedbackRecord[] records;
    }

    /// @notice A FeedbackBatch as submitBatch takes it: the same batch, its records packed.
    /// @param records The records, each in RECORD_BYTES (98) bytes, its fields big-endian at
    /// their own widths and in FeedbackRecord's order: eventId (32 bytes), customer (20), seq (8),
    /// kind (1), occurredAt (5), contentCommitment (32). What is signed is the FeedbackBatch, so
    /// packing changes no signature; it spares the ABI's padding (94 bytes a record, about 380
    /// gas of calldata) and leaves no field that could hold bits beyond its type.
    struct PackedFeedbackBatch {
        uint32 brandId;
        bytes32 policyHash;
        uint64 deadline;
        bytes records;
    }

    /// @notice Why a record in an accepted batch was not rewarded. LifetimeLimitReached: the
    /// customer's lifetime earnings would pass what the accounting holds (uint96).
    /// SupplyLimitReached: the coin's total supply would pass its MAX_SUPPLY; the record stays
    /// unmarked, so a retry after coins are burned can reward it (the batch itself never reverts
    /// for it, which would block every record behind it).
    enum SkipReason {
        AlreadyRecorded,
        KindNotRewarded,
        ZeroCustomer,
        OccursInFuture,
        CustomerCapReached,
        BrandCapReached,
        LifetimeLimitReached,
        SupplyLimitReached
    }

    /// @notice A customer's reward accounting. It is kept in the ServiceCoin's holder data (the
    /// 160 bits beside the customer's balance), so that a reward writes one storage slot.
    /// @param lifetimeEarned Everything ever rewarded for participation (tiers follow it).
    /// @param rewardsInPeriod How many records were rewarded during `period` (the per-customer
    /// cap counts them).
    /// @param period The cap period `rewardsInPeriod` belongs to.
    /// @param welcomed Whether the customer has had their first reward, which carries the
    /// one-time welcome bonus (whatever the bonus was then, zero included).
    struct Account {
        uint96 lifetimeEarned;
        uint24 rewardsInPeriod;
        uint32 period;
        bool welcomed;
    }

    /// @notice A brand: its issuance cap and its own oracle signers' quorum. One storage slot.
    /// @param capPerPeriod The most the brand's records may mint in one period (welcome bonuses included).
    /// @param issuedInPeriod Minted during `period`.
    /// @param period The period `issuedInPeriod` belongs to.
    /// @param quorum How many distinct signers of this brand a batch for it needs (k of n).
    /// @param signerCount How many signers the brand has (n).
    /// @param active Whether batches for the brand are accepted.
    /// @param registered Whether the brand id was ever registered.
    struct Brand {
        uint96 capPerPeriod;
        uint96 issuedInPeriod;
        uint32 period;
        uint8 quorum;
        uint8 signerCount;
        bool active;
        bool registered;
    }

    // ---------------------------------------------------------------- errors

    /// @notice A batch with no records or more than MAX_BATCH_SIZE.
    error BatchSizeOutOfRange(uint256 size, uint256 max);
    /// @notice The packed records' length is no whole number of records (RECORD_BYTES each).
    error MalformedRecords(uint256 length, uint256 recordBytes);
    /// @notice The batch's deadline has passed.
    error BatchExpired(uint64 deadline, uint256 nowTimestamp);
    /// @notice The batch names a brand that is not registered or not active.
    error BrandNotActive(uint32 brandId);
    /// @notice Fewer valid signatures than the brand's quorum.
    error QuorumNotReached(uint256 signatures, uint256 quorum);
    /// @notice A signature recovers to an address that is not a signer of the batch's brand
    /// (a signer of another brand included).
    error UnknownSigner(uint32 brandId, address recovered);
    /// @notice Signers must be given in strictly ascending address order (so none counts twice).
    error SignersNotAscending(address previous, address next);
    /// @notice A quorum of zero or above the brand's number of signers.
    error InvalidQuorum(uint256 quorum, uint256 signerCount);
    /// @notice Adding a signer that the brand already has, or the zero address.
    error SignerAlreadyRegistered(uint32 brandId, address signer);
    /// @notice Removing a signer that the brand does not have.
    error SignerNotRegistered(uint32 brandId, address signer);
    /// @notice The brand already has MAX_SIGNERS_PER_BRAND signers.
    error SignerLimitReached(uint32 brandId, uint256 max);
    /// @notice A brand id that is already registered.
    error BrandAlreadyRegistered(uint32 brandId);
    /// @notice A brand id that was never registered.
    error BrandNotRegistered(uint32 brandId);
    /// @notice An amount above what its accounting field holds (uint96), or a customer cap above
    /// what its count holds (2^24 - 1).
    error AmountTooLarge(uint256 amount, uint256 max);
    /// @notice A cap period of zero seconds.
    error InvalidPeriodLength(uint256 periodLength);
    /// @notice No tier source (TierRedemption) is set.
    error TierSourceNotSet();
    /// @notice A wallet-link request signed by someone other than the holder.
    error InvalidLinkSignature(address expected, address recovered);
    /// @notice A wallet-link request past its deadline.
    error LinkExpired(uint256 deadline, uint256 nowTimestamp);
    /// @notice A wallet link to the zero address or to the same address.
    error InvalidLinkTarget(address from, address to);

    // ---------------------------------------------------------------- events

    /// @notice A batch was accepted. Per record, in the batch's order, it logs the record's
    /// EIP-712 hashStruct and its outcome: one word each, where logging the record itself would
    /// take six. The hash binds every field (event id, customer, seq, kind, time, commitment), so
    /// whoever holds a record (the brand's oracle, or the customer it gave it to) proves it from
    /// this log alone, however the batch was sent (directly, or through any contract: submitting
    /// needs no role). The records' fields are also in the transaction's input when the batch was
    /// sent directly. Customers find their rewards by the coin's Transfer (from zero, to them) in
    /// the same transaction.
    /// @param brandId The batch's brand.
    /// @param digest The EIP-712 digest its signers signed.
    /// @param policyHash The batch's policyHash (the reward policy the oracle applied).
    /// @param recorded How many records were rewarded.
    /// @param skipped How many were not (their outcome says why).
    /// @param minted Coins minted by the batch: rewards and welcome bonuses.
    /// @param recordHashes Each record's hashStruct (hashRecord), in the batch's order.
    /// @param outcomes Per record: status (bits 192-199: 0 rewarded, else 1 + SkipReason) |
    /// welcome bonus paid with it (bits 96-191) | reward (bits 0-95). Skipped records have zero
    /// reward and welcome.
    event BatchRecorded(
        uint32 indexed brandId,
        bytes32 indexed digest,
        bytes32 policyHash,
        uint256 recorded,
        uint256 skipped,
        uint256 minted,
        bytes32[] recordHashes,
        uint256[] outcomes
    );
    event SignerAdded(uint32 indexed brandId, address indexed signer);
    event SignerRemoved(uint32 indexed brandId, address indexed signer);
    event QuorumChanged(uint32 indexed brandId, uint256 oldQuorum, uint256 newQuorum);
    event BrandRegistered(uint32 indexed brandId, uint256 capPerPeriod);
    event BrandCapChanged(uint32 indexed brandId, uint256 oldCap, uint256 newCap);
    event BrandActiveChanged(uint32 indexed brandId, bool active);
    event BaseRewardChanged(uint8 indexed kind, uint256 oldReward, uint256 newReward);
    /// @notice The per-customer cap changed (a count of rewarded records per period).
    event CustomerCapChanged(uint256 oldCap, uint256 newCap);
    event WelcomeBonusChanged(uint256 oldBonus, uint256 newBonus);
    event TierSourceChanged(address indexed oldSource, address indexed newSource);
    /// @notice A customer moved their coins and reward history to another address they own.
    event WalletLinked(address indexed from, address indexed to, uint256 balanceMoved, uint256 lifetimeMoved);

    // ---------------------------------------------------------------- recording

    /// @notice Records a signed batch: rewards every record it can, skips the rest with a reason.
    /// @param batch The batch, its records packed (PackedFeedbackBatch); the signatures are over
    /// the FeedbackBatch it packs.
    /// @param signatures At least the brand's `quorum` signatures over the batch's EIP-712 digest,
    /// by signers of the batch's brand, in strictly ascending address order.
    /// @return recorded How many records were rewarded.
    function submitBatch(PackedFeedbackBatch calldata batch, bytes[] calldata signatures)
        external
        returns (uint256 recorded);

    /// @notice Moves a customer's coins and reward history to another address (their own
    /// wallet). Both must agree: the holder of `from` signs LinkWallet(from, to, nonce,
    /// deadline), and a LINK_OPERATOR_ROLE holder (the brand's oracle, which knows both
    /// addresses belong to the same customer) relays it.
    function linkWallet(address from, address to, uint256 deadline, bytes calldata signature) external;

    // ---------------------------------------------------------------- administration

    /// @notice Registers an oracle signer of a registered brand: it signs that brand's batches
    /// only (one key may be registered for several brands, once for each). At most
    /// MAX_SIGNERS_PER_BRAND per brand. Only DEFAULT_ADMIN_ROLE.
    function addSigner(uint32 brandId, address signer) external;
    /// @notice Unregisters a brand's signer; its signatures stop counting at once. Refused if the
    /// brand would keep fewer signers than its quorum. Only DEFAULT_ADMIN_ROLE.
    function removeSigner(uint32 brandId, address signer) external;
    /// @notice Replaces one of a brand's signers by another in one step (key rotation). Only DEFAULT_ADMIN_ROLE.
    function rotateSigner(uint32 brandId, address oldSigner, address newSigner) external;
    /// @notice Sets k, the number of distinct signers of the brand a batch needs (1 to the
    /// brand's signer count). Only DEFAULT_ADMIN_ROLE.
    function setQuorum(uint32 brandId, uint256 newQuorum) external;
    /// @notice Registers a brand with its cap per period, a quorum of one and no signer yet.
    /// Only DEFAULT_ADMIN_ROLE.
    function registerBrand(uint32 brandId, uint256 capPerPeriod) external;
    /// @notice Changes a brand's cap per period. Only DEFAULT_ADMIN_ROLE.
    function setBrandCap(uint32 brandId, uint256 capPerPeriod) external;
    /// @notice Accepts or refuses a brand's batches. Only DEFAULT_ADMIN_ROLE.
    function setBrandActive(uint32 brandId, bool active) external;
    /// @notice Sets the base reward of a kind; zero stops rewarding the kind. Only DEFAULT_ADMIN_ROLE.
    function setBaseReward(uint8 kind, uint256 amount) external;
    /// @notice Sets how many records of one customer may be rewarded per period (at most
    /// 2^24 - 1). Only DEFAULT_ADMIN_ROLE. What a customer can earn in a period is then at most
    /// this count times the highest base reward times the highest tier multiplier.
    function setCustomerCap(uint256 rewardsPerPeriod) external;
    /// @notice Sets the one-time welcome bonus granted with a customer's first reward. Only DEFAULT_ADMIN_ROLE.
    function setWelcomeBonus(uint256 amount) external;
    /// @notice Sets the contract whose tier schedule multiplies rewards. Only DEFAULT_ADMIN_ROLE.
    function setTierSource(address source) external;
    /// @notice Stops recording and wallet links. Only PAUSER_ROLE.
    function pause() external;
    /// @notice Resumes. Only DEFAULT_ADMIN_ROLE.
    function unpause() external;

    // ---------------------------------------------------------------- views

    /// @notice The most records one batch may hold.
    function MAX_BATCH_SIZE() external view returns (uint256);
    /// @notice The bytes of one packed record (PackedFeedbackBatch.records).
    function RECORD_BYTES() external view returns (uint256);
    /// @notice The records of a PackedFeedbackBatch, unpacked, and each one's EIP-712 hashStruct
    /// (what BatchRecorded logs for it): for auditors reading a batch's transaction input.
    function unpackRecords(bytes calldata records)
        external
        pure
        returns (FeedbackRecord[] memory unpacked, bytes32[] memory recordHashes);
    /// @notice The most signers one brand may have (its count is kept in 8 bits of the Brand slot).
    function MAX_SIGNERS_PER_BRAND() external view returns (uint8);
    /// @notice Length of a cap period in seconds (immutable).
    function PERIOD_LENGTH() external view returns (uint256);
    /// @notice keccak256 of the FeedbackRecord EIP-712 type string.
    function FEEDBACK_RECORD_TYPEHASH() external view returns (bytes32);
    /// @notice keccak256 of the FeedbackBatch EIP-712 type string.
    function FEEDBACK_BATCH_TYPEHASH() external view returns (bytes32);
    /// @notice keccak256 of the LinkWallet EIP-712 type string.
    function LINK_WALLET_TYPEHASH() external view returns (bytes32);
    /// @notice The EIP-712 struct hash of one record.
    function hashRecord(FeedbackRecord calldata record) external pure returns (bytes32);
    /// @notice The EIP-712 digest that signers sign for a batch.
    function batchDigest(FeedbackBatch calldata batch) external view returns (bytes32);
    /// @notice Whether the brand's sequence number has been recorded.
    function isRecorded(uint32 brandId, uint64 seq) external view returns (bool);
    /// @notice The current cap period index (block time / PERIOD_LENGTH).
    function currentPeriod() external view returns (uint32);
    /// @notice The reward a record of `kind` would earn `customer` now (0: kind not rewarded).
    function rewardFor(address customer, uint8 kind) external view returns (uint256);
    /// @notice Everything ever rewarded to `customer` for participation (drives tiers).
    function lifetimeEarned(address customer) external view returns (uint256);
    function accountOf(address customer) external view returns (Account memory);
    function brandOf(uint32 brandId) external view returns (Brand memory);
    function baseReward(uint8 kind) external view returns (uint256);
    function customerCapPerPeriod() external view returns (uint256);
    function welcomeBonus() external view returns (uint256);
    /// @notice Whether `account` signs for the brand (its quorum and signer count: brandOf).
    function isSigner(uint32 brandId, address account) external view returns (bool);
    function linkNonce(address holder) external view returns (uint256);
}

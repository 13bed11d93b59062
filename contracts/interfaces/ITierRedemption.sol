// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ITierSchedule} from "./ITierSchedule.sol";

/// @title TierRedemption: tiers, the catalog of perks, and the redemption lifecycle
/// @notice Customers reach tiers by lifetime earned (read from the FeedbackRegistry) and redeem
/// coins for catalog items. Redeeming moves the price into escrow here and opens a Pending
/// redemption; a fulfiller delivers and commits to what was delivered; the customer may dispute
/// within the dispute window; an arbiter refunds (or rejects the dispute). Escrowed coins are
/// burned only when a redemption settles, so a refund never needs new coins and never exceeds
/// what was paid. Price changes are timelocked: announced on-chain, effective only after the
/// notice period, so a customer always redeems at a price they could see; `maxPrice` protects
/// a redemption sent just as a change takes effect.
///
/// Gasless calls (ERC-2771): the contract trusts one forwarder, fixed at deployment
/// (ServiceCoinForwarder). A request the customer signed for that forwarder, submitted by
/// anyone who pays the gas (the brand's oracle), acts as the customer: `redeemWithPermit`
/// (with a permit the customer also signed) and `dispute` then need no ether in the customer's
/// wallet. Every signed field, `maxPrice` included, is fixed by the signature; a direct call
/// from any other address is always its own caller, whatever the call data ends with.
///
/// Brands (the FeedbackRegistry's brand ids) share one catalog, and each item belongs to the
/// brand that added it, for good. Catalog and fulfilment rights are per brand:
/// `catalogRole(brandId)` manages that brand's items, `fulfillerRole(brandId)` fulfils (or, while
/// pending, refunds) redemptions of them. One brand's key can therefore neither reprice, withdraw
/// nor fulfil another brand's perks. The arbiter and the pauser are the deployment's, not a brand's.
interface ITierRedemption is ITierSchedule {
    enum Status {
        None,
        Pending,
        Fulfilled,
        Disputed,
        Refunded,
        Settled
    }

    /// @notice Kinds of perk (informational: the rules are the same for all).
    enum Category {
        Discount,
        PrioritySupport,
        ExclusiveService,
        DigitalProduct,
        CashOut
    }

    /// @notice A catalog item; fits one storage slot.
    /// @param price Current price in coin units (a pending announced change may replace it later).
    /// @param stock Units left.
    /// @param perCustomerLimit Most units one customer may hold redeemed (0 = no limit).
    /// @param minTier Lowest tier allowed to redeem.
    /// @param category What kind of perk it is.
    /// @param availableFrom First second it can be redeemed.
    /// @param availableUntil Last second it can be redeemed (0 = no end).
    /// @param active Whether it can be redeemed at all.
    struct Item {
        uint96 price;
        uint32 stock;
        uint16 perCustomerLimit;
        uint8 minTier;
        Category category;
        uint40 availableFrom;
        uint40 availableUntil;
        bool active;
    }

    /// @notice An announced price change; `effectiveAt` includes the pauses since the announcement.
    struct PriceChange {
        uint96 newPrice;
        uint40 effectiveAt;
    }

    /// @notice One redemption.
    /// @dev pauseClockAtFulfil: the contract's total paused seconds when it was fulfilled; the
    /// dispute window is extended by any pause after that. brandId: the item's brand, copied at
    /// redemption (it sits in the slot pricePaid already writes, so keeping it costs no storage).
    struct Redemption {
        address customer;
        uint32 itemId;
        uint40 createdAt;
        Status status;
        uint96 pricePaid;
        uint40 fulfilledAt;
        uint40 pauseClockAtFulfil;
        uint32 brandId;
        bytes32 deliveryCommitment;
    }

    error InvalidTierSchedule(uint256 index);
    error ItemNotFound(uint256 itemId);
    error ItemNotActive(uint256 itemId);
    error ItemNotAvailable(uint256 itemId, uint256 availableFrom, uint256 availableUntil, uint256 nowTimestamp);
    error InsufficientStock(uint256 itemId, uint256 left);
    error TierTooLow(uint256 itemId, uint256 required, uint256 actual);
    error CustomerLimitReached(uint256 itemId, uint256 limit);
    error PriceAboveMaximum(uint256 itemId, uint256 price, uint256 maxPrice);
    error PriceTooLarge(uint256 price, uint256 max);
    error InvalidWindow(uint256 availableFrom, uint256 availableUntil);
    error RedemptionNotFound(uint256 redemptionId);
    error InvalidStatus(uint256 redemptionId, Status status);
    error NotRedemptionCustomer(uint256 redemptionId, address caller);
    error DisputeWindowClosed(uint256 redemptionId, uint256 closedAt);
    error DisputeWindowOpen(uint256 redemptionId, uint256 closesAt);
    error NotAuthorisedToRefund(uint256 redemptionId, address caller);
    error NoPendingPriceChange(uint256 itemId);
    /// @notice An update that would make the item harder to get (withdraw it, lower its stock,
    /// raise its tier, lower its per-customer limit, narrow its window) while a price rise is
    /// announced and not yet in force, which is `until`: customers keep the whole notice period
    /// at the old price and terms. Wait, or cancel the rise (a new one then needs the item
    /// redeemable again, with a full notice).
    error ItemTermsLocked(uint256 itemId, uint256 until);
    /// @notice A price rise announced for an item customers cannot redeem now (withdrawn, out of
    /// stock, outside its window): its notice would give them no chance at the old price. List
    /// the item first, then announce the rise.
    error RiseNeedsRedeemableItem(uint256 itemId);

    event TiersChanged(uint256[] thresholds, uint256[] multipliersBps);
    event ItemAdded(uint256 indexed itemId, uint32 indexed brandId, Item item);
    event ItemUpdated(uint256 indexed itemId, uint32 indexed brandId, Item item);
    /// @notice A price announced; `effectiveAt` as of now: a later pause pushes it back (pendingPriceChange).
    event PriceChangeAnnounced(
        uint256 indexed itemId, uint32 indexed brandId, uint256 oldPrice, uint256 newPrice, uint256 effectiveAt
    );
    event PriceChangeCancelled(uint256 indexed itemId, uint32 indexed brandId);
    /// @notice Every catalog and redemption event names the brand (indexed), so that a brand's
    /// oracle can ask a node for its own and tell them from other brands'.
    event Redeemed(
        uint256 indexed redemptionId,
        address indexed customer,
        uint32 indexed brandId,
        uint256 itemId,
        uint256 price,
        uint256 tier
    );
    event Fulfilled(uint256 indexed redemptionId, uint32 indexed brandId, bytes32 deliveryCommitment);
    event Disputed(uint256 indexed redemptionId, address indexed customer, uint32 indexed brandId);
    event DisputeRejected(uint256 indexed redemptionId, uint32 indexed brandId);
    event Refunded(uint256 indexed redemptionId, address indexed customer, uint32 indexed brandId, uint256 amount);
    event Settled(uint256 indexed redemptionId, uint32 indexed brandId, uint256 amountBurned);

    /// @notice Replaces the tier schedule. Only DEFAULT_ADMIN_ROLE.
    /// @param thresholds Lifetime-earned thresholds, strictly ascending, the first one zero, none
    /// above 2^96 - 1 (the most lifetime earnings can reach), at most 16 of them.
    /// @param multipliersBps Multipliers in basis points, each between 1 and MAX_MULTIPLIER_BPS.
    function setTiers(uint256[] calldata thresholds, uint256[] calldata multipliersBps) external;

    /// @notice Adds a catalog item of `brandId` and returns its id. Only catalogRole(brandId).
    /// The item belongs to that brand for good.
    function addItem(uint32 brandId, Item calldata item) external returns (uint256 itemId);

    /// @notice Changes everything about an item except its price (stock, limits, gate, window,
    /// active). While a price rise is announced and not yet in force, it cannot make the item
    /// harder to get (ItemTermsLocked). Only the catalog role of the item's brand.
    function updateItem(uint256 itemId, Item calldata item) external;

    /// @notice Announces a new price, effective PRICE_NOTICE_PERIOD from now, later by the time
    /// the contract spends paused meanwhile (the notice is never spent paused); replaces any
    /// pending announcement. A rise needs the item redeemable now (RiseNeedsRedeemableItem).
    /// Only the catalog role of the item's brand.
    function announcePrice(uint256 itemId, uint256 newPrice) external;

    /// @notice Withdraws a pending price announcement (NoPendingPriceChange if none is pending,
    /// including one that has already taken effect). Only the catalog role of the item's brand.
    function cancelPriceChange(uint256 itemId) external;

    /// @notice Redeems one unit of an item at its current price, paid from the caller's coins
    /// (needs an allowance). Reverts if the price is above `maxPrice`.
    function redeem(uint256 itemId, uint256 maxPrice) external returns (uint256 redemptionId);

    /// @notice `redeem` with an EIP-2612 permit for the price, in one transaction.
    /// @dev The permit (owner: the caller, spender: this contract, value: `maxPrice`, `deadline`)
    /// is tried and its failure ignored: a permit someone front-ran has already set the
    /// allowance, and without an allowance the transfer reverts (ERC20InsufficientAllowance).
    /// Relayed through the trusted forwarder, the caller is the request's signer: a customer
    /// with no ether signs the permit and the forward request, and the relayer pays.
    function redeemWithPermit(uint256 itemId, uint256 maxPrice, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        returns (uint256 redemptionId);

    /// @notice Marks a pending redemption delivered, committing to what was delivered
    /// (e.g. keccak256 of a salted discount code). Only the fulfiller role of the item's brand.
    function fulfil(uint256 redemptionId, bytes32 deliveryCommitment) external;

    /// @notice The customer disputes a fulfilled redemption within DISPUTE_WINDOW of fulfilment
    /// (directly, or through a forward request they signed, relayed by the trusted forwarder).
    function dispute(uint256 redemptionId) external;

    /// @notice Returns the escrowed price to the customer. ARBITER_ROLE: a pending or disputed
    /// redemption; the fulfiller role of the item's brand: a pending one it could not deliver.
    function refund(uint256 redemptionId) external;

    /// @notice Rejects a dispute: the redemption settles. Only ARBITER_ROLE.
    function rejectDispute(uint256 redemptionId) external;

    /// @notice Settles a fulfilled redemption whose dispute window has closed: burns the escrow. Anyone.
    function settle(uint256 redemptionId) external;

    /// @notice Stops every redemption state change: redeem, fulfil, dispute, refund,
    /// rejectDispute and settle. Time spent paused is added to open dispute windows, so a pause
    /// never costs a customer the right to dispute. Only PAUSER_ROLE.
    function pause() external;
    /// @notice Resumes. Only DEFAULT_ADMIN_ROLE.
    function unpause() external;

    /// @notice The role that manages `brandId`'s catalog items (an AccessControl role, granted
    /// and revoked by DEFAULT_ADMIN_ROLE): keccak256(abi.encode(keccak256("CATALOG_ROLE"), brandId)).
    function catalogRole(uint32 brandId) external pure returns (bytes32);
    /// @notice The role that fulfils `brandId`'s redemptions (and refunds them while pending):
    /// keccak256(abi.encode(keccak256("FULFILLER_ROLE"), brandId)).
    function fulfillerRole(uint32 brandId) external pure returns (bytes32);
    /// @notice The brand an item belongs to (ItemNotFound for an unknown item).
    function itemBrand(uint256 itemId) external view returns (uint32);

    function MAX_TIERS() external view returns (uint256);
    function MAX_MULTIPLIER_BPS() external view returns (uint256);
    function PRICE_NOTICE_PERIOD() external view returns (uint256);
    function DISPUTE_WINDOW() external view returns (uint256);
    /// @notice The tier (index into the schedule) of a customer, from their lifetime earned.
    function tierOf(address customer) external view returns (uint256);
    /// @notice The price a redemption of the item pays now.
    function priceOf(uint256 itemId) external view returns (uint256);
    function itemCount() external view returns (uint256);
    function itemOf(uint256 itemId) external view returns (Item memory);
    /// @notice The announced price not yet applied, and when it applies (pauses so far
    /// included); zeros if none. A due one stays here until a call applies it.
    function pendingPriceChange(uint256 itemId) external view returns (PriceChange memory);
    function redemptionCount() external view returns (uint256);
    function redemptionOf(uint256 redemptionId) external view returns (Redemption memory);
    function redeemedBy(uint256 itemId, address customer) external view returns (uint256);
    /// @notice When a fulfilled redemption's dispute window closes (pauses included).
    function disputeClosesAt(uint256 redemptionId) external view returns (uint256);
    /// @notice The ERC-2771 forwarder whose relayed requests act as their signer (fixed at deployment).
    function trustedForwarder() external view returns (address);
    /// @notice Whether `forwarder` is the trusted forwarder (ERC-2771; the forwarder asks it
    /// before relaying anything here).
    function isTrustedForwarder(address forwarder) external view returns (bool);
}

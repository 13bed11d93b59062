// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ITierRedemption} from "./interfaces/ITierRedemption.sol";
import {IFeedbackRegistry} from "./interfaces/IFeedbackRegistry.sol";
import {IServiceCoin} from "./interfaces/IServiceCoin.sol";
import {Tiers} from "./Tiers.sol";

/// @title TierRedemption
/// @notice Tiers by lifetime earned, the perk catalog and the redemption lifecycle; see
/// ITierRedemption. Invariants this contract keeps:
/// - the coins it holds equal the sum of `pricePaid` over Pending, Fulfilled and Disputed
///   redemptions (escrow), so every refund is covered and none exceeds what was paid;
/// - an item's units redeemed and not refunded never exceed the stock it was given;
/// - a price applies only from its announcement's `effectiveAt` on, pushed back by any pause
///   since the announcement; a rise is announced only on an item customers can redeem, and while
///   it waits no update makes the item harder to get: a customer can redeem at the old price and
///   terms for the whole notice period;
/// - an item's brand never changes, a redemption keeps its item's brand, and only that brand's
///   catalog role changes the item and only its fulfiller role fulfils (or refunds, while
///   pending) the redemption.
/// @dev State changes come before the external coin calls (checks-effects-interactions), and
/// the coin is our own OpenZeppelin ERC20 with no transfer callbacks, so no call here can
/// re-enter this contract.
/// Every caller is `_msgSender()`: the caller itself, or, for a call relayed by the trusted
/// forwarder (ServiceCoinForwarder), the signer of the forwarded request, which ERC-2771
/// appends to the call data. Only the forwarder fixed at construction is believed, so nobody
/// else can append an address to become someone else.
contract TierRedemption is Tiers, Pausable, ERC2771Context {
    using SafeERC20 for IServiceCoin;

    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @dev Namespaces of the per-brand roles (catalogRole, fulfillerRole). They are not roles
    /// themselves: holding one grants nothing, so they stay private.
    bytes32 private constant CATALOG_NAMESPACE = keccak256("CATALOG_ROLE");
    bytes32 private constant FULFILLER_NAMESPACE = keccak256("FULFILLER_ROLE");

    IServiceCoin public immutable coin;
    /// @inheritdoc ITierRedemption
    uint256 public immutable PRICE_NOTICE_PERIOD;
    /// @inheritdoc ITierRedemption
    uint256 public immutable DISPUTE_WINDOW;

    /// @dev What an item has besides its Item (which fills a slot): its brand, set once by
    /// addItem, and its announced price, with the effect time as announced and the contract's
    /// paused seconds then (a pause after the announcement pushes the effect back by its length,
    /// `_effectiveAt`, as it extends dispute windows). None announced: announcedEffectiveAt == 0.
    /// One slot, so that redeem gets the brand with the announcement it reads anyway.
    struct ItemState {
        uint32 brandId;
        uint96 newPrice;
        uint40 announcedEffectiveAt;
        uint40 pauseClockAtAnnounce;
    }

    Item[] private _items;
    Redemption[] private _redemptions;
    mapping(uint256 itemId => ItemState) private _itemStates;
    mapping(uint256 itemId => mapping(address customer => uint256)) public redeemedBy;
    /// @dev Seconds this contract has spent paused, over its whole life, and when the current
    /// pause began. Dispute windows are extended by pauses, so a pause never costs a customer
    /// the right to dispute.
    uint256 private _pausedSeconds;
    uint256 private _pausedAt;

    /// @param admin The initial DEFAULT_ADMIN_ROLE holder.
    /// @param coin_ The ServiceCoin customers pay with.
    /// @param registry_ The FeedbackRegistry whose lifetime earnings decide tiers.
    /// @param priceNoticePeriod Seconds between a price announcement and its effect.
    /// @param disputeWindow Seconds after fulfilment during which the customer may dispute.
    /// @param adminTransferDelay Seconds a started admin hand-over waits before it can be accepted.
    /// @param trustedForwarder_ The ERC-2771 forwarder whose relayed requests act as their signer
    /// (immutable; address(0) disables relayed calls).
    constructor(
        address admin,
        IServiceCoin coin_,
        IFeedbackRegistry registry_,
        uint256 priceNoticePeriod,
        uint256 disputeWindow,
        uint48 adminTransferDelay,
        address trustedForwarder_
    ) AccessControlDefaultAdminRules(adminTransferDelay, admin) Tiers(registry_) ERC2771Context(trustedForwarder_) {
        coin = coin_;
        PRICE_NOTICE_PERIOD = priceNoticePeriod;
        DISPUTE_WINDOW = disputeWindow;
    }

    // ================================================================ catalog

    /// @inheritdoc ITierRedemption
    function addItem(uint32 brandId, Item calldata item)
        external
        onlyRole(catalogRole(brandId))
        returns (uint256 itemId)
    {
        _checkWindow(item);
        itemId = _items.length;
        _items.push(item);
        _itemStates[itemId].brandId = brandId;
        emit ItemAdded(itemId, brandId, item);
    }

    /// @inheritdoc ITierRedemption
    function updateItem(uint256 itemId, Item calldata item) external {
        uint32 brandId = itemBrand(itemId);
        _checkRole(catalogRole(brandId));
        // Apply a due announced price first, so the event reports the price in force.
        uint96 price = uint96(_applyDuePrice(itemId)); // the price changes only through announcePrice
        _checkWindow(item);
        Item storage stored = _items[itemId];
        // Withdrawing the item (or starving it) during a rise's notice, then restoring it once the
        // rise is in force, would leave customers no moment to redeem at the announced-before price.
        ItemState memory change = _itemStates[itemId];
        if (change.announcedEffectiveAt != 0 && change.newPrice > price && _harderToGet(stored, item)) {
            revert ItemTermsLocked(itemId, _effectiveAt(change));
        }
        _items[itemId] = item;
        stored.price = price;
        emit ItemUpdated(itemId, brandId, stored);
    }

    /// @inheritdoc ITierRedemption
    function announcePrice(uint256 itemId, uint256 newPrice) external {
        uint32 brandId = itemBrand(itemId);
        _checkRole(catalogRole(brandId));
        if (newPrice > type(uint96).max) revert PriceTooLarge(newPrice, type(uint96).max);
        uint256 oldPrice = _applyDuePrice(itemId);
        // With the terms locked during the notice (updateItem), this makes every rise's notice a
        // real chance to redeem at the old price: withdrawing the item first, or cancelling a
        // rise to withdraw it, leaves no way to raise its price without one.
        if (newPrice > oldPrice && !_redeemableNow(_items[itemId])) revert RiseNeedsRedeemableItem(itemId);
        uint256 effectiveAt = block.timestamp + PRICE_NOTICE_PERIOD;
        _itemStates[itemId] = ItemState({
            brandId: brandId,
            newPrice: uint96(newPrice),
            announcedEffectiveAt: uint40(effectiveAt),
            pauseClockAtAnnounce: uint40(_pausedSecondsNow())
        });
        emit PriceChangeAnnounced(itemId, brandId, oldPrice, newPrice, effectiveAt);
    }

    /// @inheritdoc ITierRedemption
    function cancelPriceChange(uint256 itemId) external {
        uint32 brandId = itemBrand(itemId);
        _checkRole(catalogRole(brandId));
        _applyDuePrice(itemId);
        // Nothing announced, or the change already took effect: there is nothing to withdraw.
        if (_itemStates[itemId].announcedEffectiveAt == 0) revert NoPendingPriceChange(itemId);
        _clearAnnouncement(itemId);
        emit PriceChangeCancelled(itemId, brandId);
    }

    // ================================================================ redemption

    /// @inheritdoc ITierRedemption
    function redeem(uint256 itemId, uint256 maxPrice) external whenNotPaused returns (uint256) {
        return _redeem(_msgSender(), itemId, maxPrice);
    }

    /// @inheritdoc ITierRedemption
    function redeemWithPermit(uint256 itemId, uint256 maxPrice, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        whenNotPaused
        returns (uint256)
    {
        address customer = _msgSender();
        // A permit front-run by someone else still leaves the allowance in place: do not fail on it.
        try IERC20Permit(address(coin)).permit(customer, address(this), maxPrice, deadline, v, r, s) {} catch {}
        return _redeem(customer, itemId, maxPrice);
    }

    /// @inheritdoc ITierRedemption
    function fulfil(uint256 redemptionId, bytes32 deliveryCommitment) external whenNotPaused {
        Redemption storage redemption = _redemption(redemptionId);
        _checkRole(fulfillerRole(redemption.brandId));
        if (redemption.status != Status.Pending) revert InvalidStatus(redemptionId, redemption.status);
        redemption.status = Status.Fulfilled;
        redemption.fulfilledAt = uint40(block.timestamp);
        redemption.pauseClockAtFulfil = uint40(_pausedSeconds);
        redemption.deliveryCommitment = deliveryCommitment;
        emit Fulfilled(redemptionId, redemption.brandId, deliveryCommitment);
    }

    /// @inheritdoc ITierRedemption
    function dispute(uint256 redemptionId) external whenNotPaused {
        Redemption storage redemption = _redemptionIn(redemptionId, Status.Fulfilled);
        if (redemption.customer != _msgSender()) revert NotRedemptionCustomer(redemptionId, _msgSender());
        uint256 closesAt = _disputeClosesAt(redemption);
        if (block.timestamp > closesAt) revert DisputeWindowClosed(redemptionId, closesAt);
        redemption.status = Status.Disputed;
        emit Disputed(redemptionId, redemption.customer, redemption.brandId);
    }

    /// @inheritdoc ITierRedemption
    function refund(uint256 redemptionId) external whenNotPaused {
        Redemption storage redemption = _redemption(redemptionId);
        Status status = redemption.status;
        bool allowed = hasRole(ARBITER_ROLE, _msgSender())
            ? status == Status.Pending || status == Status.Disputed
            : hasRole(fulfillerRole(redemption.brandId), _msgSender()) && status == Status.Pending;
        if (!allowed) {
            if (status == Status.Pending || status == Status.Disputed) {
                revert NotAuthorisedToRefund(redemptionId, _msgSender());
            }
            revert InvalidStatus(redemptionId, status);
        }
        redemption.status = Status.Refunded;
        uint256 itemId = redemption.itemId;
        --redeemedBy[itemId][redemption.customer];
        // Nothing was delivered for a pending redemption, so its unit goes back on the shelf.
        // (Saturating, so a catalog manager setting stock to the maximum cannot block a refund.)
        Item storage item = _items[itemId];
        if (status == Status.Pending && item.stock < type(uint32).max) ++item.stock;
        uint256 amount = redemption.pricePaid;
        emit Refunded(redemptionId, redemption.customer, redemption.brandId, amount);
        coin.safeTransfer(redemption.customer, amount);
    }

    /// @inheritdoc ITierRedemption
    function rejectDispute(uint256 redemptionId) external whenNotPaused onlyRole(ARBITER_ROLE) {
        Redemption storage redemption = _redemptionIn(redemptionId, Status.Disputed);
        _settle(redemptionId, redemption);
        emit DisputeRejected(redemptionId, redemption.brandId);
    }

    /// @inheritdoc ITierRedemption
    function settle(uint256 redemptionId) external whenNotPaused {
        Redemption storage redemption = _redemptionIn(redemptionId, Status.Fulfilled);
        uint256 closesAt = _disputeClosesAt(redemption);
        if (block.timestamp <= closesAt) revert DisputeWindowOpen(redemptionId, closesAt);
        _settle(redemptionId, redemption);
    }

    /// @inheritdoc ITierRedemption
    function pause() external onlyRole(PAUSER_ROLE) {
        _pausedAt = block.timestamp;
        _pause();
    }

    /// @inheritdoc ITierRedemption
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
        _pausedSeconds += block.timestamp - _pausedAt;
    }

    /// @inheritdoc ITierRedemption
    function disputeClosesAt(uint256 redemptionId) external view returns (uint256) {
        Redemption storage redemption = _redemption(redemptionId);
        if (redemption.fulfilledAt == 0) revert InvalidStatus(redemptionId, redemption.status);
        return _disputeClosesAt(redemption);
    }

    // ================================================================ views

    /// @inheritdoc ITierRedemption
    function catalogRole(uint32 brandId) public pure returns (bytes32) {
        return keccak256(abi.encode(CATALOG_NAMESPACE, brandId));
    }

    /// @inheritdoc ITierRedemption
    function fulfillerRole(uint32 brandId) public pure returns (bytes32) {
        return keccak256(abi.encode(FULFILLER_NAMESPACE, brandId));
    }

    /// @inheritdoc ITierRedemption
    function itemBrand(uint256 itemId) public view returns (uint32) {
        if (itemId >= _items.length) revert ItemNotFound(itemId);
        return _itemStates[itemId].brandId;
    }

    /// @inheritdoc ITierRedemption
    function priceOf(uint256 itemId) public view returns (uint256) {
        ItemState memory change = _itemStates[itemId];
        if (_isDue(change)) return change.newPrice;
        return _item(itemId).price;
    }

    /// @inheritdoc ITierRedemption
    function itemCount() external view returns (uint256) {
        return _items.length;
    }

    /// @inheritdoc ITierRedemption
    function itemOf(uint256 itemId) external view returns (Item memory item) {
        item = _item(itemId);
        item.price = uint96(priceOf(itemId));
    }

    /// @inheritdoc ITierRedemption
    function pendingPriceChange(uint256 itemId) external view returns (PriceChange memory change) {
        ItemState memory pending = _itemStates[itemId];
        if (pending.announcedEffectiveAt == 0) return change;
        change = PriceChange({newPrice: pending.newPrice, effectiveAt: uint40(_effectiveAt(pending))});
    }

    /// @inheritdoc ITierRedemption
    function redemptionCount() external view returns (uint256) {
        return _redemptions.length;
    }

    /// @inheritdoc ITierRedemption
    function redemptionOf(uint256 redemptionId) external view returns (Redemption memory) {
        return _redemption(redemptionId);
    }

    /// @inheritdoc ITierRedemption
    function trustedForwarder() public view override(ERC2771Context, ITierRedemption) returns (address) {
        return super.trustedForwarder();
    }

    /// @inheritdoc ITierRedemption
    function isTrustedForwarder(address forwarder) public view override(ERC2771Context, ITierRedemption) returns (bool) {
        return super.isTrustedForwarder(forwarder);
    }

    // ================================================================ ERC-2771 context
    // AccessControl, Pausable and this contract all read the caller through Context; ERC-2771's
    // versions win, so roles, pause and every customer check see the relayed signer.

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }

    // ================================================================ internals

    function _redeem(address customer, uint256 itemId, uint256 maxPrice) private returns (uint256 redemptionId) {
        uint256 price = _applyDuePrice(itemId);
        Item storage item = _items[itemId];
        uint32 brandId = _itemStates[itemId].brandId; // warm: _applyDuePrice read the slot
        if (!item.active) revert ItemNotActive(itemId);
        if (block.timestamp < item.availableFrom || (item.availableUntil != 0 && block.timestamp > item.availableUntil))
        {
            revert ItemNotAvailable(itemId, item.availableFrom, item.availableUntil, block.timestamp);
        }
        if (item.stock == 0) revert InsufficientStock(itemId, 0);
        uint256 tier = tierOf(customer);
        if (tier < item.minTier) revert TierTooLow(itemId, item.minTier, tier);
        uint256 already = redeemedBy[itemId][customer];
        if (item.perCustomerLimit != 0 && already >= item.perCustomerLimit) {
            revert CustomerLimitReached(itemId, item.perCustomerLimit);
        }
        if (price > maxPrice) revert PriceAboveMaximum(itemId, price, maxPrice);

        --item.stock;
        redeemedBy[itemId][customer] = already + 1;
        redemptionId = _redemptions.length;
        _redemptions.push(
            Redemption({
                customer: customer,
                itemId: uint32(itemId),
                createdAt: uint40(block.timestamp),
                status: Status.Pending,
                pricePaid: uint96(price),
                fulfilledAt: 0,
                pauseClockAtFulfil: 0,
                brandId: brandId,
                deliveryCommitment: bytes32(0)
            })
        );
        emit Redeemed(redemptionId, customer, brandId, itemId, price, tier);
        coin.safeTransferFrom(customer, address(this), price);
    }

    /// @dev The end of the dispute window, extended by the time spent paused since fulfilment.
    function _disputeClosesAt(Redemption storage redemption) private view returns (uint256) {
        return redemption.fulfilledAt + DISPUTE_WINDOW + (_pausedSeconds - redemption.pauseClockAtFulfil);
    }

    function _settle(uint256 redemptionId, Redemption storage redemption) private {
        redemption.status = Status.Settled;
        uint256 amount = redemption.pricePaid;
        emit Settled(redemptionId, redemption.brandId, amount);
        coin.burn(amount);
    }

    /// @dev Makes a due announced price the item's price and returns the current price.
    function _applyDuePrice(uint256 itemId) private returns (uint256 price) {
        Item storage item = _item(itemId);
        ItemState memory change = _itemStates[itemId];
        if (_isDue(change)) {
            item.price = change.newPrice;
            _clearAnnouncement(itemId);
        }
        return item.price;
    }

    /// @dev Forgets the item's announcement and keeps its brand, in one write.
    function _clearAnnouncement(uint256 itemId) private {
        _itemStates[itemId] = ItemState({
            brandId: _itemStates[itemId].brandId,
            newPrice: 0,
            announcedEffectiveAt: 0,
            pauseClockAtAnnounce: 0
        });
    }

    function _isDue(ItemState memory change) private view returns (bool) {
        return change.announcedEffectiveAt != 0 && block.timestamp >= _effectiveAt(change);
    }

    /// @dev The announced time plus the seconds spent paused since the announcement (the
    /// current pause included), so the notice is never spent paused.
    function _effectiveAt(ItemState memory change) private view returns (uint256) {
        return change.announcedEffectiveAt + (_pausedSecondsNow() - change.pauseClockAtAnnounce);
    }

    function _pausedSecondsNow() private view returns (uint256) {
        return paused() ? _pausedSeconds + (block.timestamp - _pausedAt) : _pausedSeconds;
    }

    /// @dev Whether `next` makes the item harder to get than `current` in any way: withdrawn,
    /// fewer units, a higher tier, a lower per-customer limit (0: none), a later start or an
    /// earlier end (0: none) of its window.
    function _harderToGet(Item storage current, Item calldata next) private view returns (bool) {
        return (current.active && !next.active) || next.stock < current.stock || next.minTier > current.minTier
            || _lowerLimit(current.perCustomerLimit, next.perCustomerLimit)
            || next.availableFrom > current.availableFrom || _lowerLimit(current.availableUntil, next.availableUntil);
    }

    /// @dev Whether customers can redeem the item now, as far as the item itself decides (their
    /// tier and per-customer limit aside): listed, in stock and within its window.
    function _redeemableNow(Item storage item) private view returns (bool) {
        return item.active && item.stock != 0 && block.timestamp >= item.availableFrom
            && (item.availableUntil == 0 || block.timestamp <= item.availableUntil);
    }

    /// @dev Whether `next` bounds more than `current`, where 0 means no bound.
    function _lowerLimit(uint256 current, uint256 next) private pure returns (bool) {
        return next != 0 && (current == 0 || next < current);
    }

    function _item(uint256 itemId) private view returns (Item storage) {
        if (itemId >= _items.length) revert ItemNotFound(itemId);
        return _items[itemId];
    }

    function _redemption(uint256 redemptionId) private view returns (Redemption storage) {
        if (redemptionId >= _redemptions.length) revert RedemptionNotFound(redemptionId);
        return _redemptions[redemptionId];
    }

    function _redemptionIn(uint256 redemptionId, Status expected) private view returns (Redemption storage redemption) {
        redemption = _redemption(redemptionId);
        if (redemption.status != expected) revert InvalidStatus(redemptionId, redemption.status);
    }

    function _checkWindow(Item calldata item) private pure {
        if (item.availableUntil != 0 && item.availableUntil < item.availableFrom) {
            revert InvalidWindow(item.availableFrom, item.availableUntil);
        }
    }
}

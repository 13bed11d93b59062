// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IFeedbackRegistry} from "./interfaces/IFeedbackRegistry.sol";

/// @title Brands
/// @notice FeedbackRegistry's brands: each brand's issuance cap per period, whether its batches
/// are accepted, and its own oracle signers and quorum.
/// @dev Signers belong to one brand so that a brand's stolen key signs for that brand only: it
/// can mint at most that brand's cap, and it can never mark another brand's sequence numbers as
/// recorded (which would make that brand's real events skip as AlreadyRecorded). The quorum
/// and the signer count live in the Brand slot that every batch reads and writes anyway, so
/// checking them costs no extra storage access.
abstract contract Brands is IFeedbackRegistry, AccessControlDefaultAdminRules {
    /// @inheritdoc IFeedbackRegistry
    uint8 public constant MAX_SIGNERS_PER_BRAND = type(uint8).max;

    mapping(uint32 brandId => Brand) internal _brands;
    mapping(uint32 brandId => mapping(address signer => bool)) private _isSigner;

    // ================================================================ administration

    /// @inheritdoc IFeedbackRegistry
    function registerBrand(uint32 brandId, uint256 capPerPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_brands[brandId].registered) revert BrandAlreadyRegistered(brandId);
        // A quorum of one with no signer yet: no batch is accepted until a signer is added.
        _brands[brandId] = Brand({
            capPerPeriod: _checkedUint96(capPerPeriod),
            issuedInPeriod: 0,
            period: 0,
            quorum: 1,
            signerCount: 0,
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
    function addSigner(uint32 brandId, address signer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addSigner(_registeredBrand(brandId), brandId, signer);
    }

    /// @inheritdoc IFeedbackRegistry
    function removeSigner(uint32 brandId, address signer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Brand storage brand = _registeredBrand(brandId);
        _removeSigner(brand, brandId, signer);
        if (brand.quorum > brand.signerCount) revert InvalidQuorum(brand.quorum, brand.signerCount);
    }

    /// @inheritdoc IFeedbackRegistry
    function rotateSigner(uint32 brandId, address oldSigner, address newSigner) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Brand storage brand = _registeredBrand(brandId);
        _removeSigner(brand, brandId, oldSigner);
        _addSigner(brand, brandId, newSigner);
    }

    /// @inheritdoc IFeedbackRegistry
    function setQuorum(uint32 brandId, uint256 newQuorum) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Brand storage brand = _registeredBrand(brandId);
        if (newQuorum == 0 || newQuorum > brand.signerCount) revert InvalidQuorum(newQuorum, brand.signerCount);
        emit QuorumChanged(brandId, brand.quorum, newQuorum);
        // Fits: newQuorum <= signerCount <= MAX_SIGNERS_PER_BRAND.
        brand.quorum = uint8(newQuorum);
    }

    // ================================================================ views

    /// @inheritdoc IFeedbackRegistry
    function brandOf(uint32 brandId) external view returns (Brand memory) {
        return _brands[brandId];
    }

    /// @inheritdoc IFeedbackRegistry
    function isSigner(uint32 brandId, address account) external view returns (bool) {
        return _isSigner[brandId][account];
    }

    // ================================================================ internals

    /// @dev Signers must be distinct signers of the brand, given in strictly ascending order.
    /// ECDSA.recover rejects malformed, high-s and wrong-v signatures with its own errors,
    /// so a signature can never count twice through its malleable twin.
    function _requireQuorum(uint32 brandId, uint256 required, bytes32 digest, bytes[] calldata signatures)
        internal
        view
    {
        if (signatures.length < required) revert QuorumNotReached(signatures.length, required);
        mapping(address => bool) storage brandSigners = _isSigner[brandId];
        address previous;
        for (uint256 i; i < signatures.length; ++i) {
            address signer = ECDSA.recover(digest, signatures[i]);
            if (signer <= previous) revert SignersNotAscending(previous, signer);
            if (!brandSigners[signer]) revert UnknownSigner(brandId, signer);
            previous = signer;
        }
    }

    function _registeredBrand(uint32 brandId) internal view returns (Brand storage brand) {
        brand = _brands[brandId];
        if (!brand.registered) revert BrandNotRegistered(brandId);
    }

    function _checkedUint96(uint256 amount) internal pure returns (uint96) {
        if (amount > type(uint96).max) revert AmountTooLarge(amount, type(uint96).max);
        return uint96(amount);
    }

    function _addSigner(Brand storage brand, uint32 brandId, address signer) private {
        if (signer == address(0) || _isSigner[brandId][signer]) revert SignerAlreadyRegistered(brandId, signer);
        if (brand.signerCount == MAX_SIGNERS_PER_BRAND) revert SignerLimitReached(brandId, MAX_SIGNERS_PER_BRAND);
        _isSigner[brandId][signer] = true;
        ++brand.signerCount;
        emit SignerAdded(brandId, signer);
    }

    function _removeSigner(Brand storage brand, uint32 brandId, address signer) private {
        if (!_isSigner[brandId][signer]) revert SignerNotRegistered(brandId, signer);
        _isSigner[brandId][signer] = false;
        --brand.signerCount;
        emit SignerRemoved(brandId, signer);
    }
}

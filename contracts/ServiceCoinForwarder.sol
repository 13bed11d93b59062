// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title ServiceCoinForwarder
/// @notice The ERC-2771 forwarder that TierRedemption trusts, so customers redeem and dispute
/// without holding gas. A customer signs an EIP-712 `ForwardRequest` (domain "ServiceCoin
/// Forwarder", version "1", this chain and this address); anyone (in practice the brand's
/// oracle, from its operations account) submits it with `execute` and pays the gas; the
/// target sees the customer as the caller.
/// @dev Everything is OpenZeppelin's ERC2771Forwarder; this contract only names the domain.
/// What it guarantees, and what the tests in tests/contracts/redemption/test_forwarder.py pin:
/// - only the signer of a request can be its `from` (ERC2771ForwarderInvalidSigner);
/// - each request runs once: the signer's nonce is part of the signed struct and is used
///   before the call (`nonces(from)`; a replay no longer recovers to `from`);
/// - a request runs only until its `deadline` (ERC2771ForwarderExpiredRequest);
/// - only targets that trust this forwarder can be called (ERC2771UntrustfulTarget), so a
///   request cannot reach the coin or any contract that would read the appended sender as data;
/// - `msg.value` must equal the signed `value` (ERC2771ForwarderMismatchedValue);
/// - the signed `gas` is what the target gets: a relayer that forwards less makes the whole
///   transaction fail (all gas consumed) instead of making the customer's call fail cheaply.
/// The signed call data fixes the function and its arguments, so a relayer can change neither
/// the item nor the customer's `maxPrice`. A relayer pays up to the signed `gas` for a request:
/// the oracle builds requests itself (fixed gas, fixed target and function) and simulates each
/// one before sending it (docs/brand-integration.md, "Gasless redemption").
contract ServiceCoinForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("ServiceCoin Forwarder") {}
}

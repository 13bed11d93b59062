// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title NaiveRewards: the baseline the benchmarks measure ServiceCoin against. NOT part of
/// the product (it has no caps, no tiers, no roles). It is the straightforward design: an
/// EIP-712 signature check, a `mapping(bytes32 => bool)` to record each event once, and an
/// OpenZeppelin mint, per event, or per batch under one signature.
contract NaiveRewards is ERC20, EIP712 {
    struct Reward {
        bytes32 eventId;
        address customer;
        uint256 amount;
    }

    bytes32 public constant REWARD_TYPEHASH = keccak256("Reward(bytes32 eventId,address customer,uint256 amount)");
    bytes32 public constant BATCH_TYPEHASH =
        keccak256("RewardBatch(Reward[] rewards)Reward(bytes32 eventId,address customer,uint256 amount)");

    address public immutable oracle;
    mapping(bytes32 => bool) public rewarded;

    error NotTheOracle(address recovered);
    error AlreadyRewarded(bytes32 eventId);

    constructor(address oracle_) ERC20("Naive Reward", "NAIVE") EIP712("NaiveRewards", "1") {
        oracle = oracle_;
    }

    /// @notice One event per transaction.
    function reward(Reward calldata r, bytes calldata signature) external {
        _requireOracle(_hashTypedDataV4(_hash(r)), signature);
        _record(r);
    }

    /// @notice Many events under one signature over all of them.
    function rewardBatch(Reward[] calldata rewards, bytes calldata signature) external {
        bytes32[] memory hashes = new bytes32[](rewards.length);
        for (uint256 i = 0; i < rewards.length; ++i) {
            hashes[i] = _hash(rewards[i]);
        }
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(BATCH_TYPEHASH, keccak256(abi.encodePacked(hashes)))));
        _requireOracle(digest, signature);
        for (uint256 i = 0; i < rewards.length; ++i) {
            _record(rewards[i]);
        }
    }

    function _hash(Reward calldata r) private pure returns (bytes32) {
        return keccak256(abi.encode(REWARD_TYPEHASH, r.eventId, r.customer, r.amount));
    }

    function _requireOracle(bytes32 digest, bytes calldata signature) private view {
        address recovered = ECDSA.recover(digest, signature);
        if (recovered != oracle) revert NotTheOracle(recovered);
    }

    function _record(Reward calldata r) private {
        if (rewarded[r.eventId]) revert AlreadyRewarded(r.eventId);
        rewarded[r.eventId] = true;
        _mint(r.customer, r.amount);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BatchRelay
/// @notice Test only: any contract that forwards a call, as a relay, a multisig or a smart
/// account would. Submitting a signed batch needs no role, so a batch may reach the registry
/// this way, and its transaction's input is then this contract's, not submitBatch's.
contract BatchRelay {
    function relay(address target, bytes calldata data) external {
        (bool ok, bytes memory returned) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(returned, 32), mload(returned))
            }
        }
    }
}

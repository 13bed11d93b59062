// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IServiceCoin} from "./interfaces/IServiceCoin.sol";

/// @title CoinBatchCall
/// @notice The registry's two calls to the coin for a batch, `holderDataOf` and
/// `mintBatchWithData`, made from memory already laid out as their calldata.
/// Why: a Solidity memory array is its length word followed by its elements, which is exactly
/// an ABI-encoded array's tail. So the arrays the registry fills (the customers, their accounts
/// and amounts) are allocated inside the calldata buffer and sent as they are, and the coin's
/// answer is copied straight into the accounts array. The compiler's encoding copied each
/// array once more and re-checked every returned word: about 400 gas per customer
/// (scripts/gas_breakdown.py). The calls and their results are unchanged (the registry tests).
/// @dev Layout, from `start` (32 bytes before the customers array):
///   start + 0x00  the holder data call's selector, then its head (0x20), in the last 0x24
///                 bytes before the customers array; replaced by the mint call's selector and
///                 three offsets (0x64 bytes before the customers array) once it is done
///   customers     count, then `count` addresses
///   amounts       count, then `count` amounts (zero until the registry adds to them)
///   accounts      count, then `count` holder data words (the coin's answer)
library CoinBatchCall {
    struct Buffer {
        uint256 start;
        address[] customers;
        uint256[] amounts;
        uint160[] accounts;
    }

    /// @dev Bytes before the customers array: the mint call's selector and three offsets.
    uint256 private constant HEAD = 0x64;

    /// @notice Lays out the buffer for `customers` (copied in) and reads their holder data.
    function readAccounts(IServiceCoin coin, address[] memory customers) internal view returns (Buffer memory buffer) {
        uint256 count = customers.length;
        uint256 arrayBytes = (count + 1) * 0x20;
        // Zero-filled, as Solidity fills every memory array it allocates: the amounts start at 0.
        bytes memory raw = new bytes(HEAD + 3 * arrayBytes);
        bytes4 selector = IServiceCoin.holderDataOf.selector;
        assembly ("memory-safe") {
            let start := add(raw, 0x20)
            let list := add(start, HEAD)
            // The customers' length word and addresses, by the identity precompile (no MCOPY
            // before cancun): it cannot fail with the gas the call forwards.
            pop(staticcall(gas(), 4, customers, arrayBytes, list, arrayBytes))
            let amounts := add(list, arrayBytes)
            let accounts := add(amounts, arrayBytes)
            mstore(amounts, count)
            mstore(buffer, start)
            mstore(add(buffer, 0x20), list)
            mstore(add(buffer, 0x40), amounts)
            mstore(add(buffer, 0x60), accounts)
            // holderDataOf(address[]): its selector and the offset of its one argument.
            let input := sub(list, 0x24)
            mstore(input, selector)
            mstore(add(input, 0x04), 0x20)
            if iszero(staticcall(gas(), coin, input, add(0x24, arrayBytes), 0, 0)) {
                let free := mload(0x40)
                returndatacopy(free, 0, returndatasize())
                revert(free, returndatasize())
            }
            // The answer is (0x20, count, count words): all but its first word is the accounts
            // array. Any other shape is refused (the coin's own encoding never gives one).
            if iszero(eq(returndatasize(), add(0x20, arrayBytes))) { revert(0, 0) }
            returndatacopy(accounts, 0x20, arrayBytes)
            if iszero(eq(mload(accounts), count)) { revert(0, 0) }
        }
    }

    /// @notice Mints `amounts` to the customers whose `touched` is set and writes their accounts.
    /// Customers whose records were all skipped are left out (moved over in place: the offsets
    /// stay, each array's length shrinks).
    /// `touched` is as long as the customers (FeedbackRegistry allocates it so).
    function mint(IServiceCoin coin, Buffer memory buffer, bool[] memory touched) internal {
        uint256 count = buffer.customers.length;
        bytes4 selector = IServiceCoin.mintBatchWithData.selector;
        assembly ("memory-safe") {
            let start := mload(buffer)
            let customers := mload(add(buffer, 0x20))
            let amounts := mload(add(buffer, 0x40))
            let accounts := mload(add(buffer, 0x60))
            // Why assembly: the same loop in Solidity re-checked four arrays' bounds on every
            // customer (about 160 gas each); here j < count, the length of all four, and a
            // batch whose customers were all rewarded moves nothing.
            let kept := 0
            for { let j := 0 } lt(j, count) { j := add(j, 1) } {
                let from := shl(5, add(j, 1))
                if mload(add(touched, from)) {
                    kept := add(kept, 1)
                    let to := shl(5, kept)
                    if iszero(eq(to, from)) {
                        mstore(add(customers, to), mload(add(customers, from)))
                        mstore(add(amounts, to), mload(add(amounts, from)))
                        mstore(add(accounts, to), mload(add(accounts, from)))
                    }
                }
            }
            mstore(customers, kept)
            mstore(amounts, kept)
            mstore(accounts, kept)
            // mintBatchWithData(address[],uint256[],uint160[]): selector, then each array's
            // offset from the end of the selector. Written over the first call's selector and
            // head, which is done.
            mstore(start, selector)
            let args := add(start, 0x04)
            mstore(args, sub(customers, args))
            mstore(add(args, 0x20), sub(amounts, args))
            mstore(add(args, 0x40), sub(accounts, args))
            // A failed call's revert data is passed on as it is, as a high-level call does.
            if iszero(call(gas(), coin, 0, start, sub(add(accounts, mul(add(count, 1), 0x20)), start), 0, 0)) {
                let free := mload(0x40)
                returndatacopy(free, 0, returndatasize())
                revert(free, returndatasize())
            }
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken: a hostile coin for the reentrancy attack tests
/// @notice TEST ONLY. ServiceCoin is a plain OpenZeppelin ERC20 with no transfer hooks, so
/// nothing a TierRedemption calls can call back into it. To prove that TierRedemption would stay
/// safe even if its coin did call back, tests/contracts/attacks/test_reentrancy.py deploys a
/// TierRedemption over this token, which, once armed, makes one call of the attacker's choice
/// in the middle of every transfer (after the balances moved) and records how that call ended.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    bool public reentered;
    bool public innerSucceeded;
    bytes public innerResult;
    bool private _inside;

    constructor() ERC20("Reentrant Token", "RNT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @dev TierRedemption burns settled escrow through the coin's burn(uint256).
    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }

    /// @notice The call to make during the next transfer; this token approves `spender` for its own coins.
    function arm(address target_, bytes calldata payload_, address spender) external {
        target = target_;
        payload = payload_;
        _approve(address(this), spender, type(uint256).max);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (target != address(0) && !_inside && from != address(0) && to != address(0)) {
            _inside = true;
            reentered = true;
            (innerSucceeded, innerResult) = target.call(payload);
            _inside = false;
        }
    }
}

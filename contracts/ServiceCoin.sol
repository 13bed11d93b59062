// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IServiceCoin} from "./interfaces/IServiceCoin.sol";

/// @title ServiceCoin
/// @notice OpenZeppelin ERC20 + permit, pausable, with role-gated mint and burn and a transfer
/// policy. Allowances, permit and every argument check are OpenZeppelin's; the balances are kept
/// here, one storage slot per holder, so that the minter's own per-holder record (the
/// registry's reward accounting) shares that slot and a reward costs one storage write.
/// @dev Invariants this contract keeps (OpenZeppelin's ERC20 keeps them for its own storage,
/// which is never written here):
/// - totalSupply equals the sum of all balances, and is at most MAX_SUPPLY (uint96);
/// - so no balance exceeds uint96, and a balance change never touches the holder data bits;
/// - only MINTER_ROLE writes holder data; balance moves (transfer, burn, relocate) keep it.
/// Roles: MINTER_ROLE (FeedbackRegistry), BURNER_ROLE (TierRedemption), PROTOCOL_ROLE
/// (contracts allowed to move coins while transfers are restricted), WALLET_LINKER_ROLE
/// (FeedbackRegistry, for wallet links), PAUSER_ROLE. The admin role is handed over in two
/// steps with a delay (AccessControlDefaultAdminRules).
contract ServiceCoin is ERC20, ERC20Permit, Pausable, AccessControlDefaultAdminRules, IServiceCoin {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant BURNER_ROLE = keccak256("BURNER_ROLE");
    bytes32 public constant PROTOCOL_ROLE = keccak256("PROTOCOL_ROLE");
    bytes32 public constant WALLET_LINKER_ROLE = keccak256("WALLET_LINKER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @inheritdoc IServiceCoin
    uint256 public constant MAX_SUPPLY = type(uint96).max;

    uint256 private constant BALANCE_BITS = 96;
    uint256 private constant BALANCE_MASK = type(uint96).max;

    /// @inheritdoc IServiceCoin
    bool public transfersOpen;

    uint256 private _supply;
    /// @dev holder => balance in the low 96 bits, the minter's holder data in the high 160.
    mapping(address holder => uint256 word) private _holders;

    /// @param admin The initial DEFAULT_ADMIN_ROLE holder.
    /// @param adminTransferDelay Seconds a started admin hand-over waits before it can be accepted.
    constructor(address admin, uint48 adminTransferDelay)
        ERC20("Service Coin", "SVC")
        ERC20Permit("Service Coin")
        AccessControlDefaultAdminRules(adminTransferDelay, admin)
    {}

    // ================================================================ minter

    /// @inheritdoc IServiceCoin
    function mintBatch(address[] calldata to, uint256[] calldata amounts) external onlyRole(MINTER_ROLE) {
        if (to.length != amounts.length) revert LengthMismatch(to.length, amounts.length);
        for (uint256 i; i < to.length; ++i) {
            _mint(to[i], amounts[i]);
        }
    }

    /// @inheritdoc IServiceCoin
    function mintBatchWithData(address[] calldata to, uint256[] calldata amounts, uint160[] calldata data)
        external
        whenNotPaused
        onlyRole(MINTER_ROLE)
    {
        uint256 count = to.length;
        if (count != amounts.length) revert LengthMismatch(count, amounts.length);
        if (count != data.length) revert LengthMismatch(count, data.length);
        uint256 supply = _supply;
        // Why assembly: Solidity re-checks each array's bound on every read, three times an
        // entry, where `i` < count, their common length (the ABI decoder checked that it lies
        // within the calldata), and its loop's counter and checks cost as much again; this loop
        // is most of a batch's cost in the coin. It keeps the decoder's refusal of a word wider
        // than its type (an empty revert), and the plain code's other refusals: a zero holder
        // and a supply past MAX_SUPPLY (named after the loop: nothing it wrote is kept), and the
        // checked sum's panic where the sum itself overflows.
        bytes32 transferTopic = Transfer.selector;
        uint256 refused; // 1: a zero holder; 2: past MAX_SUPPLY
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                let at := shl(5, i)
                let holder := calldataload(add(to.offset, at))
                let amount := calldataload(add(amounts.offset, at))
                let bits := calldataload(add(data.offset, at))
                if or(shr(160, holder), shr(160, bits)) { revert(0, 0) }
                if iszero(holder) {
                    refused := 1
                    break
                }
                let sum := add(supply, amount)
                if lt(sum, supply) {
                    mstore(0, shl(224, 0x4e487b71)) // Panic(0x11), as the checked sum
                    mstore(4, 0x11)
                    revert(0, 0x24)
                }
                supply := sum
                // Past MAX_SUPPLY = 2^96 - 1: bits above the balance's 96.
                if shr(BALANCE_BITS, supply) {
                    refused := 2
                    break
                }
                // The new balance is at most the supply, so it fits its 96 bits. The Transfer
                // event is OpenZeppelin's, as `emit Transfer(address(0), holder, amount)` logs it.
                mstore(0, holder)
                mstore(0x20, _holders.slot)
                let slot := keccak256(0, 0x40)
                sstore(slot, or(shl(BALANCE_BITS, bits), add(and(sload(slot), shr(sub(256, BALANCE_BITS), not(0))), amount)))
                mstore(0, amount)
                log3(0, 0x20, transferTopic, 0, holder)
            }
        }
        if (refused == 1) revert ERC20InvalidReceiver(address(0));
        if (refused == 2) revert SupplyLimitExceeded(supply, MAX_SUPPLY);
        _supply = supply;
    }

    /// @inheritdoc IServiceCoin
    function setHolderData(address holder, uint160 data) external whenNotPaused onlyRole(MINTER_ROLE) {
        _holders[holder] = uint256(data) << BALANCE_BITS | (_holders[holder] & BALANCE_MASK);
    }

    // ================================================================ protocol paths

    /// @inheritdoc IServiceCoin
    function burn(uint256 amount) external onlyRole(BURNER_ROLE) {
        _burn(_msgSender(), amount);
    }

    /// @inheritdoc IServiceCoin
    /// @dev The caller holds PROTOCOL_ROLE too, which is what lets `_update` allow the move.
    function relocate(address from, address to, uint256 amount) external onlyRole(WALLET_LINKER_ROLE) {
        _transfer(from, to, amount);
    }

    // ================================================================ administration

    /// @inheritdoc IServiceCoin
    function setTransfersOpen(bool open) external onlyRole(DEFAULT_ADMIN_ROLE) {
        transfersOpen = open;
        emit TransferPolicyChanged(open);
    }

    /// @inheritdoc IServiceCoin
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IServiceCoin
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ================================================================ views

    /// @inheritdoc ERC20
    function totalSupply() public view override(ERC20, IERC20) returns (uint256) {
        return _supply;
    }

    /// @inheritdoc ERC20
    function balanceOf(address holder) public view override(ERC20, IERC20) returns (uint256) {
        return _holders[holder] & BALANCE_MASK;
    }

    /// @inheritdoc IServiceCoin
    function mintableSupply() external view returns (uint256) {
        // _supply <= MAX_SUPPLY always (every mint checks it).
        unchecked {
            return MAX_SUPPLY - _supply;
        }
    }

    /// @inheritdoc IServiceCoin
    function holderData(address holder) external view returns (uint160) {
        return uint160(_holders[holder] >> BALANCE_BITS);
    }

    /// @inheritdoc IServiceCoin
    function holderDataOf(address[] calldata holders) external view returns (uint160[] memory data) {
        // Why assembly: the same loop in Solidity re-checks both arrays' bounds and the
        // address's width on every entry, ~400 gas each (a batch of 100 reads 100 holders),
        // and its ABI encoder copies the answer again, word by word. Here the answer is written
        // once, as its ABI encoding (offset, length, words), and returned as it lies (`data`
        // only names the answer in the ABI). `i` < count, the holders' length; a holder word
        // wider than an address is refused, with the ABI decoder's empty revert.
        assembly ("memory-safe") {
            let count := holders.length
            let out := mload(0x40)
            mstore(out, 0x20)
            mstore(add(out, 0x20), count)
            let words := add(out, 0x40)
            let slot := _holders.slot
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                let holder := calldataload(add(holders.offset, shl(5, i)))
                if shr(160, holder) { revert(0, 0) }
                mstore(0, holder)
                mstore(0x20, slot)
                mstore(add(words, shl(5, i)), shr(BALANCE_BITS, sload(keccak256(0, 0x40))))
            }
            return(out, add(0x40, shl(5, count)))
        }
    }

    // ================================================================ balance changes

    /// @dev Every balance change but mintBatchWithData's comes here (OpenZeppelin's _mint,
    /// _burn and _transfer, after their argument checks). It applies the pause and the transfer
    /// policy, then does what ERC20._update does, on this contract's storage.
    /// The policy: mints and burns are gated by role. Other moves are allowed while transfers
    /// are restricted only when a protocol contract performs them (redeem pulls into escrow,
    /// refund pays back, a wallet link relocates): a customer cannot hand coins to anyone,
    /// including by sending them to a protocol contract by mistake.
    function _update(address from, address to, uint256 value) internal override {
        _requireNotPaused();
        if (
            from != address(0) && to != address(0) && !transfersOpen && !hasRole(PROTOCOL_ROLE, _msgSender())
        ) {
            revert TransferRestricted(from, to, _msgSender());
        }
        if (from == address(0)) {
            uint256 supply = _supply + value;
            if (supply > MAX_SUPPLY) revert SupplyLimitExceeded(supply, MAX_SUPPLY);
            _supply = supply;
        } else {
            uint256 word = _holders[from];
            uint256 balance = word & BALANCE_MASK;
            if (balance < value) revert ERC20InsufficientBalance(from, balance, value);
            // value <= balance: the subtraction stays inside the balance bits.
            unchecked {
                _holders[from] = word - value;
            }
        }
        unchecked {
            if (to == address(0)) {
                // value <= the burner's balance <= supply.
                _supply -= value;
            } else {
                // The receiver's new balance is at most the supply (<= MAX_SUPPLY): the sum
                // stays inside the balance bits and leaves the holder data as it was.
                _holders[to] += value;
            }
        }
        emit Transfer(from, to, value);
    }
}

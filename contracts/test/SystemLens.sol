// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IServiceCoin} from "../interfaces/IServiceCoin.sol";
import {IFeedbackRegistry} from "../interfaces/IFeedbackRegistry.sol";
import {ITierRedemption} from "../interfaces/ITierRedemption.sol";

/// @title SystemLens: one call that reads what the stateful property suite compares
/// @notice TEST ONLY (contracts/test/ is excluded from coverage and never deployed by deploy()).
/// The suite in tests/contracts/stateful compares the whole state of the three contracts with
/// its Python model after every step. Read one view at a time, that is some fifty eth_calls a
/// step; this contract makes the same public view calls inside one eth_call. It only reads.
contract SystemLens {
    struct Query {
        IServiceCoin coin;
        IFeedbackRegistry registry;
        ITierRedemption redemption;
        uint32 brandId;
        address[] holders; // balances
        address[] customers; // allowances to the redemption contract, accounts, tiers
        address[] signers; // isSigner for the brand
        uint256[] itemIds; // items, and redeemedBy for each (item, customer)
        address[] roleContracts; // hasRole(roleIds[i], roleAccounts[i]) on roleContracts[i]
        bytes32[] roleIds;
        address[] roleAccounts;
    }

    struct Snapshot {
        uint256 totalSupply;
        uint256[] balances;
        uint256[] allowances;
        bool transfersOpen;
        bool coinPaused;
        bool registryPaused;
        bool redemptionPaused;
        IFeedbackRegistry.Account[] accounts;
        uint256[] tiers;
        IFeedbackRegistry.Brand brand;
        uint256 quorum;
        uint256 signerCount;
        uint256 customerCap;
        bool[] isSigner;
        ITierRedemption.Item[] items;
        uint256[] redeemedBy; // item-major: redeemedBy[i * customers.length + j]
        ITierRedemption.Redemption[] redemptions;
        bool[] roles;
    }

    function read(Query calldata q) external view returns (Snapshot memory s) {
        s.totalSupply = q.coin.totalSupply();
        s.transfersOpen = q.coin.transfersOpen();
        s.coinPaused = Pausable(address(q.coin)).paused();
        s.registryPaused = Pausable(address(q.registry)).paused();
        s.redemptionPaused = Pausable(address(q.redemption)).paused();
        s.balances = new uint256[](q.holders.length);
        for (uint256 i; i < q.holders.length; ++i) {
            s.balances[i] = q.coin.balanceOf(q.holders[i]);
        }
        _readCustomers(q, s);
        s.brand = q.registry.brandOf(q.brandId);
        s.quorum = s.brand.quorum;
        s.signerCount = s.brand.signerCount;
        s.customerCap = q.registry.customerCapPerPeriod();
        s.isSigner = new bool[](q.signers.length);
        for (uint256 i; i < q.signers.length; ++i) {
            s.isSigner[i] = q.registry.isSigner(q.brandId, q.signers[i]);
        }
        _readCatalog(q, s);
        s.roles = new bool[](q.roleIds.length);
        for (uint256 i; i < q.roleIds.length; ++i) {
            s.roles[i] = IAccessControl(q.roleContracts[i]).hasRole(q.roleIds[i], q.roleAccounts[i]);
        }
    }

    function _readCustomers(Query calldata q, Snapshot memory s) private view {
        uint256 count = q.customers.length;
        s.allowances = new uint256[](count);
        s.accounts = new IFeedbackRegistry.Account[](count);
        s.tiers = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            s.allowances[i] = q.coin.allowance(q.customers[i], address(q.redemption));
            s.accounts[i] = q.registry.accountOf(q.customers[i]);
            s.tiers[i] = q.redemption.tierOf(q.customers[i]);
        }
    }

    function _readCatalog(Query calldata q, Snapshot memory s) private view {
        uint256 customers = q.customers.length;
        s.items = new ITierRedemption.Item[](q.itemIds.length);
        s.redeemedBy = new uint256[](q.itemIds.length * customers);
        for (uint256 i; i < q.itemIds.length; ++i) {
            s.items[i] = q.redemption.itemOf(q.itemIds[i]);
            for (uint256 j; j < customers; ++j) {
                s.redeemedBy[i * customers + j] = q.redemption.redeemedBy(q.itemIds[i], q.customers[j]);
            }
        }
        uint256 count = q.redemption.redemptionCount();
        s.redemptions = new ITierRedemption.Redemption[](count);
        for (uint256 i; i < count; ++i) {
            s.redemptions[i] = q.redemption.redemptionOf(i);
        }
    }
}

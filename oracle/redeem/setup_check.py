"""What `config check` verifies of the brand's redemption set-up on chain: TierRedemption keeps
each catalog item's brand and grants the fulfiller role per brand, so a configuration can name
another brand's items, or an operations account the brand's role was never granted to. Both
would only show later, as redemptions never fulfilled; the check names them before the start."""

from __future__ import annotations

from web3 import Web3
from web3.exceptions import ContractLogicError

from oracle.config import OracleConfig
from oracle.redeem.loop import redemption_contract


def redemption_problems(config: OracleConfig, w3: Web3, operations: str | None) -> list[str]:
    """Problems of `chain.catalog_items` and of the operations account's fulfiller role, given
    the operations account's address (None: not configured, or its keystore did not open)."""
    chain = config.chain
    if chain.redemption is None:
        return []
    contract = redemption_contract(w3, chain.redemption)
    brand = config.brand_id
    problems = []
    for item_id in sorted(chain.catalog_items or ()):
        try:
            owner = int(contract.functions.itemBrand(item_id).call())
        except ContractLogicError:
            problems.append(f"chain.catalog_items: item {item_id} does not exist on TierRedemption {contract.address}")
            continue
        if owner != brand:
            problems.append(f"chain.catalog_items: item {item_id} is brand {owner}'s, not brand {brand}'s")
    if config.fulfilment is not None and operations is not None:
        role = contract.functions.fulfillerRole(brand).call()
        if not contract.functions.hasRole(role, Web3.to_checksum_address(operations)).call():
            problems.append(
                f"fulfilment: the operations account {operations} lacks brand {brand}'s fulfiller role on "
                f"TierRedemption {contract.address}, so no redemption would be fulfilled: the admin grants it "
                f"(grantRole(fulfillerRole({brand}), {operations}), or brands[].operations in the deploy config)"
            )
    return problems

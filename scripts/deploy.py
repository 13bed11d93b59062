"""Deploy and wire the three ServiceCoin contracts.

`deploy()` is the one deployment path: the operator's `brownie run scripts/deploy.py`, the
test fixtures and the demo all call it, so what is tested is what is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brownie import FeedbackRegistry, ServiceCoin, TierRedemption, network

from oracle.kinds import FeedbackKind
from scripts.deploy_config import DeployConfig, config_for_network, to_units

CATEGORY_INDEX = {
    "discount": 0,
    "priority_support": 1,
    "exclusive_service": 2,
    "digital_product": 3,
    "cash_out": 4,
}


@dataclass(frozen=True)
class Deployment:
    coin: Any
    registry: Any
    redemption: Any
    config: DeployConfig


def item_tuple(item: Any) -> tuple[int, int, int, int, int, int, int, bool]:
    """A catalog entry as the contract's Item struct."""
    return (
        to_units(item.price),
        item.stock,
        item.per_customer_limit,
        item.min_tier,
        CATEGORY_INDEX[item.category],
        item.available_from,
        item.available_until,
        item.active,
    )


def deploy(deployer: Any, config: DeployConfig, *, confirmations: int = 1) -> Deployment:
    """Deploy ServiceCoin, FeedbackRegistry and TierRedemption and wire every role.

    The deployer is the initial admin of all three; hand the admin role over afterwards
    (two steps, with `admin_transfer_delay`) when the operator's multisig is ready.
    """
    tx = {"from": deployer, "required_confs": confirmations}
    delay = config.admin_transfer_delay
    coin = ServiceCoin.deploy(deployer, delay, tx)
    registry = FeedbackRegistry.deploy(deployer, coin, config.period_length, delay, tx)
    redemption = TierRedemption.deploy(
        deployer, coin, registry, config.price_notice_period, config.dispute_window, delay, tx
    )

    # The coin: the registry mints and links wallets, the redemption contract burns; both move
    # coins while transfers are restricted.
    coin.grantRole(coin.MINTER_ROLE(), registry, tx)
    coin.grantRole(coin.WALLET_LINKER_ROLE(), registry, tx)
    coin.grantRole(coin.PROTOCOL_ROLE(), registry, tx)
    coin.grantRole(coin.BURNER_ROLE(), redemption, tx)
    coin.grantRole(coin.PROTOCOL_ROLE(), redemption, tx)
    coin.grantRole(coin.PAUSER_ROLE(), deployer, tx)

    # The registry: reward schedule, caps, tiers, signers.
    registry.setTierSource(redemption, tx)
    for name, amount in config.base_rewards.items():
        registry.setBaseReward(int(FeedbackKind.from_name(name)), to_units(amount), tx)
    registry.setCustomerCap(to_units(config.customer_cap_per_period), tx)
    registry.setWelcomeBonus(to_units(config.welcome_bonus), tx)
    for signer in config.signers:
        registry.addSigner(signer, tx)
    registry.setQuorum(config.quorum, tx)
    for brand in config.brands:
        registry.registerBrand(brand.id, to_units(brand.cap_per_period), tx)
    registry.grantRole(registry.PAUSER_ROLE(), deployer, tx)
    registry.grantRole(registry.LINK_OPERATOR_ROLE(), deployer, tx)

    # Tiers and the catalog.
    redemption.setTiers(
        [to_units(t.threshold) for t in config.tiers], [t.multiplier_bps for t in config.tiers], tx
    )
    for role in ("CATALOG_ROLE", "FULFILLER_ROLE", "ARBITER_ROLE", "PAUSER_ROLE"):
        redemption.grantRole(getattr(redemption, role)(), deployer, tx)
    for item in config.catalog:
        redemption.addItem(item_tuple(item), tx)

    return Deployment(coin=coin, registry=registry, redemption=redemption, config=config)


def main() -> Deployment:
    from brownie import accounts

    if not accounts:
        raise SystemExit(
            f"no deployer account on network {network.show_active()!r}: load one first "
            "(brownie accounts new <id>, then accounts.load(<id>) in a script)"
        )
    config = config_for_network(network.show_active())
    return deploy(accounts[0], config)

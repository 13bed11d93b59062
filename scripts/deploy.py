"""Deploy and wire the three ServiceCoin contracts, idempotently.

`deploy()` is the one deployment path: the operator's script (`scripts/operator.py deploy`,
or `brownie run scripts/deploy.py`), the test fixtures and the demo all call it, so what is
tested is what is deployed. It reads the chain before every write and sends only what differs
from the configuration: run twice with the same config, the second run sends nothing; with a
changed config, only the difference. With a deployments directory it reuses the contracts
recorded for the chain and writes `deployments/<chainId>.json` (addresses, blocks, transaction
hashes, config hash, compiler settings). `dry_run` prints the plan and sends nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from brownie import FeedbackRegistry, ServiceCoin, ServiceCoinForwarder, TierRedemption, chain, network, web3

from oracle.kinds import FeedbackKind
from scripts.deploy_config import Brand, DeployConfig, config_for_network, load_config, to_units

ROOT = Path(__file__).resolve().parent.parent
# In deployment order: TierRedemption trusts the forwarder from its constructor on (ERC-2771
# trust is immutable), so the forwarder comes before it.
CONTRACT_TYPES = {
    "ServiceCoin": ServiceCoin,
    "FeedbackRegistry": FeedbackRegistry,
    "ServiceCoinForwarder": ServiceCoinForwarder,
    "TierRedemption": TierRedemption,
}
CATEGORY_INDEX = {
    "discount": 0,
    "priority_support": 1,
    "exclusive_service": 2,
    "digital_product": 3,
    "cash_out": 4,
}


class DeployError(Exception):
    """The deployment cannot proceed; the message says why."""


@dataclass(frozen=True)
class Deployment:
    coin: Any
    registry: Any
    redemption: Any
    config: DeployConfig
    forwarder: Any = None  # ServiceCoinForwarder, the ERC-2771 forwarder TierRedemption trusts


@dataclass
class Step:
    """One transaction of the plan."""

    description: str
    send: Callable[[], Any] = field(repr=False)


def item_tuple(item: Any, price: int | None = None) -> tuple[int, int, int, int, int, int, int, bool]:
    """A catalog entry as the contract's Item struct."""
    return (
        to_units(item.price) if price is None else price,
        item.stock,
        item.per_customer_limit,
        item.min_tier,
        CATEGORY_INDEX[item.category],
        item.available_from,
        item.available_until,
        item.active,
    )


def record_path(deployments_dir: Path, chain_id: int) -> Path:
    return deployments_dir / f"{chain_id}.json"


def deploy(
    deployer: Any,
    config: DeployConfig,
    *,
    confirmations: int = 1,
    deployments_dir: Path | None = None,
    dry_run: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> Deployment | None:
    """Brings the chain to `config`: deploys what is missing, then wires what differs.

    The deployer is the initial admin of all three contracts; hand the admin role over
    afterwards (two steps, with `admin_transfer_delay`) when the operator's multisig is ready.
    Returns None for a dry run.
    """
    if config.chain_id is not None and config.chain_id != chain.id:
        raise DeployError(f"the configuration is for chain {config.chain_id}, but the RPC serves chain {chain.id}")
    record = _read_record(deployments_dir)
    contracts = _existing_contracts(record)
    _check_forwarder_trust(contracts)
    tx = {"from": deployer, "required_confs": confirmations}
    missing = [name for name in CONTRACT_TYPES if name not in contracts]
    if dry_run:
        for name in missing:
            log(f"deploy {name}")
        for step in wiring_steps(contracts, deployer, config, record, tx):
            log(step.description)
        return None

    _require_funds(deployer, len(missing))
    # The contracts first, always in this order, so their addresses depend only on the
    # deployer's starting nonce.
    delay = config.admin_transfer_delay
    constructors = {
        "ServiceCoin": lambda: ServiceCoin.deploy(deployer, delay, tx),
        "FeedbackRegistry": lambda: FeedbackRegistry.deploy(deployer, contracts["ServiceCoin"], config.period_length, delay, tx),
        "ServiceCoinForwarder": lambda: ServiceCoinForwarder.deploy(tx),
        "TierRedemption": lambda: TierRedemption.deploy(
            deployer, contracts["ServiceCoin"], contracts["FeedbackRegistry"], config.price_notice_period,
            config.dispute_window, delay, contracts["ServiceCoinForwarder"], tx,
        ),
    }
    deployed_now = {}
    for name in missing:
        log(f"deploy {name}")
        contracts[name] = constructors[name]()
        deployed_now[name] = contracts[name].tx
    for step in wiring_steps(contracts, deployer, config, record, tx):
        log(step.description)
        step.send()
    if deployments_dir is not None:
        _write_record(deployments_dir, record, contracts, deployed_now, deployer, config)
    return Deployment(
        contracts["ServiceCoin"], contracts["FeedbackRegistry"], contracts["TierRedemption"], config,
        forwarder=contracts["ServiceCoinForwarder"],
    )


def _check_forwarder_trust(contracts: dict[str, Any]) -> None:
    """A recorded TierRedemption must trust the recorded forwarder: its trust is fixed at
    construction, so a new forwarder next to an old TierRedemption would relay nothing."""
    redemption, forwarder = contracts.get("TierRedemption"), contracts.get("ServiceCoinForwarder")
    if redemption is None:
        return
    if forwarder is None:
        raise DeployError(
            f"the deployments record has TierRedemption at {redemption.address} but no ServiceCoinForwarder: "
            "a TierRedemption trusts its forwarder from construction, so deploy both afresh (remove "
            "TierRedemption from the record; its catalog and redemptions stay with the old contract)"
        )
    if not redemption.isTrustedForwarder(forwarder):
        raise DeployError(
            f"the recorded TierRedemption at {redemption.address} does not trust the recorded forwarder "
            f"{forwarder.address} (it trusts {redemption.trustedForwarder()}): fix the deployments record"
        )


def wiring_steps(
    contracts: dict[str, Any], deployer: Any, config: DeployConfig, record: dict[str, Any], tx: dict[str, Any]
) -> list[Step]:
    """Every transaction needed to bring the wiring to `config`, read from the chain. A
    contract not deployed yet reads as empty (no roles, zero settings, no items)."""
    coin, registry, redemption = (contracts.get(n) for n in ("ServiceCoin", "FeedbackRegistry", "TierRedemption"))
    steps: list[Step] = []

    def ensure_role(contract: Any, name: str, role: str, account: Any, account_name: str) -> None:
        """`role`: a role constant's name, or a per-brand role as `catalogRole(1)`."""
        def role_id() -> Any:
            if "(" in role:
                function, brand_id = role.rstrip(")").split("(")
                return getattr(contract, function)(int(brand_id))
            return getattr(contract, role)()

        if contract is None or not contract.hasRole(role_id(), account):
            steps.append(Step(f"{name}: grant {role} to {account_name}",
                              lambda: contract.grantRole(role_id(), account, tx)))

    def ensure_value(description: str, current: Callable[[], Any], wanted: Any, send: Callable[[], Any], deployed: Any) -> None:
        if deployed is None or current() != wanted:
            steps.append(Step(description, send))

    # The coin: the registry mints and links wallets, the redemption contract burns; both move
    # coins while transfers are restricted.
    ensure_role(coin, "ServiceCoin", "MINTER_ROLE", registry, "the registry")
    ensure_role(coin, "ServiceCoin", "WALLET_LINKER_ROLE", registry, "the registry")
    ensure_role(coin, "ServiceCoin", "PROTOCOL_ROLE", registry, "the registry")
    ensure_role(coin, "ServiceCoin", "BURNER_ROLE", redemption, "the redemption contract")
    ensure_role(coin, "ServiceCoin", "PROTOCOL_ROLE", redemption, "the redemption contract")
    ensure_role(coin, "ServiceCoin", "PAUSER_ROLE", deployer, "the deployer")

    # The registry: reward schedule, caps, signers, brands.
    ensure_value("FeedbackRegistry: set the tier source to the redemption contract",
                 lambda: registry.tierSource(),
                 redemption.address if redemption is not None else None,
                 lambda: registry.setTierSource(redemption, tx), registry)
    for name, amount in config.base_rewards.items():
        kind = int(FeedbackKind.from_name(name))
        ensure_value(f"FeedbackRegistry: base reward of {name} = {amount} SVC",
                     lambda kind=kind: registry.baseReward(kind), to_units(amount),
                     lambda kind=kind, amount=amount: registry.setBaseReward(kind, to_units(amount), tx), registry)
    ensure_value(f"FeedbackRegistry: customer cap = {config.customer_rewards_per_period} rewarded records per period",
                 lambda: registry.customerCapPerPeriod(), config.customer_rewards_per_period,
                 lambda: registry.setCustomerCap(config.customer_rewards_per_period, tx), registry)
    ensure_value(f"FeedbackRegistry: welcome bonus = {config.welcome_bonus} SVC",
                 lambda: registry.welcomeBonus(), to_units(config.welcome_bonus),
                 lambda: registry.setWelcomeBonus(to_units(config.welcome_bonus), tx), registry)
    for brand in config.brands:
        cap = to_units(brand.cap_per_period)
        current = registry.brandOf(brand.id) if registry is not None else None
        registered = current is not None and current["registered"]
        if not registered:
            steps.append(Step(f"FeedbackRegistry: register brand {brand.id} ({brand.name}), cap {brand.cap_per_period} SVC",
                              lambda brand=brand, cap=cap: registry.registerBrand(brand.id, cap, tx)))
        elif current["capPerPeriod"] != cap:
            steps.append(Step(f"FeedbackRegistry: brand {brand.id} cap = {brand.cap_per_period} SVC",
                              lambda brand=brand, cap=cap: registry.setBrandCap(brand.id, cap, tx)))
        recorded_signers = record.get("signers", {})
        # Records written before signers were per brand hold a list: nothing known to remove.
        previous = recorded_signers.get(str(brand.id), []) if isinstance(recorded_signers, dict) else []
        steps.extend(_signer_steps(registry, brand, previous, tx, on_chain=registered))
    ensure_role(registry, "FeedbackRegistry", "PAUSER_ROLE", deployer, "the deployer")
    ensure_role(registry, "FeedbackRegistry", "LINK_OPERATOR_ROLE", deployer, "the deployer")
    # A brand oracle's operations account (docs/operator.md) links wallets, fulfils and refunds
    # the brand's redemptions it could not deliver, and relays gasless redemptions (no role).
    for brand in config.brands:
        operations = config.operations_of(brand)
        if operations is not None:
            who = f"brand {brand.id}'s oracle operations account {operations}"
            ensure_role(registry, "FeedbackRegistry", "LINK_OPERATOR_ROLE", operations, who)
            ensure_role(redemption, "TierRedemption", f"fulfillerRole({brand.id})", operations, who)

    # Tiers and the catalog: the deployer manages every brand's items (it adds them below) and
    # can fulfil for each brand, as it could before roles were per brand.
    for role in ("ARBITER_ROLE", "PAUSER_ROLE"):
        ensure_role(redemption, "TierRedemption", role, deployer, "the deployer")
    for brand in config.brands:
        for role in (f"catalogRole({brand.id})", f"fulfillerRole({brand.id})"):
            ensure_role(redemption, "TierRedemption", role, deployer, "the deployer")
    thresholds = [to_units(t.threshold) for t in config.tiers]
    multipliers = [t.multiplier_bps for t in config.tiers]
    ensure_value("TierRedemption: tiers " + ", ".join(f"{t.name} from {t.threshold}" for t in config.tiers),
                 lambda: tuple(list(x) for x in redemption.tierSchedule()), (thresholds, multipliers),
                 lambda: redemption.setTiers(thresholds, multipliers, tx), redemption)
    steps.extend(_catalog_steps(redemption, config, tx))
    return steps


def _signer_steps(registry: Any, brand: Brand, previous: list[str], tx: dict[str, Any], on_chain: bool) -> list[Step]:
    """One brand's signers: adds first, then the quorum, then removals, so that the quorum never
    exceeds the signer count. A brand not yet `on_chain` (registered) gets every step."""
    brand_id = brand.id
    wanted = [s.lower() for s in brand.signers]
    steps = []
    for signer in brand.signers:
        if not on_chain or not registry.isSigner(brand_id, signer):
            steps.append(Step(f"FeedbackRegistry: brand {brand_id}: add signer {signer}",
                              lambda signer=signer: registry.addSigner(brand_id, signer, tx)))
    # registerBrand starts a brand at a quorum of one.
    if (registry.brandOf(brand_id)["quorum"] if on_chain else 1) != brand.quorum:
        steps.append(Step(f"FeedbackRegistry: brand {brand_id}: quorum = {brand.quorum}",
                          lambda: registry.setQuorum(brand_id, brand.quorum, tx)))
    for signer in previous:
        if on_chain and signer.lower() not in wanted and registry.isSigner(brand_id, signer):
            steps.append(Step(f"FeedbackRegistry: brand {brand_id}: remove signer {signer}",
                              lambda signer=signer: registry.removeSigner(brand_id, signer, tx)))
    return steps


def _catalog_steps(redemption: Any, config: DeployConfig, tx: dict[str, Any]) -> list[Step]:
    """Config item i is catalog item i. A new item is added; a changed one updated; a changed
    price is announced (it takes effect after the notice period, never at once)."""
    steps = []
    count = redemption.itemCount() if redemption is not None else 0
    # The chain's clock, read once: the contract judges both rules below by it.
    chain_time = int(web3.eth.get_block("latest")["timestamp"]) if count else 0
    for item_id, item in enumerate(config.catalog):
        brand_id = config.brand_of(item)
        if item_id >= count:
            steps.append(Step(f"TierRedemption: add item {item_id} {item.name!r} of brand {brand_id} at {item.price} SVC",
                              lambda item=item, brand_id=brand_id: redemption.addItem(brand_id, item_tuple(item), tx)))
            continue
        on_chain_brand = redemption.itemBrand(item_id)
        if on_chain_brand != brand_id:
            raise DeployError(f"catalog item {item_id} ({item.name!r}) belongs to brand {on_chain_brand} on chain, "
                              f"for good; the configuration says brand {brand_id}: add it as a new item instead")
        current = tuple(redemption.itemOf(item_id))
        wanted = item_tuple(item, price=current[0])
        pending = redemption.pendingPriceChange(item_id)
        if current != wanted:
            _refuse_harder_terms_during_a_rise(item_id, current, wanted, pending, chain_time)
            steps.append(Step(f"TierRedemption: update item {item_id} {item.name!r}",
                              lambda item_id=item_id, wanted=wanted: redemption.updateItem(item_id, wanted, tx)))
        price = to_units(item.price)
        if current[0] != price and not (pending[1] > 0 and pending[0] == price):
            if price > current[0] and not _redeemable_at(wanted, chain_time):
                raise DeployError(
                    f"catalog item {item_id}: a price rise is announced only on an item customers can redeem now "
                    "(active, in stock, within its window), so that its notice is a chance at the old price: "
                    "list the item at its current price first, then raise the price"
                )
            steps.append(Step(f"TierRedemption: announce item {item_id} price {item.price} SVC",
                              lambda item_id=item_id, price=price: redemption.announcePrice(item_id, price, tx)))
    return steps


def _refuse_harder_terms_during_a_rise(
    item_id: int, current: tuple, wanted: tuple, pending: Any, chain_time: int
) -> None:
    """The contract refuses to make an item harder to get while a price rise waits
    (ItemTermsLocked): say so before anything is sent rather than fail half-way."""
    new_price, effective_at = int(pending[0]), int(pending[1])
    if effective_at == 0 or new_price <= current[0] or effective_at <= chain_time:
        return
    harder = _terms_made_harder(current, wanted)
    if harder:
        when = datetime.fromtimestamp(effective_at, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        raise DeployError(
            f"catalog item {item_id}: a price rise to {new_price / 10**18:g} SVC is announced, in force from {when}; "
            f"until then the item cannot be made harder to get ({', '.join(harder)}). Keep those terms until then, "
            f"or withdraw the rise first: operator.py cancel-price-change {item_id}"
        )


def _redeemable_at(item: tuple, now: int) -> bool:
    """TierRedemption._redeemableNow for an Item tuple (what a rise's announcement needs)."""
    _, stock, _, _, _, start, end, active = item
    return bool(active) and stock != 0 and now >= start and (end == 0 or now <= end)


def _terms_made_harder(current: tuple, wanted: tuple) -> list[str]:
    """Which of an item's terms (ITierRedemption.Item tuples) `wanted` makes harder to get than
    `current`: as TierRedemption._harderToGet judges, 0 meaning no limit or no end."""
    _, stock, limit, tier, _, start, end, active = current
    _, new_stock, new_limit, new_tier, _, new_start, new_end, new_active = wanted
    checks = {
        "withdrawn": active and not new_active,
        "fewer units": new_stock < stock,
        "a lower per-customer limit": new_limit != 0 and (limit == 0 or new_limit < limit),
        "a higher tier": new_tier > tier,
        "a later start": new_start > start,
        "an earlier end": new_end != 0 and (end == 0 or new_end < end),
    }
    return [name for name, harder in checks.items() if harder]


def _require_funds(deployer: Any, contracts_to_deploy: int) -> None:
    """A clear error before the first transaction rather than a failure half-way."""
    balance = deployer.balance()
    gas_price = web3.eth.gas_price
    # Deploying the four contracts takes ~13M gas; wiring alone well under 3M.
    needed = gas_price * (3_000_000 + 4_000_000 * contracts_to_deploy)
    if balance < needed:
        raise DeployError(
            f"the deployer {deployer.address} holds {balance / 10**18:.6f} ETH; about "
            f"{needed / 10**18:.6f} ETH is needed at {gas_price / 10**9:.2f} gwei"
        )


# ------------------------------------------------------------------ the deployments record


def _read_record(deployments_dir: Path | None) -> dict[str, Any]:
    if deployments_dir is None:
        return {}
    path = record_path(deployments_dir, chain.id)
    if not path.exists():
        return {}
    record = json.loads(path.read_text())
    if record.get("chain_id") != chain.id:
        raise DeployError(f"{path} records chain {record.get('chain_id')}, the RPC serves chain {chain.id}")
    return record


def _existing_contracts(record: dict[str, Any]) -> dict[str, Any]:
    contracts = {}
    for name, entry in record.get("contracts", {}).items():
        if not web3.eth.get_code(entry["address"]):
            raise DeployError(
                f"the deployments record names {name} at {entry['address']}, but there is no code there on chain "
                f"{chain.id} (a reset local chain? delete the record to deploy afresh)"
            )
        contracts[name] = CONTRACT_TYPES[name].at(entry["address"])
    return contracts


def _write_record(
    deployments_dir: Path, record: dict[str, Any], contracts: dict[str, Any], deployed_now: dict[str, Any],
    deployer: Any, config: DeployConfig,
) -> None:
    from brownie.project import get_loaded_projects

    compiler = get_loaded_projects()[0]._compiler_config if get_loaded_projects() else {}
    entries = dict(record.get("contracts", {}))
    for name, receipt in deployed_now.items():
        entries[name] = {"address": contracts[name].address, "tx": receipt.txid, "block": receipt.block_number}
    updated = {
        "chain_id": chain.id,
        "network": network.show_active(),
        "deployer": deployer.address,
        "contracts": entries,
        "config_hash": config.digest(),
        "signers": {str(brand.id): list(brand.signers) for brand in config.brands},
        # Every brand any deploy configured (so granted the deployer its catalog and fulfiller
        # roles), kept when a brand leaves the config: `renounce-roles` gives up all of them.
        "brands": sorted(set(record.get("brands", [])) | {brand.id for brand in config.brands}),
        "compiler": {
            "solc": compiler.get("solc", {}).get("version"),
            "evm_version": compiler.get("evm_version"),
            "optimizer": compiler.get("solc", {}).get("optimizer"),
        },
        "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    deployments_dir.mkdir(parents=True, exist_ok=True)
    record_path(deployments_dir, chain.id).write_text(json.dumps(updated, indent=2) + "\n")


def main() -> Deployment | None:
    """`brownie run scripts/deploy.py --network X` (or tools/run_script.py deploy): deploys with
    scripts/config/<X>.yaml, recording in deployments/ (or $SERVICECOIN_DEPLOYMENTS_DIR).
    SERVICECOIN_DRY_RUN=1 prints the plan only. The deployer is brownie's first account on a
    development chain, else the key in $SERVICECOIN_DEPLOYER_KEY or the brownie account named
    by $SERVICECOIN_DEPLOYER_ACCOUNT (its password is asked for)."""
    from scripts.operator_accounts import load_deployer

    deployer = load_deployer()
    config_file = os.environ.get("SERVICECOIN_DEPLOY_CONFIG")
    config = load_config(config_file) if config_file else config_for_network(network.show_active())
    deployments_dir = Path(os.environ.get("SERVICECOIN_DEPLOYMENTS_DIR") or ROOT / "deployments")
    dry_run = os.environ.get("SERVICECOIN_DRY_RUN") == "1"
    result = deploy(deployer, config, deployments_dir=deployments_dir, dry_run=dry_run, log=print)
    print("dry run: nothing sent" if dry_run else f"deployments record: {record_path(deployments_dir, chain.id)}")
    return result

"""The operator's day-to-day, against the contracts recorded in deployments/<chainId>.json.

    python scripts/operator.py --network sepolia deploy [--dry-run] [--config FILE]
    python scripts/operator.py --rpc-url $SEPOLIA_RPC_URL add-signer BRAND 0x...
    python scripts/operator.py ... remove-signer BRAND 0x... | rotate-signer BRAND OLD NEW | set-quorum BRAND N
    python scripts/operator.py ... deactivate-brand BRAND | activate-brand BRAND
    python scripts/operator.py ... announce-price ITEM COINS | cancel-price-change ITEM
    python scripts/operator.py ... pause [coin|registry|redemption|all] | unpause [...]
    python scripts/operator.py ... transfer-admin NEW | accept-admin | cancel-admin-transfer

--network names a brownie network; --rpc-url (or $SERVICECOIN_RPC_URL) reaches any EVM chain
without one. The deployer comes from $SERVICECOIN_DEPLOYER_ACCOUNT (a brownie encrypted
account) or $SERVICECOIN_DEPLOYER_KEY (scripts/operator_accounts.py); never from a file here.
Every command prints the transaction it sent, or why it sent none.
"""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.brownie_session import brownie_session  # noqa: E402

CONTRACT_NAMES = {"coin": "ServiceCoin", "registry": "FeedbackRegistry", "redemption": "TierRedemption"}


def deployments_dir() -> Path:
    return Path(os.environ.get("SERVICECOIN_DEPLOYMENTS_DIR") or ROOT / "deployments")


def recorded(name: str) -> Any:
    """A contract of the recorded deployment on the connected chain."""
    import brownie
    from brownie import chain

    path = deployments_dir() / f"{chain.id}.json"
    if not path.exists():
        raise click.ClickException(f"no deployment recorded for chain {chain.id} ({path}): run `deploy` first")
    address = json.loads(path.read_text())["contracts"][name]["address"]
    return getattr(brownie, name).at(address)


def sent(tx: Any) -> None:
    click.echo(f"sent {tx.fn_name}: tx {tx.txid} in block {tx.block_number}, gas {tx.gas_used:,}")


@click.group()
@click.option("--network", "network_id", default="development", show_default=True, help="A brownie network id.")
@click.option("--rpc-url", envvar="SERVICECOIN_RPC_URL", help="A JSON-RPC URL instead of a brownie network.")
@click.pass_context
def cli(ctx: click.Context, network_id: str, rpc_url: str | None) -> None:
    """ServiceCoin operator commands."""
    session = brownie_session(network_id, rpc_url=rpc_url)
    ctx.with_resource(session)
    from scripts.operator_accounts import load_deployer

    ctx.obj = {"deployer": load_deployer()}


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print the plan; send nothing.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Deployment config (default: scripts/config/<network>.yaml).")
@click.option("--confirmations", default=1, show_default=True)
@click.pass_obj
def deploy(obj: dict[str, Any], dry_run: bool, config_file: Path | None, confirmations: int) -> None:
    """Deploy, or bring an existing deployment to the config: only the difference is sent."""
    from brownie import chain, network

    from scripts.deploy import DeployError, deploy as run_deploy, record_path
    from scripts.deploy_config import ConfigError, config_for_network, load_config

    try:
        config = load_config(config_file) if config_file else config_for_network(network.show_active())
        steps: list[str] = []
        run_deploy(obj["deployer"], config, confirmations=confirmations, deployments_dir=deployments_dir(),
                   dry_run=dry_run, log=lambda line: (steps.append(line), click.echo(("plan: " if dry_run else "") + line)))
    except (ConfigError, DeployError) as exc:
        raise click.ClickException(str(exc)) from None
    if not steps:
        click.echo("nothing to do: the chain already matches the configuration")
    elif not dry_run:
        click.echo(f"recorded in {record_path(deployments_dir(), chain.id)}")


BRAND = click.argument("brand_id", metavar="BRAND", type=click.IntRange(0, 2**32 - 1))


def registered_brand(registry: Any, brand_id: int) -> Any:
    """The brand as the registry holds it; a clear error if it was never registered."""
    brand = registry.brandOf(brand_id)
    if not brand["registered"]:
        raise click.ClickException(f"brand {brand_id} is not registered on the registry (deploy it from the configuration first)")
    return brand


@cli.command("add-signer")
@BRAND
@click.argument("signer")
@click.pass_obj
def add_signer(obj: dict[str, Any], brand_id: int, signer: str) -> None:
    """Register an oracle signer of a brand (it signs that brand's batches only)."""
    registry = recorded("FeedbackRegistry")
    registered_brand(registry, brand_id)
    if registry.isSigner(brand_id, signer):
        click.echo(f"{signer} is already a signer of brand {brand_id}: nothing sent")
        return
    sent(registry.addSigner(brand_id, signer, {"from": obj["deployer"]}))


@cli.command("remove-signer")
@BRAND
@click.argument("signer")
@click.pass_obj
def remove_signer(obj: dict[str, Any], brand_id: int, signer: str) -> None:
    """Deregister a brand's oracle signer (its old signatures stop counting at once)."""
    registry = recorded("FeedbackRegistry")
    brand = registered_brand(registry, brand_id)
    if not registry.isSigner(brand_id, signer):
        click.echo(f"{signer} is not a signer of brand {brand_id}: nothing sent")
        return
    if brand["signerCount"] - 1 < brand["quorum"]:
        raise click.ClickException(f"removing it would leave brand {brand_id} fewer signers than its quorum "
                                   f"({brand['quorum']}): lower the quorum first")
    sent(registry.removeSigner(brand_id, signer, {"from": obj["deployer"]}))


@cli.command("rotate-signer")
@BRAND
@click.argument("old")
@click.argument("new")
@click.pass_obj
def rotate_signer(obj: dict[str, Any], brand_id: int, old: str, new: str) -> None:
    """Replace a brand's signer by another in one transaction (e.g. after a key compromise)."""
    registry = recorded("FeedbackRegistry")
    registered_brand(registry, brand_id)
    sent(registry.rotateSigner(brand_id, old, new, {"from": obj["deployer"]}))


@cli.command("set-quorum")
@BRAND
@click.argument("quorum", type=int)
@click.pass_obj
def set_quorum(obj: dict[str, Any], brand_id: int, quorum: int) -> None:
    """Signatures a batch of the brand needs (1 to the brand's number of signers)."""
    registry = recorded("FeedbackRegistry")
    count = registered_brand(registry, brand_id)["signerCount"]
    if not 1 <= quorum <= count:
        raise click.ClickException(f"the quorum must be between 1 and brand {brand_id}'s {count} signer(s)")
    sent(registry.setQuorum(brand_id, quorum, {"from": obj["deployer"]}))


@cli.command("deactivate-brand")
@BRAND
@click.pass_obj
def deactivate_brand(obj: dict[str, Any], brand_id: int) -> None:
    """Refuse a brand's batches (its key compromised, or the brand rewarding other brands'
    customers); every other brand goes on. `pause registry` stops them all."""
    set_brand_active(obj, brand_id, False)


@cli.command("activate-brand")
@BRAND
@click.pass_obj
def activate_brand(obj: dict[str, Any], brand_id: int) -> None:
    """Accept a deactivated brand's batches again."""
    set_brand_active(obj, brand_id, True)


def set_brand_active(obj: dict[str, Any], brand_id: int, active: bool) -> None:
    registry = recorded("FeedbackRegistry")
    if registered_brand(registry, brand_id)["active"] == active:
        click.echo(f"brand {brand_id} is already {'active' if active else 'inactive'}: nothing sent")
        return
    sent(registry.setBrandActive(brand_id, active, {"from": obj["deployer"]}))


@cli.command("announce-price")
@click.argument("item_id", type=int)
@click.argument("coins", type=Decimal)
@click.pass_obj
def announce_price(obj: dict[str, Any], item_id: int, coins: Decimal) -> None:
    """Announce a catalog price; it takes effect after the notice period."""
    redemption = recorded("TierRedemption")
    tx = redemption.announcePrice(item_id, int(coins * 10**18), {"from": obj["deployer"]})
    sent(tx)
    click.echo(f"item {item_id} costs {coins} SVC from {tx.events['PriceChangeAnnounced']['effectiveAt']} (unix time)")


@cli.command("cancel-price-change")
@click.argument("item_id", type=int)
@click.pass_obj
def cancel_price_change(obj: dict[str, Any], item_id: int) -> None:
    """Withdraw an announced price change before it takes effect."""
    sent(recorded("TierRedemption").cancelPriceChange(item_id, {"from": obj["deployer"]}))


def _targets(which: str) -> list[str]:
    return list(CONTRACT_NAMES.values()) if which == "all" else [CONTRACT_NAMES[which]]


@cli.command()
@click.argument("which", type=click.Choice(["all", *CONTRACT_NAMES]), default="all")
@click.pass_obj
def pause(obj: dict[str, Any], which: str) -> None:
    """Stop minting, transfers and redemptions (all contracts by default)."""
    for name in _targets(which):
        contract = recorded(name)
        if contract.paused():
            click.echo(f"{name} is already paused")
        else:
            sent(contract.pause({"from": obj["deployer"]}))


@cli.command()
@click.argument("which", type=click.Choice(["all", *CONTRACT_NAMES]), default="all")
@click.pass_obj
def unpause(obj: dict[str, Any], which: str) -> None:
    """Resume (needs the admin role)."""
    for name in _targets(which):
        contract = recorded(name)
        if not contract.paused():
            click.echo(f"{name} is not paused")
        else:
            sent(contract.unpause({"from": obj["deployer"]}))


@cli.command("transfer-admin")
@click.argument("new_admin")
@click.pass_obj
def transfer_admin(obj: dict[str, Any], new_admin: str) -> None:
    """Start handing the admin role of all three contracts to NEW_ADMIN (e.g. a multisig).
    It accepts with `accept-admin` after the delay; the deployer's role ends then."""
    for name in CONTRACT_NAMES.values():
        sent(recorded(name).beginDefaultAdminTransfer(new_admin, {"from": obj["deployer"]}))
    click.echo("the new admin accepts after the admin transfer delay with `accept-admin`")


@cli.command("accept-admin")
@click.pass_obj
def accept_admin(obj: dict[str, Any]) -> None:
    """Run as the new admin: completes the hand-over started by transfer-admin."""
    for name in CONTRACT_NAMES.values():
        sent(recorded(name).acceptDefaultAdminTransfer({"from": obj["deployer"]}))


@cli.command("cancel-admin-transfer")
@click.pass_obj
def cancel_admin_transfer(obj: dict[str, Any]) -> None:
    """Abort a hand-over that has not been accepted."""
    for name in CONTRACT_NAMES.values():
        sent(recorded(name).cancelDefaultAdminTransfer({"from": obj["deployer"]}))


@cli.command("renounce-roles")
@click.pass_obj
def renounce_roles(obj: dict[str, Any]) -> None:
    """After the hand-over: the deployer gives up the operational roles it still holds."""
    deployer = obj["deployer"]
    for name in CONTRACT_NAMES.values():
        contract = recorded(name)
        roles = [getattr(contract, role)() for role in ("PAUSER_ROLE", "ARBITER_ROLE", "LINK_OPERATOR_ROLE")
                 if hasattr(contract, role)]
        if name == "TierRedemption":
            for brand_id in _brand_ids(contract):
                roles += [contract.catalogRole(brand_id), contract.fulfillerRole(brand_id)]
        for role in roles:
            if contract.hasRole(role, deployer):
                sent(contract.renounceRole(role, deployer, {"from": deployer}))


def _brand_ids(redemption: Any) -> set[int]:
    """The brands the deployer may hold per-brand roles for: every brand a deploy configured (the
    record's `brands`, and its signers' for records written before it) and those owning items."""
    from brownie import chain

    record = json.loads((deployments_dir() / f"{chain.id}.json").read_text())
    signers = record.get("signers", {})
    brands = {int(brand_id) for brand_id in signers} if isinstance(signers, dict) else set()
    brands |= {int(brand_id) for brand_id in record.get("brands", [])}
    return brands | {redemption.itemBrand(item_id) for item_id in range(redemption.itemCount())}


if __name__ == "__main__":
    cli()

"""Gas of the packed-holder-slot prototype, measured exactly like scripts/gas_snapshot.py.

    SOLCX_BINARY_PATH=/tmp/gasproto/solcx-local \
        .venv/bin/python tools/run_script.py proto_gas --network anvil-h1

Environment:
    PROTO_VARIANTS   comma list among: current, packed, packed_view, packed_min_event, packed_word (default: all)
    PROTO_SIZES      comma list of batch sizes (default 1,10,100,500; 500 only if it fits 12M gas)
    PROTO_BREAKDOWN  1: also split returning_same_period batches of 10 and 100 by opcode kind
                     (needs Anvil started by hand on the port with --steps-tracing)

Same bench as the snapshot (scripts.gas_snapshot.GasBench): same deployer key at nonce 0,
same records, signatures, sequence numbers, period handling, cases and caps; only the
deployment differs. Each variant is measured on its own deployment and the chain is reverted
in between, so every variant starts from the same state.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from brownie import (
    PackedServiceCoin,
    PackedServiceCoinWord,
    ProtoRegistry,
    ProtoRegistryMinEvent,
    ProtoRegistryView,
    TierRedemption,
    accounts,
    chain,
)
from eth_account import Account
from eth_utils import keccak
from hexbytes import HexBytes

from oracle.kinds import FeedbackKind
from oracle.typed_data import Domain
from scripts import gas_snapshot
from scripts.deploy import Deployment
from scripts.deploy_config import config_for_network, to_units
from scripts.gas_snapshot import (
    BRAND_CAP_COINS,
    CASES,
    GasBench,
    derived_key,
)

OUT = Path(__file__).resolve().parent.parent / "measurements" / "proto_gas.json"
# The prototype's customer cap is a count of rewards per period: far above anything measured.
CUSTOMER_REWARD_CAP = 1_000_000  # < 2**24


def _tx(deployer: Any) -> dict[str, Any]:
    return {"from": deployer, "required_confs": 1}


def _setup_deployer(funder: Any) -> Any:
    deployer = accounts.add(derived_key("deployer"))
    if deployer.nonce != 0:
        raise RuntimeError("measure on a fresh (or reverted) chain: the deployer has sent transactions")
    funder.transfer(deployer, 10**19, silent=True)
    return deployer


def _signer_config():
    signer_key = keccak(text="servicecoin-test-signer-0")
    config = config_for_network("development").model_copy(
        update={"signers": [Account.from_key(signer_key).address], "quorum": 1}
    )
    return signer_key, config


def deploy_packed(funder: Any, registry_contract: Any, coin_contract: Any = None) -> GasBench:
    """PackedServiceCoin + a prototype registry (ProtoRegistry or ProtoRegistryView) + TierRedemption."""
    deployer = _setup_deployer(funder)
    signer_key, config = _signer_config()
    tx = _tx(deployer)
    delay = config.admin_transfer_delay
    coin = (PackedServiceCoin if coin_contract is None else coin_contract).deploy(deployer, delay, tx)
    registry = registry_contract.deploy(deployer, coin, config.period_length, delay, tx)
    redemption = TierRedemption.deploy(
        deployer, coin, registry, config.price_notice_period, config.dispute_window, delay, tx
    )
    coin.grantRole(coin.MINTER_ROLE(), registry, tx)
    registry.setTierSource(redemption, tx)
    for name, amount in config.base_rewards.items():
        registry.setBaseReward(int(FeedbackKind.from_name(name)), to_units(amount), tx)
    registry.setCustomerRewardCap(CUSTOMER_REWARD_CAP, tx)
    registry.setWelcomeBonus(to_units(config.welcome_bonus), tx)
    for signer in config.signers:
        registry.addSigner(signer, tx)
    registry.setQuorum(config.quorum, tx)
    for brand in config.brands:
        registry.registerBrand(brand.id, to_units(BRAND_CAP_COINS), tx)
    redemption.setTiers(
        [to_units(t.threshold) for t in config.tiers], [t.multiplier_bps for t in config.tiers], tx
    )
    deployment = Deployment(coin=coin, registry=registry, redemption=redemption, config=config)
    domain = Domain(chain_id=chain.id, verifying_contract=registry.address)
    return GasBench(deployment, deployer, funder, signer_key, domain)


VARIANTS = {
    # the project as it is (scripts/deploy.py), for a side-by-side on the same chain
    "current": (lambda funder: GasBench.deploy(funder), ("FeedbackRegistry", "ServiceCoin")),
    # (b), per-customer state in the registry's own mapping with the lean event, was measured on
    # a copy of contracts/FeedbackRegistry.sol whose FeedbackRecorded was swapped for the
    # prototype's; the copy is not kept (REPORT.md, part 1).
    # (a) the prototype: one holder slot in the coin, the coin applies the tier
    "packed": (lambda funder: deploy_packed(funder, ProtoRegistry), ("ProtoRegistry", "PackedServiceCoin")),
    # (a') the same, the registry reads lifetime with one view call per record
    "packed_view": (
        lambda funder: deploy_packed(funder, ProtoRegistryView),
        ("ProtoRegistryView", "PackedServiceCoin"),
    ),
    # (a'') the prototype with the minimal per-record event
    "packed_min_event": (
        lambda funder: deploy_packed(funder, ProtoRegistryMinEvent),
        ("ProtoRegistryMinEvent", "PackedServiceCoin"),
    ),
    # (a3) the prototype with the holder slot packed by hand (no struct)
    "packed_word": (
        lambda funder: deploy_packed(funder, ProtoRegistry, PackedServiceCoinWord),
        ("ProtoRegistry", "PackedServiceCoinWord"),
    ),
    "packed_word_min_event": (
        lambda funder: deploy_packed(funder, ProtoRegistryMinEvent, PackedServiceCoinWord),
        ("ProtoRegistryMinEvent", "PackedServiceCoinWord"),
    ),
}


def _breakdown(bench: GasBench, names: tuple[str, str], log: io.StringIO) -> dict[str, Any]:
    from scripts.gas_breakdown import _pc_map, calldata_gas, trace_breakdown

    receipts = bench.run_batches("returning_same_period", (10, 100))
    pc_maps = {"registry": _pc_map(names[0]), "CALL callee": _pc_map(names[1])}
    parts: dict[int, dict[str, int]] = {}
    for size, tx in receipts.items():
        data = bytes(HexBytes(tx.input))
        split = {"base transaction": 21_000, "calldata (EIP-2028)": calldata_gas(data), **trace_breakdown(tx.txid, pc_maps)}
        counted = sum(v for k, v in split.items() if " in " not in k and "number" not in k)
        split["refund (gas_used minus the parts)"] = tx.gas_used - counted
        split["total (gas_used)"] = tx.gas_used
        split["calldata bytes"] = len(data)
        parts[size] = split
    return parts


def render_breakdown(name: str, parts: dict[int, dict[str, int]]) -> str:
    small, large = sorted(parts)
    keys = sorted(set(parts[small]) | set(parts[large]))
    lines = [f"{name}: returning_same_period, batch {small} and {large}, per further event"]
    lines.append(f"{'part':<66}{small:>11}{large:>12}{'per event':>11}{'fixed':>10}")
    for key in keys:
        a, b = parts[small].get(key, 0), parts[large].get(key, 0)
        per_event = (b - a) / (large - small)
        lines.append(f"{key:<66}{a:>11,}{b:>12,}{per_event:>11,.1f}{a - small * per_event:>10,.0f}")
    return "\n".join(lines)


def main() -> dict[str, Any]:
    names = os.environ.get("PROTO_VARIANTS", ",".join(VARIANTS)).split(",")
    sizes = tuple(int(s) for s in os.environ.get("PROTO_SIZES", "1,10,100,500").split(","))
    want_breakdown = os.environ.get("PROTO_BREAKDOWN") == "1"
    results: dict[str, Any] = json.loads(OUT.read_text()) if OUT.exists() else {}
    for name in names:
        deploy_fn, contract_names = VARIANTS[name]
        log = io.StringIO()
        chain.snapshot()
        try:
            with contextlib.redirect_stdout(log):
                bench = deploy_fn(accounts[0])
                batches = {case: bench.measure_batches(case, sizes) for case in CASES}
            entry: dict[str, Any] = {"submit_batch": batches}
            if want_breakdown:
                chain.revert()
                with contextlib.redirect_stdout(log):
                    bench = deploy_fn(accounts[0])
                    entry["breakdown"] = {str(k): v for k, v in _breakdown(bench, contract_names, log).items()}
        except BaseException:
            sys.stdout.write(log.getvalue())
            raise
        finally:
            chain.revert()
        results[name] = entry
        print(f"\n=== {name} ===")
        print(gas_snapshot.render({"submit_batch": batches, "operations": {}, "settings": gas_snapshot.snapshot_settings()}))
        if want_breakdown:
            print(render_breakdown(name, {int(k): v for k, v in entry["breakdown"].items()}))
    OUT.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwritten: {OUT}")
    return results

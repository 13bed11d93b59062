"""`servicecoin redemptions` and `servicecoin prices` over what the watcher stored (no chain
needed), and the arbiter's commands' errors. On a chain: tests/integration/test_redemption_loop.py."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from eth_account import Account

from oracle.chain.follower import ChainLog
from oracle.cli import main as cli
from oracle.custody import content_master_key
from oracle.redeem.store import RedemptionStore
from oracle.redeem.watcher import RedemptionWatcher
from oracle.store.engine import write_transaction
from oracle.store.outbox import Outbox

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"
DEAD_RPC = "http://127.0.0.1:9"
CUSTOMER = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
COIN = 10**18
NOW = 1_790_000_000


def log(name: str, block: int, index: int = 0, **args) -> ChainLog:
    return ChainLog(name, args, block, bytes([block]) * 32, index, bytes([block]) * 32, NOW + block)


@pytest.fixture
def installation(tmp_path: Path):
    (tmp_path / "policy.yaml").write_bytes(EXAMPLE_POLICY.read_bytes())
    (tmp_path / "oracle.json").write_text(json.dumps(Account.encrypt(secrets.token_bytes(32), "pw")))
    settings = {
        "brand_id": 1, "policy": "policy.yaml", "store": {"url": "sqlite:///outbox.db"},
        "chain": {"rpc_url": DEAD_RPC, "chain_id": 31337, "registry": "0x" + "11" * 20, "rpc_timeout_seconds": 1},
        "signers": [{"keystore": "oracle.json"}], "sources": {"generic": {"secret_env": "GEN_SECRET"}},
    }
    (tmp_path / "servicecoin.yaml").write_text(yaml.safe_dump(settings))
    env = {"SERVICECOIN_CONFIG": str(tmp_path / "servicecoin.yaml"), "SERVICECOIN_BRAND_SECRET": secrets.token_hex(32),
           "SERVICECOIN_KEYSTORE_PASSWORD": "pw", "GEN_SECRET": "s"}
    outbox = Outbox.open(f"sqlite:///{tmp_path / 'outbox.db'}", content_master_key(bytes.fromhex(env["SERVICECOIN_BRAND_SECRET"])))
    with write_transaction(outbox.engine) as connection:
        RedemptionWatcher().handle(connection, [
            log("Redeemed", 1, redemptionId=0, customer=CUSTOMER, itemId=0, price=50 * COIN, tier=0),
            log("Fulfilled", 2, redemptionId=0, deliveryCommitment=b"\x11" * 32),
            log("Redeemed", 3, redemptionId=1, customer=CUSTOMER, itemId=3, price=30 * COIN, tier=0),
            log("Redeemed", 3, 1, redemptionId=2, customer=CUSTOMER, itemId=1, price=120 * COIN, tier=1),
            log("Fulfilled", 4, redemptionId=2, deliveryCommitment=b"\x22" * 32),
            log("Disputed", 5, redemptionId=2, customer=CUSTOMER),
            log("PriceChangeAnnounced", 6, itemId=3, oldPrice=30 * COIN, newPrice=35 * COIN, effectiveAt=NOW + 100),
            log("PriceChangeAnnounced", 6, 1, itemId=0, oldPrice=50 * COIN, newPrice=45 * COIN, effectiveAt=4_000_000_000),
        ])
    RedemptionStore(outbox.engine).record_failure(1, 2, 0.0, "HTTP 503: warehouse offline")
    return tmp_path, env


def invoke(env: dict[str, str], *args: str):
    return CliRunner().invoke(cli, list(args), env=env)


def test_redemptions_lists_states_next_steps_and_disputes(installation) -> None:
    _, env = installation
    result = invoke(env, "redemptions")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "state", "next", "step", "item", "price", "tries", "customer", "/", "note"]
    assert lines[1].split() == ["0", "fulfilled", "-", "0", "50", "0", CUSTOMER]
    assert lines[2].split()[:7] == ["1", "pending", "deliver", "3", "30", "2", CUSTOMER]
    assert lines[2].endswith("HTTP 503: warehouse offline")
    assert lines[3].split()[:2] == ["2", "disputed"]
    assert lines[3].endswith("disputed: the arbiter decides (servicecoin redemption refund|reject-dispute 2)")


def test_redemptions_filters_by_state_and_speaks_json(installation) -> None:
    _, env = installation
    result = invoke(env, "redemptions", "--state", "disputed", "--state", "fulfilled", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["id"], r["state"], r["price_units"]) for r in rows] == [(0, "fulfilled", str(50 * COIN)),
                                                                       (2, "disputed", str(120 * COIN))]
    assert rows[0]["chain_commitment"] == "0x" + "11" * 32 and rows[0]["action"] is None
    assert invoke(env, "redemptions", "--state", "refunded").output == "no redemptions in state refunded\n"
    bad = invoke(env, "redemptions", "--state", "lost")
    assert bad.exit_code == 2 and "'lost' is not one of" in bad.output


def test_prices_lists_announcements_by_this_machines_clock_when_the_chain_is_down(installation) -> None:
    _, env = installation
    result = invoke(env, "prices")
    assert result.exit_code == 0, result.output
    assert "the chain is unreachable" in result.output
    assert "item 3: 30 -> 35 SVC, effective 2026-09-21 14:15:00 UTC (effective), announced 2026-09-21 14:13:26 UTC" in result.output
    assert "item 0: 50 -> 45 SVC, effective 2096-10-02 07:06:40 UTC (upcoming)" in result.output


def test_the_arbiters_commands_need_the_redemption_contract_and_the_operations_account(installation) -> None:
    directory, env = installation
    result = invoke(env, "redemption", "refund", "2")
    assert result.exit_code == 1 and "chain.redemption: the TierRedemption address is not configured" in result.output
    settings = yaml.safe_load((directory / "servicecoin.yaml").read_text())
    settings["chain"]["redemption"] = "0x" + "22" * 20
    (directory / "servicecoin.yaml").write_text(yaml.safe_dump(settings))
    result = invoke(env, "redemption", "reject-dispute", "2")
    assert result.exit_code == 1 and "no `operations:` keystore in the config" in result.output
    assert invoke(env, "redemption", "refund", "-1").exit_code == 2


def test_fulfilment_without_its_contract_or_operations_account_is_a_config_error(installation) -> None:
    directory, env = installation
    settings = yaml.safe_load((directory / "servicecoin.yaml").read_text())
    settings["fulfilment"] = {"url": "https://perks.example/fulfil", "secret_env": "F"}
    (directory / "servicecoin.yaml").write_text(yaml.safe_dump(settings))
    result = invoke(env, "redemptions")
    assert result.exit_code == 1 and "fulfilment: needs chain.redemption" in result.output
    settings["chain"]["redemption"] = "0x" + "22" * 20
    (directory / "servicecoin.yaml").write_text(yaml.safe_dump(settings))
    result = invoke(env, "redemptions")
    assert result.exit_code == 1 and "fulfilment: needs operations" in result.output

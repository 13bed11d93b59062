"""`servicecoin redeem` without a chain: what it refuses before anything is signed or sent.
The command against Anvil is tested in tests/integration/test_gasless_redeem.py."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner
from eth_account import Account

from oracle.cli import main as cli
from oracle.redeem.relay_cli import coin_units

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"
DEAD_RPC = "http://127.0.0.1:9"  # discard port: nothing answers JSON-RPC there


def install(tmp_path: Path, **changes: object) -> dict[str, str]:
    (tmp_path / "policy.yaml").write_bytes(EXAMPLE_POLICY.read_bytes())
    for name in ("oracle", "ops"):
        (tmp_path / f"{name}.json").write_text(json.dumps(Account.encrypt(secrets.token_bytes(32), "pw")))
    settings = {
        "brand_id": 1,
        "policy": "policy.yaml",
        "chain": {"rpc_url": DEAD_RPC, "chain_id": 31337, "registry": "0x" + "11" * 20, "rpc_timeout_seconds": 2},
        "signers": [{"keystore": "oracle.json"}],
        "sources": {"generic": {"secret_env": "GEN_SECRET"}},
        **changes,
    }
    config = tmp_path / "servicecoin.yaml"
    config.write_text(yaml.safe_dump(settings))
    return {"SERVICECOIN_CONFIG": str(config), "SERVICECOIN_BRAND_SECRET": secrets.token_hex(32),
            "SERVICECOIN_KEYSTORE_PASSWORD": "pw", "GEN_SECRET": "s3cret"}


def test_redeem_names_each_missing_setting(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["redeem", "zendesk:7881", "3"], env=install(tmp_path))
    assert result.exit_code == 1
    assert "gasless redemption needs chain.redemption, chain.forwarder, operations in the config" in result.output


def test_redeem_says_when_the_chain_cannot_be_reached(tmp_path: Path) -> None:
    chain = {"rpc_url": DEAD_RPC, "chain_id": 31337, "registry": "0x" + "11" * 20, "rpc_timeout_seconds": 2,
             "redemption": "0x" + "22" * 20, "forwarder": "0x" + "33" * 20}
    env = install(tmp_path, chain=chain, operations={"keystore": "ops.json"})
    result = CliRunner().invoke(cli, ["redeem", "zendesk:7881", "3", "--max-price", "30"], env=env)
    assert result.exit_code == 1
    assert "the chain RPC failed: ConnectionError" in result.output


@pytest.mark.parametrize("text", ["abc", "-1", "1e-19", "0.0000000000000000001", "NaN", "Infinity"])
def test_a_max_price_must_be_coins_with_at_most_18_decimals(text: str) -> None:
    with pytest.raises(click.BadParameter):
        coin_units(text)


def test_a_max_price_in_coins_becomes_units() -> None:
    assert (coin_units("30"), coin_units("12.5"), coin_units("0.000000000000000001")) == (30 * 10**18, 125 * 10**17, 1)


def test_a_malformed_max_price_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["redeem", "zendesk:7881", "3", "--max-price", "lots"], env=install(tmp_path))
    assert result.exit_code == 2 and "'lots' is not a number of coins" in result.output

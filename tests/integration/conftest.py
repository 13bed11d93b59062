"""The oracle against a real chain: `brownie test tests/integration` launches Anvil, the
contracts are deployed by the operator's own `deploy()`, and the oracle talks to the chain
only through its own web3 client over HTTP, as in production."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from eth_account import Account
from eth_utils import keccak

from oracle.config import OracleConfig, load_config
from oracle.custody import CustodialWallets
from scripts import brownie_compat
from scripts.deploy import deploy
from scripts.deploy_config import config_for_network

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_POLICY = ROOT / "examples" / "policy.yaml"
PASSWORD = "integration-test-keystore-password"
SIGNER_KEY = keccak(text="servicecoin-integration-oracle-signer")
COSIGNER_KEY = keccak(text="servicecoin-integration-oracle-cosigner")
ZENDESK_SECRET = "zendesk-signing-secret"
GENERIC_SECRET = "generic-webhook-secret"

brownie_compat.install()


@pytest.fixture
def deployment(accounts):
    """A fresh deployment per test: each test's oracle starts a fresh outbox, whose sequence
    numbers must not meet an earlier test's on the same registry."""
    signers = [Account.from_key(SIGNER_KEY).address, Account.from_key(COSIGNER_KEY).address]
    config = config_for_network("development").model_copy(update={"signers": signers, "quorum": 1})
    deployed = deploy(accounts[0], config)
    for key in (SIGNER_KEY, COSIGNER_KEY):  # the signers pay gas for the batches they submit
        accounts[0].transfer(Account.from_key(key).address, "10 ether")
    return deployed


@dataclass
class OracleFiles:
    """An oracle installation in a temporary directory: config, keystores, policy."""

    directory: Path
    config_path: Path
    environ: dict[str, str]
    brand_secret: bytes

    def config(self) -> OracleConfig:
        return load_config(self.config_path)

    def custodial_address(self, customer_id: str) -> str:
        return CustodialWallets(self.brand_secret, 1).address_for(customer_id)


def write_oracle_files(directory: Path, rpc_url: str, chain_id: int, registry: str, **overrides) -> OracleFiles:
    directory.mkdir(parents=True, exist_ok=True)
    keys = []
    for name, key in (("oracle", SIGNER_KEY), ("cosigner", COSIGNER_KEY)):
        path = directory / f"{name}.json"
        path.write_text(json.dumps(Account.encrypt(key, PASSWORD)))
        keys.append(path.name)
    (directory / "policy.yaml").write_bytes(EXAMPLE_POLICY.read_bytes())
    brand_secret = secrets.token_bytes(32)
    settings = {
        "brand_id": 1,
        "policy": "policy.yaml",
        "store": {"url": "sqlite:///outbox.db"},
        "chain": {
            "rpc_url": rpc_url,
            "chain_id": chain_id,
            "registry": registry,
            "confirmations": 1,
            "finality_depth": 3,
            "poll_seconds": 0.2,
        },
        "signers": [{"keystore": keys[0]}],
        "batching": {"max_size": 50, "max_age_seconds": 0.5},
        "server": {"port": 0},
        "sources": {"zendesk": {"secret_env": "ZD_SECRET"}, "generic": {"secret_env": "GEN_SECRET"}},
        "log_format": "text",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key] = {**settings[key], **value}
        else:
            settings[key] = value
    config_path = directory / "servicecoin.yaml"
    config_path.write_text(yaml.safe_dump(settings))
    environ = {
        "SERVICECOIN_KEYSTORE_PASSWORD": PASSWORD,
        "SERVICECOIN_BRAND_SECRET": brand_secret.hex(),
        "ZD_SECRET": ZENDESK_SECRET,
        "GEN_SECRET": GENERIC_SECRET,
    }
    return OracleFiles(directory, config_path, environ, brand_secret)


@pytest.fixture
def oracle_files(tmp_path, deployment, web3) -> OracleFiles:
    return write_oracle_files(tmp_path / "oracle", web3.provider.endpoint_uri, web3.eth.chain_id, deployment.registry.address)

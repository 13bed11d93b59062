"""An oracle installation for a local chain, as a brand would lay it out: keystores, policy,
config file and the environment holding its secrets. Used by the demo, the benchmarks and the
integration tests, so all three run the oracle exactly as `servicecoin run` does."""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from eth_account import Account
from eth_utils import keccak
from web3 import HTTPProvider

from oracle.config import OracleConfig, load_config
from oracle.custody import CustodialWallets

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_POLICY = ROOT / "examples" / "policy.yaml"
PASSWORD = "local-oracle-keystore-password"
SIGNER_KEY = keccak(text="servicecoin-local-oracle-signer")
COSIGNER_KEY = keccak(text="servicecoin-local-oracle-cosigner")
ZENDESK_SECRET = "zendesk-signing-secret"
GENERIC_SECRET = "generic-webhook-secret"


@dataclass
class OracleFiles:
    directory: Path
    config_path: Path
    environ: dict[str, str]
    brand_secret: bytes

    def config(self) -> OracleConfig:
        return load_config(self.config_path)

    def custodial_address(self, customer_id: str) -> str:
        return CustodialWallets(self.brand_secret, 1).address_for(customer_id)


def signer_addresses() -> list[str]:
    return [Account.from_key(SIGNER_KEY).address, Account.from_key(COSIGNER_KEY).address]


def write_oracle_files(directory: Path, rpc_url: str, chain_id: int, registry: str, **overrides: Any) -> OracleFiles:
    """Writes keystores, the example policy and a config for brand 1; `overrides` replace (or,
    for mappings, update) top-level config sections."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, key in (("oracle", SIGNER_KEY), ("cosigner", COSIGNER_KEY)):
        (directory / f"{name}.json").write_text(json.dumps(Account.encrypt(key, PASSWORD)))
    (directory / "policy.yaml").write_bytes(EXAMPLE_POLICY.read_bytes())
    brand_secret = secrets.token_bytes(32)
    settings: dict[str, Any] = {
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
        "signers": [{"keystore": "oracle.json"}],
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


class BlockTicker:
    """Mines a block every `interval` seconds over JSON-RPC, as a live chain produces blocks
    whether or not anyone transacts, so that batches reach their finality depth."""

    def __init__(self, rpc_url: str, interval: float = 0.5) -> None:
        self._provider = HTTPProvider(rpc_url)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="block-ticker", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def __enter__(self) -> "BlockTicker":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

"""The oracle's configuration file: every mistake named by its field, secrets never in it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from oracle.config import ConfigError, brand_secret, load_config

REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


def minimal(**changes) -> dict:
    settings = {
        "brand_id": 1,
        "policy": "policy.yaml",
        "chain": {"rpc_url": "http://127.0.0.1:8545", "chain_id": 31337, "registry": REGISTRY},
        "signers": [{"keystore": "keys/oracle.json"}],
        "sources": {"generic": {"secret_env": "GEN_SECRET"}},
    }
    settings.update(changes)
    return settings


def write(tmp_path: Path, settings: dict | str) -> Path:
    path = tmp_path / "servicecoin.yaml"
    path.write_text(settings if isinstance(settings, str) else yaml.safe_dump(settings))
    return path


def test_a_minimal_config_loads_with_defaults_and_paths_next_to_it(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, minimal()))
    assert config.policy == tmp_path / "policy.yaml"
    assert config.signers[0].keystore == tmp_path / "keys" / "oracle.json"
    assert config.store.url == f"sqlite:///{tmp_path / 'servicecoin.db'}"
    assert (config.batching.max_size, config.chain.confirmations, config.chain.finality_depth) == (100, 1, 12)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"brand_id": -1}, "brand_id: Input should be greater than or equal to 0"),
        ({"chain": {"rpc_url": "x", "chain_id": 1, "registry": "0x1234"}}, "chain.registry: Value error, must be a 0x-prefixed 20-byte hex address"),
        ({"chain": {"rpc_url": "x", "chain_id": 1, "registry": REGISTRY.replace("e7f", "E7f")}}, "chain.registry: Value error, mixed-case address with a wrong checksum"),
        ({"chain": {"rpc_url": "x", "chain_id": 1, "registry": REGISTRY, "confirmations": 20}}, "chain: Value error, finality_depth must be at least confirmations"),
        ({"signers": []}, "signers: List should have at least 1 item"),
        ({"sources": {"zendsk": {"secret_env": "X"}}}, "sources.zendsk.[key]: Input should be 'generic', 'zendesk', 'intercom' or 'freshdesk'"),
        ({"batching": {"max_size": 501}}, "batching.max_size: Input should be less than or equal to 500"),
        ({"chain": {"rpc_url": "x", "chain_id": 1, "registry": REGISTRY, "catalog_items": []}},
         "chain.catalog_items: Value error, list this brand's catalog item ids"),
        ({"chain": {"rpc_url": "x", "chain_id": 1, "registry": REGISTRY, "catalog_items": [0, -1]}},
         "chain.catalog_items: Value error, list this brand's catalog item ids"),
        ({"chain": {"rpc_url": "x", "chain_id": 1, "registry": REGISTRY, "catalog_items": ["3"]}},
         "chain.catalog_items.0: Input should be a valid integer"),
        ({"store": {"url": "sqlite+aiosqlite:///x.db"}}, "store.url: Value error, sqlite+aiosqlite is not supported"),
        ({"private_key": "0xabc"}, "private_key: Extra inputs are not permitted"),
        (
            {"sources": {"intercom": {"secret_env": "X", "csat_event_types": ["a"]}}},
            "sources.intercom.csat_event_types: only the zendesk source has event types",
        ),
    ],
)
def test_each_mistake_is_named_by_its_field(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, minimal(**changes)))
    assert message in str(caught.value)


def test_a_missing_or_malformed_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "brand_id: [1"))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(write(tmp_path, "- 1\n- 2\n"))


def test_the_brand_secret_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, minimal()))
    secret = bytes(range(32))
    assert brand_secret(config.secrets, {"SERVICECOIN_BRAND_SECRET": "0x" + secret.hex()}) == secret
    with pytest.raises(ConfigError, match="SERVICECOIN_BRAND_SECRET is not set"):
        brand_secret(config.secrets, {})
    with pytest.raises(ConfigError, match="must be 32 bytes"):
        brand_secret(config.secrets, {"SERVICECOIN_BRAND_SECRET": "abcd"})
    with pytest.raises(ConfigError, match="must be hex"):
        brand_secret(config.secrets, {"SERVICECOIN_BRAND_SECRET": "not hex at all"})
    (tmp_path / "brand.secret").write_text(secret.hex() + "\n")
    from_file = load_config(write(tmp_path, minimal(secrets={"brand_secret_file": "brand.secret"})))
    assert brand_secret(from_file.secrets, {}) == secret


def test_absolute_paths_are_kept_as_they_are(tmp_path: Path) -> None:
    keystore = tmp_path / "elsewhere" / "oracle.json"
    config = load_config(write(tmp_path, minimal(signers=[{"keystore": str(keystore)}], policy=str(tmp_path / "p.yaml"))))
    assert config.signers[0].keystore == keystore
    assert config.policy == tmp_path / "p.yaml"


def test_a_key_given_twice_is_refused_where_it_is(tmp_path: Path) -> None:
    """PyYAML keeps the last of two equal keys silently (found by a QA pass, 2026-11-24)."""
    text = yaml.safe_dump(minimal()) + "brand_id: 2\n"
    with pytest.raises(ConfigError, match=r"(?s)not valid YAML: while reading a mapping.*found the key 'brand_id' twice.*line 12"):
        load_config(write(tmp_path, text))


def test_catalog_items_name_this_brands_items(tmp_path: Path) -> None:
    chain = {"rpc_url": "x", "chain_id": 1, "registry": REGISTRY, "catalog_items": [3, 0, 3]}
    assert load_config(write(tmp_path, minimal(chain=chain))).chain.catalog_items == frozenset({0, 3})
    assert load_config(write(tmp_path, minimal())).chain.catalog_items is None

"""The deployment configuration's amounts: converted to units exactly, and refused with the
field's name when the contracts could not hold them (every stored amount is a uint96)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from scripts.deploy_config import CONFIG_DIR, MAX_UNITS, ConfigError, load_config, to_units

LARGEST = Decimal("79228162514.264337593543950335")  # (2^96 - 1) / 10^18


def test_units_are_exact_for_the_largest_amount_the_contracts_hold() -> None:
    assert to_units(LARGEST) == MAX_UNITS == 2**96 - 1
    assert to_units(Decimal("999999999999.999999999999999999")) == 10**30 - 1


def _config_with(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load((CONFIG_DIR / "development.yaml").read_text())
    change(raw)
    path = tmp_path / "deploy.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_tier_threshold_at_the_uint96_limit_is_accepted(tmp_path: Path) -> None:
    def top_tier(raw: dict) -> None:
        raw["tiers"][-1]["threshold"] = str(LARGEST)

    config = load_config(_config_with(tmp_path, top_tier))
    assert to_units(config.tiers[-1].threshold) == MAX_UNITS


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda raw: raw["tiers"][-1].update(threshold="79228162514.264337593543950336"), "tiers.3.threshold"),
        (lambda raw: raw.update(welcome_bonus="100000000000"), "welcome_bonus"),
    ],
)
def test_an_amount_above_uint96_is_refused_naming_its_field(tmp_path: Path, change, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=rf"{field}.*more than the contracts hold"):
        load_config(_config_with(tmp_path, change))


@pytest.mark.parametrize("value", [2**24, -1, "5.5", "50 SVC"])
def test_the_customer_cap_is_a_count_that_fits_24_bits(tmp_path: Path, value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="customer_rewards_per_period"):
        load_config(_config_with(tmp_path, lambda raw: raw.update(customer_rewards_per_period=value)))


def test_the_largest_customer_cap_is_accepted(tmp_path: Path) -> None:
    config = load_config(_config_with(tmp_path, lambda raw: raw.update(customer_rewards_per_period=2**24 - 1)))
    assert config.customer_rewards_per_period == 2**24 - 1


# ---------------------------------------------------------------- signers, per brand

SIGNER_A = "0x66aB6D9362d4F35596279692F0251Db635165871"
SIGNER_B = "0x" + "2b" * 20


def test_each_brand_names_its_own_signers_and_quorum(tmp_path: Path) -> None:
    config = load_config(_config_with(tmp_path, _two_brands))
    assert [(b.id, b.signers, b.quorum) for b in config.brands] == [(1, [SIGNER_A], 1), (2, [SIGNER_A, SIGNER_B], 2)]


def _two_brands(raw: dict) -> None:
    """A second brand, Globex (2), owning the last catalog item; Acme (1) owns the others."""
    raw["brands"].append({"id": 2, "name": "Globex", "cap_per_period": 10, "signers": [SIGNER_A, SIGNER_B], "quorum": 2})
    for item in raw["catalog"]:
        item["brand"] = 1
    raw["catalog"][-1]["brand"] = 2


# ---------------------------------------------------------------- catalog items and operations, per brand

OPERATIONS = "0x" + "4d" * 20


def test_each_catalog_item_belongs_to_the_brand_it_names(tmp_path: Path) -> None:
    config = load_config(_config_with(tmp_path, _two_brands))
    assert [config.brand_of(item) for item in config.catalog] == [1, 1, 1, 2]


def test_with_one_brand_an_item_without_a_brand_is_that_brands(tmp_path: Path) -> None:
    config = load_config(CONFIG_DIR / "development.yaml")
    assert [config.brand_of(item) for item in config.catalog] == [1, 1, 1, 1]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda raw: (_two_brands(raw), raw["catalog"][0].pop("brand")),
         r"catalog item 0 \('10% discount'\): name its brand"),
        (lambda raw: raw["catalog"][2].update(brand=7), r"catalog item 2 \('Product-team call'\): brand 7 is not in brands"),
        (lambda raw: raw["catalog"][0].update(brand=-1), r"catalog\.0\.brand"),
        (lambda raw: (_two_brands(raw), raw.update(oracle_operations=OPERATIONS)),
         r"oracle_operations names the operations account of a deployment's only brand"),
        (lambda raw: (raw["brands"][0].update(operations=OPERATIONS), raw.update(oracle_operations=OPERATIONS)),
         "set brands\\[\\]\\.operations instead"),
        (lambda raw: raw["brands"][0].update(operations="0x1234"), r"brands\.0\.operations.*20-byte hex address"),
    ],
    ids=["no_brand_with_two", "unknown_brand", "negative_brand", "global_operations_with_two_brands",
         "operations_said_twice", "operations_not_an_address"],
)
def test_bad_brand_settings_of_items_and_operations_are_refused(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=message):
        load_config(_config_with(tmp_path, change))


def test_each_brand_has_its_own_operations_account(tmp_path: Path) -> None:
    def operations(raw: dict) -> None:
        _two_brands(raw)
        raw["brands"][1]["operations"] = OPERATIONS

    config = load_config(_config_with(tmp_path, operations))
    assert [config.operations_of(brand) for brand in config.brands] == [None, OPERATIONS]
    single = load_config(_config_with(tmp_path, lambda raw: raw.update(oracle_operations=OPERATIONS)))
    assert [single.operations_of(brand) for brand in single.brands] == [OPERATIONS]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda raw: raw.update(signers=[SIGNER_A], quorum=1), "signers and quorum are set per brand now"),
        (lambda raw: raw["brands"][0].update(signers=[]), r"brands\.0\.signers.*at least 1 item"),
        (lambda raw: raw["brands"][0].pop("signers"), r"brands\.0\.signers.*Field required"),
        (lambda raw: raw["brands"][0].update(quorum=2), "brand 1: quorum 2 is above its 1 signer"),
        (lambda raw: raw["brands"][0].update(signers=[SIGNER_A, SIGNER_A.lower()]), "brand 1: a signer is listed twice"),
        (lambda raw: raw["brands"][0].update(signers=["0x1234"]), r"brands\.0\.signers\.0.*20-byte hex address"),
        (lambda raw: raw["brands"][0].update(signers=[SIGNER_A.replace("a", "A")]), "wrong checksum"),
        (lambda raw: raw["brands"].append(dict(raw["brands"][0])), "two brands have the same id"),
    ],
    ids=["global_signers", "no_signer", "signers_missing", "quorum_too_high", "duplicate_signer", "not_an_address",
         "bad_checksum", "duplicate_brand"],
)
def test_bad_signer_settings_are_refused_with_the_reason(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=message):
        load_config(_config_with(tmp_path, change))


def test_with_signers_replaces_every_brands_signers(tmp_path: Path) -> None:
    config = load_config(CONFIG_DIR / "development.yaml").with_signers([SIGNER_B], quorum=1)
    assert [(b.signers, b.quorum) for b in config.brands] == [([SIGNER_B], 1)]

"""The deployment configuration: a YAML file per network, validated with pydantic so that a
bad file fails with the name of the field that is wrong. Amounts are whole coins (18 decimals).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import yaml
from eth_utils import is_checksum_address, is_hex_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oracle.units import to_units
from oracle.validation import describe, require_known_kinds

CONFIG_DIR = Path(__file__).resolve().parent / "config"
# Every amount the contracts store (caps, rewards, prices, tier thresholds) is a uint96 of units.
MAX_UNITS = 2**96 - 1


class ConfigError(ValueError):
    """The deployment configuration file is missing or invalid."""


def _fits_on_chain(coins: Decimal) -> Decimal:
    if to_units(coins) > MAX_UNITS:
        raise ValueError(f"{coins} coins is more than the contracts hold (2^96 - 1 units, about 79.2 billion coins)")
    return coins


Coins = Annotated[Decimal, Field(ge=0, max_digits=30, decimal_places=18), AfterValidator(_fits_on_chain)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(_Strict):
    name: str
    threshold: Coins
    multiplier_bps: int = Field(gt=0, le=100_000)


class Brand(_Strict):
    id: int = Field(ge=0, lt=2**32)
    name: str
    cap_per_period: Coins


class CatalogItem(_Strict):
    name: str
    category: str = Field(pattern="^(discount|priority_support|exclusive_service|digital_product|cash_out)$")
    price: Coins
    stock: int = Field(ge=0, lt=2**32)
    per_customer_limit: int = Field(default=0, ge=0, lt=2**16)
    min_tier: int = Field(default=0, ge=0, lt=16)
    available_from: int = Field(default=0, ge=0, lt=2**40)
    available_until: int = Field(default=0, ge=0, lt=2**40)
    active: bool = True


class DeployConfig(_Strict):
    chain_id: int | None = None
    admin_transfer_delay: int = Field(ge=0, lt=2**48)
    period_length: int = Field(gt=0)
    price_notice_period: int = Field(ge=0)
    dispute_window: int = Field(ge=0)
    # A count, not coins: how many records of one customer may be rewarded per period (the
    # count is kept in 24 bits of the customer's packed account on chain).
    customer_rewards_per_period: int = Field(ge=0, lt=2**24)
    welcome_bonus: Coins
    base_rewards: dict[str, Coins]
    tiers: list[Tier] = Field(min_length=1, max_length=16)
    signers: list[str] = Field(min_length=1)
    quorum: int = Field(ge=1)
    brands: list[Brand] = Field(default_factory=list)
    catalog: list[CatalogItem] = Field(default_factory=list)
    # The brand oracle's operations account (its `operations` keystore): granted FULFILLER_ROLE
    # on TierRedemption and LINK_OPERATOR_ROLE on FeedbackRegistry. It also relays gasless
    # redemptions through the forwarder, which needs no role, only ether for gas.
    oracle_operations: str | None = None

    @field_validator("oracle_operations")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not is_hex_address(value):
            raise ValueError("must be a 0x-prefixed 20-byte hex address")
        if value is not None and value != value.lower() and not is_checksum_address(value):
            raise ValueError("mixed-case address with a wrong checksum (a typo?)")
        return value

    @field_validator("base_rewards")
    @classmethod
    def _known_kinds(cls, rewards: dict[str, Decimal]) -> dict[str, Decimal]:
        require_known_kinds(rewards)
        return rewards

    @model_validator(mode="after")
    def _consistent(self) -> "DeployConfig":
        if self.quorum > len(set(s.lower() for s in self.signers)):
            raise ValueError(f"quorum {self.quorum} is above the number of distinct signers")
        if self.tiers[0].threshold != 0:
            raise ValueError("tiers[0].threshold must be 0")
        for before, after in zip(self.tiers, self.tiers[1:]):
            if after.threshold <= before.threshold:
                raise ValueError(f"tier {after.name!r}: thresholds must increase")
        return self

    def digest(self) -> str:
        """A stable hash of the configuration, recorded with each deployment."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def load_config(path: Path | str) -> DeployConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such deployment configuration") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        return DeployConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe(exc)}") from None


def config_for_network(network: str) -> DeployConfig:
    return load_config(CONFIG_DIR / f"{network}.yaml")

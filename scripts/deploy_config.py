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

from oracle.strict_yaml import load_unique
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


def _address(value: str) -> str:
    if not is_hex_address(value):
        raise ValueError("must be a 0x-prefixed 20-byte hex address")
    if value != value.lower() and not is_checksum_address(value):
        raise ValueError("mixed-case address with a wrong checksum (a typo?)")
    return value


Address = Annotated[str, AfterValidator(_address)]
# The registry keeps a brand's signer count and quorum in 8 bits each (MAX_SIGNERS_PER_BRAND).
MAX_SIGNERS_PER_BRAND = 255


class Brand(_Strict):
    id: int = Field(ge=0, lt=2**32)
    name: str
    cap_per_period: Coins
    # The brand's own oracle signers (the addresses its oracle reports): they sign this brand's
    # batches and no other brand's, so one brand's stolen key cannot mint under another's cap.
    signers: list[Address] = Field(min_length=1, max_length=MAX_SIGNERS_PER_BRAND)
    quorum: int = Field(default=1, ge=1)
    # The brand oracle's operations account (its `operations` keystore): granted the brand's
    # fulfiller role on TierRedemption (its own perks only) and LINK_OPERATOR_ROLE on
    # FeedbackRegistry. It also relays gasless redemptions, which needs no role, only gas.
    operations: Address | None = None

    @model_validator(mode="after")
    def _quorum_reachable(self) -> "Brand":
        distinct = len({s.lower() for s in self.signers})
        if distinct != len(self.signers):
            raise ValueError(f"brand {self.id}: a signer is listed twice")
        if self.quorum > distinct:
            raise ValueError(f"brand {self.id}: quorum {self.quorum} is above its {distinct} signer(s)")
        return self


class CatalogItem(_Strict):
    name: str
    # The brand (brands[].id) the item belongs to, for good: only its catalog and fulfiller roles
    # act on the item. May be left out when the configuration has one brand.
    brand: int | None = Field(default=None, ge=0, lt=2**32)
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
    brands: list[Brand] = Field(default_factory=list)
    catalog: list[CatalogItem] = Field(default_factory=list)
    # The operations account of the only brand (brands[].operations, said once for a
    # single-brand deployment).
    oracle_operations: Address | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_global_signers(cls, raw: object) -> object:
        # Configurations written before signers were per brand: say where they go now, rather
        # than only that the keys are unknown.
        if isinstance(raw, dict) and ("signers" in raw or "quorum" in raw):
            raise ValueError("signers and quorum are set per brand now (brands[].signers, brands[].quorum): "
                             "each brand's oracle signs for that brand only")
        return raw

    @field_validator("base_rewards")
    @classmethod
    def _known_kinds(cls, rewards: dict[str, Decimal]) -> dict[str, Decimal]:
        require_known_kinds(rewards)
        return rewards

    @model_validator(mode="after")
    def _consistent(self) -> "DeployConfig":
        ids = [brand.id for brand in self.brands]
        if len(set(ids)) != len(ids):
            raise ValueError("two brands have the same id")
        if self.oracle_operations is not None and (len(self.brands) != 1 or self.brands[0].operations is not None):
            raise ValueError("oracle_operations names the operations account of a deployment's only brand: "
                             "with several brands (or to say it per brand) set brands[].operations instead")
        for index, item in enumerate(self.catalog):
            if item.brand is None and len(self.brands) != 1:
                raise ValueError(f"catalog item {index} ({item.name!r}): name its brand (brand: <brands[].id>); "
                                 "it can be left out only when there is one brand")
            if item.brand is not None and item.brand not in ids:
                raise ValueError(f"catalog item {index} ({item.name!r}): brand {item.brand} is not in brands")
        if self.tiers[0].threshold != 0:
            raise ValueError("tiers[0].threshold must be 0")
        for before, after in zip(self.tiers, self.tiers[1:]):
            if after.threshold <= before.threshold:
                raise ValueError(f"tier {after.name!r}: thresholds must increase")
        return self

    def with_signers(self, signers: list[str], quorum: int = 1) -> "DeployConfig":
        """This configuration with every brand signed for by `signers` (local chains and tests,
        whose signer keys are made at run time)."""
        brands = [brand.model_copy(update={"signers": list(signers), "quorum": quorum}) for brand in self.brands]
        return self.model_copy(update={"brands": brands})

    def brand_of(self, item: CatalogItem) -> int:
        """The brand a catalog item belongs to (the only brand when the item names none)."""
        return self.brands[0].id if item.brand is None else item.brand

    def operations_of(self, brand: Brand) -> str | None:
        """The brand's operations account: its own, or the deployment's `oracle_operations`."""
        return brand.operations or self.oracle_operations

    def digest(self) -> str:
        """A stable hash of the configuration, recorded with each deployment."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def load_config(path: Path | str) -> DeployConfig:
    path = Path(path)
    try:
        raw = load_unique(path.read_text())
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

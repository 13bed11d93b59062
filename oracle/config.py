"""The oracle's configuration: one YAML file, validated at start-up with errors that name the
field. Secrets never live in it: the file names the environment variables (or files) that hold
them, so it can be committed and reviewed like the policy.

    brand_id: 1
    policy: policy.yaml
    store: {url: "sqlite:///servicecoin.db"}
    secrets: {brand_secret_env: SERVICECOIN_BRAND_SECRET}
    chain:
      rpc_url: http://127.0.0.1:8545
      chain_id: 1337
      registry: "0x..."
    signers:
      - keystore: keys/oracle.json          # password: SERVICECOIN_KEYSTORE_PASSWORD(_FILE)
    sources:
      generic: {secret_env: SERVICECOIN_GENERIC_SECRET}
      zendesk: {secret_env: SERVICECOIN_ZENDESK_SECRET}

Relative paths are resolved against the config file's directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from eth_utils import is_checksum_address, is_hex_address
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from oracle.errors import OracleError
from oracle.strict_yaml import load_unique
from oracle.validation import describe


# The helpdesks the oracle has webhook routes for (oracle/ingest/helpdesks.py).
SourceName = Literal["generic", "zendesk", "intercom", "freshdesk"]
SOURCE_NAMES: tuple[str, ...] = get_args(SourceName)

class ConfigError(OracleError):
    """The oracle's configuration (or a secret it names) is missing or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainConfig(_Strict):
    rpc_url: str = Field(min_length=1)
    chain_id: int = Field(ge=1)
    registry: str
    # TierRedemption and the trusted forwarder: needed by the redemption watcher and the relay.
    redemption: str | None = None
    forwarder: str | None = None
    # The watcher reads events from this block on (the deployment's block: deployments/<id>.json).
    start_block: int = Field(default=0, ge=0)
    # Of this brand's catalog items (each TierRedemption item belongs to one brand, and the
    # oracle keeps to brand_id's), only these ids: redemptions and price changes of other items
    # are left alone. Unset: all of the brand's items.
    catalog_items: frozenset[StrictInt] | None = None
    # Blocks on top of a batch's block before it counts as confirmed, then as final (no reorg
    # expected deeper than this; until then a vanished transaction is resubmitted).
    confirmations: int = Field(default=1, ge=1)
    finality_depth: int = Field(default=12, ge=1)
    # EIP-1559: never pay more than this per gas; a transaction waits rather than overpays.
    max_fee_gwei: float = Field(default=100, gt=0)
    priority_fee_gwei: float = Field(default=1.5, ge=0)
    # A transaction unmined after this long is replaced with fees bumped by at least 12.5%.
    replace_after_seconds: float = Field(default=60, gt=0)
    poll_seconds: float = Field(default=1.0, gt=0)
    rpc_timeout_seconds: float = Field(default=10, gt=0)

    @field_validator("registry", "redemption", "forwarder")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not is_hex_address(value):
            raise ValueError("must be a 0x-prefixed 20-byte hex address")
        if value != value.lower() and not is_checksum_address(value):
            raise ValueError("mixed-case address with a wrong checksum (a typo?)")
        return value

    @field_validator("catalog_items")
    @classmethod
    def _items(cls, value: frozenset[int] | None) -> frozenset[int] | None:
        if value is not None and (not value or min(value) < 0):
            raise ValueError("list this brand's catalog item ids (0 or more each), or leave it out for all of this brand's items")
        return value

    @model_validator(mode="after")
    def _depths(self) -> "ChainConfig":
        if self.finality_depth < self.confirmations:
            raise ValueError("finality_depth must be at least confirmations")
        return self


class KeystoreConfig(_Strict):
    keystore: Path
    # Where this keystore's password is; default: SERVICECOIN_KEYSTORE_PASSWORD(_FILE).
    password_env: str | None = None
    password_file: Path | None = None


class StoreConfig(_Strict):
    url: str = "sqlite:///servicecoin.db"

    @field_validator("url")
    @classmethod
    def _database(cls, value: str) -> str:
        """An SQLite file or PostgreSQL through psycopg 3 (the `postgres` extra): the two the
        outbox is tested on. In-memory SQLite is refused: each connection would see its own
        empty database, and nothing would be kept."""
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL: use sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST/DB") from None
        backend, driver = url.get_backend_name(), url.get_driver_name()
        if backend == "sqlite" and driver != "pysqlite":
            raise ValueError(f"sqlite+{driver} is not supported: use sqlite:///FILE")
        if backend == "sqlite":
            if url.database in (None, "", ":memory:") or str(url.database).startswith("file:"):
                raise ValueError("an in-memory SQLite database keeps nothing: give a file, sqlite:///FILE")
        elif backend != "postgresql" or driver != "psycopg":
            raise ValueError(f"{backend}+{driver} is not supported: use sqlite:///FILE or "
                             "postgresql+psycopg://USER:PASSWORD@HOST/DB (pip install 'servicecoin-oracle[postgres]')")
        return value


class SecretsConfig(_Strict):
    # 32 random bytes, hex: derives the key that wraps customers' content keys and the
    # custodial wallets' keys. Losing it loses both; rotate by re-wrapping (docs/operator.md).
    brand_secret_env: str = "SERVICECOIN_BRAND_SECRET"
    brand_secret_file: Path | None = None


class BatchingConfig(_Strict):
    max_size: int = Field(default=100, ge=1, le=500)  # the registry's MAX_BATCH_SIZE is 500
    max_age_seconds: float = Field(default=5, gt=0)  # a partial batch goes out after this
    deadline_seconds: int = Field(default=3600, ge=60)  # signatures expire after this
    # At most this many records of one customer per batch. Unset: 20 when co-signers are
    # configured (their `limits.max_records_per_customer` default; more and they refuse the
    # batch), no limit otherwise. Set it to your co-signers' limit if they changed theirs.
    max_records_per_customer: int | None = Field(default=None, ge=1, le=500)


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, lt=65536)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    replay_window_seconds: int = Field(default=300, ge=1)


class SourceConfig(_Strict):
    secret_env: str
    # Zendesk only: event-subscribed webhook types that mean "a CSAT survey was answered".
    csat_event_types: tuple[str, ...] | None = None


class FulfilmentConfig(_Strict):
    """The brand's endpoint that delivers a redeemed perk (see docs/brand-integration.md)."""

    url: str = Field(min_length=1)
    secret_env: str  # names the variable holding the HMAC secret that signs our requests
    timeout_seconds: float = Field(default=10, gt=0)
    # Failed deliveries are retried with exponential backoff (first, doubled, capped); after
    # max_attempts failures (or one definitive 4xx refusal) the redemption is refunded on chain.
    # 12 with the defaults below: about 50 minutes of retries, so a short outage of the brand's
    # endpoint does not refund every redemption made meanwhile.
    max_attempts: int = Field(default=12, ge=1)
    first_retry_seconds: float = Field(default=5, gt=0)
    max_retry_seconds: float = Field(default=600, gt=0)


class RelayConfig(_Strict):
    """Gasless redemption: POST /v1/relay/redeem on the oracle's server, for the brand's app."""

    secret_env: str  # names the variable holding the HMAC secret the brand's app signs requests with
    # Relays the brand pays for per customer in any 24 hours (refusals do not count).
    max_per_customer_per_day: int = Field(default=5, ge=1)
    # How long a relay request waits for its transaction's confirmation before answering 503.
    # The transaction stays in flight: the same request sent again waits for it, sends nothing
    # new and is not counted again. Keep it below the brand app's HTTP timeout.
    wait_seconds: int = Field(default=60, ge=1, le=3600)


class ZendeskNotesConfig(_Strict):
    """Posts the on-chain proof of a final reward as a comment on the Zendesk ticket."""

    base_url: str = Field(min_length=1)  # https://SUBDOMAIN.zendesk.com
    email: str = Field(min_length=3)  # the agent the API token belongs to
    api_token_env: str
    public: bool = False  # internal note by default: the customer is told by the brand's own words
    max_attempts: int = Field(default=8, ge=1)
    first_retry_seconds: float = Field(default=5, gt=0)
    max_retry_seconds: float = Field(default=900, gt=0)


class NotesConfig(_Strict):
    zendesk: ZendeskNotesConfig | None = None
    # How a proof links to a block explorer, e.g. https://sepolia.etherscan.io/tx/{tx}
    explorer_tx_url: str | None = None


class CosignerEndpoint(_Strict):
    """An independent co-signer this oracle asks for a signature on every batch."""

    url: str = Field(min_length=1)
    address: str  # the co-signer's registered signer address; its answers must recover to it
    secret_env: str  # the HMAC secret shared with that co-signer

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return ChainConfig._address(value)


class OracleConfig(_Strict):
    brand_id: int = Field(ge=0, lt=2**32)
    policy: Path
    chain: ChainConfig
    signers: list[KeystoreConfig] = Field(min_length=1)
    cosigners: list[CosignerEndpoint] = Field(default_factory=list)
    # The account that sends fulfilments, refunds, wallet links and relayed redemptions
    # (never the batch submitter: one owner per account's nonces). Needs gas and the roles.
    operations: KeystoreConfig | None = None
    fulfilment: FulfilmentConfig | None = None
    notes: NotesConfig | None = None
    relay: RelayConfig | None = None
    store: StoreConfig = StoreConfig()
    secrets: SecretsConfig = SecretsConfig()
    batching: BatchingConfig = BatchingConfig()
    server: ServerConfig = ServerConfig()
    sources: dict[SourceName, SourceConfig] = Field(min_length=1)
    log_format: Literal["json", "text"] = "json"

    @model_validator(mode="after")
    def _zendesk_only_options(self) -> "OracleConfig":
        for name, source in self.sources.items():
            if name != "zendesk" and source.csat_event_types is not None:
                raise ValueError(f"sources.{name}.csat_event_types: only the zendesk source has event types")
        return self

    @model_validator(mode="after")
    def _relay_needs(self) -> "OracleConfig":
        if self.relay is not None:
            missing = [name for name, value in (("chain.redemption", self.chain.redemption),
                                                ("chain.forwarder", self.chain.forwarder),
                                                ("operations", self.operations)) if value is None]
            if missing:
                raise ValueError(f"relay: needs {', '.join(missing)} (the contracts and the account that pays the gas)")
        return self

    @model_validator(mode="after")
    def _fulfilment_needs(self) -> "OracleConfig":
        if self.fulfilment is not None:
            if self.chain.redemption is None:
                raise ValueError("fulfilment: needs chain.redemption (the TierRedemption address to follow)")
            if self.operations is None:
                raise ValueError("fulfilment: needs operations (the account that sends fulfil and refund)")
        return self


class CosignerDomain(_Strict):
    chain_id: int = Field(ge=1)
    registry: str

    @field_validator("registry")
    @classmethod
    def _address(cls, value: str) -> str:
        return ChainConfig._address(value)


class CosignLimitsConfig(_Strict):
    max_records_per_customer: int = Field(default=20, ge=1)
    max_deadline_ahead_seconds: int = Field(default=7200, ge=60)


class CosignerConfig(_Strict):
    """The configuration of an independent co-signer (`servicecoin cosign serve`)."""

    policy: Path  # the co-signer's own copy of the brand's published policy
    chain: CosignerDomain
    signer: KeystoreConfig
    secret_env: str
    server: ServerConfig = ServerConfig(port=8090)
    limits: CosignLimitsConfig = CosignLimitsConfig()


def load_cosigner_config(path: Path | str) -> CosignerConfig:
    config = _load_model(Path(path), CosignerConfig)
    base = Path(path).parent
    return config.model_copy(
        update={"policy": _beside(base, config.policy), "signer": _keystore_beside(base, config.signer)}
    )


def _beside(base: Path, path: Path | None) -> Path | None:
    """A path from a config file: relative ones are relative to the file's directory."""
    return path if path is None or path.is_absolute() else base / path


def _keystore_beside(base: Path, entry: KeystoreConfig) -> KeystoreConfig:
    return entry.model_copy(
        update={"keystore": _beside(base, entry.keystore), "password_file": _beside(base, entry.password_file)}
    )


def _load_model(path: Path, model: type[_Strict]) -> Any:
    try:
        raw = load_unique(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe(exc)}") from None


def load_config(path: Path | str) -> OracleConfig:
    path = Path(path)
    return _resolve_paths(_load_model(path, OracleConfig), path.parent)


def _resolve_paths(config: OracleConfig, base: Path) -> OracleConfig:
    signers = [_keystore_beside(base, s) for s in config.signers]
    secrets = config.secrets.model_copy(update={"brand_secret_file": _beside(base, config.secrets.brand_secret_file)})
    store = config.store
    if store.url.startswith("sqlite:///") and not store.url.startswith("sqlite:////"):
        relative = store.url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            store = StoreConfig(url=f"sqlite:///{base / relative}")
    operations = None if config.operations is None else _keystore_beside(base, config.operations)
    return config.model_copy(
        update={"policy": _beside(base, config.policy), "signers": signers, "secrets": secrets, "store": store,
                "operations": operations}
    )


def read_secret(name: str, environ: Mapping[str, str] | None = None) -> str:
    """A secret from the environment; a clear error naming the variable when it is unset or empty."""
    environ = os.environ if environ is None else environ
    value = environ.get(name, "")
    if not value:
        raise ConfigError(f"environment variable {name} is not set (or empty)")
    return value


def brand_secret(config: SecretsConfig, environ: Mapping[str, str] | None = None) -> bytes:
    """The brand's 32-byte secret, from its file or environment variable (hex)."""
    if config.brand_secret_file is not None:
        try:
            text = config.brand_secret_file.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{config.brand_secret_file}: cannot read the brand secret: {exc.strerror}") from None
        origin = str(config.brand_secret_file)
    else:
        text = read_secret(config.brand_secret_env, environ).strip()
        origin = config.brand_secret_env
    try:
        secret = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise ConfigError(f"{origin}: the brand secret must be hex") from None
    if len(secret) != 32:
        raise ConfigError(f"{origin}: the brand secret must be 32 bytes (64 hex digits), got {len(secret)}")
    return secret

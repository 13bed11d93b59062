"""Assemble a running oracle from its configuration: the outbox, the policy, the chain, the
signers, the submitter, the pipeline and the webhook server. Each CLI command builds only what
it needs, so `status` works without keystore passwords and `config check` reports every
problem instead of stopping at the first."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from eth_account.signers.local import LocalAccount
from starlette.applications import Starlette
from web3 import HTTPProvider, Web3

from oracle.chain.registry import RegistryClient
from oracle.chain.submitter import GWEI, SubmitSettings, Submitter
from oracle.config import ConfigError, KeystoreConfig, OracleConfig, brand_secret, read_secret
from oracle.custody import CustodialWallets, content_master_key
from oracle.ingest.app import IngestConfig, create_app
from oracle.ingest.helpdesks import DEFAULT_ZENDESK_CSAT_EVENT_TYPES, FreshdeskSource, IntercomSource, ZendeskSource
from oracle.ingest.sources import GenericSource, Source
from oracle.metrics import OracleMetrics
from oracle.pipeline import Batching, Pipeline
from oracle.policy import LoadedPolicy, load_policy
from oracle.cosign.client import RemoteCosigner
from oracle.signer import PASSWORD_FILE_ENV, BatchSigner, Signer, keystore_password, load_keystore
from oracle.store.outbox import Outbox


def open_outbox(config: OracleConfig, environ: Mapping[str, str] | None = None) -> Outbox:
    return Outbox.open(config.store.url, content_master_key(brand_secret(config.secrets, environ)))


def connect(config: OracleConfig) -> Web3:
    provider = HTTPProvider(config.chain.rpc_url, request_kwargs={"timeout": config.chain.rpc_timeout_seconds})
    return Web3(provider)


def load_policy_for(config: OracleConfig) -> LoadedPolicy:
    loaded = load_policy(config.policy)
    if loaded.policy.brand_id != config.brand_id:
        raise ConfigError(f"{config.policy}: brand_id {loaded.policy.brand_id} differs from the config's {config.brand_id}")
    return loaded


def load_signer_account(entry: KeystoreConfig, environ: Mapping[str, str] | None = None) -> LocalAccount:
    environ = os.environ if environ is None else environ
    if entry.password_file is not None:
        password = keystore_password({PASSWORD_FILE_ENV: str(entry.password_file)})
    elif entry.password_env is not None:
        password = read_secret(entry.password_env, environ)
    else:
        password = keystore_password(environ)
    return load_keystore(entry.keystore, password)


def build_sources(config: OracleConfig, environ: Mapping[str, str] | None = None) -> list[Source]:
    window = config.server.replay_window_seconds
    sources: list[Source] = []
    for name, source in config.sources.items():
        secret = read_secret(source.secret_env, environ)
        if name == "generic":
            sources.append(GenericSource(secret, window))
        elif name == "zendesk":
            types = source.csat_event_types or DEFAULT_ZENDESK_CSAT_EVENT_TYPES
            sources.append(ZendeskSource(secret, window, tuple(types)))
        elif name == "intercom":
            sources.append(IntercomSource(secret))
        else:
            sources.append(FreshdeskSource(secret))
    return sources


@dataclass
class Oracle:
    """Everything `servicecoin run` runs."""

    config: OracleConfig
    outbox: Outbox
    policy: LoadedPolicy
    w3: Web3
    registry: RegistryClient
    signers: list[Signer]
    submitter: Submitter
    pipeline: Pipeline
    metrics: OracleMetrics
    app: Starlette

    def self_check(self) -> list[str]:
        problems = self.registry.self_check(
            self.config.chain.chain_id, [s.address for s in self.signers], self.config.brand_id, self.policy.policy
        )
        next_seq = self.outbox.next_seq(self.config.brand_id)
        if not problems and self.registry.is_recorded(self.config.brand_id, next_seq):
            # Another outbox (an old backup, a second oracle with its own database) has used this
            # brand's sequence numbers: its records would be skipped as already recorded.
            problems.append(
                f"sequence number {next_seq} of brand {self.config.brand_id} is already recorded on chain: "
                "this outbox is not the brand's latest (restored from an old backup, or another oracle's?)"
            )
        return problems


def build_oracle(
    config: OracleConfig, environ: Mapping[str, str] | None = None, clock: Callable[[], float] | None = None
) -> Oracle:
    clock = clock or time.time
    outbox = open_outbox(config, environ)
    policy = load_policy_for(config)
    w3 = connect(config)
    registry = RegistryClient(w3, config.chain.registry)
    domain = registry.domain()
    accounts = [load_signer_account(entry, environ) for entry in config.signers]
    signers: list[Signer] = [BatchSigner(account, domain) for account in accounts]
    signers += [
        RemoteCosigner(c.url, c.address, read_secret(c.secret_env, environ), domain) for c in config.cosigners
    ]
    chain = config.chain
    settings = SubmitSettings(
        max_fee=int(chain.max_fee_gwei * GWEI),
        priority_fee=int(chain.priority_fee_gwei * GWEI),
        replace_after=chain.replace_after_seconds,
        confirmations=chain.confirmations,
        finality_depth=chain.finality_depth,
    )
    # The first signer's account pays for the transactions.
    submitter = Submitter(w3, accounts[0], outbox, settings, clock=clock, not_rewarded=registry.not_rewarded)
    metrics = OracleMetrics(outbox.counts_by_state, lambda: w3.eth.get_balance(submitter.address), clock=clock)
    wallets = CustodialWallets(brand_secret(config.secrets, environ), config.brand_id)
    batching = Batching(config.batching.max_size, config.batching.max_age_seconds, config.batching.deadline_seconds)
    pipeline = Pipeline(outbox, policy, registry, signers, submitter, wallets.address_for, batching, metrics, clock=clock)
    ingest = IngestConfig(brand_id=config.brand_id, max_body_bytes=config.server.max_body_bytes)
    app = create_app(outbox, ingest, build_sources(config, environ), metrics, clock=clock)
    return Oracle(config, outbox, policy, w3, registry, signers, submitter, pipeline, metrics, app)


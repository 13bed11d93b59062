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
from oracle.chain.ops_sender import OpsSender
from oracle.custody import CustodialWallets, content_master_key
from oracle.identity import Identity
from oracle.ingest.app import IngestConfig, create_app
from oracle.ingest.helpdesks import DEFAULT_ZENDESK_CSAT_EVENT_TYPES, FreshdeskSource, IntercomSource, ZendeskSource
from oracle.ingest.sources import GenericSource, Source
from oracle.linking import WalletLinker
from oracle.metrics import OracleMetrics
from oracle.notes.adapter import NotesAdapter, RetryPolicy
from oracle.notes.worker import ChainProofs, NotesWorker
from oracle.notes.zendesk import ZendeskNotes
from oracle.pipeline import Batching, Pipeline
from oracle.policy import LoadedPolicy, load_policy
from oracle.redeem.loop import RedemptionLoop, build_redemption_loop
from oracle.redeem.dispute_relay import DisputeRelay
from oracle.redeem.relay import RedeemRelay
from oracle.redeem.relay_http import RelayEndpoint
from oracle.redeem.relay_limit import RollingLimit
from oracle.ingest.signatures import require_secret
from oracle.cosign.client import RemoteCosigner
from oracle.cosign.review import CosignLimits
from oracle.startup_check import startup_problems
from oracle.signer import PASSWORD_FILE_ENV, BatchSigner, Signer, keystore_password, load_keystore
from oracle.store.ops_lock import ops_account_lock
from oracle.store.outbox import Outbox
from oracle.wallet_link_http import WalletLinkRoutes
from oracle.wallet_link_requests import WalletLinkRequests


def open_outbox(config: OracleConfig, environ: Mapping[str, str] | None = None) -> Outbox:
    return Outbox.open(config.store.url, content_master_key(brand_secret(config.secrets, environ)))


def connect(config: OracleConfig) -> Web3:
    provider = HTTPProvider(config.chain.rpc_url, request_kwargs={"timeout": config.chain.rpc_timeout_seconds})
    return Web3(provider)


def connect_to_configured_chain(config: OracleConfig) -> Web3:
    """`connect`, refusing an RPC that serves another chain than chain.chain_id: what it reads
    would describe another chain (`run`, `work` and `config check` refuse it in their self-check)."""
    w3 = connect(config)
    served = w3.eth.chain_id
    if served != config.chain.chain_id:
        raise ConfigError(f"chain.chain_id is {config.chain.chain_id}, but the RPC at {config.chain.rpc_url} "
                          f"serves chain {served}")
    return w3


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
        signers = [s.address for s in self.signers]
        return startup_problems(self.config, self.registry, self.outbox, signers, self.policy.policy)


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
    outbox.observe_writer_waits(metrics.store_lock_wait_seconds.observe)
    identity = build_identity(config, outbox, environ)
    batching = Batching(config.batching.max_size, config.batching.max_age_seconds, config.batching.deadline_seconds,
                        records_per_customer_limit(config))
    pipeline = Pipeline(outbox, policy, registry, signers, submitter, identity.address_for, batching, metrics, clock=clock)
    app = _webhook_app(config, outbox, metrics, w3, environ, clock)
    return Oracle(config, outbox, policy, w3, registry, signers, submitter, pipeline, metrics, app)


def build_webhook_server(
    config: OracleConfig, environ: Mapping[str, str] | None = None, clock: Callable[[], float] | None = None
) -> Starlette:
    """What `servicecoin serve` runs: the webhook routes and the relay, built without a call to
    the chain, so that it starts and keeps acknowledging webhooks while the chain or its RPC is
    down (the relay answers 503 meanwhile). The policy is still checked: it is local."""
    clock = clock or time.time
    outbox = open_outbox(config, environ)
    load_policy_for(config)
    metrics = OracleMetrics(outbox.counts_by_state, clock=clock)  # the signer's balance is `work`'s
    outbox.observe_writer_waits(metrics.store_lock_wait_seconds.observe)
    return _webhook_app(config, outbox, metrics, connect(config), environ, clock)


def _webhook_app(
    config: OracleConfig, outbox: Outbox, metrics: OracleMetrics, w3: Web3, environ: Mapping[str, str] | None,
    clock: Callable[[], float],
) -> Starlette:
    ingest = IngestConfig(brand_id=config.brand_id, max_body_bytes=config.server.max_body_bytes)
    relay = build_relay_endpoint(config, w3, outbox, environ, clock)
    return create_app(outbox, ingest, build_sources(config, environ), metrics, clock=clock, relay=relay)


def records_per_customer_limit(config: OracleConfig) -> int | None:
    """How many records of one customer a batch may hold: as configured, else the co-signers'
    default limit when there are co-signers (more and they refuse the batch), else no limit."""
    if config.batching.max_records_per_customer is not None:
        return config.batching.max_records_per_customer
    return CosignLimits().max_records_per_customer if config.cosigners else None


def build_identity(config: OracleConfig, outbox: Outbox, environ: Mapping[str, str] | None = None) -> Identity:
    """Customer ids to addresses: linked wallets, else custodial addresses from the brand secret."""
    return Identity(outbox.engine, CustodialWallets(brand_secret(config.secrets, environ), config.brand_id))


def build_ops_sender(
    config: OracleConfig, w3: Web3, environ: Mapping[str, str] | None = None, wait_seconds: float = 600.0
) -> OpsSender:
    """The operations account's sender (fulfilments, refunds, wallet links, relays)."""
    if config.operations is None:
        raise ConfigError("no `operations:` keystore in the config: on-chain actions other than batches need that account")
    chain = config.chain
    settings = SubmitSettings(
        max_fee=int(chain.max_fee_gwei * GWEI), priority_fee=int(chain.priority_fee_gwei * GWEI),
        replace_after=chain.replace_after_seconds, confirmations=chain.confirmations, finality_depth=chain.finality_depth,
    )
    account = load_signer_account(config.operations, environ)
    # The oracle's other processes (serve, work, the CLI) send from this account too.
    return OpsSender(w3, account, settings, poll_seconds=min(chain.poll_seconds, 1.0), wait_seconds=wait_seconds,
                     process_lock=ops_account_lock(config.store.url, str(account.address)))


def build_wallet_linker(
    config: OracleConfig, outbox: Outbox, w3: Web3, environ: Mapping[str, str] | None = None,
    sender: OpsSender | None = None,
) -> WalletLinker:
    """Completes wallet links on chain (needs the operations account, with LINK_OPERATOR_ROLE).
    Pass the process's one OpsSender when other loops send from the operations account too."""
    registry = RegistryClient(w3, config.chain.registry)
    sender = sender or build_ops_sender(config, w3, environ)
    return WalletLinker(build_identity(config, outbox, environ), registry, sender, config.chain.start_block)


def build_notes_adapters(config: OracleConfig, environ: Mapping[str, str] | None = None) -> dict[str, NotesAdapter]:
    """The helpdesks that receive proof notes, by the event source they serve."""
    adapters: dict[str, NotesAdapter] = {}
    zendesk = config.notes.zendesk if config.notes is not None else None
    if zendesk is not None:
        retry = RetryPolicy(zendesk.max_attempts, zendesk.first_retry_seconds, zendesk.max_retry_seconds)
        token = read_secret(zendesk.api_token_env, environ)
        adapters["zendesk"] = ZendeskNotes(zendesk.base_url, zendesk.email, token, retry, public=zendesk.public)
    return adapters


def build_notes_worker(
    config: OracleConfig, outbox: Outbox, w3: Web3, environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] | None = None,
) -> NotesWorker | None:
    """Posts proof notes to helpdesk tickets; None when no helpdesk is configured for notes."""
    adapters = build_notes_adapters(config, environ)
    if not adapters:
        return None
    explorer = config.notes.explorer_tx_url if config.notes is not None else None
    proofs = ChainProofs(RegistryClient(w3, config.chain.registry), config.brand_id)
    return NotesWorker(outbox, proofs, adapters, explorer_tx_url=explorer, clock=clock or time.time)


def build_redemptions(
    config: OracleConfig, outbox: Outbox, w3: Web3, metrics: OracleMetrics | None = None,
    sender: OpsSender | None = None, environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] | None = None,
) -> RedemptionLoop | None:
    """The redemption watcher and fulfiller that `run` steps; None without a fulfilment endpoint.
    Pass the process's one OpsSender when other loops send from the operations account too (one
    sender per account keeps its nonces in order)."""
    if config.fulfilment is None:
        return None
    sender = sender or build_ops_sender(config, w3, environ)
    return build_redemption_loop(config, outbox, w3, sender, metrics, environ, clock or time.time)


def build_redeem_relay(
    config: OracleConfig, w3: Web3, environ: Mapping[str, str] | None = None, sender: OpsSender | None = None
) -> RedeemRelay:
    """Gasless redemptions through the forwarder, paid by the operations account."""
    chain = config.chain
    missing = [name for name, value in (("chain.redemption", chain.redemption), ("chain.forwarder", chain.forwarder),
                                        ("operations", config.operations)) if value is None]
    if missing:
        raise ConfigError(f"gasless redemption needs {', '.join(missing)} in the config (docs/brand-integration.md)")
    assert chain.redemption is not None and chain.forwarder is not None
    return RedeemRelay(w3, chain.redemption, chain.forwarder,
                       sender or build_ops_sender(config, w3, environ, wait_seconds=relay_wait_seconds(config)),
                       items=chain.catalog_items, brand_id=config.brand_id)


def relay_wait_seconds(config: OracleConfig) -> float:
    """How long a relayed call waits to be mined before its caller hears 'not yet': the relay's
    `wait_seconds` when configured (an HTTP client, or a person at `servicecoin redeem`)."""
    return float(config.relay.wait_seconds) if config.relay is not None else 600.0


def build_relay_endpoint(
    config: OracleConfig, w3: Web3, outbox: Outbox, environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] | None = None, sender: OpsSender | None = None,
) -> RelayEndpoint | None:
    """The relay's routes for the brand's app (redemptions, disputes, wallet links); None without
    a `relay:` section."""
    if config.relay is None:
        return None
    secret = require_secret("relay", read_secret(config.relay.secret_env, environ))
    limit = RollingLimit(outbox.engine, config.relay.max_per_customer_per_day, clock=clock or time.time)
    # An HTTP client waits for the answer: the relay's sender gives up sooner than the loops'.
    sender = sender or build_ops_sender(config, w3, environ, wait_seconds=config.relay.wait_seconds)
    relay = build_redeem_relay(config, w3, environ, sender)
    links = WalletLinkRoutes(WalletLinkRequests(config, outbox, build_identity(config, outbox, environ), w3,
                                                clock or time.time))
    return RelayEndpoint(relay, secret, limit, config.server.replay_window_seconds, DisputeRelay(relay), links)

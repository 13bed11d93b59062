"""`servicecoin`: the oracle's one command line.

    servicecoin run            serve webhooks and move events to the chain until stopped
    servicecoin serve | work   the same split in two processes: webhooks only | everything else
    servicecoin ingest FILE    backfill a JSONL or CSV export
    servicecoin status         events per state, batches in flight, the signer's balance
    servicecoin verify ID      an event's record on chain, and whether the stored content opens it
    servicecoin erase CUSTOMER crypto-shred a customer's feedback (the chain stays intact)
    servicecoin wallet link    move a customer's coins and history to their own wallet
    servicecoin wallet show    a customer's addresses, balance and tier
    servicecoin notes          proof notes posted back to helpdesk tickets
    servicecoin config check   everything `run` would refuse to start for, all at once
    servicecoin cosign serve   an independent co-signer (its own config file, key and policy copy)
    servicecoin redemptions    redemptions seen on chain and their fulfilment (oracle/redeem/commands.py)
    servicecoin redemption refund|reject-dispute ID    the arbiter's decisions, sent on chain
    servicecoin prices         announced price changes and when they take effect
    servicecoin redeem CUSTOMER ITEM   redeem for a custodial customer, gas paid by the brand (oracle/redeem/relay_cli.py)

The configuration file comes from --config or $SERVICECOIN_CONFIG (default servicecoin.yaml).
Every error is one line saying what is wrong; the exit status is 1 for errors, 2 for a failed
check. `verify` exits 0 when the content matches the chain, 3 on a mismatch, 4 when the content
was erased, 5 when the event or its record is not found.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

import click
import uvicorn
from tqdm import tqdm
from web3.exceptions import Web3Exception

from oracle.chain.registry import RegistryClient
from oracle.config import OracleConfig, load_config, load_cosigner_config, read_secret
from oracle.cosign.review import CosignLimits
from oracle.cosign.server import create_cosigner_app
from oracle.errors import OracleError
from oracle.events import event_id as compute_event_id
from oracle.ingest.backfill import backfill, count_rows
from oracle.logs import configure_logging
from oracle.pipeline import PipelineRunner
from oracle.policy import load_policy
from oracle.signer import BatchSigner
from oracle.typed_data import Domain
from oracle.service import build_oracle, build_sources, connect, load_policy_for, load_signer_account, open_outbox
from oracle.service import build_redemptions
from oracle.service import build_identity, build_notes_worker, build_ops_sender, build_wallet_linker
from oracle import erasure
from oracle.abi import load_abi
from oracle.identity import LinkRefused
from oracle.notes.queue import NoteQueue
from oracle.privacy import PrivacyError, commitment
from oracle.store.schema import NOTE_STATES
from oracle.units import svc
from oracle.redeem.commands import register as register_redemption_commands
from oracle.redeem.relay_cli import register as register_relay_commands
from oracle.runner import StepRunner

log = logging.getLogger("servicecoin")
SOURCES = ("generic", "zendesk", "intercom", "freshdesk")
# `verify`: distinct statuses, so that a script can tell the outcomes apart.
EXIT_MISMATCH, EXIT_ERASED, EXIT_NOT_FOUND = 3, 4, 5


class Failure(click.ClickException):
    exit_code = 1


def _load(ctx: click.Context) -> OracleConfig:
    try:
        return load_config(ctx.obj["config_path"])
    except OracleError as exc:
        raise Failure(str(exc)) from None


def _guard(action: Any) -> Any:
    """Runs `action`, turning the oracle's and the RPC's errors into one clear line."""
    try:
        return action()
    except OracleError as exc:
        raise Failure(str(exc)) from None
    except (Web3Exception, OSError) as exc:  # requests' connection errors are OSErrors
        raise Failure(f"the chain RPC failed: {type(exc).__name__}: {exc}") from None


@click.group()
@click.option(
    "--config", "-c", "config_path", envvar="SERVICECOIN_CONFIG", default="servicecoin.yaml", show_default=True,
    type=click.Path(dir_okay=False, path_type=Path), help="The oracle's YAML configuration.",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path) -> None:
    """The ServiceCoin oracle: helpdesk events in, signed reward batches on chain."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Serve webhooks and submit batches until interrupted (Ctrl-C or SIGTERM)."""
    config, oracle = _checked_oracle(ctx)
    loops = _background_loops(config, oracle)
    for loop in loops:
        loop.start()
    try:
        uvicorn.run(oracle.app, host=config.server.host, port=config.server.port, log_config=None, access_log=False)
    finally:
        _stop(loops)


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Only the webhook server (and the relay): events are stored and acknowledged, and a
    separate `servicecoin work` process moves them to the chain. Splitting the two keeps
    acknowledgements fast while batches are signed and tracked on another core."""
    config = _load(ctx)
    configure_logging(config.log_format)
    oracle = _guard(lambda: build_oracle(config))
    log.info("webhook server starting", extra={"port": config.server.port})
    uvicorn.run(oracle.app, host=config.server.host, port=config.server.port, log_config=None, access_log=False)


@main.command()
@click.pass_context
def work(ctx: click.Context) -> None:
    """Everything `run` does but the webhook server: batches, redemptions, wallet links and
    notes, until interrupted (Ctrl-C or SIGTERM). Pair it with `servicecoin serve`."""
    config, oracle = _checked_oracle(ctx)
    loops = _background_loops(config, oracle)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    for loop in loops:
        loop.start()
    try:
        stop.wait()
    finally:
        _stop(loops)


def _checked_oracle(ctx: click.Context) -> tuple[OracleConfig, Any]:
    """The assembled oracle, after the start-up self-check (exit 2 naming every mismatch)."""
    config = _load(ctx)
    configure_logging(config.log_format)
    oracle = _guard(lambda: build_oracle(config))
    problems = _guard(oracle.self_check)
    if problems:
        for problem in problems:
            click.echo(f"self-check: {problem}", err=True)
        raise click.exceptions.Exit(2)
    log.info(
        "oracle starting",
        extra={"registry": oracle.registry.address, "signers": [s.address for s in oracle.signers],
               "policy_hash": "0x" + oracle.policy.hash.hex(), "port": config.server.port},
    )
    return config, oracle


def _background_loops(config: OracleConfig, oracle: Any) -> list[StepRunner]:
    """The pipeline and, as configured, the redemption, wallet-link and notes loops."""
    loops: list[StepRunner] = [PipelineRunner(oracle.pipeline, config.chain.poll_seconds)]
    # One sender for the operations account: its nonces have one owner in the process.
    sender = _guard(lambda: build_ops_sender(config, oracle.w3)) if config.operations is not None else None
    redemptions = _guard(lambda: build_redemptions(config, oracle.outbox, oracle.w3, oracle.metrics, sender=sender))
    if redemptions:
        loops.append(StepRunner(redemptions.step, config.chain.poll_seconds, "redemptions"))
    return loops + _customer_loops(config, oracle, sender)


def _stop(loops: list[StepRunner]) -> None:
    for loop in loops:
        loop.stop()
    log.info("oracle stopped")


def _customer_loops(config: OracleConfig, oracle: Any, sender: Any) -> list[StepRunner]:
    """Wallet links completed on chain, proof notes posted to tickets: each in its own thread."""
    loops = []
    if sender is not None:
        linker = _guard(lambda: build_wallet_linker(config, oracle.outbox, oracle.w3, sender=sender))
        loops.append(StepRunner(linker.step, config.chain.poll_seconds, "wallet-links"))
    else:
        log.warning("no operations account configured: requested wallet links are not completed on chain")
    notes_worker = _guard(lambda: build_notes_worker(config, oracle.outbox, oracle.w3))
    if notes_worker is not None:
        loops.append(StepRunner(notes_worker.step, config.chain.poll_seconds, "notes"))
    return loops


@main.command()
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", type=click.Choice(SOURCES), default="generic", show_default=True,
              help="The helpdesk the rows come from: rows dedupe against its live deliveries.")
@click.pass_context
def ingest(ctx: click.Context, export: Path, source: str) -> None:
    """Backfill a JSONL or CSV export; prints accepted / duplicate / rejected rows."""
    config = _load(ctx)
    outbox = _guard(lambda: open_outbox(config))
    with tqdm(total=count_rows(export), unit="row", disable=None) as bar:
        summary = _guard(lambda: backfill(outbox, export, config.brand_id, source, int(time.time()), bar.update))
    click.echo(f"accepted: {summary.accepted}, duplicate: {summary.duplicate}, rejected: {len(summary.rejected)}")
    for line, reason in summary.rejected:
        click.echo(f"  line {line}: {reason}")
    if summary.rejected:
        raise click.exceptions.Exit(2)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Events per state, batches in flight and the signer's balance."""
    config = _load(ctx)
    outbox = _guard(lambda: open_outbox(config))
    report: dict[str, Any] = {"events": outbox.counts_by_state(), "batches": []}
    for row in outbox.batches_in(("open", "signed", "submitted", "confirmed")):
        report["batches"].append({
            "batch": row.batch_id, "state": row.state, "records": len(outbox.batch_records(row.batch_id)),
            "nonce": row.nonce, "tx": "0x" + row.tx_hash.hex() if row.tx_hash else None, "block": row.block_number,
        })
    try:
        account = load_signer_account(config.signers[0])
        w3 = connect(config)
        report["signer"] = {"address": account.address, "balance_wei": w3.eth.get_balance(account.address)}
    except (OracleError, Web3Exception, OSError) as exc:
        report["signer"] = {"error": str(exc)}
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo("events:  " + (", ".join(f"{s} {n}" for s, n in sorted(report["events"].items())) or "none"))
    click.echo(f"batches in flight: {len(report['batches'])}")
    for b in report["batches"]:
        click.echo(f"  #{b['batch']} {b['state']}: {b['records']} records, nonce {b['nonce']}, tx {b['tx']}, block {b['block']}")
    signer = report["signer"]
    if "error" in signer:
        click.echo(f"signer:  unavailable ({signer['error']})")
    else:
        click.echo(f"signer:  {signer['address']} holds {signer['balance_wei'] / 10**18:.6f} ETH")


@main.command()
@click.argument("event")
@click.option("--source", type=click.Choice(SOURCES), help="With a helpdesk event id instead of a 0x event id.")
@click.pass_context
def verify(ctx: click.Context, event: str, source: str | None) -> None:
    """Recompute an event's commitment from its stored content and check it against the chain.

    Exit status: 0 the content matches the on-chain record, 3 mismatch, 4 erased, 5 not found."""
    config = _load(ctx)
    key = _event_key(config, event, source)
    outbox = _guard(lambda: open_outbox(config))
    row = outbox.event_row(key)
    click.echo(f"event:   0x{key.hex()}")
    click.echo(f"outbox:  {row.state if row else 'not in this outbox'}" + (f" ({row.reason})" if row and row.reason else ""))
    registry = RegistryClient(connect(config), config.chain.registry)
    proof = _guard(lambda: registry.find_record(config.brand_id, key, from_block=config.chain.start_block))
    if proof is None:
        if row is None:
            click.echo("chain:   no record: no such event here or on chain (check the id, or --source)")
        elif row.state in ("confirmed", "final"):
            click.echo(f"chain:   no record, although this outbox says {row.state}: wrong registry, or a reorg removed it")
        else:
            click.echo(f"chain:   no record yet (the event is {row.state} here)")
        raise click.exceptions.Exit(EXIT_NOT_FOUND)
    depth = _guard(lambda: registry.w3.eth.block_number) - proof.block_number + 1
    click.echo(f"chain:   recorded as seq {proof.seq} for {proof.customer}, reward {svc(proof.reward)} SVC")
    click.echo(f"tx:      0x{proof.tx_hash.hex()} in block {proof.block_number} ({depth} confirmations)")
    on_chain = "0x" + proof.content_commitment.hex()
    try:
        opened = outbox.vault.open(key)
    except PrivacyError as exc:
        if row is None:
            click.echo(f"content: not stored in this outbox: cannot recompute the commitment {on_chain}")
            raise click.exceptions.Exit(EXIT_NOT_FOUND) from None
        click.echo(f"content: MISMATCH: {exc}")
        raise click.exceptions.Exit(EXIT_MISMATCH) from None
    if opened is None:
        click.echo(f"content: erased: the customer's key and salts were destroyed; the on-chain commitment {on_chain} "
                   "still stands, but nothing here can open it any more")
        raise click.exceptions.Exit(EXIT_ERASED)
    recomputed = "0x" + commitment(opened.salt, opened.content).hex()
    if recomputed != on_chain:
        click.echo(f"content: MISMATCH: the stored content hashes to {recomputed}, the chain holds {on_chain}")
        raise click.exceptions.Exit(EXIT_MISMATCH)
    click.echo(f"content: match: keccak256(salt || stored content) = {recomputed}, the commitment on chain")


def _event_key(config: OracleConfig, event: str, source: str | None) -> bytes:
    if source is not None:
        return compute_event_id(config.brand_id, source, event)
    try:
        key = bytes.fromhex(event.removeprefix("0x"))
    except ValueError:
        raise Failure("EVENT must be a 0x event id, or a helpdesk event id with --source") from None
    if len(key) != 32:
        raise Failure("a 0x event id is 32 bytes (64 hex digits)")
    return key


@main.command()
@click.argument("customer")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def erase(ctx: click.Context, customer: str, yes: bool) -> None:
    """Crypto-shred a customer: their feedback and deliveries become unreadable, irreversibly.

    The on-chain records and every other customer's data stay intact and verifiable."""
    config = _load(ctx)
    outbox = _guard(lambda: open_outbox(config))
    identity = _guard(lambda: build_identity(config, outbox))
    link = identity.link_of(customer)
    addresses = [identity.custodial_address(customer)] + ([link.address] if link is not None else [])
    before = erasure.readable(outbox.engine, customer, addresses)
    if not before.known:
        click.echo(f"no customer {customer!r} in this outbox (ids look like zendesk:7881): nothing erased")
        raise click.exceptions.Exit(EXIT_NOT_FOUND)
    if not before.anything:
        click.echo(f"{customer!r} is already erased: nothing of theirs is readable")
        return
    if not yes:
        click.confirm(
            f"Erase {customer!r}? {before.feedback} feedback content(s) and {before.deliveries} delivery record(s) "
            "become unreadable forever. This cannot be undone", abort=True,
        )
    erased = _guard(lambda: erasure.erase(outbox.vault, outbox.engine, customer, addresses))
    click.echo(f"erased {customer!r}: {erased.feedback} feedback content(s) and {erased.deliveries} delivery "
               "record(s) are now unreadable, irreversibly; on-chain records are unchanged")


@main.group()
def wallet() -> None:
    """Customers' addresses: custodial, or a wallet of their own."""


@wallet.command("link")
@click.argument("customer")
@click.argument("address")
@click.pass_context
def wallet_link(ctx: click.Context, customer: str, address: str) -> None:
    """Link CUSTOMER to their wallet ADDRESS: new rewards go there at once, and their coins and
    reward history move from the custodial address on chain (now, or once rewards in flight are final)."""
    config = _load(ctx)
    outbox = _guard(lambda: open_outbox(config))
    w3 = connect(config)
    # Everything the on-chain part needs is built first: a missing key refuses the link, unchanged.
    linker = _guard(lambda: build_wallet_linker(config, outbox, w3))
    contracts = _guard(lambda: _protocol_contracts(config, linker.registry))
    try:
        requested = linker.identity.request_link(customer, address, contracts)
    except LinkRefused as exc:
        raise Failure(f"refused, nothing changed: {exc}") from None
    link = requested.link
    click.echo(f"link recorded: {customer} -> {link.address} (custodial address {link.custodial_address})")
    click.echo(f"rewards from now on go to {link.address}; {requested.readdressed} waiting reward(s) re-addressed")
    try:
        outcome = linker.complete(link)
    except (OracleError, Web3Exception, OSError) as exc:
        raise Failure(f"moving the coins on chain failed: {exc}; the link stays requested and `servicecoin run` "
                      "retries it") from None
    if outcome.what == "waiting":
        click.echo(f"on chain: waiting: {outcome.detail}; `servicecoin run` completes the link")
    else:
        tx = f" (tx 0x{outcome.tx_hash.hex()})" if outcome.tx_hash else ""
        click.echo(f"on chain: linked: {outcome.detail}{tx}")


def _protocol_contracts(config: OracleConfig, registry: RegistryClient) -> dict[str, str]:
    """Addresses that are never a customer's wallet: coins sent there would be stuck."""
    contracts = {"the FeedbackRegistry": registry.address,
                 "the ServiceCoin": str(registry.contract.functions.coin().call())}
    if config.chain.redemption:
        contracts["the TierRedemption"] = config.chain.redemption
    if config.chain.forwarder:
        contracts["the forwarder"] = config.chain.forwarder
    return contracts


@wallet.command("show")
@click.argument("customer")
@click.pass_context
def wallet_show(ctx: click.Context, customer: str) -> None:
    """A customer's custodial address, linked wallet, on-chain balances and tier."""
    config = _load(ctx)
    outbox = _guard(lambda: open_outbox(config))
    identity = _guard(lambda: build_identity(config, outbox))
    link = identity.link_of(customer)
    view = _guard(lambda: _ChainView(RegistryClient(connect(config), config.chain.registry)))
    custodial = identity.custodial_address(customer)
    click.echo(f"customer:  {customer}")
    click.echo(f"custodial: {custodial}  {_guard(lambda: view.describe(custodial))}")
    if link is None:
        click.echo("wallet:    none linked")
    else:
        click.echo(f"wallet:    {link.address}  {_guard(lambda: view.describe(link.address))}")
        click.echo(f"link:      {link.state}" + (f", tx 0x{link.tx_hash.hex()}" if link.tx_hash else ""))
    click.echo(f"rewards go to: {identity.address_for(customer)}")


class _ChainView:
    """Balance, lifetime earned and tier of an address, as the contracts say."""

    def __init__(self, registry: RegistryClient) -> None:
        w3 = registry.w3
        self.registry = registry
        self.coin = w3.eth.contract(address=registry.contract.functions.coin().call(), abi=load_abi("ServiceCoin"))
        source = registry.contract.functions.tierSource().call()
        self.tiers = None if int(source, 16) == 0 else w3.eth.contract(address=source, abi=load_abi("TierRedemption"))

    def describe(self, address: str) -> str:
        balance = int(self.coin.functions.balanceOf(address).call())
        text = f"holds {svc(balance)} SVC, lifetime earned {svc(self.registry.lifetime_earned(address))} SVC"
        if self.tiers is not None:
            tier = int(self.tiers.functions.tierOf(address).call())
            multipliers = self.tiers.functions.tierSchedule().call()[1]
            text += f", tier {tier}" + (f" (rewards x{multipliers[tier] / 10_000:g})" if tier < len(multipliers) else "")
        return text


@main.command()
@click.option("--state", type=click.Choice(NOTE_STATES), help="Only notes in this state.")
@click.pass_context
def notes(ctx: click.Context, state: str | None) -> None:
    """Proof notes posted back to helpdesk tickets: pending, posted or failed."""
    config = _load(ctx)
    outbox = _guard(lambda: open_outbox(config))
    listed = NoteQueue(outbox.engine).listing(state)
    if not listed:
        click.echo("no notes" + (f" in state {state}" if state else ""))
        return
    counts: dict[str, int] = {}
    for note in listed:
        counts[note.state] = counts.get(note.state, 0) + 1
    click.echo("notes:   " + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())))
    click.echo(f"{'event':<16} {'helpdesk':<9} {'ticket':<10} {'state':<8} {'tries':>5}  detail")
    for note in listed:
        if note.state == "posted":
            detail = f"posted {_when(note.posted_at)}"
        elif note.state == "pending":
            detail = f"next try {_when(note.next_attempt_at)}" + (f"; last: {note.last_error}" if note.last_error else "")
        else:
            detail = note.last_error or ""
        event = "0x" + note.event_id.hex()[:10] + "…"
        click.echo(f"{event:<16} {note.helpdesk:<9} {note.ticket_id:<10} {note.state:<8} {note.attempts:>5}  {detail}")


def _when(timestamp: float | None) -> str:
    return "-" if timestamp is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


@main.group()
def config() -> None:
    """Configuration commands."""


@config.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the config, policy, secrets, keystores, RPC and the registry self-check."""
    cfg = _load(ctx)
    problems: list[str] = []

    def attempt(what: str, action: Any) -> Any:
        try:
            return action()
        except (OracleError, Web3Exception, OSError) as exc:
            problems.append(f"{what}: {exc}")
            return None

    policy = attempt("policy", lambda: load_policy_for(cfg))
    attempt("store", lambda: open_outbox(cfg))
    attempt("webhook sources", lambda: build_sources(cfg))
    accounts = [attempt(f"signer {s.keystore}", lambda s=s: load_signer_account(s)) for s in cfg.signers]
    registry = RegistryClient(connect(cfg), cfg.chain.registry)
    if policy is not None and all(accounts):
        checks = attempt(
            "registry", lambda: registry.self_check(cfg.chain.chain_id, [a.address for a in accounts], cfg.brand_id, policy.policy)
        )
        problems.extend(checks or [])
    if problems:
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        raise click.exceptions.Exit(2)
    click.echo(f"ok: brand {cfg.brand_id}, registry {registry.address} on chain {cfg.chain.chain_id}, "
               f"{len(accounts)} signer(s), policy v{policy.policy.version} 0x{policy.hash.hex()}")


@main.group()
def cosign() -> None:
    """An independent co-signer for k-of-n batches."""


@cosign.command("serve")
@click.pass_context
def cosign_serve(ctx: click.Context) -> None:
    """Check and co-sign batches on POST /cosign until interrupted (config: a co-signer file)."""
    path = ctx.obj["config_path"]

    def build() -> Any:
        cfg = load_cosigner_config(path)
        domain = Domain(chain_id=cfg.chain.chain_id, verifying_contract=cfg.chain.registry)
        signer = BatchSigner(load_signer_account(cfg.signer), domain)
        limits = CosignLimits(
            max_records_per_customer=cfg.limits.max_records_per_customer,
            max_deadline_ahead=cfg.limits.max_deadline_ahead_seconds,
        )
        app = create_cosigner_app(signer, load_policy(cfg.policy), read_secret(cfg.secret_env), limits)
        return cfg, signer, app

    cfg, signer, app = _guard(build)
    configure_logging("json")
    log.info("co-signer starting", extra={"signer": signer.address, "registry": cfg.chain.registry})
    uvicorn.run(app, host=cfg.server.host, port=cfg.server.port, log_config=None, access_log=False)


register_redemption_commands(main, _load, _guard, Failure)
register_relay_commands(main, _load, _guard, Failure)

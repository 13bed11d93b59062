"""`servicecoin`: the oracle's one command line.

    servicecoin run            serve webhooks and move events to the chain until stopped
    servicecoin serve | work   the same split in two processes: webhooks only | everything else
    servicecoin ingest FILE    backfill a JSONL or CSV export
    servicecoin status         events per state, batches in flight, the signer's balance
    servicecoin retry-skipped  send again the records the registry skipped for a cap or the supply limit
    servicecoin report         most active customers, churn risk, the kinds of feedback that come least
    servicecoin verify ID      an event's record on chain, and whether the stored content opens it
    servicecoin erase CUSTOMER crypto-shred a customer's feedback (the chain stays intact)
    servicecoin wallet link-message  the message a customer's wallet signs to prove it is theirs
    servicecoin wallet link    move a customer's coins and history to their own wallet
    servicecoin wallet show    a customer's addresses, balance and tier
    servicecoin notes          proof notes posted back to helpdesk tickets (these six: customer_cli.py)
    servicecoin config check   everything `run` would refuse to start for, all at once
    servicecoin cosign serve   an independent co-signer (its own config file, key and policy copy)
    servicecoin redemptions    redemptions seen on chain and their fulfilment (oracle/redeem/commands.py)
    servicecoin redemption refund|reject-dispute ID    the arbiter's decisions, sent on chain
    servicecoin prices         announced price changes and when they take effect
    servicecoin redeem CUSTOMER ITEM   redeem for a custodial customer, gas paid by the brand (oracle/redeem/relay_cli.py)
    servicecoin dispute CUSTOMER ID    dispute a delivery for a custodial customer, gas paid by the brand

The configuration file comes from --config or $SERVICECOIN_CONFIG (default servicecoin.yaml).
Every error is one line saying what is wrong; the exit status is 1 for errors, 2 for a failed
check. `verify` exits 0 when the content matches the chain, 3 on a mismatch, 4 when the content
was erased, 5 when the event or its record is not found.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import click
import requests
import uvicorn
from prometheus_client import start_http_server
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm
from web3.exceptions import Web3Exception

from oracle.chain.registry import RegistryClient
from oracle.config import SOURCE_NAMES, OracleConfig, load_config, load_cosigner_config, read_secret
from oracle.cosign.review import CosignLimits
from oracle.cosign.server import create_cosigner_app
from oracle.errors import OracleError
from oracle.ingest.backfill import backfill, count_rows
from oracle.logs import configure_logging
from oracle.pipeline import PipelineRunner
from oracle.policy import load_policy
from oracle.signer import BatchSigner
from oracle.typed_data import Domain
from oracle.service import build_oracle, build_sources, connect, load_policy_for, load_signer_account, open_outbox
from oracle.service import build_identity, build_redemptions
from oracle.service import build_notes_adapters, build_notes_worker, build_ops_sender, build_wallet_linker
from oracle.service import build_webhook_server
from oracle.store.errors import store_error
from oracle.store.submitter_lock import PostgresSubmitterLock, hold_submitter_lock
from oracle.redeem.commands import register as register_redemption_commands
from oracle.redeem.relay_cli import register as register_relay_commands
from oracle.redeem.setup_check import redemption_problems
# verify's exit statuses, re-exported: scripts and tests import them from here.
from oracle.customer_cli import EXIT_ERASED, EXIT_MISMATCH, EXIT_NOT_FOUND  # noqa: F401
from oracle.customer_cli import register as register_customer_commands
from oracle.report_cli import register as register_report_command
from oracle.runner import StepRunner
from oracle.startup_check import startup_problems

log = logging.getLogger("servicecoin")
# The submitter lock (a descriptor, or a PostgreSQL connection), held for the life of the process.
_SUBMITTER_LOCKS: list[int | PostgresSubmitterLock | None] = []
# Set when a PostgreSQL submitter lock was lost: the process stops, and exits 1.
_SUBMITTER_LOCK_LOST = threading.Event()
_LOCK_LOST_MESSAGE = "stopped: the submitter lock was lost; start it again once the database is back"
# The loops of `run` or `work` once started: stopped at once if the lock is lost.
_RUNNING_LOOPS: list[StepRunner] = []


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
    except (Web3Exception, requests.RequestException) as exc:
        raise Failure(f"the chain RPC failed: {type(exc).__name__}: {exc}") from None
    except SQLAlchemyError as exc:
        raise Failure(f"the outbox database (store.url) failed: {store_error(exc)}") from None
    except OSError as exc:  # a file: the outbox's, a lock beside it, a keystore
        raise Failure(f"{exc.filename or 'a file'}: {exc.strerror or exc}") from None


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
    try:
        _start(loops)
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
    app = _guard(lambda: build_webhook_server(config))
    log.info("webhook server starting", extra={"port": config.server.port})
    uvicorn.run(app, host=config.server.host, port=config.server.port, log_config=None, access_log=False)


@main.command()
@click.option("--metrics-port", type=click.IntRange(1, 65535), envvar="SERVICECOIN_WORK_METRICS_PORT",
              help="Serve this process's Prometheus metrics (batches, gas, submit latency) at "
                   "http://HOST:PORT/metrics, HOST being server.host. `serve` exports only its own.")
@click.pass_context
def work(ctx: click.Context, metrics_port: int | None) -> None:
    """Everything `run` does but the webhook server: batches, redemptions, wallet links and
    notes, until interrupted (Ctrl-C or SIGTERM). Pair it with `servicecoin serve`."""
    config, oracle = _checked_oracle(ctx)
    if metrics_port is not None:
        # Batch outcomes, gas and latency are counted in this process, which has no web server.
        try:
            start_http_server(metrics_port, addr=config.server.host, registry=oracle.metrics.registry)
        except OSError as exc:
            raise Failure(f"--metrics-port {metrics_port}: cannot serve metrics there ({exc.strerror})") from None
        log.info("metrics served", extra={"port": metrics_port})
    loops = _background_loops(config, oracle)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        _start(loops)
        stop.wait()
    finally:
        _stop(loops)
    if _SUBMITTER_LOCK_LOST.is_set():
        raise Failure(_LOCK_LOST_MESSAGE)


def _checked_oracle(ctx: click.Context) -> tuple[OracleConfig, Any]:
    """The assembled oracle, after the start-up self-check (exit 2 naming every mismatch)."""
    config = _load(ctx)
    configure_logging(config.log_format)
    # `run` and `work` are the outbox's one submitter. Never closed here: released when the
    # process exits, after its last loop thread, not when the command returns.
    lock = _guard(lambda: hold_submitter_lock(config.store.url))
    _SUBMITTER_LOCKS.append(lock)
    if isinstance(lock, PostgresSubmitterLock):
        signal.signal(signal.SIGTERM, _terminated)  # before the watch can send it
        lock.watch(_stop_for_lost_lock)
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


def _stop_for_lost_lock(message: str) -> None:
    """Another `work` may start once the lock is gone: this one must not go on submitting. Its
    loops stop at once (each finishes the step it is in), then SIGTERM ends the process: `work`
    through its own handler, `run` through uvicorn's, which re-raises it into `_terminated`
    once the server has shut down. Either way the exit status is 1, for a supervisor."""
    log.critical(message)
    _SUBMITTER_LOCK_LOST.set()
    _stop(list(_RUNNING_LOOPS))
    os.kill(os.getpid(), signal.SIGTERM)


def _terminated(signum: int, frame: Any) -> None:
    """SIGTERM while a PostgreSQL submitter lock is held, outside `work`'s own handler (during
    start-up, or re-raised by uvicorn in `run`): exit 1 if the lock was lost, else die of
    the signal as before."""
    if _SUBMITTER_LOCK_LOST.is_set():
        raise Failure(_LOCK_LOST_MESSAGE)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _start(loops: list[StepRunner]) -> None:
    for loop in loops:
        loop.start()
        _RUNNING_LOOPS.append(loop)


def _stop(loops: list[StepRunner]) -> None:
    for loop in loops:
        if loop in _RUNNING_LOOPS:  # a loop never started cannot be joined
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
@click.option("--source", type=click.Choice(SOURCE_NAMES), default="generic", show_default=True,
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


@main.command("retry-skipped")
@click.option("--dry-run", is_flag=True, help="Only count them.")
@click.pass_context
def retry_skipped(ctx: click.Context, dry_run: bool) -> None:
    """Send again the records the registry skipped for a cap or the supply limit.

    Run it once there is room: a new cap period, a raised cap, coins burned. Each record keeps
    its sequence number, so the registry still rewards it at most once; it goes to the
    customer's address now (a wallet linked since included)."""
    config = _load(ctx)
    outbox = _guard(lambda: open_outbox(config))
    policy = _guard(lambda: load_policy_for(config)).policy
    identity = _guard(lambda: build_identity(config, outbox))
    counts, left = _guard(lambda: outbox.requeue_skipped(policy, identity.address_for, dry_run=dry_run))
    if left:
        click.echo(f"not retried: {sum(left.values())} record(s) of a kind policy v{policy.version} no longer rewards")
    if not counts:
        click.echo("nothing to retry: no record was skipped for a cap or the supply limit")
        return
    detail = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))
    if dry_run:
        click.echo(f"would re-queue {sum(counts.values())} record(s): {detail}")
    else:
        click.echo(f"re-queued {sum(counts.values())} record(s): {detail}; `servicecoin run` (or `work`) "
                   "sends them in its next batches")


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
        except (requests.ConnectionError, requests.Timeout) as exc:
            problems.append(f"{what}: the chain RPC at {cfg.chain.rpc_url} cannot be reached ({type(exc).__name__})")
        except SQLAlchemyError as exc:
            problems.append(f"{what}: the database failed: {store_error(exc)}")
        except (OracleError, Web3Exception, OSError) as exc:
            problems.append(f"{what}: {exc}")
        return None

    policy = attempt("policy", lambda: load_policy_for(cfg))
    outbox = attempt("store", lambda: open_outbox(cfg))
    attempt("webhook sources", lambda: build_sources(cfg))
    accounts = [attempt(f"signer {s.keystore}", lambda s=s: load_signer_account(s)) for s in cfg.signers]
    for c in cfg.cosigners:  # `run` reads each co-signer's shared secret as it starts
        attempt(f"co-signer {c.address}", lambda c=c: read_secret(c.secret_env))
    # What `work` (or `run`) reads as it starts its other loops.
    operations = None
    if cfg.operations is not None:
        operations = attempt("operations", lambda: load_signer_account(cfg.operations))
    for section, secret_env in (("relay", cfg.relay and cfg.relay.secret_env),
                                ("fulfilment", cfg.fulfilment and cfg.fulfilment.secret_env)):
        if secret_env:
            attempt(section, lambda secret_env=secret_env: read_secret(secret_env))
    attempt("notes", lambda: build_notes_adapters(cfg))
    registry = RegistryClient(connect(cfg), cfg.chain.registry)
    if policy is not None and outbox is not None and all(accounts):
        # The same check `run` makes before it starts, co-signers counted toward the quorum.
        signers = [a.address for a in accounts] + [c.address for c in cfg.cosigners]
        checks = attempt("registry", lambda: startup_problems(cfg, registry, outbox, signers, policy.policy))
        problems.extend(checks or [])
    ops_address = operations.address if operations is not None else None
    problems.extend(attempt("redemptions", lambda: redemption_problems(cfg, registry.w3, ops_address)) or [])
    if problems:
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        raise click.exceptions.Exit(2)
    click.echo(f"ok: brand {cfg.brand_id}, registry {registry.address} on chain {cfg.chain.chain_id}, "
               f"{len(accounts)} signer(s), {len(cfg.cosigners)} co-signer(s), policy v{policy.policy.version} 0x{policy.hash.hex()}")


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
register_customer_commands(main, _load, _guard, Failure)
register_report_command(main, _load, _guard)

"""`servicecoin`: the oracle's one command line.

    servicecoin run            serve webhooks and move events to the chain until stopped
    servicecoin ingest FILE    backfill a JSONL or CSV export
    servicecoin status         events per state, batches in flight, the signer's balance
    servicecoin verify ID      an event's state here and its record on chain
    servicecoin config check   everything `run` would refuse to start for, all at once
    servicecoin cosign serve   an independent co-signer (its own config file, key and policy copy)

The configuration file comes from --config or $SERVICECOIN_CONFIG (default servicecoin.yaml).
Every error is one line saying what is wrong; the exit status is 1 for errors, 2 for a failed
check.
"""

from __future__ import annotations

import json
import logging
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

log = logging.getLogger("servicecoin")
SOURCES = ("generic", "zendesk", "intercom", "freshdesk")


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
    runner = PipelineRunner(oracle.pipeline, config.chain.poll_seconds)
    runner.start()
    try:
        uvicorn.run(oracle.app, host=config.server.host, port=config.server.port, log_config=None, access_log=False)
    finally:
        runner.stop()
        log.info("oracle stopped")


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
    """An event's state in the outbox and its on-chain record, transaction and block."""
    config = _load(ctx)
    if source is not None:
        key = compute_event_id(config.brand_id, source, event)
    else:
        try:
            key = bytes.fromhex(event.removeprefix("0x"))
        except ValueError:
            raise Failure("EVENT must be a 0x event id, or a helpdesk event id with --source") from None
        if len(key) != 32:
            raise Failure("a 0x event id is 32 bytes (64 hex digits)")
    outbox = _guard(lambda: open_outbox(config))
    row = outbox.event_row(key)
    click.echo(f"event:   0x{key.hex()}")
    click.echo(f"outbox:  {row.state if row else 'not in this outbox'}" + (f" ({row.reason})" if row and row.reason else ""))
    registry = RegistryClient(connect(config), config.chain.registry)
    proof = _guard(lambda: registry.find_record(config.brand_id, key))
    if proof is None:
        click.echo("chain:   no record")
        raise click.exceptions.Exit(2 if row is not None and row.state in ("confirmed", "final") else 0)
    depth = _guard(lambda: registry.w3.eth.block_number) - proof.block_number + 1
    click.echo(f"chain:   recorded as seq {proof.seq} for {proof.customer}, reward {proof.reward / 10**18} SVC")
    click.echo(f"tx:      0x{proof.tx_hash.hex()} in block {proof.block_number} ({depth} confirmations)")
    content = outbox.vault.verify(key, proof.content_commitment)
    click.echo(f"content: {content} (salted commitment 0x{proof.content_commitment.hex()})")


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

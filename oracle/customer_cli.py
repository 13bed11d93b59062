"""The `servicecoin` commands about customers: `verify` (an event's record on chain, and whether
the stored content opens its commitment), `erase` (crypto-shred a customer), `wallet
link-message`, `wallet link` (a wallet of their own, proven theirs by its signature) and `wallet
show` (custodial address or their own wallet), and `notes` (proof notes posted back
to helpdesk tickets). Registered on the main group by oracle/cli.py."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import click
from web3.exceptions import Web3Exception

from oracle import erasure
from oracle.abi import load_abi
from oracle.chain.record_lookup import record_from_outbox_row
from oracle.chain.registry import RegistryClient
from oracle.config import SOURCE_NAMES, OracleConfig
from oracle.errors import OracleError
from oracle.events import event_id as compute_event_id
from oracle.identity import LinkRefused
from oracle.notes.queue import NoteQueue
from oracle.privacy import PrivacyError, commitment
from oracle.service import build_identity, build_wallet_linker, connect, connect_to_configured_chain, open_outbox
from oracle.store.outbox import NOT_REWARDED, RETRYABLE_SKIPS
from oracle.store.schema import NOTE_STATES
from oracle.units import svc
from oracle.wallet_link_requests import WalletLinkRequests
from oracle.wallet_proof import MAX_PROOF_LIFETIME_SECONDS, signature_from_hex

# `verify`: distinct statuses, so that a script can tell the outcomes apart.
EXIT_MISMATCH, EXIT_ERASED, EXIT_NOT_FOUND = 3, 4, 5


def register(
    main_group: click.Group,
    load: Callable[[click.Context], OracleConfig],
    guard: Callable[[Callable[[], Any]], Any],
    failure: type[click.ClickException],
) -> None:
    """Adds the customer commands to the `servicecoin` group (load/guard/failure: the CLI's own
    helpers)."""

    @main_group.command()
    @click.argument("event")
    @click.option("--source", type=click.Choice(SOURCE_NAMES), help="With a helpdesk event id instead of a 0x event id.")
    @click.pass_context
    def verify(ctx: click.Context, event: str, source: str | None) -> None:
        """Recompute an event's commitment from its stored content and check it against the chain.

        Exit status: 0 the content matches the on-chain record, 3 mismatch, 4 erased, 5 not found."""
        config = load(ctx)
        key = _event_key(config, event, source)
        outbox = guard(lambda: open_outbox(config))
        row = outbox.event_row(key)
        click.echo(f"event:   0x{key.hex()}")
        click.echo(f"outbox:  {row.state if row else 'not in this outbox'}" + (f" ({row.reason})" if row and row.reason else ""))
        registry = RegistryClient(guard(lambda: connect_to_configured_chain(config)), config.chain.registry)
        batch = outbox.batch_row(row.batch_id) if row is not None and row.batch_id is not None else None
        proof = guard(lambda: registry.find_record(
            config.brand_id, key, from_block=config.chain.start_block, record=record_from_outbox_row(row),
            tx_hint=batch.tx_hash if batch is not None else None))
        if proof is None:
            if row is None:
                click.echo("chain:   no record: no such event here or on chain (check the id, or --source)")
            elif row.reason and row.reason.startswith(NOT_REWARDED):
                retry = " (`servicecoin retry-skipped` can send it again)" if any(
                    row.reason.endswith(reason) for reason in RETRYABLE_SKIPS) else ""
                click.echo(f"chain:   no record: the registry skipped it ({row.reason.removeprefix(NOT_REWARDED)}){retry}")
            elif row.state in ("confirmed", "final"):
                click.echo(f"chain:   no record, although this outbox says {row.state}: wrong registry, or a reorg removed it")
            else:
                click.echo(f"chain:   no record yet (the event is {row.state} here)")
            raise click.exceptions.Exit(EXIT_NOT_FOUND)
        depth = guard(lambda: registry.w3.eth.block_number) - proof.block_number + 1
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
            if not event.startswith("0x"):  # "e1" is hex too, but meant as a helpdesk id
                raise ValueError(event)
            key = bytes.fromhex(event.removeprefix("0x"))
        except ValueError:
            raise failure("EVENT must be a 0x event id, or a helpdesk event id with --source") from None
        if len(key) != 32:
            raise failure("a 0x event id is 32 bytes (64 hex digits)")
        return key


    @main_group.command()
    @click.argument("customer")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    @click.pass_context
    def erase(ctx: click.Context, customer: str, yes: bool) -> None:
        """Crypto-shred a customer: their feedback and deliveries become unreadable, irreversibly.

        The on-chain records and every other customer's data stay intact and verifiable."""
        config = load(ctx)
        outbox = guard(lambda: open_outbox(config))
        identity = guard(lambda: build_identity(config, outbox))
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
        erased = guard(lambda: erasure.erase(outbox.vault, outbox.engine, customer, addresses))
        click.echo(f"erased {customer!r}: {erased.feedback} feedback content(s) and {erased.deliveries} delivery "
                   "record(s) are now unreadable, irreversibly; on-chain records are unchanged")


    @main_group.group()
    def wallet() -> None:
        """Customers' addresses: custodial, or a wallet of their own."""


    @wallet.command("link-message")
    @click.argument("customer")
    @click.argument("address")
    @click.option("--valid-for", type=click.IntRange(min=60, max=MAX_PROOF_LIFETIME_SECONDS), default=3600,
                  show_default=True, help="Seconds the customer has to sign it and you to link.")
    @click.option("--new-customer", is_flag=True, help="A customer this outbox has no event of yet.")
    @click.pass_context
    def wallet_link_message(ctx: click.Context, customer: str, address: str, valid_for: int, new_customer: bool) -> None:
        """Print the EIP-712 message (JSON, for eth_signTypedData_v4) that the wallet ADDRESS signs to
        prove it is CUSTOMER's; pass the signature and its deadline to `wallet link`."""
        config = load(ctx)
        outbox = guard(lambda: open_outbox(config))
        requests = WalletLinkRequests(config, outbox, guard(lambda: build_identity(config, outbox)), connect(config))
        try:
            typed = requests.message(customer, address, valid_for, new_customer)
        except LinkRefused as exc:  # refused now, not after the customer signed
            raise failure(f"refused: {exc}") from None
        click.echo(json.dumps(typed, indent=2))

    @wallet.command("link")
    @click.argument("customer")
    @click.argument("address")
    @click.option("--signature", "signature_hex", required=True,
                  help="The wallet's signature of its WalletOwnership message (`wallet link-message`), 0x-hex.")
    @click.option("--deadline", type=click.IntRange(min=0, max=2**256 - 1), required=True,
                  help="The deadline of the message the wallet signed.")
    @click.option("--new-customer", is_flag=True,
                  help="Link a customer this outbox has no event of yet (a link cannot be undone).")
    @click.pass_context
    def wallet_link(
        ctx: click.Context, customer: str, address: str, signature_hex: str, deadline: int, new_customer: bool
    ) -> None:
        """Link CUSTOMER to their wallet ADDRESS, once the wallet has signed that it is theirs: new
        rewards go there at once, and their coins and reward history move from the custodial
        address on chain (now, or once rewards in flight are final)."""
        try:
            signature = signature_from_hex(signature_hex)
        except LinkRefused as exc:
            raise failure(f"--{exc}") from None
        config = load(ctx)
        outbox = guard(lambda: open_outbox(config))
        w3 = guard(lambda: connect_to_configured_chain(config))
        # Everything the on-chain part needs is built first: a missing key refuses the link, unchanged.
        linker = guard(lambda: build_wallet_linker(config, outbox, w3))
        requests = WalletLinkRequests(config, outbox, linker.identity, w3)
        try:
            requested = requests.request(customer, address, deadline, signature, new_customer)
        except LinkRefused as exc:
            raise failure(f"refused, nothing changed: {exc}") from None
        except (Web3Exception, OSError) as exc:  # asking a contract wallet (ERC-1271), or the coin's address
            raise failure(f"checking the link on chain failed: {exc}; nothing was linked") from None
        link = requested.link
        click.echo(f"link recorded: {customer} -> {link.address} (custodial address {link.custodial_address})")
        click.echo(f"rewards from now on go to {link.address}; {requested.readdressed} waiting reward(s) re-addressed")
        try:
            outcome = linker.complete(link)
        except (OracleError, Web3Exception, OSError) as exc:
            raise failure(f"moving the coins on chain failed: {exc}; the link stays requested and `servicecoin run` "
                          "retries it") from None
        if outcome.what == "waiting":
            click.echo(f"on chain: waiting: {outcome.detail}; `servicecoin run` completes the link")
        else:
            tx = f" (tx 0x{outcome.tx_hash.hex()})" if outcome.tx_hash else ""
            click.echo(f"on chain: linked: {outcome.detail}{tx}")


    @wallet.command("show")
    @click.argument("customer")
    @click.pass_context
    def wallet_show(ctx: click.Context, customer: str) -> None:
        """A customer's custodial address, linked wallet, on-chain balances and tier."""
        config = load(ctx)
        outbox = guard(lambda: open_outbox(config))
        identity = guard(lambda: build_identity(config, outbox))
        link = identity.link_of(customer)
        view = guard(lambda: _ChainView(RegistryClient(connect_to_configured_chain(config), config.chain.registry)))
        custodial = identity.custodial_address(customer)
        click.echo(f"customer:  {customer}")
        click.echo(f"custodial: {custodial}  {guard(lambda: view.describe(custodial))}")
        if link is None:
            click.echo("wallet:    none linked")
        else:
            click.echo(f"wallet:    {link.address}  {guard(lambda: view.describe(link.address))}")
            click.echo(f"link:      {link.state}" + (f", tx 0x{link.tx_hash.hex()}" if link.tx_hash else ""))
        click.echo(f"rewards go to: {identity.address_for(customer)}")


    @main_group.command()
    @click.option("--state", type=click.Choice(NOTE_STATES), help="Only notes in this state.")
    @click.pass_context
    def notes(ctx: click.Context, state: str | None) -> None:
        """Proof notes posted back to helpdesk tickets: pending, posted or failed."""
        config = load(ctx)
        outbox = guard(lambda: open_outbox(config))
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


def _when(timestamp: float | None) -> str:
    return "-" if timestamp is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))

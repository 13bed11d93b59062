"""`servicecoin redemptions`, `servicecoin redemption refund|reject-dispute ID`, `servicecoin prices`.

Listings read what the redemption watcher stored (`--sync` reads the chain's new confirmed
events first, for when `servicecoin run` is not running). The arbiter's two decisions are
on-chain actions sent from the operations account, which needs ARBITER_ROLE on TierRedemption
(a pending redemption may also be refunded with the fulfiller role of its item's brand).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import click
from web3.exceptions import ContractLogicError, Web3Exception

from oracle.config import OracleConfig
from oracle.errors import OracleError
from oracle.redeem.fulfiller import REDEMPTION_BRAND, REDEMPTION_STATUS, STATUS_NAMES
from oracle.redeem.loop import build_redemption_loop, redemption_contract
from oracle.redeem.store import RedemptionStore
from oracle.service import build_ops_sender, connect, open_outbox
from oracle.store.schema import REDEMPTION_STATES
from oracle.units import svc

PENDING, DISPUTED = 1, 3


def coins(units: str | int) -> str:
    """Coin units (a decimal string as stored, or an int) as SVC: 50000000000000000000 -> '50'."""
    return svc(int(units))


def utc(timestamp: int | None) -> str:
    if not timestamp:
        return "-"
    return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + bytes(value).hex()


def redemption_view(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.redemption_id),
        "state": row.state,
        "action": row.action if row.state == "pending" else None,
        "customer": row.customer_address,
        "item": int(row.item_id),
        "price_units": row.price,
        "tier": int(row.tier),
        "redeemed_at": int(row.redeemed_at),
        "attempts": int(row.attempts),
        "next_attempt_at": float(row.next_attempt_at) if row.state == "pending" else None,
        "last_error": row.last_error,
        "refund_reason": row.refund_reason,
        "delivery_commitment": _hex(row.delivery_commitment),
        "chain_commitment": _hex(row.chain_commitment),
        "fulfil_tx": _hex(row.fulfil_tx),
        "refund_tx": _hex(row.refund_tx),
    }


def announcement_view(row: Any, chain_now: int, pending: tuple[int, int] | None = None) -> dict[str, Any]:
    """One announcement. `pending`: the chain's pendingPriceChange of the item, given for the
    item's newest announcement still standing; its effect time includes pauses since the
    announcement, which the event's cannot (a pause pushes a change back)."""
    state, effective_at = row.state, int(row.effective_at)
    if state == "announced":
        if pending is not None and pending[1] != 0 and str(pending[0]) == row.new_price:
            effective_at = pending[1]
        state = "effective" if effective_at <= chain_now else "upcoming"
    return {
        "item": int(row.item_id),
        "old_price_units": row.old_price,
        "new_price_units": row.new_price,
        "announced_at": int(row.announced_at),
        "effective_at": effective_at,
        "state": state,
        "tx": _hex(row.tx_hash),
    }


def announcement_views(rows: list[Any], chain_now: int, contract: Any | None) -> list[dict[str, Any]]:
    """The stored announcements, each item's newest standing one checked against the chain's
    pending change when `contract` (TierRedemption) is given."""
    newest = {int(r.item_id): r for r in rows if r.state == "announced"}  # rows come oldest first
    views = []
    for row in rows:
        pending = None
        if contract is not None and newest.get(int(row.item_id)) is row:
            pending = tuple(contract.functions.pendingPriceChange(int(row.item_id)).call())
        views.append(announcement_view(row, chain_now, pending))
    return views


def register(
    main: click.Group,
    load: Callable[[click.Context], OracleConfig],
    guard: Callable[[Callable[[], Any]], Any],
    failure: type[click.ClickException],
) -> None:
    """Adds the commands to the `servicecoin` group (load/guard/failure: the CLI's own helpers)."""
    def store_for(config: OracleConfig, sync: bool) -> RedemptionStore:
        outbox = guard(lambda: open_outbox(config))
        if sync:
            loop = guard(lambda: build_redemption_loop(config.model_copy(update={"fulfilment": None}), outbox,
                                                       connect(config), None))
            guard(loop.follower.catch_up)
            return loop.store
        return RedemptionStore(outbox.engine)

    @main.command("redemptions")
    @click.option("--state", "states", multiple=True, type=click.Choice(REDEMPTION_STATES),
                  help="Only these states (repeatable).")
    @click.option("--sync", is_flag=True, help="Read the chain's new confirmed events first.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @click.pass_context
    def redemptions_command(ctx: click.Context, states: tuple[str, ...], sync: bool, as_json: bool) -> None:
        """Redemptions seen on chain, their states and the fulfilment work on them."""
        config = load(ctx)
        rows = [redemption_view(r) for r in store_for(config, sync).list(states)]
        if as_json:
            click.echo(json.dumps(rows, indent=2))
            return
        if not rows:
            click.echo("no redemptions" + (f" in state {', '.join(states)}" if states else ""))
            return
        click.echo(f"{'id':>6}  {'state':<10} {'next step':<9} {'item':>4} {'price':>10}  {'tries':>5}  customer / note")
        for r in rows:
            note = r["last_error"] or r["refund_reason"] or ""
            if r["state"] == "disputed":
                note = "disputed: the arbiter decides (servicecoin redemption refund|reject-dispute " f"{r['id']})"
            click.echo(f"{r['id']:>6}  {r['state']:<10} {r['action'] or '-':<9} {r['item']:>4} "
                       f"{coins(r['price_units']):>10}  {r['attempts']:>5}  {r['customer']}"
                       + (f"  {note}" if note else ""))

    @main.command("prices")
    @click.option("--sync", is_flag=True, help="Read the chain's new confirmed events first.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @click.pass_context
    def prices_command(ctx: click.Context, sync: bool, as_json: bool) -> None:
        """Announced price changes: old and new price, when each takes (or took) effect."""
        config = load(ctx)
        store = store_for(config, sync)
        stored = store.announcements()
        try:
            w3 = connect(config)
            chain_now = int(w3.eth.get_block("latest")["timestamp"])
            contract = redemption_contract(w3, config.chain.redemption) if config.chain.redemption else None
            rows = announcement_views(stored, chain_now, contract)
            clock_note = None
        except (Web3Exception, OSError):
            # Listing what was stored needs no chain; only "upcoming or effective" needs its
            # clock, and the effect times as pauses pushed them back need its state.
            chain_now = int(time.time())
            rows = announcement_views(stored, chain_now, None)
            clock_note = ("note: the chain is unreachable; upcoming/effective by this machine's clock, "
                          "effect times as announced (a pause since would push them back)")
        if as_json:
            click.echo(json.dumps(rows, indent=2))
            return
        if not rows:
            click.echo("no price announcements")
            return
        if clock_note:
            click.echo(clock_note, err=True)
        for r in rows:
            click.echo(f"item {r['item']}: {coins(r['old_price_units'])} -> {coins(r['new_price_units'])} SVC, "
                       f"effective {utc(r['effective_at'])} ({r['state']}), announced {utc(r['announced_at'])}")

    @main.group("redemption")
    def redemption_group() -> None:
        """The arbiter's decisions on a redemption (sent from the operations account)."""

    def decide(ctx: click.Context, redemption_id: int, action: str) -> None:
        config = load(ctx)
        if config.chain.redemption is None:
            raise failure("chain.redemption: the TierRedemption address is not configured")
        w3 = connect(config)
        contract = redemption_contract(w3, config.chain.redemption)
        sender = guard(lambda: build_ops_sender(config, w3))
        on_chain = guard(lambda: _redemption_of(contract, redemption_id))
        status = int(on_chain[REDEMPTION_STATUS])
        arbiter = guard(lambda: contract.functions.hasRole(contract.functions.ARBITER_ROLE().call(), sender.address).call())
        if action == "refund":
            allowed = (PENDING, DISPUTED)
            brand_id = int(on_chain[REDEMPTION_BRAND])
            fulfiller = status == PENDING and guard(lambda: contract.functions.hasRole(
                contract.functions.fulfillerRole(brand_id).call(), sender.address).call())
            authorised = arbiter or fulfiller
            call = contract.functions.refund(redemption_id)
        else:
            allowed = (DISPUTED,)
            authorised = arbiter
            call = contract.functions.rejectDispute(redemption_id)
        if status not in allowed:
            raise failure(f"redemption {redemption_id} is {STATUS_NAMES[status]} on chain: only a "
                          f"{' or '.join(STATUS_NAMES[s] for s in allowed)} one can be {_past(action)}")
        if not authorised:
            raise failure(f"the operations account {sender.address} lacks ARBITER_ROLE on TierRedemption "
                          f"{contract.address}: the admin grants it with grantRole(ARBITER_ROLE, {sender.address})")
        receipt = guard(lambda: sender.send_call(call, f"{action} redemption {redemption_id}"))
        click.echo(f"redemption {redemption_id} {_past(action)}: tx 0x{bytes(receipt['transactionHash']).hex()} "
                   f"in block {receipt['blockNumber']}")

    @redemption_group.command("refund")
    @click.argument("redemption_id", type=click.IntRange(min=0))
    @click.pass_context
    def refund_command(ctx: click.Context, redemption_id: int) -> None:
        """Refund a disputed (or undelivered pending) redemption: the customer gets the price back."""
        decide(ctx, redemption_id, "refund")

    @redemption_group.command("reject-dispute")
    @click.argument("redemption_id", type=click.IntRange(min=0))
    @click.pass_context
    def reject_command(ctx: click.Context, redemption_id: int) -> None:
        """Reject a dispute: the delivery stands and the redemption settles (its coins are burned)."""
        decide(ctx, redemption_id, "reject-dispute")


def _past(action: str) -> str:
    return "refunded" if action == "refund" else "settled (dispute rejected)"


def _redemption_of(contract: Any, redemption_id: int) -> Any:
    try:
        return contract.functions.redemptionOf(redemption_id).call()
    except ContractLogicError:
        raise RedemptionNotFound(f"redemption {redemption_id} does not exist on TierRedemption {contract.address}") from None


class RedemptionNotFound(OracleError):
    """No such redemption on chain."""

"""`servicecoin redeem CUSTOMER_ID ITEM_ID [--max-price COINS]`: the brand redeems for a
custodial customer (one who has not linked a wallet of their own). The custodial key signs the
permit and the forward request; the operations account relays them and pays the gas, exactly as
for a customer who signs in their own wallet (oracle/redeem/relay.py).

`servicecoin dispute CUSTOMER_ID REDEMPTION_ID`: the brand files a custodial customer's dispute
the same way (oracle/redeem/dispute_relay.py)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from oracle.config import OracleConfig, brand_secret
from oracle.custody import CustodialWallets
from oracle.redeem.dispute_relay import DisputeRelay
from oracle.service import build_identity, build_redeem_relay, connect, open_outbox, relay_wait_seconds
from oracle.units import UNITS_PER_COIN, svc


def coin_units(text: str) -> int:
    """'12.5' SVC as integer units; refuses more than 18 decimals, negatives and non-numbers."""
    try:
        coins = Decimal(text)
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not a number of coins") from None
    units = coins * UNITS_PER_COIN
    if not coins.is_finite() or coins < 0 or units != units.to_integral_value():
        raise click.BadParameter(f"{text!r}: a non-negative number of coins with at most 18 decimals")
    return int(units)


def register(
    main: click.Group,
    load: Callable[[click.Context], OracleConfig],
    guard: Callable[[Callable[[], Any]], Any],
    failure: type[click.ClickException],
) -> None:
    """Adds `redeem` and `dispute` to the `servicecoin` group (load/guard/failure: the CLI's own helpers)."""

    @main.command("redeem")
    @click.argument("customer")
    @click.argument("item_id", type=click.IntRange(min=0))
    @click.option("--max-price", "max_price", metavar="COINS",
                  help="Pay at most this many SVC (e.g. 50 or 12.5); default: the item's price now.")
    @click.pass_context
    def redeem_command(ctx: click.Context, customer: str, item_id: int, max_price: str | None) -> None:
        """Redeem ITEM_ID for custodial CUSTOMER (a helpdesk customer id); the brand pays the gas."""
        config = load(ctx)
        limit = None if max_price is None else coin_units(max_price)
        outbox = guard(lambda: open_outbox(config))
        link = guard(lambda: build_identity(config, outbox).link_of(customer))
        if link is not None:
            raise failure(
                f"customer {customer} has linked their own wallet {link.address} ({link.state}): the brand no longer "
                "holds their coins; they redeem from that wallet (gasless through POST /v1/relay/redeem)"
            )
        w3 = connect(config)
        relay = guard(lambda: build_redeem_relay(config, w3))
        account = CustodialWallets(guard(lambda: brand_secret(config.secrets)), config.brand_id).account_for(customer)
        price = limit if limit is not None else guard(lambda: relay.price_of(item_id))
        click.echo(f"sending; waiting up to {relay_wait_seconds(config):.0f} s for it to be mined ...", err=True)
        done = guard(lambda: relay.redeem_for_custodial(account, item_id, price))
        click.echo(f"redemption {done.redemption_id}: item {done.item_id} for {customer} ({done.customer}), "
                   f"paid {svc(done.price)} SVC")
        click.echo(f"tx {done.tx_hash} (gas {done.gas_used:,}, paid by the operations account)")

    @main.command("dispute")
    @click.argument("customer")
    @click.argument("redemption_id", type=click.IntRange(min=0))
    @click.pass_context
    def dispute_command(ctx: click.Context, customer: str, redemption_id: int) -> None:
        """Dispute REDEMPTION_ID for custodial CUSTOMER (a helpdesk customer id) who says the delivery
        was not what was promised; an arbiter then decides. The brand pays the gas."""
        config = load(ctx)
        w3 = connect(config)
        relay = guard(lambda: build_redeem_relay(config, w3))
        # The custodial key signs even after the customer linked a wallet: a redemption made
        # before the link is the custodial address's, and only it may dispute that one.
        account = CustodialWallets(guard(lambda: brand_secret(config.secrets)), config.brand_id).account_for(customer)
        click.echo(f"sending; waiting up to {relay_wait_seconds(config):.0f} s for it to be mined ...", err=True)
        filed = guard(lambda: DisputeRelay(relay).for_custodial(account, redemption_id))
        click.echo(f"redemption {filed.redemption_id} disputed for {customer} ({filed.customer}); an arbiter decides")
        click.echo(f"tx {filed.tx_hash} (gas {filed.gas_used:,}, paid by the operations account)")

"""Coin amounts for people: integer units (18 decimals) shown as SVC, exactly."""

from __future__ import annotations

from decimal import Decimal, localcontext

UNITS_PER_COIN = 10**18


def to_units(coins: Decimal) -> int:
    """Coins as integer units, exactly (the default 28-digit context would round amounts of up
    to 30 digits, which configuration files allow)."""
    with localcontext() as context:
        context.prec = 60
        return int(coins * UNITS_PER_COIN)


def svc(units: int) -> str:
    """Units as SVC without floats: 2000000000000000000 -> '2', 1100000000000000000 -> '1.1'."""
    text = format(Decimal(units) / UNITS_PER_COIN, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text

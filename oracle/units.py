"""Coin amounts for people: integer units (18 decimals) shown as SVC, exactly."""

from __future__ import annotations

from decimal import Decimal

UNITS_PER_COIN = 10**18


def svc(units: int) -> str:
    """Units as SVC without floats: 2000000000000000000 -> '2', 1100000000000000000 -> '1.1'."""
    text = format(Decimal(units) / UNITS_PER_COIN, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text

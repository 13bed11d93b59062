"""What the reward policy reads of the past: how many events of a kind a customer already had
found eligible that day, and how much the brand issued that day."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from oracle.kinds import FeedbackKind
from oracle.store.engine import chunks
from oracle.store.schema import daily_issuance, events

from oracle.units import UNITS_PER_COIN
# States in which an event counts against rate limits and budgets (it was found eligible).
COUNTED = ("eligible", "batched", "submitted", "confirmed", "final")


class History:
    """The policy's view of what was already found eligible, read once for a whole group of
    received events inside the deciding transaction, then kept up to date in memory as the
    group's decisions are made (and written back with them)."""

    def __init__(self, connection: Connection, brand_id: int, rows: list[Any]) -> None:
        self._brand_id = brand_id
        customers = sorted({row.customer_id for row in rows})
        days = sorted({row.day for row in rows})
        self._counts: Counter[tuple[str, int, str]] = Counter()
        for chunk in chunks(customers, 500):
            query = (
                select(events.c.customer_id, events.c.kind, events.c.day, func.count())
                .where(
                    events.c.brand_id == brand_id,
                    events.c.customer_id.in_(chunk),
                    events.c.day.in_(days),
                    events.c.state.in_(COUNTED),
                )
                .group_by(events.c.customer_id, events.c.kind, events.c.day)
            )
            for customer, kind, day, count in connection.execute(query):
                self._counts[(customer, kind, day)] = int(count)
        # Locked on PostgreSQL until the transaction ends: two deciders cannot both spend it.
        issued = connection.execute(
            select(daily_issuance.c.day, daily_issuance.c.units)
            .where(daily_issuance.c.brand_id == brand_id, daily_issuance.c.day.in_(days))
            .with_for_update()
        ).all()
        self._stored_days = {day for day, _ in issued}
        self._issued = {day: int(units) for day, units in issued}
        self._touched: set[str] = set()

    def count_for(self, customer_id: str, kind: FeedbackKind, day: date) -> int:
        return self._counts[(customer_id, int(kind), day.isoformat())]

    def budget_used(self, day: date) -> Decimal:
        return Decimal(self._issued.get(day.isoformat(), 0)) / UNITS_PER_COIN

    def add_eligible(self, customer_id: str, kind: int, day: str, units: int) -> None:
        self._counts[(customer_id, kind, day)] += 1
        self._issued[day] = self._issued.get(day, 0) + units
        self._touched.add(day)

    def write(self, connection: Connection) -> None:
        for day in sorted(self._touched):
            units = str(self._issued[day])
            if day in self._stored_days:
                connection.execute(
                    update(daily_issuance)
                    .where(daily_issuance.c.brand_id == self._brand_id, daily_issuance.c.day == day)
                    .values(units=units)
                )
            else:
                connection.execute(insert(daily_issuance).values(brand_id=self._brand_id, day=day, units=units))

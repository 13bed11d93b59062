"""How many gasless redemptions the brand pays for, per customer: at most `limit` in any
rolling `window` (a day by default).

Relaying spends the brand's gas, so a customer (or a compromised app session) must not be able
to make it send without end. A relay counts when it passed every free check (signatures,
simulation) and is about to be sent: refusals cost no gas and do not count. The uses are kept in
the outbox's database (table relay_uses), checked and counted in one write transaction: a
restart does not forget them, and several `servicecoin serve` processes share one count.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, delete, func, insert, select

from oracle.errors import OracleError
from oracle.store.engine import RELAY_LIMIT_LOCK, serialise, write_transaction
from oracle.store.schema import relay_uses

DAY = 86_400


class RateLimited(OracleError):
    """Over the limit; `retry_after` is how many seconds until a slot frees up."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RollingLimit:
    def __init__(self, engine: Engine, limit: int, window: int = DAY, clock: Callable[[], float] = time.time) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self.engine = engine
        self.limit = limit
        self.window = window
        self.clock = clock

    def acquire(self, key: str) -> int:
        """Counts one use of `key` and returns its id (for `release`), or raises RateLimited
        when it has used up the window."""
        now = self.clock()
        key = key.lower()
        with write_transaction(self.engine) as connection:
            # PostgreSQL: else two `serve` processes could both count the last free slot.
            serialise(connection, RELAY_LIMIT_LOCK, key)
            connection.execute(delete(relay_uses).where(relay_uses.c.customer == key,
                                                        relay_uses.c.used_at <= now - self.window))
            used, oldest = connection.execute(
                select(func.count(), func.min(relay_uses.c.used_at)).where(relay_uses.c.customer == key)
            ).one()
            if used >= self.limit:
                retry_after = max(1, int(oldest + self.window - now) + 1)
                raise RateLimited(
                    f"{key} has had {used} gasless relays (redemptions and disputes) in the last {self.window // 3600} h "
                    f"(the limit): retry in {retry_after} s",
                    retry_after,
                )
            inserted = connection.execute(insert(relay_uses).values(customer=key, used_at=now))
            return int(inserted.inserted_primary_key[0])

    def release(self, use_id: int) -> None:
        """Takes back a use counted for something that was not sent after all."""
        with write_transaction(self.engine) as connection:
            connection.execute(delete(relay_uses).where(relay_uses.c.use_id == use_id))

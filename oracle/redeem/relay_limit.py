"""How many gasless redemptions the brand pays for, per customer: at most `limit` in any
rolling `window` (a day by default).

Relaying spends the brand's gas, so a customer (or a compromised app session) must not be able
to make it send without end. A relay counts when it passed every free check (signatures,
simulation) and is about to be sent: refusals cost no gas and do not count. The counts live in
memory, per oracle process: a restart forgets them. Durable bounds remain: every relay needs
the brand app's HMAC and a fresh signature of the customer, and the catalog's own per-customer
limits and stock hold on chain.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from oracle.errors import OracleError

DAY = 86_400


class RateLimited(OracleError):
    """Over the limit; `retry_after` is how many seconds until a slot frees up."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RollingLimit:
    def __init__(self, limit: int, window: int = DAY, clock: Callable[[], float] = time.time) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._uses: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> None:
        """Counts one use of `key`, or raises RateLimited when it has used up the window."""
        now = self.clock()
        key = key.lower()
        with self._lock:
            uses = self._uses.setdefault(key, deque())
            while uses and uses[0] <= now - self.window:
                uses.popleft()
            if len(uses) >= self.limit:
                retry_after = max(1, int(uses[0] + self.window - now) + 1)
                raise RateLimited(
                    f"{key} has had {len(uses)} gasless redemptions relayed in the last {self.window // 3600} h "
                    f"(the limit): retry in {retry_after} s",
                    retry_after,
                )
            uses.append(now)

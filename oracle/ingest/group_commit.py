"""Group commit for the webhook server: deliveries arriving within a few milliseconds of each
other are stored in one transaction, and each is answered only after that transaction commits.

One SQLite commit (a WAL fsync) and one set of statements then serve hundreds of deliveries
instead of one; a delivery still gets its 202 only once it is durable, and a failure of the
shared transaction is answered 503 to every delivery in it (nothing of it was stored).

A delivery waits at most `max_ack_wait` for its commit (another process may hold the database's
write lock: a paused `ingest`, a stuck `work`): then StoreBusy, answered 503, rather than a
helpdesk timing out on a request that hangs. The commit still happens once the lock is free,
and the helpdesk's retry is then a redelivery, answered as the first would have been.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from oracle.events import HelpdeskEvent
from oracle.store.errors import StoreError
from oracle.store.outbox import EventIdConflict, Outbox


class StoreBusy(StoreError):
    """The delivery's commit did not happen within the wait; it may still happen later."""


@dataclass
class _Pending:
    event: HelpdeskEvent
    content: dict[str, Any]
    received_at: int
    done: asyncio.Future[bool]


class GroupCommitter:
    def __init__(
        self,
        outbox: Outbox,
        max_items: int = 500,
        max_wait: float = 0.002,
        observe: Callable[[float, int], None] | None = None,
        max_ack_wait: float = 10.0,
    ) -> None:
        """`observe(seconds, deliveries)` is told of each group commit that succeeded."""
        self._outbox = outbox
        self._observe = observe
        self._max_ack_wait = max_ack_wait
        self._max_items = max_items
        self._max_wait = max_wait
        self._queue: asyncio.Queue[_Pending] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def receive(self, event: HelpdeskEvent, content: dict[str, Any], received_at: int) -> bool:
        """Stores the delivery with the others of its group; True if it was new. Raises
        EventIdConflict for a different event under a stored event's id."""
        if self._queue is None or self._writer is None or self._writer.done():
            self._queue = asyncio.Queue()
            self._writer = asyncio.create_task(self._write_groups(self._queue))
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        await self._queue.put(_Pending(event, content, received_at, done))
        # A timer rather than asyncio.wait_for, which costs about 7 us more per delivery (measured):
        # it answers this delivery, and the group's writer then skips it but still writes it.
        timer = loop.call_later(self._max_ack_wait, self._give_up, done)
        try:
            return await done
        finally:
            timer.cancel()

    def _give_up(self, done: asyncio.Future[bool]) -> None:
        if not done.done():
            done.set_exception(StoreBusy(f"the event store stayed busy for {self._max_ack_wait:g} s "
                                         "(another process holds its write lock); retry later"))

    async def _write_groups(self, queue: asyncio.Queue[_Pending]) -> None:
        while True:
            group = [await queue.get()]
            deadline = asyncio.get_running_loop().time() + self._max_wait
            while len(group) < self._max_items:
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0 and queue.empty():
                    break
                try:
                    group.append(queue.get_nowait() if timeout <= 0 else await asyncio.wait_for(queue.get(), timeout))
                except (asyncio.TimeoutError, asyncio.QueueEmpty):
                    break
            items = [(p.event, p.content, p.received_at) for p in group]
            started = time.perf_counter()
            try:
                results = await run_in_threadpool(self._outbox.receive_many, items)
            except Exception as exc:  # noqa: BLE001 - every delivery of the group learns of it
                for pending in group:
                    if not pending.done.done():
                        pending.done.set_exception(exc)
                continue
            if self._observe is not None:
                self._observe(time.perf_counter() - started, len(group))
            for pending, result in zip(group, results):
                if pending.done.done():
                    continue
                if isinstance(result, EventIdConflict):
                    pending.done.set_exception(result)  # this delivery's alone
                else:
                    pending.done.set_result(result)

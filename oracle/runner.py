"""Runs a `step()` every `interval` seconds in a background thread until stopped, or at once
again after a step that says it left work behind (`busy`): a backlog is drained without a
pause after each slice of it.

An exception (an RPC outage, a locked database, a brand's endpoint down) is logged and the next
step retries after a growing pause: the loops run this way keep their state in the database and
on chain, never only in memory, so a failed step loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("servicecoin.runner")

MAX_PAUSE_SECONDS = 30.0


class StepRunner:
    def __init__(
        self,
        step: Callable[[], object],
        interval: float,
        name: str,
        busy: Callable[[object], bool] = lambda _result: False,
    ) -> None:
        self.step = step
        self.busy = busy
        self.interval = interval
        self.name = name
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"servicecoin-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        pause = self.interval
        while not self._stop.is_set():
            try:
                result = self.step()
                self.last_error = None
                pause = 0.0 if self.busy(result) else self.interval
            except Exception as exc:  # noqa: BLE001 - logged; the loop must survive outages
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error("%s step failed: %s", self.name, self.last_error)
                pause = min(pause * 2, MAX_PAUSE_SECONDS)
            self._stop.wait(pause)

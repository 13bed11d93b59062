"""Crash points for the fault-injection tests: with SERVICECOIN_FAILPOINT=<name>, the process
dies on the spot (os._exit, no cleanup, like SIGKILL or a power cut) when it reaches that point.
The tests kill the oracle between every two stages this way and check that a restart rewards
each event exactly once. Unset in production, a hit costs one dictionary lookup."""

from __future__ import annotations

import os

ENV = "SERVICECOIN_FAILPOINT"
EXIT_CODE = 86
# The pipeline's points, between every two stages of a batch's life.
POINTS = ("after_decide", "after_batch", "after_sign", "before_broadcast", "after_broadcast", "after_confirm")
# The webhook server's point: the event is committed but the 2xx not yet sent.
INGEST_POINTS = ("after_commit",)


def hit(name: str) -> None:
    if os.environ.get(ENV) == name:
        os._exit(EXIT_CODE)

"""Where a running oracle process spends its CPU, sampled from outside by py-spy while the
benchmark loads it: the process is neither restarted nor slowed by an in-process profiler,
and every thread is seen (cProfile would only see the thread that enabled it).

py-spy leaves out samples of idle threads (waiting on a socket, a lock or a sleep), so the
shares below are shares of the process's busy time."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

PY_SPY = Path(sys.executable).with_name("py-spy")
RATE = 100  # samples per second


def _short(path: str) -> str:
    """A file path as a reader finds it: package-relative, or oracle/..., or the bare name."""
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1]
    if "/oracle/" in path:
        return "oracle/" + path.rsplit("/oracle/", 1)[1]
    if "/lib/python3." in path:  # the standard library
        return path.split("/lib/python3.", 1)[1].split("/", 1)[-1]
    return path.rsplit("/", 1)[-1]


def _frame(frame: str) -> tuple[str, str]:
    """'decide (/x/oracle/store/outbox.py:255)' -> ('decide', 'oracle/store/outbox.py')."""
    name, _, where = frame.rpartition(" (")
    return name, _short(where.rstrip(")").rsplit(":", 1)[0])


class Sampler:
    """py-spy recording `pid` from start() until stop()."""

    def __init__(self, pid: int, out: Path) -> None:
        self.pid, self.out = pid, out
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(PY_SPY), "record", "-p", str(self.pid), "--rate", str(RATE), "--nonblocking",
             "--full-filenames", "--format", "raw", "-o", str(self.out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def stop(self, top: int = 15) -> dict[str, Any]:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
        _, stderr = self.process.communicate(timeout=60)
        if not self.out.exists():
            return {"error": f"py-spy wrote nothing: {stderr.decode()[-300:]}"}
        return summarise(self.out.read_text(), top)


def summarise(raw: str, top: int = 15) -> dict[str, Any]:
    """Own time by function (the sampled frame itself) and, for the oracle's own functions, time
    including what they call, as shares of all busy samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_frame(f) for f in stack.split(";")]
        name, where = frames[-1]
        own[f"{name} ({where})"] += samples
        for name, where in {f for f in frames if f[1].startswith("oracle/")}:
            inclusive[f"{name} ({where})"] += samples
    share = lambda n: round(100 * n / total, 1) if total else 0.0  # noqa: E731
    return {
        "samples": total,
        "rate_per_s": RATE,
        "own_percent": [[f, share(n)] for f, n in own.most_common(top)],
        "oracle_inclusive_percent": [[f, share(n)] for f, n in inclusive.most_common(top)],
    }

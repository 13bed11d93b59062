"""Who used the machine's CPUs during a benchmark phase: each process's CPU seconds (user +
system, its children included) and the whole machine's busy time, between start() and stop().

The throughput figures alone cannot say whether the oracle, the node or the load generator is
the limit on a 2-core machine; this does, from the kernel's own accounting (psutil).
"""

from __future__ import annotations

import time
from typing import Any

import psutil


def _cpu_seconds(process: psutil.Process, children: bool = True) -> float:
    total = 0.0
    for member in [process, *(process.children(recursive=True) if children else [])]:
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


class CpuMeter:
    def __init__(self, processes: dict[str, psutil.Process | None], own_only: tuple[str, ...] = ()) -> None:
        """`own_only`: processes counted without their children (the benchmark's own process is
        the parent of the chain and the oracle, which are counted on their own rows)."""
        self.processes = {name: p for name, p in processes.items() if p is not None}
        self.own_only = own_only
        self._start: dict[str, float] = {}

    def _used(self, name: str) -> float:
        return _cpu_seconds(self.processes[name], children=name not in self.own_only)

    def start(self) -> None:
        self._wall = time.monotonic()
        self._busy = _machine_busy_seconds()
        self._start = {name: self._used(name) for name in self.processes}

    def stop(self) -> dict[str, Any]:
        wall = time.monotonic() - self._wall
        per_process = {}
        for name in self.processes:
            try:
                used = self._used(name) - self._start[name]
            except psutil.NoSuchProcess:
                continue
            per_process[name] = {"cpu_s": round(used, 2), "cores": round(used / wall, 2)}
        busy = _machine_busy_seconds() - self._busy
        return {
            "wall_s": round(wall, 2),
            "cpus": psutil.cpu_count(),
            "machine_busy_cores": round(busy / wall, 2),
            "processes": per_process,
        }

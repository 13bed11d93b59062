"""Load generators for the throughput benchmark: helpdesks posting signed webhooks.

closed_loop: `concurrency` clients each send the next event as soon as the previous one is
answered (the most the server sustains). open_loop: events are sent on a fixed schedule
(`rate` per second) whatever the server's answers, and each latency is measured from the
event's *scheduled* time, so a stalled server cannot hide its queue (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp

from oracle.ingest.signatures import sign_generic

OPEN_LOOP_CONNECTIONS = 64


@dataclass
class LoadResult:
    sent: int = 0
    accepted: int = 0
    failed: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def _headers(body: bytes, secret: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", **sign_generic(body, secret, int(time.time()))}


async def _post(client: aiohttp.ClientSession, body: bytes, secret: bytes, result: LoadResult, since: float) -> None:
    try:
        async with client.post("/webhooks/generic", data=body, headers=_headers(body, secret)) as response:
            await response.read()
            ok = response.status == 202
    except aiohttp.ClientError:
        ok = False
    result.latencies_ms.append((time.perf_counter() - since) * 1000)
    if ok:
        result.accepted += 1
    else:
        result.failed += 1


def _client(url: str, connections: int) -> aiohttp.ClientSession:
    # aiohttp rather than httpx: the load generator must not be the bottleneck, and httpx's async
    # client spent ~9 ms of CPU per request here (measured), aiohttp a fraction of that.
    connector = aiohttp.TCPConnector(limit=connections)
    return aiohttp.ClientSession(base_url=url, connector=connector, timeout=aiohttp.ClientTimeout(total=60))


async def _closed_loop(url: str, bodies: Sequence[bytes], secret: bytes, concurrency: int) -> LoadResult:
    result = LoadResult(started=time.time())
    queue = iter(bodies)
    async with _client(url, concurrency) as client:

        async def worker() -> None:
            for body in queue:
                result.sent += 1
                await _post(client, body, secret, result, time.perf_counter())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.finished = time.time()
    return result


async def _open_loop(url: str, bodies: Sequence[bytes], secret: bytes, rate: float) -> LoadResult:
    result = LoadResult(started=time.time())
    start = time.perf_counter()
    tasks = []
    # In-flight requests are bounded by the connection pool: beyond it, an event waits in this
    # queue (still timed from its scheduled send), not in the HTTP client's pool (httpx's, used
    # before aiohttp, did bookkeeping that grew with the square of the requests waiting in it).
    slots = asyncio.Semaphore(OPEN_LOOP_CONNECTIONS)

    async def send(body: bytes, scheduled: float) -> None:
        async with slots:
            await _post(client, body, secret, result, scheduled)

    async with _client(url, OPEN_LOOP_CONNECTIONS) as client:
        for i, body in enumerate(bodies):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            result.sent += 1
            tasks.append(asyncio.create_task(send(body, scheduled)))
        await asyncio.gather(*tasks)
    result.finished = time.time()
    return result


def closed_loop(url: str, bodies: Sequence[bytes], secret: bytes, concurrency: int = 64) -> LoadResult:
    return asyncio.run(_closed_loop(url, bodies, secret, concurrency))


def open_loop(url: str, bodies: Sequence[bytes], secret: bytes, rate: float) -> LoadResult:
    return asyncio.run(_open_loop(url, bodies, secret, rate))

"""The HTTP layer's own cost, apart from the oracle: uvicorn serving a webhook route that only
reads the body and answers 202, driven by the benchmark's closed-loop load generator, once with
the pure-Python stack (h11, asyncio) and once with the compiled one the oracle installs
(httptools, uvloop). Whatever the webhook server does beyond this is the oracle's own time."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oracle.ingest.server import free_port
from scripts.bench_load import closed_loop

REQUESTS = 20_000
CONCURRENCY = 64
ROOT = Path(__file__).resolve().parent.parent
STACKS = (("h11", "asyncio"), ("httptools", "uvloop"))


async def _accept(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"received": len(body)}, status_code=202)


app = Starlette(routes=[Route("/webhooks/generic", _accept, methods=["POST"])])


def _serve(http: str, loop: str, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "scripts.bench_http:app", "--port", str(port), "--http", http,
         "--loop", loop, "--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/webhooks/generic", content=b"{}", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"uvicorn ({http}, {loop}) did not start")


def measure_http_layer(requests: int = REQUESTS) -> dict[str, dict[str, float]]:
    bodies = [json.dumps({"event_id": f"http-{n}", "customer_id": "c", "kind": "csat_rating",
                          "occurred_at": 0}).encode() for n in range(requests)]
    results = {}
    for http, loop in STACKS:
        port = free_port()
        process = _serve(http, loop, port)
        try:
            load = closed_loop(f"http://127.0.0.1:{port}", bodies, b"unused", concurrency=CONCURRENCY)
        finally:
            process.terminate()
            process.wait(timeout=30)
        if load.failed:
            raise SystemExit(f"{load.failed} requests failed against uvicorn ({http}, {loop})")
        results[f"{http}_{loop}"] = {
            "requests_per_s": round(load.sent / (load.finished - load.started), 1),
            "p50_ms": round(load.percentile(50), 2),
            "p99_ms": round(load.percentile(99), 2),
        }
    return results


if __name__ == "__main__":
    print(json.dumps(measure_http_layer(), indent=2))

"""`make bench`: gas per rewarded event and oracle throughput, against naive baselines, in one run
on a local Anvil (30M gas blocks). Writes bench/results.json, bench/REPORT.md and
bench/gas_per_event.png. Performance is measured here, never asserted in tests.

Throughput runs the oracle as brands do (`servicecoin serve` and `servicecoin work`, two processes) and posts signed
webhooks from this process; an event counts once its record is confirmed on chain.
BENCH_EVENTS (default 50000) sets the closed-loop run's size.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from brownie import NaiveRewards, accounts, chain, web3
from brownie.network import rpc
from eth_account import Account
from eth_utils import keccak

from oracle.ingest.server import free_port
from oracle.service import open_outbox
from oracle.store.outbox import Outbox
from scripts import brownie_compat
from scripts.bench_cpu import CpuMeter
from scripts.bench_http import measure_http_layer
from scripts.bench_profile import Sampler
from scripts.bench_load import closed_loop, open_loop
from scripts.bench_report import render_report, render_plot
from scripts.bench_server_metrics import scrape, server_side
from scripts.bench_stages import measure_stages
from scripts.deploy import deploy
from scripts.deploy_config import Brand, config_for_network
from scripts.gas_snapshot import GasBench
from scripts.local_oracle import GENERIC_SECRET, signer_addresses, write_oracle_files
from scripts.naive_baseline import NaiveOracle, NaiveReward

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench"
SIZES = (1, 10, 100, 500)
BLOCK_BUDGET = 29_000_000
EVENTS = int(os.environ.get("BENCH_EVENTS", "50000"))
CUSTOMERS = 5000
OPEN_LOOP_RATE = 500
OPEN_LOOP_SECONDS = 20
NAIVE_EVENTS = 200
COIN = 10**18
# Every kind at the on-chain schedule, no per-customer daily limits, no budget: every event is
# eligible, so the benchmark measures the pipeline, not the policy's refusals.
BENCH_POLICY = """version: 1
brand_id: 1
kinds:
  csat_rating: {base_reward: 2}
  survey_response: {base_reward: 5}
  product_review: {base_reward: 10}
  valid_question: {base_reward: 3}
  referral: {base_reward: 25}
  community_answer: {base_reward: 8}
"""


def quietly() -> contextlib.AbstractContextManager[object]:
    return contextlib.redirect_stdout(io.StringIO())


def main() -> dict[str, Any]:
    brownie_compat.install()
    OUT.mkdir(exist_ok=True)
    print("gas: ServiceCoin at batch sizes 1, 10, 100, 500 ...")
    gas = measure_gas()
    print("throughput: the oracle end to end ...")
    throughput = measure_throughput()
    print("where the time goes ...")
    stages = measure_stages()
    print("the HTTP layer alone ...")
    stages["http_layer"] = measure_http_layer()
    results = {"gas": gas, "throughput": throughput, "stages": stages, "machine": machine(), "commit": commit()}
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    render_plot(results, OUT / "gas_per_event.png")
    (OUT / "REPORT.md").write_text(render_report(results))
    print((OUT / "REPORT.md").read_text())
    return results


# ------------------------------------------------------------------ gas


def measure_gas() -> dict[str, Any]:
    with quietly():
        bench = GasBench.deploy(accounts[0])
        by_batch = {case: bench.measure_batches(case, SIZES, budget=BLOCK_BUDGET)
                    for case in ("returning_same_period", "fresh")}
        operations = bench.measure_operations()
        naive = measure_naive_gas()
    return {
        "push_returning_batch100_per_event": by_batch["returning_same_period"]["100"]["per_event"],
        "push_fresh_batch100_per_event": by_batch["fresh"]["100"]["per_event"],
        "naive_returning_per_event": naive["per_event"],
        "naive_batched100_returning_per_event": naive["batched100_per_event"],
        "by_batch": by_batch,
        "redeem": operations["redeem"],
        "redeem_with_permit": operations["redeem_with_permit"],
        "fulfil": operations["fulfil"],
    }


def measure_naive_gas() -> dict[str, int]:
    """The baseline for returning customers: each already holds coins from an earlier reward."""
    key = keccak(text="bench-naive-oracle")
    contract = NaiveRewards.deploy(Account.from_key(key).address, {"from": accounts[0]})
    oracle = NaiveOracle(key, chain.id, contract.address)
    customers = [Account.from_key(keccak(text=f"bench-naive-{i}")).address for i in range(100)]
    first = [NaiveReward(keccak(text=f"naive-prime-{i}"), c, 5 * COIN) for i, c in enumerate(customers)]
    contract.rewardBatch([r.as_tuple() for r in first], oracle.sign_batch(first), {"from": accounts[0]})
    singles = []
    for i, customer in enumerate(customers[:20]):
        reward = NaiveReward(keccak(text=f"naive-single-{i}"), customer, 5 * COIN)
        singles.append(contract.reward(reward.as_tuple(), oracle.sign_reward(reward), {"from": accounts[0]}).gas_used)
    batch = [NaiveReward(keccak(text=f"naive-batch-{i}"), c, 5 * COIN) for i, c in enumerate(customers)]
    tx = contract.rewardBatch([r.as_tuple() for r in batch], oracle.sign_batch(batch), {"from": accounts[0]})
    return {"per_event": sum(singles) // len(singles), "batched100_per_event": tx.gas_used // 100}


# ------------------------------------------------------------------ throughput


def event_bodies(prefix: str, count: int, now: int) -> list[bytes]:
    return [
        json.dumps({"event_id": f"{prefix}-{n}", "customer_id": f"bench-{n % CUSTOMERS}", "kind": "csat_rating",
                    "occurred_at": now - 30}).encode()
        for n in range(count)
    ]


def measure_throughput() -> dict[str, Any]:
    signer = signer_addresses()[0]
    config = config_for_network("development").model_copy(update={
        "customer_rewards_per_period": 2**24 - 1,
        "brands": [Brand(id=1, name="Bench", cap_per_period=10**9, signers=[signer])],
    })
    with quietly():
        deployment = deploy(accounts[0], config)
        accounts[0].transfer(signer, "100 ether")
    with tempfile.TemporaryDirectory(prefix="servicecoin-bench-") as workdir:
        port = free_port()
        files = write_oracle_files(
            Path(workdir), web3.provider.endpoint_uri, chain.id, deployment.registry.address,
            batching={"max_size": 300, "max_age_seconds": 0.5},
            chain={"finality_depth": 1, "poll_seconds": 0.1},
            server={"port": port}, sources={"generic": {"secret_env": "GEN_SECRET"}}, log_format="json",
        )
        (Path(workdir) / "policy.yaml").write_text(BENCH_POLICY)
        log_path = Path(workdir) / "oracle.log"
        binary = str(Path(sys.executable).with_name("servicecoin"))
        # Two processes, as a brand running at load would: `serve` acknowledges webhooks while
        # `work` signs and tracks batches on the other core (`run` does both in one process).
        with log_path.open("w") as log:
            processes = [
                subprocess.Popen([binary, "-c", str(files.config_path), command],
                                 env={**os.environ, **files.environ}, stdout=log, stderr=log)
                for command in ("serve", "work")
            ]
        oracle = processes[0]
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, oracle, log_path)
            outbox = open_outbox(files.config(), files.environ)
            now = int(time.time())
            meter = CpuMeter({
                "servicecoin serve": psutil.Process(processes[0].pid),
                "servicecoin work": psutil.Process(processes[1].pid),
                # The chain brownie launched for this run (none when connected to a running one).
                "anvil": psutil.Process(rpc.process.pid) if rpc.is_active() and rpc.process else None,
                "load generator (this process)": psutil.Process(),
            }, own_only=("load generator (this process)",))
            samplers = {name: Sampler(process.pid, Path(workdir) / f"{name}.profile.txt")
                        for name, process in zip(("serve", "work"), processes)}
            meter.start()
            for sampler in samplers.values():
                sampler.start()
            closed = closed_loop(url, event_bodies("closed", EVENTS, now), GENERIC_SECRET.encode(), concurrency=64)
            closed_done = wait_confirmed(outbox, closed.accepted, log_path)
            cpu = meter.stop()
            profiles = {name: sampler.stop() for name, sampler in samplers.items()}
            before = scrape(url)
            opened = open_loop(url, event_bodies("open", OPEN_LOOP_RATE * OPEN_LOOP_SECONDS, int(time.time())),
                               GENERIC_SECRET.encode(), rate=OPEN_LOOP_RATE)
            opened_server = server_side(before, scrape(url))
            wait_confirmed(outbox, closed.accepted + opened.accepted, log_path)
            # The same offered load with `work` stopped: what acknowledging costs when nothing
            # else competes for the cores and the outbox's write lock.
            processes[1].send_signal(signal.SIGINT)
            processes[1].wait(timeout=60)
            before = scrape(url)
            alone = open_loop(url, event_bodies("alone", OPEN_LOOP_RATE * OPEN_LOOP_SECONDS, int(time.time())),
                              GENERIC_SECRET.encode(), rate=OPEN_LOOP_RATE)
            alone_server = server_side(before, scrape(url))
        finally:
            for process in processes:
                process.send_signal(signal.SIGINT)
            for process in processes:
                process.wait(timeout=60)
        batches = outbox.batches_in(("confirmed", "final"))
    naive = measure_naive_pipeline()
    seconds = closed_done - closed.started
    return {
        "events": closed.accepted,
        "seconds": round(seconds, 2),
        "events_per_s": round(closed.accepted / seconds, 1),
        "naive_events_per_s": naive,
        "ack_p50_ms": round(opened.percentile(50), 2),
        "ack_p99_ms": round(opened.percentile(99), 2),
        "closed_loop": {"sent": closed.sent, "failed": closed.failed, "ingest_seconds": round(closed.finished - closed.started, 2),
                        "ack_p50_ms": round(closed.percentile(50), 2), "ack_p99_ms": round(closed.percentile(99), 2),
                        "concurrency": 64},
        "open_loop": {"rate": OPEN_LOOP_RATE, "sent": opened.sent, "failed": opened.failed,
                      "achieved_per_s": round(opened.sent / (opened.finished - opened.started), 1),
                      "server": opened_server},
        "open_loop_serve_alone": {"rate": OPEN_LOOP_RATE, "sent": alone.sent, "failed": alone.failed,
                                  "ack_p50_ms": round(alone.percentile(50), 2), "ack_p99_ms": round(alone.percentile(99), 2),
                                  "server": alone_server},
        "batches": len(batches),
        "cpu_closed_loop": cpu,
        "profiles_closed_loop": profiles,
    }


def wait_healthy(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the oracle exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the oracle did not start")


def wait_confirmed(outbox: Outbox, expected: int, log_path: Path, timeout: float = 600) -> float:
    """The moment at least `expected` events are confirmed on chain."""
    deadline = time.monotonic() + timeout
    while True:
        counts = outbox.counts_by_state()
        if counts.get("confirmed", 0) + counts.get("final", 0) >= expected:
            return time.time()
        if time.monotonic() > deadline:
            raise SystemExit(f"only {counts} after {timeout:.0f} s; oracle log: {log_path.read_text()[-2000:]}")
        time.sleep(0.05)


def measure_naive_pipeline() -> float:
    """One signed transaction per event, each sent and awaited before the next."""
    key = keccak(text="bench-naive-pipeline")
    sender = Account.from_key(key)
    with quietly():
        accounts[0].transfer(sender.address, "10 ether")
        contract = NaiveRewards.deploy(sender.address, {"from": accounts[0]})
    oracle = NaiveOracle(key, chain.id, contract.address)
    naive = web3.eth.contract(address=contract.address, abi=contract.abi)
    nonce = web3.eth.get_transaction_count(sender.address)
    started = time.perf_counter()
    for n in range(NAIVE_EVENTS):
        reward = NaiveReward(keccak(text=f"naive-pipeline-{n}"), Account.from_key(keccak(text=f"c{n % 500}")).address, 2 * COIN)
        tx = {
            "type": 2, "to": contract.address, "nonce": nonce + n, "gas": 200_000, "chainId": chain.id, "value": 0,
            "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9,
            "data": naive.encode_abi("reward", args=[reward.as_tuple(), oracle.sign_reward(reward)]),
        }
        tx_hash = web3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        # Polled every 5 ms: the naive pipeline waits for its chain, not for a slow poll.
        assert web3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.005)["status"] == 1
    return round(NAIVE_EVENTS / (time.perf_counter() - started), 1)


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine()}


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"

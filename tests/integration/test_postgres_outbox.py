"""Several oracle instances on one PostgreSQL outbox, as the brand guide (§10) describes: two
`servicecoin serve` processes take webhooks behind a load balancer, one `servicecoin work`
submits, and a second `work` is refused at start (and the first stops if its lock's connection
ends). Each event is stored once, whichever
instance received it (or both), and rewarded once on chain."""

from __future__ import annotations

import json
import signal
import time

import httpx
import yaml

from oracle.events import event_id
from oracle.ingest.server import free_port
from oracle.ingest.signatures import sign_generic
from oracle.service import open_outbox
from scripts.local_oracle import GENERIC_SECRET, BlockTicker
from tests.integration.rewarded_records import rewarded_records
from tests.integration.test_crash_recovery import wait_healthy
from tests.integration.test_pipeline_on_chain import COIN
from tests.integration.test_split_processes import start
from tests.pg_server import end_submitter_lock_connections


def post(port: int, n: int) -> int:
    body = json.dumps({"event_id": f"pg-{n}", "customer_id": f"pg-{n % 4}",
                       "kind": "survey_response", "occurred_at": int(time.time()) - 5}).encode()
    headers = sign_generic(body, GENERIC_SECRET.encode(), int(time.time()))
    return httpx.post(f"http://127.0.0.1:{port}/webhooks/generic", content=body, headers=headers, timeout=10).status_code


def test_two_serve_instances_and_one_work_on_postgresql_reward_each_event_once(
    oracle_files, deployment, web3, postgres_url
) -> None:
    settings = yaml.safe_load(oracle_files.config_path.read_text())
    settings["store"] = {"url": postgres_url}
    ports = [free_port(), free_port()]
    servers = []
    for port in ports:  # each `serve` on its own port, as two hosts would be
        settings["server"]["port"] = port
        oracle_files.config_path.write_text(yaml.safe_dump(settings))
        servers.append(start(oracle_files, "serve"))
        wait_healthy(port, servers[-1])
    worker = start(oracle_files, "work")
    processes = [*servers, worker]
    outbox = open_outbox(oracle_files.config(), oracle_files.environ)
    try:
        statuses = [post(ports[n % 2], n) for n in range(12)]
        statuses += [post(ports[(n + 1) % 2], n) for n in range(0, 12, 3)]  # redelivered to the other instance
        assert statuses == [202] * 16  # a redelivery is acknowledged as stored, and stored once
        with BlockTicker(web3.provider.endpoint_uri, 0.3):
            deadline = time.monotonic() + 90
            while outbox.counts_by_state() != {"final": 12}:
                for process in processes:
                    assert process.poll() is None, process.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, outbox.counts_by_state()
                time.sleep(0.2)
        second = start(oracle_files, "work")  # the outbox has its submitter already
        assert second.wait(timeout=60) == 1
        refusal = second.stderr.read().decode()
        assert f"submitter pid {worker.pid} on" in refusal and "is submitting from this outbox" in refusal, refusal

        # The lock's connection ends (a server restart, a failover): the lock is gone with it,
        # so `work` must stop rather than submit beside a successor.
        end_submitter_lock_connections(postgres_url)
        assert worker.wait(timeout=60) == 1
        assert "the submitter lock was lost" in worker.stderr.read().decode()
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
    records = rewarded_records(deployment, web3)
    assert sorted(r.event_id for r in records) == sorted(event_id(1, "generic", f"pg-{n}") for n in range(12))
    assert sorted(r.seq for r in records) == list(range(1, 13))  # dense, each once
    for c in range(4):
        assert deployment.coin.balanceOf(oracle_files.custodial_address(f"pg-{c}")) == (5 * 3 + 5) * COIN


def test_run_exits_1_when_its_lock_connection_ends(oracle_files, deployment, postgres_url) -> None:
    """`run` serves webhooks in uvicorn's main loop: its lost lock must still end it with status
    1 (a supervisor restarts a failed process, not one killed by a signal)."""
    settings = yaml.safe_load(oracle_files.config_path.read_text())
    settings["store"] = {"url": postgres_url}
    settings["server"]["port"] = port = free_port()
    oracle_files.config_path.write_text(yaml.safe_dump(settings))
    process = start(oracle_files, "run")
    try:
        wait_healthy(port, process)
        end_submitter_lock_connections(postgres_url)
        assert process.wait(timeout=60) == 1
    finally:
        if process.poll() is None:
            process.kill()
    assert "the submitter lock was lost" in process.stderr.read().decode()

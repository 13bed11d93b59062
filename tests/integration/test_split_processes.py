"""`servicecoin serve` (webhooks only) and `servicecoin work` (everything else) as two processes
on one outbox: events posted to the one are rewarded on chain by the other, and both stop
cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from oracle.events import event_id
from oracle.ingest.server import free_port
from oracle.ingest.signatures import sign_generic
from oracle.service import open_outbox
from scripts.local_oracle import GENERIC_SECRET, BlockTicker
from tests.integration.rewarded_records import rewarded_event_ids
from tests.integration.test_crash_recovery import wait_healthy
from tests.integration.test_pipeline_on_chain import COIN


def start(oracle_files, command: str, *options: str) -> subprocess.Popen:
    binary = str(Path(sys.executable).with_name("servicecoin"))
    return subprocess.Popen([binary, "-c", str(oracle_files.config_path), command, *options],
                            env={**os.environ, **oracle_files.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_serve_and_work_in_two_processes_reward_each_event_once(oracle_files, deployment, web3) -> None:
    port = free_port()
    settings = yaml.safe_load(oracle_files.config_path.read_text())
    settings["server"]["port"] = port
    oracle_files.config_path.write_text(yaml.safe_dump(settings))
    metrics_port = free_port()
    server, worker = start(oracle_files, "serve"), start(oracle_files, "work", "--metrics-port", str(metrics_port))
    outbox = open_outbox(oracle_files.config(), oracle_files.environ)
    try:
        wait_healthy(port, server)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for n in range(6):
                body = json.dumps({"event_id": f"split-{n}", "customer_id": f"split-{n % 3}",
                                   "kind": "survey_response", "occurred_at": int(time.time()) - 5}).encode()
                headers = sign_generic(body, GENERIC_SECRET.encode(), int(time.time()))
                assert client.post("/webhooks/generic", content=body, headers=headers).status_code == 202
        with BlockTicker(web3.provider.endpoint_uri, 0.3):
            deadline = time.monotonic() + 60
            while outbox.counts_by_state() != {"final": 6}:
                for process in (server, worker):
                    assert process.poll() is None, process.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, outbox.counts_by_state()
                time.sleep(0.2)
        # The batch metrics are counted by `work`, which serves them on its own port.
        work_metrics = {(s.name, tuple(sorted(s.labels.items()))): s.value
                        for family in text_string_to_metric_families(httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text)
                        for s in family.samples}
        assert work_metrics[("servicecoin_batches_total", (("outcome", "final"),))] >= 1
        assert work_metrics[("servicecoin_gas_used_total", ())] > 0
        assert work_metrics[("servicecoin_events", (("state", "final"),))] == 6
    finally:
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=30) for process in (server, worker)]
    server_log = server.stderr.read().decode()
    # uvicorn shuts down gracefully, then re-raises the signal it caught (so the exit is -15).
    assert codes[0] in (0, -signal.SIGTERM) and "Finished server process" in server_log, server_log[-1000:]
    assert codes[1] == 0, worker.stderr.read().decode()[-1000:]
    assert sorted(rewarded_event_ids(deployment, web3)) == sorted(
        event_id(1, "generic", f"split-{n}") for n in range(6))
    for c in range(3):
        assert deployment.coin.balanceOf(oracle_files.custodial_address(f"split-{c}")) == (5 * 2 + 5) * COIN

"""`servicecoin run` killed between any two stages, then restarted: every event is rewarded
exactly once. The kill is os._exit at a named failpoint (oracle/failpoints.py), as abrupt as
SIGKILL: no cleanup, no flush, no handler runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml

from oracle import failpoints
from oracle.events import event_id
from oracle.service import open_outbox
from scripts.local_oracle import BlockTicker
from tests.integration.rewarded_records import rewarded_event_ids
from tests.integration.test_pipeline_on_chain import COIN
from oracle.ingest.server import free_port

EVENTS = 6
CUSTOMERS = 3


def start_oracle(oracle_files, failpoint: str | None) -> subprocess.Popen:
    env = {**os.environ, **oracle_files.environ}
    env.pop(failpoints.ENV, None)
    if failpoint is not None:
        env[failpoints.ENV] = failpoint
    servicecoin = Path(sys.executable).with_name("servicecoin")
    return subprocess.Popen(
        [str(servicecoin), "-c", str(oracle_files.config_path), "run"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def wait_healthy(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"oracle exited early: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("oracle did not start")


@pytest.mark.parametrize("failpoint", failpoints.POINTS)
def test_a_kill_at_any_stage_loses_nothing_and_pays_nothing_twice(failpoint, oracle_files, deployment, web3) -> None:
    port = free_port()
    settings = yaml.safe_load(oracle_files.config_path.read_text())
    settings["server"]["port"] = port
    oracle_files.config_path.write_text(yaml.safe_dump(settings))

    # The events are in the outbox before the oracle starts (a backfill), so that a crash in the
    # first step cannot race their delivery.
    export = oracle_files.directory / "events.jsonl"
    now = int(time.time()) - 10
    export.write_text("".join(
        json.dumps({"event_id": f"ev-{n}", "customer_id": f"cust-{n % CUSTOMERS}", "kind": "survey_response",
                    "occurred_at": now}) + "\n"
        for n in range(EVENTS)
    ))
    servicecoin = str(Path(sys.executable).with_name("servicecoin"))
    backfill = subprocess.run(
        [servicecoin, "-c", str(oracle_files.config_path), "ingest", str(export)],
        env={**os.environ, **oracle_files.environ}, capture_output=True, text=True, timeout=60,
    )
    assert backfill.returncode == 0, backfill.stderr
    assert f"accepted: {EVENTS}, duplicate: 0, rejected: 0" in backfill.stdout

    crashing = start_oracle(oracle_files, failpoint)
    try:
        with BlockTicker(web3.provider.endpoint_uri, 0.3):
            assert crashing.wait(timeout=60) == failpoints.EXIT_CODE, "the failpoint was not reached"
    finally:
        if crashing.poll() is None:
            crashing.kill()

    restarted = start_oracle(oracle_files, None)
    wait_healthy(port, restarted)
    config = oracle_files.config()
    outbox = open_outbox(config, oracle_files.environ)
    try:
        with BlockTicker(web3.provider.endpoint_uri, 0.3):
            deadline = time.monotonic() + 60
            while outbox.counts_by_state() != {"final": EVENTS}:
                assert restarted.poll() is None, restarted.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, f"stuck at {outbox.counts_by_state()}"
                time.sleep(0.2)
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)

    # Exactly one rewarded record per event, and balances that count each reward once.
    recorded = Counter(rewarded_event_ids(deployment, web3))
    assert recorded == Counter({event_id(1, "generic", f"ev-{n}"): 1 for n in range(EVENTS)})
    for c in range(CUSTOMERS):
        rewards = EVENTS // CUSTOMERS
        address = oracle_files.custodial_address(f"cust-{c}")
        assert deployment.coin.balanceOf(address) == (5 * rewards + 5) * COIN


def post_signed(port: int, body: bytes) -> httpx.Response:
    from oracle.ingest.signatures import sign_generic
    from scripts.local_oracle import GENERIC_SECRET

    headers = sign_generic(body, GENERIC_SECRET.encode(), int(time.time()))
    return httpx.post(f"http://127.0.0.1:{port}/webhooks/generic", content=body, headers=headers, timeout=10)


def test_a_kill_after_the_commit_but_before_the_ack_is_redelivered_and_paid_once(
    oracle_files, deployment, web3
) -> None:
    """The helpdesk never saw a 2xx, so it redelivers: the second delivery finds the event
    already stored, answers 202 again, and the reward is paid once."""
    port = free_port()
    settings = yaml.safe_load(oracle_files.config_path.read_text())
    settings["server"]["port"] = port
    oracle_files.config_path.write_text(yaml.safe_dump(settings))
    body = json.dumps({"event_id": "ev-ack", "customer_id": "cust-ack", "kind": "survey_response",
                       "occurred_at": int(time.time()) - 10}).encode()

    (point,) = failpoints.INGEST_POINTS
    crashing = start_oracle(oracle_files, point)
    try:
        wait_healthy(port, crashing)
        with pytest.raises(httpx.TransportError):  # the process died before answering
            post_signed(port, body)
        assert crashing.wait(timeout=30) == failpoints.EXIT_CODE
    finally:
        if crashing.poll() is None:
            crashing.kill()

    restarted = start_oracle(oracle_files, None)
    wait_healthy(port, restarted)
    outbox = open_outbox(oracle_files.config(), oracle_files.environ)
    try:
        redelivered = post_signed(port, body)
        assert redelivered.status_code == 202, redelivered.text
        with BlockTicker(web3.provider.endpoint_uri, 0.3):
            deadline = time.monotonic() + 60
            while outbox.counts_by_state() != {"final": 1}:
                assert restarted.poll() is None, restarted.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, f"stuck at {outbox.counts_by_state()}"
                time.sleep(0.2)
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
    assert rewarded_event_ids(deployment, web3) == [event_id(1, "generic", "ev-ack")]
    assert deployment.coin.balanceOf(oracle_files.custodial_address("cust-ack")) == (5 + 5) * COIN

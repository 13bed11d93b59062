"""Where an event's time goes in the oracle: each stage of its path timed in-process on the
same machine (per event, microseconds), and a profile of the costliest one."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import keccak

from oracle.custody import CustodialWallets, content_master_key
from oracle.ingest.generic import GenericWebhook
from oracle.ingest.signatures import sign_generic
from oracle.ingest.sources import GenericSource
from oracle.ingest.strict_json import parse_object
from oracle.pipeline import DECIDE_PER_TRANSACTION
from oracle.policy import Policy
from oracle.signer import BatchSigner
from oracle.store.outbox import Outbox
from oracle.typed_data import Domain, FeedbackBatch, FeedbackRecord

N = 2000
SECRET = b"stage-secret"


def _per_event_us(action: Callable[[], Any], count: int) -> float:
    started = time.perf_counter()
    action()
    return round((time.perf_counter() - started) / count * 1e6, 1)


def measure_stages() -> dict[str, Any]:
    now = int(time.time())
    bodies = [json.dumps({"event_id": f"s-{n}", "customer_id": f"stage-{n}", "kind": "csat_rating",
                          "occurred_at": now - 30}).encode() for n in range(N)]
    headers = [sign_generic(b, SECRET, now) for b in bodies]
    source = GenericSource(SECRET.decode(), 300)
    parsed: list[Any] = []

    def authenticate_and_parse() -> None:
        for body, header in zip(bodies, headers):
            source.authenticate(header, body, now)
            parsed.append(GenericWebhook.model_validate(parse_object(body)).to_event(1))

    stages = {"authenticate_and_parse": _per_event_us(authenticate_and_parse, N)}
    with tempfile.TemporaryDirectory() as directory:
        outbox = Outbox.open(f"sqlite:///{Path(directory) / 'stages.db'}", content_master_key(b"\x07" * 32))
        half = N // 2

        def receive_one_by_one() -> None:
            for event in parsed[:half]:
                outbox.receive(event, {}, now)

        def receive_grouped() -> None:
            for start in range(half, N, 200):
                outbox.receive_many([(event, {}, now) for event in parsed[start : start + 200]])

        stages["store_one_transaction_each"] = _per_event_us(receive_one_by_one, half)
        stages["store_grouped_200"] = _per_event_us(receive_grouped, N - half)
        wallets = CustodialWallets(b"\x07" * 32, 1)
        # The customers' addresses derived here once, as a running oracle caches them: the
        # decide stage below then times the policy and the outbox, not the derivation again.
        stages["custodial_address"] = _per_event_us(lambda: [wallets.address_for(f"stage-{n}") for n in range(N)], N)
        policy = Policy.model_validate({"version": 1, "brand_id": 1, "kinds": {"csat_rating": {"base_reward": 2}}})
        # Half the events timed as the pipeline decides them (in its transactions' size), the other
        # half under the profiler, whose overhead would inflate the timing.
        stages["decide"] = _per_event_us(
            lambda: [outbox.decide_received(policy, wallets.address_for, limit=DECIDE_PER_TRANSACTION)
                     for _ in range(half // DECIDE_PER_TRANSACTION)], half)
        profile = cProfile.Profile()
        profile.enable()
        outbox.decide_received(policy, wallets.address_for, limit=N)
        profile.disable()
        stages["open_batch"] = _per_event_us(lambda: outbox.open_batch(1, 300, now), 300)
        records = tuple(FeedbackRecord(keccak(text=str(n)), wallets.address_for(f"stage-{n}"), n + 1, 0, now, b"\x01" * 32)
                        for n in range(300))
        signer = BatchSigner(Account.from_key(keccak(text="stage-signer")), Domain(31337, "0x" + "11" * 20))
        stages["sign_batch"] = _per_event_us(lambda: signer.sign(FeedbackBatch(1, b"\x02" * 32, now + 600, records)), 300)
    # The server stores in groups; the one-by-one figure is what group commit saves.
    serial = sum(us for stage, us in stages.items() if stage != "store_one_transaction_each")
    return {
        "per_event_us": stages,
        "serial_us": round(serial, 1),
        "serial_events_per_s": round(1e6 / serial, 1),
        "decide_profile": _top(profile, 8),
    }


def _top(profile: cProfile.Profile, count: int) -> list[str]:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(count)
    lines = [line.strip() for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.startswith("ncalls"))
    return lines[start + 1 : start + 1 + count]




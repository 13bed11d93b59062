"""One oracle process sending from the operations account, for test_ops_sender's race between
processes: `python -m tests.integration.ops_sending_process CONFIG COUNT TO TAG START_AT` builds the
sender exactly as `serve` and `work` do, waits until the wall clock reaches START_AT (so the
processes start together), sends COUNT transactions of no value to TO, each with its own data
(TAG and its number: two processes' transactions must differ, as their calls would), and prints
one JSON line: the nonces its transactions were mined at, and the errors it met."""

from __future__ import annotations

import json
import sys
import time

from oracle.config import load_config
from oracle.service import build_ops_sender, connect


def main(config_path: str, count: int, to: str, tag: str, start_at: float) -> None:
    config = load_config(config_path)
    w3 = connect(config)
    sender = build_ops_sender(config, w3, wait_seconds=60)
    nonces: list[int] = []
    errors: list[str] = []
    time.sleep(max(0.0, start_at - time.time()))
    for i in range(count):
        try:
            receipt = sender.send(to, f"{tag}:{i}".encode(), f"{tag} transaction {i}")
            nonces.append(w3.eth.get_transaction(receipt["transactionHash"])["nonce"])
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on any
            errors.append(f"{type(exc).__name__}: {exc}")
    print(json.dumps({"nonces": nonces, "errors": errors}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5]))

"""Structured logs: one JSON object per line, with the fields passed as `extra`."""

from __future__ import annotations

import json
import logging

from oracle.logs import configure_logging


def test_json_logs_carry_the_extra_fields(capsys) -> None:
    configure_logging("json")
    try:
        logging.getLogger("servicecoin.pipeline").info("batch 7 confirmed", extra={"batch_id": 7, "block": 120})
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        logging.getLogger().handlers.clear()
    record = json.loads(line)
    assert (record["message"], record["level"], record["name"]) == ("batch 7 confirmed", "INFO", "servicecoin.pipeline")
    assert (record["batch_id"], record["block"]) == (7, 120)

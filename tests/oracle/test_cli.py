"""The `servicecoin` commands that need no chain: backfill, status, and the errors of all."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from eth_account import Account

from oracle.cli import main as cli
from oracle.events import event_id

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"
DEAD_RPC = "http://127.0.0.1:9"  # discard port: nothing answers JSON-RPC there


@pytest.fixture
def installation(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "policy.yaml").write_bytes(EXAMPLE_POLICY.read_bytes())
    (tmp_path / "oracle.json").write_text(json.dumps(Account.encrypt(secrets.token_bytes(32), "pw")))
    settings = {
        "brand_id": 1,
        "policy": "policy.yaml",
        "chain": {"rpc_url": DEAD_RPC, "chain_id": 31337, "registry": "0x" + "11" * 20, "rpc_timeout_seconds": 2},
        "signers": [{"keystore": "oracle.json"}],
        "sources": {"generic": {"secret_env": "GEN_SECRET"}},
    }
    config = tmp_path / "servicecoin.yaml"
    config.write_text(yaml.safe_dump(settings))
    env = {
        "SERVICECOIN_CONFIG": str(config),
        "SERVICECOIN_BRAND_SECRET": secrets.token_hex(32),
        "SERVICECOIN_KEYSTORE_PASSWORD": "pw",
        "GEN_SECRET": "s3cret",
    }
    return tmp_path, env


def invoke(env: dict[str, str], *args: str):
    return CliRunner().invoke(cli, list(args), env=env)


def test_a_jsonl_backfill_counts_accepted_duplicate_and_rejected_rows(installation) -> None:
    directory, env = installation
    rows = [
        {"event_id": "a", "customer_id": "c1", "kind": "survey_response", "occurred_at": 1_790_000_000},
        {"event_id": "b", "customer_id": "c2", "kind": "compliment", "occurred_at": 1_790_000_000},
        {"event_id": "a", "customer_id": "c1", "kind": "survey_response", "occurred_at": 1_790_000_000},
    ]
    export = directory / "export.jsonl"
    export.write_text("\n".join(json.dumps(r) for r in rows) + '\n{"event_id": \n\n')
    result = invoke(env, "ingest", str(export))
    assert result.exit_code == 2
    assert "accepted: 1, duplicate: 1, rejected: 2" in result.output
    assert "line 2: kind: Value error, unknown feedback kind 'compliment'" in result.output
    assert "line 4: malformed JSON" in result.output
    # Run again: everything valid is now a duplicate, nothing is stored twice.
    again = invoke(env, "ingest", str(export))
    assert "accepted: 0, duplicate: 2, rejected: 2" in again.output


def test_a_csv_backfill_reads_flags_and_content(installation) -> None:
    directory, env = installation
    export = directory / "export.csv"
    export.write_text(
        "event_id,customer_id,kind,occurred_at,flags,content\n"
        'q-1,c9,valid_question,1790000000,agent_marked_valid,"{""text"": ""how do I reset?""}"\n'
        "q-2,c9,valid_question,yesterday,,\n"
        "q-3,c9,valid_question,1790000000,,,extra\n"
    )
    result = invoke(env, "ingest", "--source", "zendesk", str(export))
    assert "accepted: 1, duplicate: 0, rejected: 2" in result.output
    assert "line 3: occurred_at: expected unix seconds, got 'yesterday'" in result.output
    assert "line 4: more fields than the header names" in result.output
    status = invoke(env, "status", "--json")
    assert json.loads(status.output)["events"] == {"received": 1}
    verify = invoke(env, "verify", "--source", "zendesk", "q-1")
    assert f"event:   0x{event_id(1, 'zendesk', 'q-1').hex()}" in verify.output
    assert "outbox:  received" in verify.output


def test_a_csv_without_the_required_columns_is_rejected_as_a_whole(installation) -> None:
    directory, env = installation
    export = directory / "export.csv"
    export.write_text("id,customer\n1,c1\n")
    result = invoke(env, "ingest", str(export))
    assert "line 1: header lacks column(s): event_id, customer_id, kind, occurred_at" in result.output


def test_status_reports_an_unreachable_rpc_instead_of_failing(installation) -> None:
    _, env = installation
    result = invoke(env, "status")
    assert result.exit_code == 0
    assert "events:  none" in result.output
    assert "signer:  unavailable (" in result.output


def test_config_check_lists_every_problem(installation) -> None:
    _, env = installation
    broken = {k: v for k, v in env.items() if k not in ("GEN_SECRET", "SERVICECOIN_KEYSTORE_PASSWORD")}
    result = invoke(broken, "config", "check")
    assert result.exit_code == 2
    assert "problem: webhook sources: environment variable GEN_SECRET is not set (or empty)" in result.output
    assert "problem: signer " in result.output and "no keystore password" in result.output


def test_config_check_names_an_unreachable_rpc(installation) -> None:
    _, env = installation
    result = invoke(env, "config", "check")
    assert result.exit_code == 2
    assert f"problem: registry: the chain RPC at {DEAD_RPC} cannot be reached (ConnectionError)" in result.output


def test_a_missing_config_file_is_one_clear_line(tmp_path: Path) -> None:
    result = invoke({"SERVICECOIN_CONFIG": str(tmp_path / "nope.yaml")}, "status")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path / 'nope.yaml'}: no such config file"


def test_verify_refuses_a_malformed_event_id(installation) -> None:
    _, env = installation
    assert "EVENT must be a 0x event id" in invoke(env, "verify", "0xzz").output
    assert "32 bytes" in invoke(env, "verify", "0x1234").output

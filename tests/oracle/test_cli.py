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
    assert "EVENT must be a 0x event id, or a helpdesk event id with --source" in invoke(env, "verify", "e1").output
    assert "32 bytes" in invoke(env, "verify", "0x1234").output


def test_a_wrong_brand_secret_is_refused_by_every_command(installation) -> None:
    """The secret derives the custodial addresses: with another one, rewards would be paid to
    addresses nobody holds (found by a QA pass, 2026-11-24)."""
    _, env = installation
    assert invoke(env, "status").exit_code == 0  # the outbox is made with the right secret
    wrong = {**env, "SERVICECOIN_BRAND_SECRET": secrets.token_hex(32)}
    for command in (("status",), ("config", "check"), ("wallet", "show", "cust-1")):
        result = invoke(wrong, *command)
        assert result.exit_code != 0, command
        assert "the brand secret is not the one this outbox was made with" in result.output, (command, result.output)


def test_serve_starts_and_acknowledges_webhooks_while_the_rpc_is_down(installation) -> None:
    """`serve` makes no call to the chain at start (brand guide §10); it used to fail on the
    registry's EIP-712 domain before accepting anything (found by a QA pass, 2026-11-24)."""
    import time

    from starlette.testclient import TestClient

    from oracle.config import load_config
    from oracle.ingest.signatures import sign_generic
    from oracle.service import build_webhook_server, open_outbox

    directory, env = installation
    config = load_config(directory / "servicecoin.yaml")
    app = build_webhook_server(config, env)
    now = int(time.time())
    body = json.dumps({"event_id": "e-1", "customer_id": "cust-1", "kind": "survey_response",
                       "occurred_at": now - 60, "flags": [], "content": {"answers": {"q1": "fine"}}}).encode()
    with TestClient(app) as client:
        response = client.post("/webhooks/generic", content=body,
                               headers={"Content-Type": "application/json", **sign_generic(body, b"s3cret", now)})
    assert response.status_code == 202, response.text
    assert open_outbox(config, env).event_state(event_id(1, "generic", "e-1")) == "received"


def with_settings(directory: Path, **changes) -> None:
    config = directory / "servicecoin.yaml"
    settings = yaml.safe_load(config.read_text())
    settings.update(changes)
    config.write_text(yaml.safe_dump(settings))


@pytest.mark.parametrize("url, says", [
    ("garbage", "store.url: Value error, not a database URL"),
    ("mysql://x/y", "store.url: Value error, mysql+mysqldb is not supported"),
    ("postgresql://u@h/db", "store.url: Value error, postgresql+psycopg2 is not supported"),
    ("sqlite:///:memory:", "store.url: Value error, an in-memory SQLite database keeps nothing"),
])
def test_a_store_url_the_outbox_cannot_use_is_refused_by_name(installation, url: str, says: str) -> None:
    directory, env = installation
    with_settings(directory, store={"url": url})
    result = invoke(env, "status")
    assert result.exit_code == 1 and says in result.output, result.output
    assert "Traceback" not in result.output


def test_an_unreachable_or_unusable_database_is_one_line_naming_it(installation, tmp_path: Path) -> None:
    directory, env = installation
    with_settings(directory, store={"url": "postgresql+psycopg://u:p@127.0.0.1:1/db"})
    result = invoke(env, "status")
    assert result.exit_code == 1 and result.output.startswith("Error: the outbox database (store.url) failed: "), result.output
    assert len(result.output.strip().splitlines()) == 1 and "p@" not in result.output  # no password either
    with_settings(directory, store={"url": f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"})
    result = invoke(env, "status")
    assert result.exit_code == 1 and "the chain RPC" not in result.output, result.output
    assert str(tmp_path / "no" / "such") in result.output and "No such file or directory" in result.output


def test_config_check_reads_what_work_reads_the_operations_keystore_and_the_loops_secrets(installation) -> None:
    directory, env = installation
    with_settings(
        directory, operations={"keystore": "missing-ops.json"},
        chain={"rpc_url": DEAD_RPC, "chain_id": 31337, "registry": "0x" + "11" * 20, "rpc_timeout_seconds": 2,
               "redemption": "0x" + "22" * 20, "forwarder": "0x" + "33" * 20},
        relay={"secret_env": "RELAY_SECRET_UNSET"},
        fulfilment={"url": "https://brand.example/deliver", "secret_env": "FULFIL_SECRET_UNSET"},
        notes={"zendesk": {"base_url": "https://acme.zendesk.com", "email": "bot@acme.example",
                           "api_token_env": "ZD_TOKEN_UNSET"}},
    )
    result = invoke(env, "config", "check")
    assert result.exit_code == 2
    for problem in ("problem: operations: ", "missing-ops.json: no such keystore",
                    "problem: relay: environment variable RELAY_SECRET_UNSET",
                    "problem: fulfilment: environment variable FULFIL_SECRET_UNSET",
                    "problem: notes: environment variable ZD_TOKEN_UNSET"):
        assert problem in result.output, result.output


def test_exports_from_spreadsheets_with_a_bom_or_a_stray_byte_are_read_row_by_row(installation) -> None:
    """Excel writes a byte-order mark; an export may hold a line that is not UTF-8. Both used to
    end in a misleading error or a traceback (found by a QA pass, 2026-11-24)."""
    directory, env = installation
    export = directory / "excel.csv"
    export.write_bytes(
        b"\xef\xbb\xbfevent_id,customer_id,kind,occurred_at,flags,content\n"
        b"x-1,c1,survey_response,1790000000,,\n"
        b'x-2,c\xe9,survey_response,1790000000,,"{""a"":\n""b""}"\n'  # Latin-1, inside a two-line row
        b"x-3,c3,survey_response,\xc2\xb2,,\n"  # a superscript two: a digit to str.isdigit
        b"x-4,c4,survey_response,1790000000,,\n"
    )
    result = invoke(env, "ingest", str(export))
    assert result.exit_code == 2, result.output
    assert "accepted: 2, duplicate: 0, rejected: 2" in result.output
    assert "line 3: not UTF-8 text" in result.output
    assert "line 5: occurred_at: expected unix seconds, got '²'" in result.output
    jsonl = directory / "bom.jsonl"
    jsonl.write_bytes(b'\xef\xbb\xbf{"event_id": "j-1", "customer_id": "c1", "kind": "survey_response", '
                      b'"occurred_at": 1790000000}\n')
    assert "accepted: 1, duplicate: 0, rejected: 0" in invoke(env, "ingest", str(jsonl)).output


def test_an_export_of_an_unknown_format_is_one_line(installation) -> None:
    directory, env = installation
    (directory / "export.txt").write_text("event_id\n")
    result = invoke(env, "ingest", str(directory / "export.txt"))
    assert result.exit_code == 1
    assert result.output.strip().endswith("unknown export format '.txt' (expected .jsonl, .ndjson or .csv)")
    assert "Traceback" not in result.output


def test_csv_rows_keep_their_line_numbers_across_blank_lines_and_old_mac_line_endings(installation) -> None:
    directory, env = installation
    header = b"event_id,customer_id,kind,occurred_at\n"
    export = directory / "blank.csv"
    export.write_bytes(header + b"b-1,c1,survey_response,1790000000\n\nb-2,c1,survey_response,soon\n\n\n"
                       b"b-3,c1,survey_response,later\n")
    result = invoke(env, "ingest", str(export))
    assert "accepted: 1, duplicate: 0, rejected: 2" in result.output, result.output
    assert "line 4: occurred_at" in result.output and "line 7: occurred_at" in result.output
    mac = directory / "mac.csv"
    mac.write_bytes(header.replace(b"\n", b"\r") + b"m-1,c1,survey_response,1790000000\rm-2,c1,survey_response,x\r")
    result = invoke(env, "ingest", str(mac))
    assert "accepted: 1, duplicate: 0, rejected: 1" in result.output and "line 3: occurred_at" in result.output, result.output
    huge = directory / "huge-field.csv"  # beyond the csv module's field limit: csv.Error
    huge.write_bytes(header + b'h-1,"' + b"x" * 200_000 + b'",survey_response,1790000000\n')
    result = invoke(env, "ingest", str(huge))
    assert result.exit_code == 2 and "line 2: not readable as CSV from here on: field larger than" in result.output, result.output
    assert "Traceback" not in result.output

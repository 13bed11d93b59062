"""`servicecoin erase` and the input errors of `servicecoin verify`, on a real outbox without a
chain (verify against a chain: tests/integration/test_customer_wallets.py)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from eth_account import Account

from oracle.cli import EXIT_NOT_FOUND, main as cli
from oracle.config import load_config
from oracle.events import HelpdeskEvent
from oracle.kinds import FeedbackKind
from oracle.service import open_outbox

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"
T0 = 1_795_000_000


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "policy.yaml").write_bytes(EXAMPLE_POLICY.read_bytes())
    (tmp_path / "oracle.json").write_text(json.dumps(Account.encrypt(secrets.token_bytes(32), "pw")))
    settings = {
        "brand_id": 1, "policy": "policy.yaml", "signers": [{"keystore": "oracle.json"}],
        "chain": {"rpc_url": "http://127.0.0.1:9", "chain_id": 31337, "registry": "0x" + "11" * 20, "rpc_timeout_seconds": 2},
        "sources": {"generic": {"secret_env": "GEN_SECRET"}},
    }
    (tmp_path / "servicecoin.yaml").write_text(yaml.safe_dump(settings))
    return {"SERVICECOIN_CONFIG": str(tmp_path / "servicecoin.yaml"), "SERVICECOIN_BRAND_SECRET": secrets.token_hex(32),
            "SERVICECOIN_KEYSTORE_PASSWORD": "pw", "GEN_SECRET": "s3cret"}


def outbox_of(env: dict[str, str]):
    return open_outbox(load_config(env["SERVICECOIN_CONFIG"]), env)


def store(env: dict[str, str], customer: str, *tickets: int) -> list[bytes]:
    outbox = outbox_of(env)
    keys = []
    for ticket in tickets:
        event = HelpdeskEvent(1, "zendesk", f"csat:ticket:{ticket}", customer, FeedbackKind.CSAT_RATING, T0)
        outbox.receive(event, {"rating": "bad", "comment": f"ticket {ticket} took a week"}, received_at=T0)
        keys.append(event.id)
    return keys


def invoke(env: dict[str, str], *args: str, answer: str | None = None):
    return CliRunner().invoke(cli, list(args), env=env, input=answer)


def test_erase_asks_first_and_a_no_changes_nothing(env) -> None:
    [key] = store(env, "zendesk:7881", 1)
    result = invoke(env, "erase", "zendesk:7881", answer="n\n")
    assert result.exit_code == 1
    assert "Erase 'zendesk:7881'? 1 feedback content(s) and 0 delivery record(s) become unreadable forever." in result.output
    assert "Aborted" in result.output
    assert outbox_of(env).vault.open(key).content["rating"] == "bad"


def test_erase_confirmed_shreds_the_customer_and_only_them(env) -> None:
    erased_keys = store(env, "zendesk:7881", 1, 2)
    [kept] = store(env, "zendesk:42", 3)
    result = invoke(env, "erase", "zendesk:7881", answer="y\n")
    assert result.exit_code == 0, result.output
    assert ("erased 'zendesk:7881': 2 feedback content(s) and 0 delivery record(s) are now unreadable, "
            "irreversibly; on-chain records are unchanged") in result.output
    outbox = outbox_of(env)
    assert [outbox.vault.open(k) for k in erased_keys] == [None, None]
    assert outbox.vault.open(kept).content["comment"] == "ticket 3 took a week"
    assert outbox.event_state(erased_keys[0]) == "received"  # the event itself stays


def test_erase_with_yes_does_not_ask_and_a_second_erase_says_so(env) -> None:
    store(env, "zendesk:7881", 1)
    first = invoke(env, "erase", "zendesk:7881", "--yes")
    assert first.exit_code == 0 and "Erase " not in first.output
    assert "1 feedback content(s)" in first.output
    again = invoke(env, "erase", "zendesk:7881", "--yes")
    assert again.exit_code == 0
    assert "'zendesk:7881' is already erased: nothing of theirs is readable" in again.output


def test_erasing_an_unknown_customer_says_so_and_exits_not_found(env) -> None:
    store(env, "zendesk:7881", 1)
    result = invoke(env, "erase", "zendesk:7882", "--yes")
    assert result.exit_code == EXIT_NOT_FOUND
    assert "no customer 'zendesk:7882' in this outbox (ids look like zendesk:7881): nothing erased" in result.output


@pytest.mark.parametrize(
    ("event", "message"),
    [("0xnothex", "EVENT must be a 0x event id, or a helpdesk event id with --source"),
     ("0x" + "ab" * 31, "a 0x event id is 32 bytes (64 hex digits)")],
)
def test_verify_refuses_a_malformed_event_id(env, event: str, message: str) -> None:
    result = invoke(env, "verify", event)
    assert result.exit_code == 1
    assert message in result.output


def test_verify_reports_an_unreachable_chain_as_an_error_not_a_verdict(env) -> None:
    store(env, "zendesk:7881", 1)
    result = invoke(env, "verify", "--source", "zendesk", "csat:ticket:1")
    assert result.exit_code == 1
    assert "outbox:  received" in result.output and "the chain RPC failed" in result.output


def test_erase_counts_delivered_perks_apart_from_feedback(env) -> None:
    from oracle.store.engine import write_transaction

    store(env, "zendesk:7881", 1)
    outbox = outbox_of(env)
    with write_transaction(outbox.engine) as connection:  # as the fulfiller seals a delivered code
        outbox.vault.seal(connection, "zendesk:7881", b"\x77" * 32, {"code": "GIFT-1234"}, T0)
    result = invoke(env, "erase", "zendesk:7881", "--yes")
    assert "1 feedback content(s) and 1 delivery record(s) are now unreadable" in result.output
    assert outbox.vault.open(b"\x77" * 32) is None


def test_erase_also_shreds_deliveries_sealed_under_the_customers_address(env) -> None:
    """A perk delivered before the oracle could name the customer is sealed under
    "wallet:<address>" (oracle/redeem/fulfiller.py); erasing the customer covers it too."""
    from oracle.custody import CustodialWallets
    from oracle.store.engine import write_transaction

    store(env, "zendesk:7881", 1)
    custodial = CustodialWallets(bytes.fromhex(env["SERVICECOIN_BRAND_SECRET"]), 1).address_for("zendesk:7881")
    outbox = outbox_of(env)
    delivery_key = b"\x07" * 32
    with write_transaction(outbox.engine) as connection:
        outbox.vault.seal(connection, f"wallet:{custodial}", delivery_key, {"delivery": {"code": "SAVE10"}}, T0)
    [other] = store(env, "zendesk:42", 2)

    result = invoke(env, "erase", "zendesk:7881", "--yes")
    assert result.exit_code == 0, result.output
    assert "1 feedback content(s) and 1 delivery record(s) are now unreadable" in result.output
    outbox = outbox_of(env)
    assert outbox.vault.open(delivery_key) is None
    assert outbox.vault.open(other) is not None

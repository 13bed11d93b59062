"""Customers on a real chain: a custodial customer earns through a real webhook and links a
wallet (coins, lifetime and tier move on chain; the next reward goes to the wallet), a link
waits for a reward in flight, erase then verify, and a proof note posted to a local Zendesk."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import update

from oracle.cli import EXIT_ERASED, EXIT_MISMATCH, EXIT_NOT_FOUND, main as cli
from oracle.events import event_id
from oracle.ingest.server import serving
from oracle.service import build_identity, build_notes_worker, build_oracle, build_wallet_linker
from oracle.store.engine import write_transaction
from oracle.store.schema import contents
from scripts.local_oracle import PASSWORD, write_oracle_files
from scripts.local_zendesk import LocalZendesk
from tests.integration.wallet_proofs import WALLET_KEY, proof_of
from test_pipeline_on_chain import run_until, zendesk_rating

COIN = 10**18
OPS_KEY = keccak(text="servicecoin-test-operations-account")
WALLET = Account.from_key(WALLET_KEY).address
ZD_EMAIL, ZD_TOKEN = "agent@brand.example", "zendesk-api-token"


@pytest.fixture
def zendesk():
    server = LocalZendesk(ZD_EMAIL, ZD_TOKEN, tickets={"501", "502", "503", "504"})
    with serving(server.app()) as url:
        server.url = url
        yield server


@pytest.fixture
def files(tmp_path, deployment, web3, accounts, zendesk):
    """An oracle with an operations account holding LINK_OPERATOR_ROLE, and notes to Zendesk."""
    ops = Account.from_key(OPS_KEY)
    registry = deployment.registry
    registry.grantRole(registry.LINK_OPERATOR_ROLE(), ops.address, {"from": accounts[0]})
    accounts[0].transfer(ops.address, "5 ether")
    notes = {"zendesk": {"base_url": zendesk.url, "email": ZD_EMAIL, "api_token_env": "ZD_API_TOKEN",
                         "first_retry_seconds": 1}, "explorer_tx_url": "https://scan.example/tx/{tx}"}
    oracle_files = write_oracle_files(
        tmp_path / "oracle", web3.provider.endpoint_uri, web3.eth.chain_id, registry.address,
        operations={"keystore": "ops.json"}, notes=notes,
    )
    (oracle_files.directory / "ops.json").write_text(json.dumps(Account.encrypt(OPS_KEY, PASSWORD)))
    oracle_files.environ["ZD_API_TOKEN"] = ZD_TOKEN
    return oracle_files


@pytest.fixture
def oracle(files):
    return build_oracle(files.config(), environ=files.environ)


def servicecoin(files, *args: str):
    return CliRunner().invoke(cli, ["-c", str(files.config_path), *args], env=files.environ)


def earn(oracle, chain, ticket: str, requester: str) -> bytes:
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert zendesk_rating(client, ticket, requester).status_code == 202
    key = event_id(1, "zendesk", f"csat:ticket:{ticket}")
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    return key


def test_a_custodial_customer_links_a_wallet_and_keeps_earning_there(oracle, files, deployment, chain) -> None:
    coin, registry, tiers = deployment.coin, deployment.registry, deployment.redemption
    earn(oracle, chain, "501", "7881")
    custodial = files.custodial_address("zendesk:7881")
    assert coin.balanceOf(custodial) == 7 * COIN and registry.lifetimeEarned(custodial) == 2 * COIN

    result = servicecoin(files, "wallet", "link", "zendesk:7881", WALLET, *proof_of(files, "zendesk:7881"))

    assert result.exit_code == 0, result.output
    assert f"link recorded: zendesk:7881 -> {WALLET} (custodial address {custodial})" in result.output
    assert f"on chain: linked: moved 7 SVC and a lifetime of 2 SVC earned to {WALLET} (tx 0x" in result.output
    assert coin.balanceOf(custodial) == 0 and registry.lifetimeEarned(custodial) == 0
    assert coin.balanceOf(WALLET) == 7 * COIN and registry.lifetimeEarned(WALLET) == 2 * COIN
    assert tiers.tierOf(WALLET) == 0

    key = earn(oracle, chain, "502", "7881")
    assert oracle.outbox.event_row(key).customer_address == WALLET
    assert coin.balanceOf(WALLET) == 9 * COIN and registry.lifetimeEarned(WALLET) == 4 * COIN  # no second welcome
    assert coin.balanceOf(custodial) == 0

    shown = servicecoin(files, "wallet", "show", "zendesk:7881")
    assert shown.exit_code == 0, shown.output
    assert f"custodial: {custodial}  holds 0 SVC, lifetime earned 0 SVC, tier 0 (rewards x1)" in shown.output
    assert f"wallet:    {WALLET}  holds 9 SVC, lifetime earned 4 SVC, tier 0 (rewards x1)" in shown.output
    assert "link:      linked, tx 0x" in shown.output and f"rewards go to: {WALLET}" in shown.output

    again = servicecoin(files, "wallet", "link", "zendesk:7881", WALLET, *proof_of(files, "zendesk:7881"))
    assert again.exit_code == 1
    assert f"refused, nothing changed: 'zendesk:7881' is already linked to {WALLET} (linked)" in again.output
    other = servicecoin(files, "wallet", "link", "--new-customer", "zendesk:42", registry.address,
                        *proof_of(files, "zendesk:42"))
    assert other.exit_code == 1 and "is the FeedbackRegistry, not a customer's wallet" in other.output
    # A mistyped id would take the wallet for good (found by a QA pass, 2026-11-24).
    typo = servicecoin(files, "wallet", "link", "zendesk:78810", "0x" + "5b" * 20, *proof_of(files, "zendesk:78810"))
    assert typo.exit_code == 1 and "no customer 'zendesk:78810' in this outbox" in typo.output
    assert "pass --new-customer" in typo.output


def test_a_link_requested_while_a_reward_is_in_flight_completes_once_it_is_final(
    oracle, files, deployment, chain
) -> None:
    coin, registry = deployment.coin, deployment.registry
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert zendesk_rating(client, "503", "9000").status_code == 202
    key = event_id(1, "zendesk", "csat:ticket:503")
    time.sleep(1)
    chain.mine()  # the chain's clock passes the event's time (batches wait for that)
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "confirmed", chain, mine=False)
    custodial = files.custodial_address("zendesk:9000")

    result = servicecoin(files, "wallet", "link", "zendesk:9000", WALLET, *proof_of(files, "zendesk:9000"))

    assert result.exit_code == 0, result.output
    assert "on chain: waiting: 1 reward(s) to the custodial address are not final yet" in result.output
    assert coin.balanceOf(WALLET) == 0 and coin.balanceOf(custodial) == 7 * COIN
    linker = build_wallet_linker(files.config(), oracle.outbox, oracle.w3, files.environ)
    assert [o.what for o in linker.step().outcomes] == ["waiting"]
    run_until(oracle, lambda: oracle.outbox.event_state(key) == "final", chain)
    assert [o.what for o in linker.step().outcomes] == ["linked"]
    assert coin.balanceOf(WALLET) == 7 * COIN and registry.lifetimeEarned(WALLET) == 2 * COIN
    assert coin.balanceOf(custodial) == 0 and registry.linkNonce(custodial) == 1
    # Run again (a restart): nothing requested is left, nothing is sent twice.
    assert linker.step().outcomes == []
    assert registry.linkNonce(custodial) == 1


def test_erase_then_verify_says_erased_while_the_chain_record_still_verifies(oracle, files, chain) -> None:
    erased = earn(oracle, chain, "501", "1111")
    kept = earn(oracle, chain, "502", "2222")

    assert servicecoin(files, "verify", "0x" + erased.hex()).exit_code == 0
    result = servicecoin(files, "erase", "zendesk:1111", "--yes")
    assert result.exit_code == 0, result.output
    assert "erased 'zendesk:1111': 1 feedback content(s) and 0 delivery record(s) are now unreadable" in result.output

    after = servicecoin(files, "verify", "--source", "zendesk", "csat:ticket:501")
    assert after.exit_code == EXIT_ERASED, after.output
    assert "chain:   recorded as seq 1 for " in after.output  # the record itself is intact
    assert "content: erased: the customer's key and salts were destroyed" in after.output

    other = servicecoin(files, "verify", "0x" + kept.hex())
    assert other.exit_code == 0, other.output
    assert "content: match: keccak256(salt || stored content) = 0x" in other.output

    missing = servicecoin(files, "verify", "--source", "zendesk", "csat:ticket:9999")
    assert missing.exit_code == EXIT_NOT_FOUND
    assert "no record: no such event here or on chain" in missing.output


def test_verify_catches_stored_content_that_does_not_open_the_chain_commitment(oracle, files, chain) -> None:
    key = earn(oracle, chain, "501", "3333")
    with write_transaction(oracle.outbox.engine) as connection:  # someone swaps the salt
        connection.execute(update(contents).where(contents.c.event_id == key).values(salt=b"\x01" * 32))
    result = servicecoin(files, "verify", "0x" + key.hex())
    assert result.exit_code == EXIT_MISMATCH
    assert "content: MISMATCH: the stored content hashes to 0x" in result.output


def test_a_final_zendesk_reward_gets_exactly_one_note_with_its_transaction(oracle, files, chain, zendesk) -> None:
    key = earn(oracle, chain, "504", "4444")
    notes = build_notes_worker(files.config(), oracle.outbox, oracle.w3, files.environ)
    assert notes.step().posted == 1
    assert notes.step().posted == 0 and notes.step().queued == 0
    batch = oracle.outbox.batch_row(oracle.outbox.event_row(key).batch_id)
    tx = "0x" + batch.tx_hash.hex()
    [comment] = zendesk.comments("504")
    assert len(zendesk.received) == 1 and zendesk.received[0].authorized
    assert f"Transaction: {tx} (https://scan.example/tx/{tx})" in comment
    assert f"Block: {batch.block_number}" in comment and f"Event id: 0x{key.hex()}" in comment
    assert f"Registry: {oracle.registry.address}" in comment and "Reward: 2 SVC" in comment
    listing = servicecoin(files, "notes", "--state", "posted")
    assert listing.exit_code == 0 and "notes:   posted 1" in listing.output and " 504 " in listing.output


def test_a_wallet_is_linked_only_with_its_own_fresh_signature(oracle, files, deployment, chain) -> None:
    """A link is permanent, so the wallet proves it is the customer's first: a signature by
    another key, for another customer, expired or malformed is refused and nothing changes."""
    coin = deployment.coin
    earn(oracle, chain, "501", "7881")
    custodial = files.custodial_address("zendesk:7881")
    stranger = keccak(text="someone else's key")
    refusals = {
        "by another key": (proof_of(files, "zendesk:7881", key=stranger, wallet=WALLET),
                           f"the signature does not verify for WalletOwnership(wallet {WALLET}, custodialAddress "
                           f"{custodial}"),
        "for another customer": (proof_of(files, "zendesk:1"), "the signature does not verify for WalletOwnership"),
        "expired": (proof_of(files, "zendesk:7881", valid_for=-5), "the wallet's signature expired at"),
        "malformed": (["--signature", "0x1234", "--deadline", str(int(time.time()) + 600)],
                      f"is not a 65-byte ECDSA signature, and no contract is deployed at {WALLET}"),
        "valid for too long": (proof_of(files, "zendesk:7881", valid_for=8 * 86400), "is more than 604800 s ahead"),
    }
    for case, (proof, message) in refusals.items():
        result = servicecoin(files, "wallet", "link", "zendesk:7881", WALLET, *proof)
        assert result.exit_code == 1, (case, result.output)
        assert "refused, nothing changed: " in result.output and message in result.output, (case, result.output)
    for missing in (["--signature", "0xzz", "--deadline", "1"], []):
        result = servicecoin(files, "wallet", "link", "zendesk:7881", WALLET, *missing)
        assert result.exit_code != 0 and ("not hex" in result.output or "Missing option" in result.output)
    assert build_identity(files.config(), oracle.outbox, files.environ).link_of("zendesk:7881") is None
    assert coin.balanceOf(custodial) == 7 * COIN and coin.balanceOf(WALLET) == 0

    # `wallet link-message` refuses what `wallet link` would, before the customer signs anything.
    unknown = servicecoin(files, "wallet", "link-message", "zendesk:78810", WALLET)
    assert unknown.exit_code == 1 and "no customer 'zendesk:78810' in this outbox" in unknown.output
    own = servicecoin(files, "wallet", "link-message", "zendesk:7881", custodial)
    assert own.exit_code == 1 and "is the custodial address of 'zendesk:7881' itself" in own.output
    # The message `wallet link-message` prints is the one the wallet signs.
    message = servicecoin(files, "wallet", "link-message", "zendesk:7881", WALLET)
    assert message.exit_code == 0, message.output
    typed = json.loads(message.output)
    assert typed["primaryType"] == "WalletOwnership"
    assert typed["message"]["custodialAddress"] == custodial and typed["message"]["wallet"] == WALLET
    signature = bytes(Account.sign_typed_data(WALLET_KEY, full_message=typed).signature)
    linked = servicecoin(files, "wallet", "link", "zendesk:7881", WALLET, "--signature", "0x" + signature.hex(),
                         "--deadline", str(typed["message"]["deadline"]))
    assert linked.exit_code == 0, linked.output
    assert coin.balanceOf(WALLET) == 7 * COIN


def test_a_contract_wallet_proves_itself_through_erc1271(oracle, files, deployment, chain, accounts, OwnedWallet) -> None:
    """A smart account has no key of its own: it approves its owner's signature of its
    WalletOwnership message through ERC-1271's isValidSignature, and one that does not approve
    is refused."""
    coin = deployment.coin
    earn(oracle, chain, "501", "7881")
    someone_else = OwnedWallet.deploy(Account.from_key(keccak(text="someone else's key")).address, {"from": accounts[0]})
    refused = servicecoin(files, "wallet", "link", "zendesk:7881", someone_else.address,
                          *proof_of(files, "zendesk:7881", wallet=someone_else.address))
    assert refused.exit_code == 1, refused.output
    assert f"{someone_else.address} is a contract that does not approve this signature" in refused.output

    smart_account = OwnedWallet.deploy(WALLET, {"from": accounts[0]})  # owned by the customer's key
    linked = servicecoin(files, "wallet", "link", "zendesk:7881", smart_account.address,
                         *proof_of(files, "zendesk:7881", wallet=smart_account.address))
    assert linked.exit_code == 0, linked.output
    assert coin.balanceOf(smart_account.address) == 7 * COIN

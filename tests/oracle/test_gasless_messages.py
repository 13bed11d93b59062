"""What a customer signs for a gasless redemption, checked without a chain: the ForwardRequest
digest equals OpenZeppelin's formula computed independently, the JSON form a wallet receives
hashes like the integer form, and the relay's signature checks name each failure. (That these
signatures verify on chain is pinned by tests/contracts/redemption/test_gasless_redeem.py.)"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import yaml
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from oracle.config import ConfigError, load_config
from oracle.redeem.relay import (
    InvalidRedemptionOrder,
    RedemptionOrder,
    SignatureMismatch,
    StaleSignature,
    require_signer,
)
from oracle.store.engine import create_outbox_engine
from oracle.store.outbox import Outbox
from oracle.redeem.relay_limit import RateLimited, RollingLimit
from oracle.redeem.signed_messages import (
    ForwardRequest,
    SignatureFormatError,
    json_permit,
    parse_signature,
    recover_typed,
    sign_typed,
    split_signature,
)
from oracle.typed_data import Domain, full_typed_data_digest, permit_typed_data

KEY = keccak(text="servicecoin-unit-gasless-customer")
CUSTOMER = Account.from_key(KEY).address
OTHER_KEY = keccak(text="servicecoin-unit-gasless-other")
FORWARDER = Domain(chain_id=31337, verifying_contract="0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
                   name="ServiceCoin Forwarder", version="1")
COIN = Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3",
              name="Service Coin", version="1")
REDEMPTION = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def request(nonce: int = 0, **changes) -> ForwardRequest:
    fields = {"sender": CUSTOMER, "to": REDEMPTION, "gas": 400_000, "nonce": nonce, "deadline": 1_800_000_000,
              "data": bytes.fromhex("deadbeef") + bytes(32)}
    fields.update(changes)
    return ForwardRequest(**fields)


def test_the_forward_request_digest_is_openzeppelins() -> None:
    """ERC2771Forwarder: keccak(0x1901 || domainSeparator || keccak(abi.encode(TYPEHASH, from, to,
    value, gas, nonce, deadline, keccak(data)))) with its type string, written out here."""
    typehash = keccak(text="ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,"
                           "uint48 deadline,bytes data)")
    req = request(nonce=7)
    struct_hash = keccak(encode(
        ["bytes32", "address", "address", "uint256", "uint256", "uint256", "uint48", "bytes32"],
        [typehash, req.sender, req.to, 0, req.gas, 7, req.deadline, keccak(req.data)],
    ))
    expected = keccak(b"\x19\x01" + FORWARDER.separator() + struct_hash)
    assert full_typed_data_digest(req.typed_data(FORWARDER)) == expected


def test_the_json_forms_survive_json_and_hash_like_the_integer_forms() -> None:
    big = 123 * 10**18  # above JavaScript's safe integers
    permit = json_permit(COIN, CUSTOMER, REDEMPTION, big, 3, 1_800_000_000)
    assert permit["message"]["value"] == str(big)
    assert json.loads(json.dumps(permit)) == permit
    assert full_typed_data_digest(permit) == full_typed_data_digest(
        permit_typed_data(COIN, CUSTOMER, REDEMPTION, big, 3, 1_800_000_000))
    typed = request().typed_data(FORWARDER)
    assert json.loads(json.dumps(typed)) == typed
    # What a wallet signs after the JSON round trip is what the relay checks.
    assert recover_typed(typed, Account.sign_typed_data(KEY, full_message=json.loads(json.dumps(typed))).signature) == CUSTOMER


def test_the_call_argument_is_the_forwarders_request_data_tuple() -> None:
    req = request(nonce=5)
    signature = sign_typed(KEY, req.typed_data(FORWARDER))
    assert req.as_call_argument(signature) == (CUSTOMER, REDEMPTION, 0, 400_000, 1_800_000_000, req.data, signature)


def test_a_signature_splits_into_v_r_s_for_the_permit() -> None:
    signature = sign_typed(KEY, json_permit(COIN, CUSTOMER, REDEMPTION, 1, 0, 1))
    v, r, s = split_signature(signature)
    assert (v, r + s) == (signature[64], signature[:64]) and v in (27, 28)
    assert split_signature(signature[:64] + bytes([v - 27]))[0] == v  # wallets giving v as 0/1


@pytest.mark.parametrize(("text", "message"), [
    ("0x1234", "a signature is 65 bytes, got 2"),
    ("0xzz", "a signature must be 0x-prefixed hex"),
    ("", "a signature is 65 bytes, got 0"),
    ("0x" + "11" * 64 + "25", "v is 37: a typed-data signature has v 27 or 28"),  # an EIP-155 v
    ("0x" + "11" * 64 + "02", "v is 2"),
])
def test_malformed_signatures_are_named(text: str, message: str) -> None:
    with pytest.raises(SignatureFormatError, match=message):
        parse_signature(text)


def test_a_v_of_0_or_1_is_the_same_signature_as_27_or_28() -> None:
    """Some wallets answer v as 0/1; OpenZeppelin's ECDSA on chain takes only 27/28."""
    typed = ForwardRequest(CUSTOMER, "0x" + "22" * 20, 100_000, 4, 2**40, b"\x01").typed_data(FORWARDER)
    signature = sign_typed(KEY, typed)
    low_v = signature[:64] + bytes([signature[64] - 27])
    assert parse_signature("0x" + low_v.hex()) == signature
    assert parse_signature("0x" + signature.hex()) == signature
    assert recover_typed(typed, parse_signature("0x" + low_v.hex())) == CUSTOMER


def test_a_high_s_signature_is_refused_as_the_contracts_refuse_it() -> None:
    typed = request().typed_data(FORWARDER)
    signature = sign_typed(KEY, typed)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    malleable = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # the same point, high s
    with pytest.raises(SignatureFormatError, match="high-s"):
        recover_typed(typed, malleable)


class TestSignatureChecks:
    """The relay's check of each signature against the message rebuilt with the chain's nonce."""

    @staticmethod
    def message_for(nonce: int) -> dict:
        return request(nonce=nonce).typed_data(FORWARDER)

    def test_the_customers_signature_over_the_current_nonce_passes(self) -> None:
        require_signer("request", CUSTOMER, sign_typed(KEY, self.message_for(4)), 4, self.message_for)

    def test_another_keys_signature_names_the_signer(self) -> None:
        with pytest.raises(SignatureMismatch, match=f"recovers to {Account.from_key(OTHER_KEY).address}, not the customer"):
            require_signer("request", CUSTOMER, sign_typed(OTHER_KEY, self.message_for(4)), 4, self.message_for)

    def test_a_signature_over_another_order_does_not_pass(self) -> None:
        other = request(nonce=4, data=bytes.fromhex("deadbeef") + (1).to_bytes(32, "big")).typed_data(FORWARDER)
        with pytest.raises(SignatureMismatch):
            require_signer("request", CUSTOMER, sign_typed(KEY, other), 4, self.message_for)

    def test_a_signature_over_the_used_nonce_is_stale(self) -> None:
        # The answer must not invite a second redemption: it points at the one that exists.
        with pytest.raises(StaleSignature, match="used already .*relayed already; look up the customer's redemptions") as caught:
            require_signer("permit", CUSTOMER, sign_typed(KEY, self.message_for(3)), 4, self.message_for)
        assert "sign again" not in str(caught.value)

    def test_garbage_is_a_malformed_field(self) -> None:
        with pytest.raises(InvalidRedemptionOrder, match="request_signature"):
            require_signer("request", CUSTOMER, bytes(64) + b"\x1b", 0, self.message_for)


@pytest.mark.parametrize(("fields", "message"), [
    ({"customer": "0x1234"}, "is not an address"),
    ({"customer": 42}, "is not an address"),
    ({"customer": CUSTOMER[:2] + CUSTOMER[2:].swapcase()}, "wrong EIP-55 checksum"),
    ({"item_id": -1}, "item_id must be an integer"),
    ({"max_price": True}, "max_price must be an integer"),
    ({"max_price": 2**256}, "max_price must be an integer"),
    ({"deadline": 2**48}, "deadline must be an integer"),
])
def test_each_malformed_order_field_is_named(fields: dict, message: str) -> None:
    order = {"customer": CUSTOMER, "item_id": 3, "max_price": 10**18, "deadline": 1_800_000_000, **fields}
    with pytest.raises(InvalidRedemptionOrder, match=message):
        RedemptionOrder.checked(**order)


def test_an_order_takes_a_lowercase_address_and_checksums_it() -> None:
    assert RedemptionOrder.checked(CUSTOMER.lower(), 0, 0, 0).customer == CUSTOMER


class TestRollingLimit:
    @pytest.fixture
    def engine(self, outbox_url: str):
        return Outbox.open(outbox_url, b"\0" * 32).engine  # SQLite and PostgreSQL

    def test_the_limit_holds_per_customer_over_any_day(self, engine) -> None:
        now = [1000.0]
        limit = RollingLimit(engine, 2, clock=lambda: now[0])
        limit.acquire(CUSTOMER)
        now[0] += 3600
        limit.acquire(CUSTOMER.lower())  # the same customer, however the address is written
        limit.acquire("0x" + "11" * 20)  # another customer is counted apart
        with pytest.raises(RateLimited) as caught:
            limit.acquire(CUSTOMER)
        assert caught.value.retry_after == 86_400 - 3600 + 1
        now[0] = 1000.0 + 86_400  # the first use leaves the window
        limit.acquire(CUSTOMER)
        with pytest.raises(RateLimited):
            limit.acquire(CUSTOMER)

    def test_a_restart_or_a_second_process_shares_the_count(self, engine) -> None:
        now = [5000.0]
        RollingLimit(engine, 2, clock=lambda: now[0]).acquire(CUSTOMER)
        RollingLimit(engine, 2, clock=lambda: now[0]).acquire(CUSTOMER)  # another process, same database
        with pytest.raises(RateLimited):
            RollingLimit(engine, 2, clock=lambda: now[0]).acquire(CUSTOMER)  # after a restart

    def test_processes_racing_for_the_last_slots_never_exceed_the_limit(self, outbox_url: str) -> None:
        """Several `serve` processes, each with its own connections, relay for one customer at
        the same instant: exactly `limit` get through."""
        Outbox.open(outbox_url, b"\0" * 32)  # the tables
        engines = [create_outbox_engine(outbox_url) for _ in range(8)]
        start = threading.Barrier(len(engines))
        outcomes: list[str] = []

        def relay(engine) -> None:
            start.wait()
            try:
                RollingLimit(engine, 3, clock=lambda: 7000.0).acquire(CUSTOMER)
                outcomes.append("relayed")
            except RateLimited:
                outcomes.append("limited")

        threads = [threading.Thread(target=relay, args=(engine,)) for engine in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["limited"] * 5 + ["relayed"] * 3

    def test_a_limit_below_one_is_refused(self, engine) -> None:
        with pytest.raises(ValueError):
            RollingLimit(engine, 0)


def test_a_relay_section_needs_the_contracts_and_the_operations_account(tmp_path: Path) -> None:
    settings = {
        "brand_id": 1, "policy": "policy.yaml",
        "chain": {"rpc_url": "http://127.0.0.1:8545", "chain_id": 31337, "registry": REDEMPTION,
                  "redemption": REDEMPTION},
        "signers": [{"keystore": "oracle.json"}], "sources": {"generic": {"secret_env": "G"}},
        "relay": {"secret_env": "RELAY_SECRET"},
    }
    path = tmp_path / "servicecoin.yaml"
    path.write_text(yaml.safe_dump(settings))
    with pytest.raises(ConfigError, match=r"relay: needs chain.forwarder, operations"):
        load_config(path)
    settings["chain"]["forwarder"] = FORWARDER.verifying_contract
    settings["operations"] = {"keystore": "ops.json"}
    path.write_text(yaml.safe_dump(settings))
    config = load_config(path)
    assert config.relay is not None and config.relay.max_per_customer_per_day == 5
    assert config.relay.wait_seconds == 60
    for wait in (0, 3601, 2.5):  # the relay's wait for confirmation: whole seconds, 1 s to an hour
        settings["relay"] = {"secret_env": "RELAY_SECRET", "wait_seconds": wait}
        path.write_text(yaml.safe_dump(settings))
        with pytest.raises(ConfigError, match="relay.wait_seconds"):
            load_config(path)


def test_the_relay_and_the_custodial_commands_wait_relay_wait_seconds(tmp_path: Path) -> None:
    """`servicecoin redeem` and `dispute` use the relay's wait too: a person at a terminal should
    not sit ten minutes in silence. Without a relay section the loops' 600 s stands."""
    from web3 import Web3

    from oracle.service import build_redeem_relay, relay_wait_seconds

    (tmp_path / "ops.json").write_text(json.dumps(Account.encrypt(b"\x07" * 32, "pw")))
    settings = {
        "brand_id": 1, "policy": "policy.yaml",
        "chain": {"rpc_url": "http://127.0.0.1:9", "chain_id": 31337, "registry": REDEMPTION,
                  "redemption": REDEMPTION, "forwarder": FORWARDER.verifying_contract},
        "signers": [{"keystore": "oracle.json"}], "sources": {"generic": {"secret_env": "G"}},
        "operations": {"keystore": "ops.json"},
    }
    path = tmp_path / "servicecoin.yaml"
    path.write_text(yaml.safe_dump(settings))
    assert relay_wait_seconds(load_config(path)) == 600.0
    settings["relay"] = {"secret_env": "RELAY_SECRET", "wait_seconds": 20}
    path.write_text(yaml.safe_dump(settings))
    config = load_config(path)
    relay = build_redeem_relay(config, Web3(Web3.HTTPProvider("http://127.0.0.1:9")), {"SERVICECOIN_KEYSTORE_PASSWORD": "pw"})
    assert relay_wait_seconds(config) == relay.sender.wait_seconds == 20.0

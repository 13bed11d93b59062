"""The relay's wallet-link routes (oracle/wallet_link_http.py): the brand's app gets the
WalletOwnership message, the customer's wallet signs it, and the link is recorded only with that
signature; every refusal is a 400 that changes nothing, and only the brand's app may ask."""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from oracle.custody import CustodialWallets
from oracle.identity import Identity
from oracle.ingest.app import IngestConfig, create_app
from oracle.ingest.server import serving
from oracle.ingest.signatures import sign_generic
from oracle.ingest.sources import GenericSource
from oracle.redeem.relay_http import RelayEndpoint
from oracle.redeem.relay_limit import RollingLimit
from oracle.store.outbox import Outbox
from oracle.wallet_link_http import WalletLinkRoutes
from oracle.wallet_link_requests import WalletLinkRequests

SECRET = "relay-secret"
NOW = 1_800_000_000
REGISTRY = "0x" + "11" * 20
WALLET_KEY = keccak(text="wallet-link-http-wallet")
WALLET = Account.from_key(WALLET_KEY).address
CUSTOMER = "zendesk:7881"


@pytest.fixture
def outbox(tmp_path):
    outbox = Outbox.open(f"sqlite:///{tmp_path / 'outbox.db'}", keccak(text="master"))
    yield outbox
    outbox.engine.dispose()  # its files closed now, not whenever the collector runs


@pytest.fixture
def identity(outbox: Outbox) -> Identity:
    return Identity(outbox.engine, CustodialWallets(b"\x07" * 32, 1))


@pytest.fixture
def client(outbox: Outbox, identity: Identity):
    config = SimpleNamespace(chain=SimpleNamespace(chain_id=31337, registry=REGISTRY, redemption=None, forwarder=None))
    eoa_chain = SimpleNamespace(eth=SimpleNamespace(get_code=lambda address: b""))  # the wallet has no code
    requests = WalletLinkRequests(config, outbox, identity, eoa_chain, clock=lambda: NOW)  # type: ignore[arg-type]
    requests._contracts = {"the FeedbackRegistry": REGISTRY}  # what the chain would say, read once
    endpoint = RelayEndpoint(None, SECRET.encode(), RollingLimit(outbox.engine, 2, clock=lambda: NOW),  # type: ignore[arg-type]
                             links=WalletLinkRoutes(requests))
    app = create_app(outbox, IngestConfig(brand_id=1, max_body_bytes=4096), [GenericSource("webhook-secret", 300)],
                     clock=lambda: NOW, relay=endpoint)
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        yield c


def post(client: httpx.Client, path: str, payload: dict, secret: str = SECRET) -> httpx.Response:
    body = json.dumps(payload).encode()
    return client.post(path, content=body, headers=sign_generic(body, secret.encode(), NOW))


def signed_link(client: httpx.Client, key: bytes = WALLET_KEY, **changes) -> dict:
    """The message from the typed-data route, signed by `key`, as the link route's body."""
    answer = post(client, "/v1/wallet-link/typed-data", {"customer_id": CUSTOMER, "wallet": WALLET, "new_customer": True})
    assert answer.status_code == 200, answer.text
    message = answer.json()["message"]
    signature = bytes(Account.sign_typed_data(key, full_message=message).signature)
    body = {"customer_id": CUSTOMER, "wallet": WALLET, "deadline": message["message"]["deadline"],
            "signature": "0x" + signature.hex(), "new_customer": True}
    body.update(changes)
    return body


def test_the_message_names_the_wallet_and_the_customers_custodial_address(client, identity) -> None:
    answer = post(client, "/v1/wallet-link/typed-data",
                  {"customer_id": CUSTOMER, "wallet": WALLET, "valid_for": 600, "new_customer": True})
    assert answer.status_code == 200, answer.text
    message = answer.json()["message"]
    assert message["primaryType"] == "WalletOwnership"
    assert (message["domain"]["chainId"], message["domain"]["verifyingContract"]) == (31337, to_checksum_address(REGISTRY))
    assert message["message"] == {"wallet": WALLET, "custodialAddress": identity.custodial_address(CUSTOMER),
                                  "deadline": NOW + 600}


def test_the_wallets_signature_records_the_link(client, identity) -> None:
    answer = post(client, "/v1/wallet-link", signed_link(client))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"customer_id": CUSTOMER, "wallet": WALLET,
                             "custodial_address": identity.custodial_address(CUSTOMER), "state": "requested",
                             "readdressed": 0}
    assert identity.address_for(CUSTOMER) == WALLET


@pytest.mark.parametrize("changes, message", [
    ({"key": keccak(text="someone else")}, "the signature does not verify for WalletOwnership"),
    ({"deadline": NOW - 1}, "the wallet's signature expired"),
    ({"signature": "0x1234"}, "no contract is deployed at"),
    ({"signature": "not hex"}, "signature: not hex"),
    ({"wallet": WALLET.lower()}, "has no valid EIP-55 checksum"),
    ({"wallet": REGISTRY}, "is the FeedbackRegistry, not a customer's wallet"),
    ({"new_customer": False}, "no customer 'zendesk:7881' in this outbox"),
], ids=["another_key", "expired", "short_signature", "not_hex", "no_checksum", "protocol_contract", "unknown"])
def test_a_refused_link_is_a_400_and_changes_nothing(client, identity, changes: dict, message: str) -> None:
    key = changes.pop("key", WALLET_KEY)
    answer = post(client, "/v1/wallet-link", signed_link(client, key=key, **changes))
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]
    assert identity.link_of(CUSTOMER) is None


def test_a_signature_with_v_0_or_1_is_the_same_signature(client, identity) -> None:
    """Some wallets (hardware ones among them) answer v as 0 or 1."""
    body = signed_link(client)
    signature = bytes.fromhex(body["signature"][2:])
    body["signature"] = "0x" + (signature[:64] + bytes([signature[64] - 27])).hex()
    answer = post(client, "/v1/wallet-link", body)
    assert answer.status_code == 200, answer.text


def test_the_message_is_refused_for_what_the_link_would_refuse(client, identity) -> None:
    """Before the customer signs anything: a protocol contract, the custodial address, a
    customer already linked."""
    for wallet, message in ((REGISTRY, "is the FeedbackRegistry"),
                            (identity.custodial_address(CUSTOMER), "is the custodial address of")):
        answer = post(client, "/v1/wallet-link/typed-data", {"customer_id": CUSTOMER, "wallet": wallet,
                                                             "new_customer": True})
        assert answer.status_code == 400 and message in answer.json()["error"], answer.text
    assert post(client, "/v1/wallet-link", signed_link(client)).status_code == 200
    again = post(client, "/v1/wallet-link/typed-data", {"customer_id": CUSTOMER, "wallet": WALLET, "new_customer": True})
    assert again.status_code == 400 and "is already linked to" in again.json()["error"]


def test_only_the_brands_app_may_ask_and_a_second_link_is_refused(client, identity) -> None:
    body = signed_link(client)
    assert post(client, "/v1/wallet-link", body, secret="another secret").status_code == 401
    assert identity.link_of(CUSTOMER) is None
    assert post(client, "/v1/wallet-link", {**body, "extra": 1}).status_code == 400
    assert post(client, "/v1/wallet-link", body).status_code == 200
    again = post(client, "/v1/wallet-link", body)
    assert again.status_code == 400 and "is already linked to" in again.json()["error"]

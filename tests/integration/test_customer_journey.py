"""A customer's whole journey against one running `servicecoin run` process, over real HTTP:
earn without a wallet (custodial), link a wallet of their own, redeem from it without holding
ether (the relay), get the perk from the brand's fulfilment endpoint, fulfilled on chain with a
commitment to what was delivered. Everything the brand runs is the shipped oracle; the chain is
Anvil with blocks every 0.3 s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner
from eth_account import Account
from eth_utils import keccak

from oracle.cli import main as cli
from oracle.ingest.server import free_port
from oracle.ingest.signatures import sign_generic
from oracle.service import open_outbox
from scripts.local_oracle import GENERIC_SECRET, PASSWORD, BlockTicker, write_oracle_files
from tests.integration.test_crash_recovery import wait_healthy
from tests.oracle.brand_endpoint import SECRET, BrandEndpoint

COIN = 10**18
BRAND = 1  # the brand of scripts/local_oracle.py's oracle
OPERATIONS_KEY = keccak(text="servicecoin-journey-operations")
WALLET_KEY = keccak(text="servicecoin-journey-customer-wallet")
RELAY_SECRET = "journey-relay-secret"
CUSTOMER = "journey-ada"
FULFILLED = 2
PERK = (5 * COIN, 10, 1, 0, 3, 0, 0, True)  # 5 coins, 10 in stock, one per customer, a digital product


@pytest.fixture
def brand():
    endpoint = BrandEndpoint()
    with endpoint.serving() as url:
        endpoint.url = url
        yield endpoint


@pytest.fixture
def running(tmp_path, deployment, web3, accounts, brand):
    """`servicecoin run` with everything on: webhooks, relay, fulfilment, wallet links."""
    redemption, registry = deployment.redemption, deployment.registry
    operations = Account.from_key(OPERATIONS_KEY).address
    redemption.grantRole(redemption.fulfillerRole(BRAND), operations, {"from": accounts[0]})
    registry.grantRole(registry.LINK_OPERATOR_ROLE(), operations, {"from": accounts[0]})
    accounts[0].transfer(operations, "10 ether")
    item_id = redemption.itemCount()
    redemption.addItem(BRAND, PERK, {"from": accounts[0]})
    port = free_port()
    files = write_oracle_files(
        tmp_path / "oracle", web3.provider.endpoint_uri, web3.eth.chain_id, registry.address,
        chain={"redemption": redemption.address, "forwarder": deployment.forwarder.address,
               "start_block": web3.eth.block_number},
        operations={"keystore": "operations.json"},
        relay={"secret_env": "RELAY_SECRET"},
        fulfilment={"url": brand.url, "secret_env": "FULFILMENT_SECRET", "first_retry_seconds": 0.5},
        server={"port": port},
    )
    (files.directory / "operations.json").write_text(json.dumps(Account.encrypt(OPERATIONS_KEY, PASSWORD)))
    files.environ.update({"RELAY_SECRET": RELAY_SECRET, "FULFILMENT_SECRET": SECRET.decode()})
    settings = yaml.safe_load(files.config_path.read_text())
    assert settings["server"]["port"] == port
    binary = str(Path(sys.executable).with_name("servicecoin"))
    process = subprocess.Popen([binary, "-c", str(files.config_path), "run"], env={**os.environ, **files.environ},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with BlockTicker(web3.provider.endpoint_uri, 0.3):
            wait_healthy(port, process)
            yield files, f"http://127.0.0.1:{port}", item_id, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def signed_post(client: httpx.Client, path: str, payload: dict, secret: str) -> httpx.Response:
    body = json.dumps(payload).encode()
    return client.post(path, content=body, headers=sign_generic(body, secret.encode(), int(time.time())))


def wait_for(condition, process, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_earn_link_redeem_gasless_and_get_the_perk(running, brand, deployment, web3) -> None:
    files, url, item_id, process = running
    coin, registry, redemption = deployment.coin, deployment.registry, deployment.redemption
    wallet = Account.from_key(WALLET_KEY)
    custodial = files.custodial_address(CUSTOMER)

    with httpx.Client(base_url=url, timeout=60) as client:
        # 1. Earn with no wallet: a survey answer (5 coins) plus the welcome bonus (5).
        event = {"event_id": "journey-1", "customer_id": CUSTOMER, "kind": "survey_response",
                 "occurred_at": int(time.time()) - 5}
        assert signed_post(client, "/webhooks/generic", event, GENERIC_SECRET).status_code == 202
        wait_for(lambda: coin.balanceOf(custodial) == 10 * COIN, process, "the custodial reward")

        # 2. Link a wallet of their own through the relay: the brand's app gets the message, the
        #    wallet signs it, the link is recorded; the running oracle moves coins and lifetime.
        message = signed_post(client, "/v1/wallet-link/typed-data", {"customer_id": CUSTOMER, "wallet": wallet.address},
                              RELAY_SECRET)
        assert message.status_code == 200, message.text
        typed = message.json()["message"]
        proof = "0x" + bytes(Account.sign_typed_data(WALLET_KEY, full_message=typed).signature).hex()
        linked = signed_post(client, "/v1/wallet-link", {"customer_id": CUSTOMER, "wallet": wallet.address,
                                                         "deadline": typed["message"]["deadline"], "signature": proof},
                             RELAY_SECRET)
        assert linked.status_code == 200, linked.text
        assert linked.json()["state"] == "requested" and linked.json()["custodial_address"] == custodial
        wait_for(lambda: coin.balanceOf(wallet.address) == 10 * COIN, process, "the wallet link")
        assert coin.balanceOf(custodial) == 0 and registry.lifetimeEarned(wallet.address) == 5 * COIN

        # 3. Redeem from the wallet, which holds no ether: the brand's app gets the messages, the
        #    wallet signs them, the oracle relays.
        assert web3.eth.get_balance(wallet.address) == 0
        order = {"customer": wallet.address, "item_id": item_id, "max_price": str(5 * COIN),
                 "deadline": web3.eth.get_block("latest")["timestamp"] + 3600}
        first = signed_post(client, "/v1/relay/redeem/typed-data", order, RELAY_SECRET)
        assert first.status_code == 200, first.text
        permit = "0x" + Account.sign_typed_data(WALLET_KEY, full_message=first.json()["permit"]).signature.hex()
        second = signed_post(client, "/v1/relay/redeem/typed-data", {**order, "permit_signature": permit},
                             RELAY_SECRET)
        assert second.status_code == 200, second.text
        request = "0x" + Account.sign_typed_data(WALLET_KEY, full_message=second.json()["request"]).signature.hex()
        relayed = signed_post(client, "/v1/relay/redeem",
                              {**order, "permit_signature": permit, "request_signature": request}, RELAY_SECRET)
        assert relayed.status_code == 200, relayed.text
        redemption_id = relayed.json()["redemption_id"]

    # 4. The running oracle sees the redemption, the brand delivers, the oracle fulfils on chain.
    wait_for(lambda: redemption.redemptionOf(redemption_id)[3] == FULFILLED, process, "the fulfilment")
    assert len(brand.received) == 1
    asked = brand.received[0]
    assert asked.signature_ok
    assert asked.payload["customer_id"] == CUSTOMER and asked.payload["customer_address"] == wallet.address
    assert asked.payload["redemption_id"] == redemption_id and asked.payload["item_id"] == item_id
    # The commitment on chain opens with what the brand delivered, sealed in the oracle's store.
    opened = open_outbox(files.config(), files.environ).vault.open(bytes.fromhex(asked.key.removeprefix("0x")))
    assert opened.content == {"delivery": brand.deliveries[asked.key]}
    assert redemption.redemptionOf(redemption_id)[8] == "0x" + opened.commitment.hex()
    assert coin.balanceOf(wallet.address) == 5 * COIN and web3.eth.get_balance(wallet.address) == 0

    # 5. The brand (and an auditor) can list it, once the oracle has seen its fulfil confirmed.
    def listed_state() -> str:
        listed = CliRunner().invoke(cli, ["-c", str(files.config_path), "redemptions", "--json"], env=files.environ)
        assert listed.exit_code == 0, listed.output
        [row] = [r for r in json.loads(listed.output) if r["id"] == redemption_id]
        assert row["customer"] == wallet.address
        return str(row["state"])

    wait_for(lambda: listed_state() == "fulfilled", process, "the listing to say fulfilled")

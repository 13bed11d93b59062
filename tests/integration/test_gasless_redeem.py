"""Gasless redemption on a real chain: a customer with no ether redeems with two signatures
their wallet made, through the oracle's relay endpoint over real HTTP; a custodial customer is
redeemed for by `servicecoin redeem`, and disputes through `servicecoin dispute`; a wallet
customer disputes through the relay endpoint too. The operations account pays the gas every time."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_utils import keccak

from oracle.cli import main as cli
from oracle.ingest.server import serving
from oracle.ingest.signatures import sign_generic
from oracle.kinds import FeedbackKind
from oracle.config import ConfigError
from oracle.redeem.relay import RedemptionOrder, RedemptionRefused, SignedRedemption
from oracle.service import build_oracle, build_redeem_relay, connect
from oracle.typed_data import Domain, FeedbackBatch, FeedbackRecord, sign_batch
from scripts.local_oracle import PASSWORD, SIGNER_KEY, write_oracle_files

COIN = 10**18
OPS_KEY = keccak(text="servicecoin-test-relay-operations")
WALLET_KEY = keccak(text="servicecoin-test-relay-customer-wallet")
RELAY_SECRET = "relay-hmac-secret-of-the-brand-app"
EBOOK, EBOOK_PRICE = 3, 30 * COIN  # scripts/config/development.yaml
PENDING, FULFILLED, DISPUTED = 1, 2, 3


@pytest.fixture
def files(tmp_path, deployment, web3, accounts):
    """An oracle with an operations account (ether, no role: relaying needs none) and the relay on."""
    return relay_oracle_files(tmp_path, deployment, web3, accounts)


def relay_oracle_files(tmp_path, deployment, web3, accounts, **relay_settings):
    ops = Account.from_key(OPS_KEY)
    accounts[0].transfer(ops.address, "5 ether")
    oracle_files = write_oracle_files(
        tmp_path / "oracle", web3.provider.endpoint_uri, web3.eth.chain_id, deployment.registry.address,
        chain={"redemption": deployment.redemption.address, "forwarder": deployment.forwarder.address},
        operations={"keystore": "ops.json"},
        relay={"secret_env": "RELAY_SECRET", "max_per_customer_per_day": 2, **relay_settings},
    )
    (oracle_files.directory / "ops.json").write_text(json.dumps(Account.encrypt(OPS_KEY, PASSWORD)))
    oracle_files.environ["RELAY_SECRET"] = RELAY_SECRET
    return oracle_files


def reward(deployment, chain, accounts, customer: str, reviews: int) -> None:
    """Product reviews for `customer` in one batch signed by the oracle's key (10 SVC each, plus
    the 5 SVC welcome bonus; the deployment is fresh, so seqs start at 1): coins arrive without
    the customer sending anything."""
    registry = deployment.registry
    now = chain[-1].timestamp
    records = [
        FeedbackRecord(keccak(text=f"{customer}/review/{n}"), customer, n + 1, int(FeedbackKind.PRODUCT_REVIEW),
                       now - 60, keccak(text=f"content/{customer}/{n}"))
        for n in range(reviews)
    ]
    batch = FeedbackBatch(1, keccak(text="policy"), now + 3600, tuple(records))
    signatures = sign_batch([SIGNER_KEY], Domain(chain.id, registry.address), batch)
    registry.submitBatch(batch.as_packed(), signatures, {"from": accounts[0]})


def post(client: httpx.Client, path: str, payload: dict) -> httpx.Response:
    body = json.dumps(payload).encode()
    return client.post(path, content=body, headers=sign_generic(body, RELAY_SECRET.encode(), int(time.time())))


def signed_order(client: httpx.Client, key: bytes, order: dict) -> dict:
    """What the brand's app does with the customer's wallet: fetch the permit, have it signed,
    fetch the forward request built on that signature, have it signed (eth_signTypedData_v4)."""
    first = post(client, "/v1/relay/redeem/typed-data", order)
    assert first.status_code == 200, first.text
    permit = "0x" + Account.sign_typed_data(key, full_message=first.json()["permit"]).signature.hex()
    second = post(client, "/v1/relay/redeem/typed-data", {**order, "permit_signature": permit})
    assert second.status_code == 200, second.text
    request = "0x" + Account.sign_typed_data(key, full_message=second.json()["request"]).signature.hex()
    return {**order, "permit_signature": permit, "request_signature": request}


def test_a_customer_without_ether_redeems_through_the_relay_endpoint(files, deployment, chain, accounts, web3) -> None:
    wallet = Account.from_key(WALLET_KEY)
    reward(deployment, chain, accounts, wallet.address, reviews=4)
    coin, redemption = deployment.coin, deployment.redemption
    assert coin.balanceOf(wallet.address) == 45 * COIN and web3.eth.get_balance(wallet.address) == 0
    oracle = build_oracle(files.config(), environ=files.environ)
    order = {"customer": wallet.address, "item_id": EBOOK, "max_price": str(EBOOK_PRICE),
             "deadline": chain[-1].timestamp + 3600}

    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=60) as client:
        # The brand's app asks what to sign; the customer's wallet signs it (eth_signTypedData_v4).
        first = post(client, "/v1/relay/redeem/typed-data", order)
        assert first.status_code == 200, first.text
        assert first.json()["request"] is None
        permit_signature = Account.sign_typed_data(WALLET_KEY, full_message=first.json()["permit"]).signature
        second = post(client, "/v1/relay/redeem/typed-data", {**order, "permit_signature": "0x" + permit_signature.hex()})
        assert second.status_code == 200, second.text
        request = second.json()["request"]
        assert request["message"]["to"] == redemption.address and request["message"]["from"] == wallet.address
        request_signature = Account.sign_typed_data(WALLET_KEY, full_message=request).signature
        signed = {**order, "permit_signature": "0x" + permit_signature.hex(),
                  "request_signature": "0x" + request_signature.hex()}

        relayed = post(client, "/v1/relay/redeem", signed)
        assert relayed.status_code == 200, relayed.text
        again = post(client, "/v1/relay/redeem", signed)  # the same signed redemption, replayed

    answer = relayed.json()
    customer, item, _, status, price_paid, *_ = redemption.redemptionOf(answer["redemption_id"])
    assert (customer, item, status, price_paid) == (wallet.address, EBOOK, PENDING, EBOOK_PRICE)
    assert answer["price"] == str(EBOOK_PRICE)
    assert coin.balanceOf(wallet.address) == 15 * COIN
    assert web3.eth.get_balance(wallet.address) == 0
    tx = web3.eth.get_transaction(answer["tx_hash"])
    assert tx["from"] == Account.from_key(OPS_KEY).address and tx["to"] == deployment.forwarder.address
    assert again.status_code == 409 and "used already" in again.json()["error"]
    assert redemption.redemptionCount() == 1


def test_the_brand_redeems_for_a_custodial_customer_with_the_cli(files, deployment, chain, accounts, web3) -> None:
    custodial = files.custodial_address("zendesk:4242")
    reward(deployment, chain, accounts, custodial, reviews=4)
    coin, redemption = deployment.coin, deployment.redemption

    def servicecoin(*args: str):
        return CliRunner().invoke(cli, ["-c", str(files.config_path), *args], env=files.environ)

    too_low = servicecoin("redeem", "zendesk:4242", str(EBOOK), "--max-price", "29.5")
    assert too_low.exit_code == 1
    assert f"PriceAboveMaximum({EBOOK}, {EBOOK_PRICE}, {29_500_000_000_000_000_000})" in too_low.output

    done = servicecoin("redeem", "zendesk:4242", str(EBOOK))
    assert done.exit_code == 0, done.output
    assert f"redemption 0: item {EBOOK} for zendesk:4242 ({custodial}), paid 30 SVC" in done.output
    customer, item, _, status, price_paid, *_ = redemption.redemptionOf(0)
    assert (customer, item, status, price_paid) == (custodial, EBOOK, PENDING, EBOOK_PRICE)
    assert coin.balanceOf(custodial) == 15 * COIN
    assert web3.eth.get_balance(custodial) == 0


def test_refused_relays_say_why_and_cost_the_brand_nothing(files, deployment, chain, accounts, web3) -> None:
    wallet = Account.from_key(WALLET_KEY)
    reward(deployment, chain, accounts, wallet.address, reviews=10)  # 105 SVC: three e-books
    ops = Account.from_key(OPS_KEY).address
    oracle = build_oracle(files.config(), environ=files.environ)
    order = {"customer": wallet.address, "item_id": EBOOK, "max_price": EBOOK_PRICE,
             "deadline": chain[-1].timestamp + 3600}
    stranger = keccak(text="someone else's key")

    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=60) as client:
        sent_before = web3.eth.get_transaction_count(ops)
        by_stranger = post(client, "/v1/relay/redeem", {**signed_order(client, stranger, order), "customer": wallet.address})
        # Asked to sign something already past, or too close to be mined: refused before signing
        # (found by a QA pass, 2026-11-24), and at the relay if time ran out after signing.
        unsignable = post(client, "/v1/relay/redeem/typed-data", {**order, "deadline": chain[-1].timestamp - 1})
        too_close = post(client, "/v1/relay/redeem/typed-data", {**order, "deadline": chain[-1].timestamp + 30})
        signed_in_time = signed_order(client, WALLET_KEY, {**order, "deadline": chain[-1].timestamp + 90})
        chain.snapshot()
        chain.sleep(60)
        chain.mine()
        expired = post(client, "/v1/relay/redeem", signed_in_time)
        chain.revert()  # the clock back where it was
        cheap = post(client, "/v1/relay/redeem", signed_order(client, WALLET_KEY, {**order, "max_price": EBOOK_PRICE - 1}))
        gated = post(client, "/v1/relay/redeem", signed_order(client, WALLET_KEY, {**order, "item_id": 2, "max_price": 400 * COIN}))
        unknown = post(client, "/v1/relay/redeem", signed_order(client, WALLET_KEY, {**order, "item_id": 99}))
        unsigned = post(client, "/v1/relay/redeem", {**order, "permit_signature": "0x00", "request_signature": "0x00"})
        assert web3.eth.get_transaction_count(ops) == sent_before  # nothing was sent for any of them
        # Two relays a day for this customer (the config's max_per_customer_per_day); the third waits.
        assert post(client, "/v1/relay/redeem", signed_order(client, WALLET_KEY, order)).status_code == 200
        assert post(client, "/v1/relay/redeem", signed_order(client, WALLET_KEY, order)).status_code == 200
        limited = post(client, "/v1/relay/redeem", signed_order(client, WALLET_KEY, order))

    assert by_stranger.status_code == 400 and "not the customer" in by_stranger.json()["error"]
    assert unsignable.status_code == 400 and "is past" in unsignable.json()["error"], unsignable.text
    assert too_close.status_code == 400 and "is too close" in too_close.json()["error"], too_close.text
    assert expired.status_code == 400 and "is too close" in expired.json()["error"], expired.text
    assert (cheap.status_code, cheap.json()["revert"]) == (409, "PriceAboveMaximum")
    assert (gated.status_code, gated.json()["revert"]) == (409, "TierTooLow")
    assert (unknown.status_code, unknown.json()["revert"]) == (409, "ItemNotFound")
    assert unsigned.status_code == 400 and "65 bytes" in unsigned.json()["error"]
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert deployment.redemption.redemptionCount() == 2
    assert deployment.coin.balanceOf(wallet.address) == (105 - 60) * COIN
    assert web3.eth.get_balance(wallet.address) == 0


def test_a_forwarder_the_redemption_contract_does_not_trust_is_refused_before_any_signing(files, deployment) -> None:
    config = files.config()
    wrong = config.model_copy(update={"chain": config.chain.model_copy(update={"forwarder": deployment.registry.address})})
    relay = build_redeem_relay(wrong, connect(wrong), files.environ)
    expected = f"trusts {deployment.forwarder.address}, not {deployment.registry.address}"
    with pytest.raises(ConfigError, match=expected):
        relay.typed_data_for(Account.from_key(WALLET_KEY).address, EBOOK, EBOOK_PRICE, 2**40)


def test_the_brand_files_a_dispute_for_a_custodial_customer(files, deployment, chain, accounts, web3) -> None:
    """A custodial customer cannot send anything themselves: the brand disputes for them with the
    custodial key, the operations account pays, and the contract's rules still decide."""
    custodial = files.custodial_address("zendesk:77")
    reward(deployment, chain, accounts, custodial, reviews=7)  # 75 SVC: two e-books
    redemption = deployment.redemption

    def servicecoin(*args: str):
        return CliRunner().invoke(cli, ["-c", str(files.config_path), *args], env=files.environ)

    for _ in range(2):
        assert servicecoin("redeem", "zendesk:77", str(EBOOK)).exit_code == 0
    undelivered = servicecoin("dispute", "zendesk:77", "0")  # nothing delivered yet: nothing to dispute
    assert undelivered.exit_code == 1
    assert "the dispute would revert: InvalidStatus(0, 1)" in undelivered.output

    redemption.fulfil(0, keccak(text="ebook-code-0"), {"from": accounts[0]})
    other = servicecoin("dispute", "zendesk:78", "0")  # another customer's custodial key
    assert other.exit_code == 1
    assert f"NotRedemptionCustomer(0, {files.custodial_address('zendesk:78')})" in other.output

    filed = servicecoin("dispute", "zendesk:77", "0")
    assert filed.exit_code == 0, filed.output
    assert f"redemption 0 disputed for zendesk:77 ({custodial}); an arbiter decides" in filed.output
    assert redemption.redemptionOf(0)[3] == DISPUTED
    tx_hash = filed.output.split("tx ")[1].split()[0]
    tx = web3.eth.get_transaction(tx_hash)  # sent by the operations account, through the forwarder
    assert tx["from"] == Account.from_key(OPS_KEY).address and tx["to"] == deployment.forwarder.address
    assert "InvalidStatus(0, 3)" in servicecoin("dispute", "zendesk:77", "0").output  # once is enough

    redemption.fulfil(1, keccak(text="ebook-code-1"), {"from": accounts[0]})
    # Two weeks on, then back: later tests (a co-signer on the wall clock) need the chain's
    # clock where it was, and Anvil's revert restores it.
    chain.snapshot()
    chain.sleep(deployment.redemption.DISPUTE_WINDOW() + 1)
    chain.mine()
    late = servicecoin("dispute", "zendesk:77", "1")
    status = redemption.redemptionOf(1)[3]
    chain.revert()
    assert late.exit_code == 1
    assert "DisputeWindowClosed(1, " in late.output
    assert status == FULFILLED


def signed_dispute(client: httpx.Client, key: bytes, order: dict) -> dict:
    """The brand's app fetches the dispute's forward request; the customer's wallet signs it."""
    typed = post(client, "/v1/relay/dispute/typed-data", order)
    assert typed.status_code == 200, typed.text
    signature = Account.sign_typed_data(key, full_message=typed.json()["request"]).signature
    return {**order, "request_signature": "0x" + signature.hex()}


def test_a_customer_without_ether_disputes_through_the_relay_endpoint(files, deployment, chain, accounts, web3) -> None:
    wallet = Account.from_key(WALLET_KEY)
    reward(deployment, chain, accounts, wallet.address, reviews=4)
    redemption = deployment.redemption
    oracle = build_oracle(files.config(), environ=files.environ)
    deadline = chain[-1].timestamp + 3600
    dispute = {"customer": wallet.address, "redemption_id": 0, "deadline": deadline}

    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=60) as client:
        redeem_order = {"customer": wallet.address, "item_id": EBOOK, "max_price": str(EBOOK_PRICE), "deadline": deadline}
        assert post(client, "/v1/relay/redeem", signed_order(client, WALLET_KEY, redeem_order)).status_code == 200
        # Nothing delivered yet: refused before the customer is even asked to sign.
        undelivered = post(client, "/v1/relay/dispute/typed-data", dispute)
        redemption.fulfil(0, keccak(text="ebook-code"), {"from": accounts[0]})
        stranger = keccak(text="someone else's key")
        by_stranger = post(client, "/v1/relay/dispute", {**signed_dispute(client, stranger, dispute),
                                                          "customer": wallet.address})
        expired = post(client, "/v1/relay/dispute/typed-data", {**dispute, "deadline": chain[-1].timestamp - 1})
        signed = signed_dispute(client, WALLET_KEY, dispute)
        # The signature covers the redemption and the deadline: it carries over to neither.
        other_redemption = post(client, "/v1/relay/dispute", {**signed, "redemption_id": 1})
        other_deadline = post(client, "/v1/relay/dispute", {**signed, "deadline": deadline + 1})
        # Signed while the window is open, posted after it closed: the simulation refuses it.
        late_signed = signed_dispute(client, WALLET_KEY, {**dispute, "deadline": deadline + 30 * 86_400})
        chain.snapshot()
        chain.sleep(redemption.DISPUTE_WINDOW() + 1)
        chain.mine()
        late = post(client, "/v1/relay/dispute", late_signed)
        chain.revert()  # the clock back where it was (later tests use a co-signer on the wall clock)
        filed = post(client, "/v1/relay/dispute", signed)
        replayed = post(client, "/v1/relay/dispute", signed)
        again = post(client, "/v1/relay/dispute/typed-data", dispute)  # disputed once is enough

    assert (undelivered.status_code, undelivered.json()["revert"]) == (409, "InvalidStatus")
    assert by_stranger.status_code == 400 and "not the customer" in by_stranger.json()["error"]
    assert other_redemption.status_code == 400 and "not the customer" in other_redemption.json()["error"]
    assert other_deadline.status_code == 400 and "not the customer" in other_deadline.json()["error"]
    assert (late.status_code, late.json()["revert"]) == (409, "DisputeWindowClosed")
    assert expired.status_code == 400 and "is past" in expired.json()["error"], expired.text
    assert filed.status_code == 200, filed.text
    assert filed.json()["redemption_id"] == 0 and filed.json()["customer"] == wallet.address
    tx = web3.eth.get_transaction(filed.json()["tx_hash"])
    assert tx["from"] == Account.from_key(OPS_KEY).address and tx["to"] == deployment.forwarder.address
    assert replayed.status_code == 409 and "used already" in replayed.json()["error"]
    assert (again.status_code, again.json()["revert"]) == (409, "InvalidStatus")
    assert redemption.redemptionOf(0)[3] == DISPUTED
    assert web3.eth.get_balance(wallet.address) == 0


def test_a_redemption_refused_after_the_checks_names_the_contract_error_not_the_forwarders(
    files, deployment, chain, accounts, web3
) -> None:
    """The forwarder does not bubble its call's error up (FailedCall). When the state moves
    between the relay's checks and its transaction (here the catalog deactivates the item), the
    relay simulates the call again and answers with the contract's own error."""
    wallet = Account.from_key(WALLET_KEY)
    reward(deployment, chain, accounts, wallet.address, reviews=4)
    config = files.config()
    relay = build_redeem_relay(config, connect(config), files.environ)
    deadline = chain[-1].timestamp + 3600
    permit = Account.sign_typed_data(
        WALLET_KEY, full_message=relay.typed_data_for(wallet.address, EBOOK, EBOOK_PRICE, deadline).permit
    ).signature
    request = relay.typed_data_for(wallet.address, EBOOK, EBOOK_PRICE, deadline, permit).request
    signed = SignedRedemption(
        RedemptionOrder.checked(wallet.address, EBOOK, EBOOK_PRICE, deadline),
        permit, Account.sign_typed_data(WALLET_KEY, full_message=request).signature,
    )
    prepared = relay.prepare(signed)  # every check passes

    item = list(deployment.redemption.itemOf(EBOOK))
    item[-1] = False  # Item.active
    deployment.redemption.updateItem(EBOOK, item, {"from": accounts[0]})

    with pytest.raises(RedemptionRefused) as refused:
        relay.send(prepared)
    assert refused.value.revert is not None and refused.value.revert.name == "ItemNotActive"
    assert deployment.redemption.redemptionCount() == 0


def test_a_relay_answered_503_can_be_sent_again_and_the_brand_pays_once(tmp_path, deployment, chain, accounts, web3) -> None:
    """The chain mines nothing for a while: the relay answers 503 after `relay.wait_seconds`, the
    brand's app sends the same signed redemption again, and that second request waits for the
    first transaction instead of sending (and paying for) a copy that would revert. It is not
    counted twice against the customer's daily relays either."""
    files = relay_oracle_files(tmp_path, deployment, web3, accounts, wait_seconds=2)
    wallet = Account.from_key(WALLET_KEY)
    reward(deployment, chain, accounts, wallet.address, reviews=7)  # 75 SVC: two e-books
    ops = Account.from_key(OPS_KEY).address
    oracle = build_oracle(files.config(), environ=files.environ)
    order = {"customer": wallet.address, "item_id": EBOOK, "max_price": str(EBOOK_PRICE),
             "deadline": chain[-1].timestamp + 3600}
    answers: dict[str, httpx.Response] = {}

    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=60) as client:
        signed = signed_order(client, WALLET_KEY, order)
        sent_before = web3.eth.get_transaction_count(ops)
        web3.provider.make_request("evm_setAutomine", [False])
        try:
            first = post(client, "/v1/relay/redeem", signed)
            assert web3.eth.get_transaction_count(ops, "pending") == sent_before + 1
            retry = threading.Thread(target=lambda: answers.update(retry=post(client, "/v1/relay/redeem", signed)))
            retry.start()
            time.sleep(0.5)
            assert web3.eth.get_transaction_count(ops, "pending") == sent_before + 1, "the retry sent a copy"
            chain.mine()
            retry.join(timeout=60)
        finally:
            web3.provider.make_request("evm_setAutomine", [True])
        # The day's second relay is still there: the retry was not counted (the limit is 2).
        another = post(client, "/v1/relay/redeem", signed_order(client, WALLET_KEY, order))

    assert first.status_code == 503 and "no receipt" in first.json()["error"], first.text
    assert answers["retry"].status_code == 200, answers["retry"].text
    assert web3.eth.get_transaction(answers["retry"].json()["tx_hash"])["nonce"] == sent_before
    assert another.status_code == 200, another.text
    assert web3.eth.get_transaction_count(ops) == sent_before + 2
    assert deployment.redemption.redemptionCount() == 2
    assert deployment.coin.balanceOf(wallet.address) == 15 * COIN

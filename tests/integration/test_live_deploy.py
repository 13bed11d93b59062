"""Deploying the way an operator does, to a chain that behaves like a public testnet: Anvil
with Sepolia's chain id and a one-second block time (no automine), reached as a live brownie
network through its RPC URL, the deployer key from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from web3 import HTTPProvider, Web3

from oracle.abi import load_abi
from oracle.ingest.server import free_port

ROOT = Path(__file__).resolve().parents[2]
SEPOLIA = 11155111
# Anvil's first default account: a well-known development key, never a real one.
DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture(scope="module")
def testnet():
    port = free_port()
    anvil = subprocess.Popen(
        ["anvil", "--port", str(port), "--chain-id", str(SEPOLIA), "--block-time", "1", "--hardfork", "shanghai",
         "--max-persisted-states", "0", "--silent"],  # nothing left in ~/.foundry (tools/setup_toolchain.py)
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    w3 = Web3(HTTPProvider(url))
    deadline = time.monotonic() + 20
    while not w3.is_connected():
        assert time.monotonic() < deadline, "anvil did not start"
        time.sleep(0.1)
    yield url, w3
    anvil.terminate()
    anvil.wait(timeout=10)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("operator")
    config = yaml.safe_load((ROOT / "scripts" / "config" / "development.yaml").read_text())
    config["chain_id"] = SEPOLIA
    (directory / "sepolia.yaml").write_text(yaml.safe_dump(config))
    return directory


def operator(testnet, workdir: Path, *args: str, key: str = DEPLOYER_KEY) -> subprocess.CompletedProcess[str]:
    url, _ = testnet
    env = {**os.environ, "SERVICECOIN_DEPLOYER_KEY": key, "SERVICECOIN_DEPLOYMENTS_DIR": str(workdir / "deployments")}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "operator.py"), "--rpc-url", url, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )


def contract(w3: Web3, record: dict, name: str):
    return w3.eth.contract(address=record["contracts"][name]["address"], abi=load_abi(name))


def test_a_first_deploy_records_everything_and_wires_every_role(testnet, workdir) -> None:
    url, w3 = testnet
    result = operator(testnet, workdir, "deploy", "--config", str(workdir / "sepolia.yaml"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    record = json.loads((workdir / "deployments" / f"{SEPOLIA}.json").read_text())
    assert record["chain_id"] == SEPOLIA and record["deployer"] == DEPLOYER
    assert record["compiler"]["solc"] == "0.8.28" and record["compiler"]["evm_version"] == "shanghai"
    for name in ("ServiceCoin", "FeedbackRegistry", "ServiceCoinForwarder", "TierRedemption"):
        entry = record["contracts"][name]
        receipt = w3.eth.get_transaction_receipt(entry["tx"])
        assert receipt["contractAddress"] == entry["address"] and receipt["blockNumber"] == entry["block"]

    coin, registry, redemption = (contract(w3, record, n) for n in ("ServiceCoin", "FeedbackRegistry", "TierRedemption"))

    def has(c, role: str, account: str) -> bool:
        return c.functions.hasRole(getattr(c.functions, role)().call(), account).call()

    assert has(coin, "MINTER_ROLE", registry.address) and has(coin, "WALLET_LINKER_ROLE", registry.address)
    assert has(coin, "PROTOCOL_ROLE", registry.address) and has(coin, "PROTOCOL_ROLE", redemption.address)
    assert has(coin, "BURNER_ROLE", redemption.address) and not has(coin, "MINTER_ROLE", DEPLOYER)
    for role in ("ARBITER_ROLE", "PAUSER_ROLE"):
        assert has(redemption, role, DEPLOYER)
    # The catalog and fulfiller roles are per brand: the deployer holds the configured brand's.
    for brand_role in (redemption.functions.catalogRole(1), redemption.functions.fulfillerRole(1)):
        assert redemption.functions.hasRole(brand_role.call(), DEPLOYER).call()
    assert not redemption.functions.hasRole(redemption.functions.catalogRole(2).call(), DEPLOYER).call()
    assert registry.functions.tierSource().call() == redemption.address
    # Gasless redemption: the redemption contract trusts the recorded forwarder, nothing else.
    forwarder = record["contracts"]["ServiceCoinForwarder"]["address"]
    assert redemption.functions.trustedForwarder().call() == forwarder
    assert contract(w3, record, "ServiceCoinForwarder").functions.eip712Domain().call()[1] == "ServiceCoin Forwarder"
    config = yaml.safe_load((workdir / "sepolia.yaml").read_text())
    brand = config["brands"][0]
    assert [registry.functions.isSigner(brand["id"], s).call() for s in brand["signers"]] == [True] * len(brand["signers"])
    assert registry.functions.brandOf(brand["id"]).call()[3] == brand["quorum"]  # Brand.quorum
    assert registry.functions.welcomeBonus().call() == config["welcome_bonus"] * 10**18
    assert redemption.functions.itemCount().call() == len(config["catalog"])


def test_a_second_run_with_the_same_config_sends_nothing(testnet, workdir) -> None:
    _, w3 = testnet
    nonce = w3.eth.get_transaction_count(DEPLOYER)
    result = operator(testnet, workdir, "deploy", "--config", str(workdir / "sepolia.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "nothing to do: the chain already matches the configuration" in result.stdout
    assert w3.eth.get_transaction_count(DEPLOYER) == nonce


def test_a_changed_config_is_planned_then_sent_as_the_difference_only(testnet, workdir) -> None:
    _, w3 = testnet
    config = yaml.safe_load((workdir / "sepolia.yaml").read_text())
    config["welcome_bonus"] = 7
    config["catalog"].append({"name": "Gift card", "category": "cash_out", "price": 90, "stock": 10})
    config["catalog"][3]["price"] = 35
    (workdir / "sepolia.yaml").write_text(yaml.safe_dump(config))
    nonce = w3.eth.get_transaction_count(DEPLOYER)

    plan = operator(testnet, workdir, "deploy", "--dry-run", "--config", str(workdir / "sepolia.yaml"))
    assert plan.returncode == 0, plan.stderr[-3000:]
    planned = [line for line in plan.stdout.splitlines() if line.startswith("plan: ")]
    assert planned == [
        "plan: FeedbackRegistry: welcome bonus = 7 SVC",
        "plan: TierRedemption: announce item 3 price 35 SVC",
        "plan: TierRedemption: add item 4 'Gift card' of brand 1 at 90 SVC",
    ]
    assert w3.eth.get_transaction_count(DEPLOYER) == nonce

    applied = operator(testnet, workdir, "deploy", "--config", str(workdir / "sepolia.yaml"))
    assert applied.returncode == 0, applied.stderr[-3000:]
    assert w3.eth.get_transaction_count(DEPLOYER) == nonce + 3
    again = operator(testnet, workdir, "deploy", "--config", str(workdir / "sepolia.yaml"))
    assert "nothing to do" in again.stdout


def test_fewer_units_during_an_announced_rise_are_refused_before_anything_is_sent(testnet, workdir) -> None:
    """Item 3's rise to 35 SVC (the test above) waits a week: TierRedemption refuses to make the
    item harder to get meanwhile (ItemTermsLocked), and the deploy says so at the plan."""
    _, w3 = testnet
    config = yaml.safe_load((workdir / "sepolia.yaml").read_text())
    stock = config["catalog"][3]["stock"]
    config["catalog"][3]["stock"] = 10
    changed = workdir / "fewer-units.yaml"
    changed.write_text(yaml.safe_dump(config))
    nonce = w3.eth.get_transaction_count(DEPLOYER)
    refused = operator(testnet, workdir, "deploy", "--dry-run", "--config", str(changed))
    assert refused.returncode != 0
    assert ("catalog item 3: a price rise to 35 SVC is announced, in force from " in refused.stderr
            and "cannot be made harder to get (fewer units)" in refused.stderr
            and "operator.py cancel-price-change 3" in refused.stderr), refused.stderr[-2000:]
    # A rise for an item withdrawn at the same time would give customers no chance at the old price.
    config["catalog"][0].update(price=config["catalog"][0]["price"] + 10, active=False)
    changed.write_text(yaml.safe_dump(config))
    refused = operator(testnet, workdir, "deploy", "--dry-run", "--config", str(changed))
    assert refused.returncode != 0 and "catalog item 0: a price rise is announced only on an item customers can redeem" \
        in refused.stderr, refused.stderr[-2000:]
    config["catalog"][0].update(price=config["catalog"][0]["price"] - 10, active=True)
    config["catalog"][3]["stock"] = stock + 100  # more units are welcome at any time
    (workdir / "sepolia.yaml").write_text(yaml.safe_dump(config))  # the config the next tests change
    restocked = operator(testnet, workdir, "deploy", "--config", str(workdir / "sepolia.yaml"))
    assert restocked.returncode == 0, restocked.stderr[-2000:]
    assert w3.eth.get_transaction_count(DEPLOYER) == nonce + 1


def test_each_brand_gets_its_own_signers_and_a_dropped_signer_is_removed(testnet, workdir) -> None:
    _, w3 = testnet
    first, second = "0x" + "2b" * 20, "0x" + "2c" * 20
    config = yaml.safe_load((workdir / "sepolia.yaml").read_text())
    config["brands"].append({"id": 2, "name": "Globex Help", "cap_per_period": 5000, "signers": [first, second], "quorum": 2})
    (workdir / "brands.yaml").write_text(yaml.safe_dump(config))
    # With two brands, every catalog item must say whose it is.
    refused = operator(testnet, workdir, "deploy", "--dry-run", "--config", str(workdir / "brands.yaml"))
    assert refused.returncode != 0 and "catalog item 0 ('10% discount'): name its brand" in refused.stderr
    for item in config["catalog"]:
        item["brand"] = 1
    (workdir / "brands.yaml").write_text(yaml.safe_dump(config))
    plan = operator(testnet, workdir, "deploy", "--dry-run", "--config", str(workdir / "brands.yaml"))
    assert [line for line in plan.stdout.splitlines() if line.startswith("plan: ")] == [
        "plan: FeedbackRegistry: register brand 2 (Globex Help), cap 5000 SVC",
        f"plan: FeedbackRegistry: brand 2: add signer {first}",
        f"plan: FeedbackRegistry: brand 2: add signer {second}",
        "plan: FeedbackRegistry: brand 2: quorum = 2",
        "plan: TierRedemption: grant catalogRole(2) to the deployer",
        "plan: TierRedemption: grant fulfillerRole(2) to the deployer",
    ], plan.stdout + plan.stderr[-2000:]
    assert operator(testnet, workdir, "deploy", "--config", str(workdir / "brands.yaml")).returncode == 0
    record = json.loads((workdir / "deployments" / f"{SEPOLIA}.json").read_text())
    registry = contract(w3, record, "FeedbackRegistry")
    signer = Web3.to_checksum_address(first)
    assert registry.functions.isSigner(2, signer).call() and not registry.functions.isSigner(1, signer).call()
    assert tuple(registry.functions.brandOf(2).call())[3:5] == (2, 2)  # quorum, signerCount

    config["brands"][1].update(signers=[first], quorum=1)
    (workdir / "brands.yaml").write_text(yaml.safe_dump(config))
    plan = operator(testnet, workdir, "deploy", "--dry-run", "--config", str(workdir / "brands.yaml"))
    assert [line for line in plan.stdout.splitlines() if line.startswith("plan: ")] == [
        "plan: FeedbackRegistry: brand 2: quorum = 1",
        f"plan: FeedbackRegistry: brand 2: remove signer {second}",
    ]
    assert operator(testnet, workdir, "deploy", "--config", str(workdir / "brands.yaml")).returncode == 0
    assert not registry.functions.isSigner(2, Web3.to_checksum_address(second)).call()
    assert "nothing to do" in operator(testnet, workdir, "deploy", "--config", str(workdir / "brands.yaml")).stdout

    # An item belongs to its brand for good: moving it is refused before anything is sent; a
    # new item of the second brand is added as that brand's.
    config["catalog"][0]["brand"] = 2
    (workdir / "brands.yaml").write_text(yaml.safe_dump(config))
    nonce = w3.eth.get_transaction_count(DEPLOYER)
    moved = operator(testnet, workdir, "deploy", "--config", str(workdir / "brands.yaml"))
    assert moved.returncode != 0
    assert "catalog item 0 ('10% discount') belongs to brand 1 on chain, for good" in moved.stderr
    assert w3.eth.get_transaction_count(DEPLOYER) == nonce
    config["catalog"][0]["brand"] = 1
    config["catalog"].append({"name": "Globex sticker", "category": "digital_product", "price": 1, "stock": 5, "brand": 2})
    (workdir / "brands.yaml").write_text(yaml.safe_dump(config))
    added = operator(testnet, workdir, "deploy", "--config", str(workdir / "brands.yaml"))
    assert added.returncode == 0, added.stderr[-2000:]
    redemption = contract(w3, record, "TierRedemption")
    new_item = len(config["catalog"]) - 1
    assert redemption.functions.itemBrand(new_item).call() == 2
    assert redemption.functions.itemBrand(0).call() == 1


def test_the_oracle_operations_account_gets_its_roles_once(testnet, workdir) -> None:
    _, w3 = testnet
    operations = "0x" + "4d" * 20
    config = yaml.safe_load((workdir / "sepolia.yaml").read_text())
    config["oracle_operations"] = operations
    (workdir / "operations.yaml").write_text(yaml.safe_dump(config))
    nonce = w3.eth.get_transaction_count(DEPLOYER)
    plan = operator(testnet, workdir, "deploy", "--dry-run", "--config", str(workdir / "operations.yaml"))
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert [line for line in plan.stdout.splitlines() if line.startswith("plan: ")] == [
        f"plan: FeedbackRegistry: grant LINK_OPERATOR_ROLE to brand 1's oracle operations account {operations}",
        f"plan: TierRedemption: grant fulfillerRole(1) to brand 1's oracle operations account {operations}",
    ]
    applied = operator(testnet, workdir, "deploy", "--config", str(workdir / "operations.yaml"))
    assert applied.returncode == 0, applied.stderr[-3000:]
    assert w3.eth.get_transaction_count(DEPLOYER) == nonce + 2
    record = json.loads((workdir / "deployments" / f"{SEPOLIA}.json").read_text())
    registry, redemption = contract(w3, record, "FeedbackRegistry"), contract(w3, record, "TierRedemption")
    holder = Web3.to_checksum_address(operations)
    assert registry.functions.hasRole(registry.functions.LINK_OPERATOR_ROLE().call(), holder).call()
    assert redemption.functions.hasRole(redemption.functions.fulfillerRole(1).call(), holder).call()
    assert not redemption.functions.hasRole(redemption.functions.fulfillerRole(2).call(), holder).call()
    again = operator(testnet, workdir, "deploy", "--config", str(workdir / "operations.yaml"))
    assert "nothing to do" in again.stdout


def test_a_fresh_plan_deploys_the_forwarder_before_the_redemption_contract(testnet, workdir) -> None:
    _, w3 = testnet
    nonce = w3.eth.get_transaction_count(DEPLOYER)
    plan = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "operator.py"), "--rpc-url", testnet[0], "deploy", "--dry-run",
         "--config", str(workdir / "sepolia.yaml")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "SERVICECOIN_DEPLOYER_KEY": DEPLOYER_KEY,
             "SERVICECOIN_DEPLOYMENTS_DIR": str(workdir / "nothing-deployed")},
    )
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert plan.stdout.splitlines()[:4] == [
        "plan: deploy ServiceCoin", "plan: deploy FeedbackRegistry", "plan: deploy ServiceCoinForwarder",
        "plan: deploy TierRedemption",
    ]
    assert w3.eth.get_transaction_count(DEPLOYER) == nonce


def test_a_record_whose_redemption_contract_does_not_trust_its_forwarder_is_refused(testnet, workdir) -> None:
    """ERC-2771 trust is fixed at construction: a new forwarder beside a recorded TierRedemption
    would relay nothing, so deploy refuses instead of deploying one."""
    _, w3 = testnet
    record = json.loads((workdir / "deployments" / f"{SEPOLIA}.json").read_text())
    build = json.loads((ROOT / "build" / "contracts" / "ServiceCoinForwarder.json").read_text())
    another = w3.eth.contract(abi=build["abi"], bytecode=build["bytecode"]).constructor().transact({"from": DEPLOYER})
    another = {"address": w3.eth.wait_for_transaction_receipt(another)["contractAddress"], "tx": "0x", "block": 0}
    nonce = w3.eth.get_transaction_count(DEPLOYER)
    for name, change in (("without-forwarder", None), ("another-forwarder", another)):
        edited = json.loads(json.dumps(record))
        if change is None:
            del edited["contracts"]["ServiceCoinForwarder"]
        else:
            edited["contracts"]["ServiceCoinForwarder"] = change
        directory = workdir / name
        directory.mkdir()
        (directory / f"{SEPOLIA}.json").write_text(json.dumps(edited))
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "operator.py"), "--rpc-url", testnet[0], "deploy",
             "--config", str(workdir / "sepolia.yaml")],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
            env={**os.environ, "SERVICECOIN_DEPLOYER_KEY": DEPLOYER_KEY, "SERVICECOIN_DEPLOYMENTS_DIR": str(directory)},
        )
        assert result.returncode == 1, result.stdout[-2000:]
        expected = "but no ServiceCoinForwarder" if change is None else "does not trust the recorded forwarder"
        assert expected in result.stderr
    assert w3.eth.get_transaction_count(DEPLOYER) == nonce


def test_operator_commands_change_signers_and_pause(testnet, workdir) -> None:
    _, w3 = testnet
    record = json.loads((workdir / "deployments" / f"{SEPOLIA}.json").read_text())
    registry = contract(w3, record, "FeedbackRegistry")
    new_signer = "0x" + "5a" * 20
    assert operator(testnet, workdir, "add-signer", "1", new_signer).returncode == 0
    assert registry.functions.isSigner(1, Web3.to_checksum_address(new_signer)).call()
    assert not registry.functions.isSigner(2, Web3.to_checksum_address(new_signer)).call()
    again = operator(testnet, workdir, "add-signer", "1", new_signer)
    assert "is already a signer of brand 1: nothing sent" in again.stdout
    assert operator(testnet, workdir, "set-quorum", "1", "5").returncode == 1
    unknown = operator(testnet, workdir, "add-signer", "9", new_signer)
    assert unknown.returncode == 1 and "brand 9 is not registered on the registry" in unknown.stderr
    assert operator(testnet, workdir, "deactivate-brand", "1").returncode == 0
    assert not registry.functions.brandOf(1).call()[5]  # Brand.active
    assert "already inactive: nothing sent" in operator(testnet, workdir, "deactivate-brand", "1").stdout
    assert operator(testnet, workdir, "activate-brand", "1").returncode == 0
    assert registry.functions.brandOf(1).call()[5]
    assert operator(testnet, workdir, "pause", "registry").returncode == 0
    assert registry.functions.paused().call()
    assert operator(testnet, workdir, "unpause", "registry").returncode == 0
    assert not registry.functions.paused().call()


def test_clear_errors_for_a_wrong_chain_a_poor_deployer_and_a_dead_rpc(testnet, workdir) -> None:
    config = yaml.safe_load((workdir / "sepolia.yaml").read_text())
    config["chain_id"] = 1
    (workdir / "mainnet.yaml").write_text(yaml.safe_dump(config))
    wrong = operator(testnet, workdir, "deploy", "--config", str(workdir / "mainnet.yaml"))
    assert wrong.returncode == 1
    assert "the configuration is for chain 1, but the RPC serves chain 11155111" in wrong.stderr

    empty_key = "0x" + "42" * 32  # an account with no ether
    poor = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "operator.py"), "--rpc-url", testnet[0], "deploy",
         "--config", str(workdir / "sepolia.yaml")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "SERVICECOIN_DEPLOYER_KEY": empty_key,
             "SERVICECOIN_DEPLOYMENTS_DIR": str(workdir / "fresh-deployments")},
    )
    assert poor.returncode == 1 and "holds 0.000000 ETH; about" in poor.stderr

    dead = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "operator.py"), "--rpc-url", f"http://127.0.0.1:{free_port()}",
         "deploy"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "SERVICECOIN_DEPLOYER_KEY": DEPLOYER_KEY},
    )
    assert dead.returncode == 1 and "cannot connect to network 'servicecoin-rpc'" in dead.stderr


def test_the_brownie_run_entry_point_deploys_the_same_way(testnet, workdir) -> None:
    """scripts/deploy.py's main(), what `brownie run scripts/deploy.py` calls (here through
    tools/run_script.py, which has no trouble with dots in the checkout's path)."""
    url, w3 = testnet
    nonce = w3.eth.get_transaction_count(DEPLOYER)
    env = {**os.environ, "SERVICECOIN_DEPLOYER_KEY": DEPLOYER_KEY, "SERVICECOIN_DEPLOYMENTS_DIR": str(workdir / "deployments"),
           "SERVICECOIN_DEPLOY_CONFIG": str(workdir / "sepolia.yaml"), "SERVICECOIN_DRY_RUN": "1"}
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "run_script.py"), "deploy", "--rpc-url", url],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("dry run: nothing sent")
    assert w3.eth.get_transaction_count(DEPLOYER) == nonce


NEW_ADMIN_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # Anvil's 2nd account
NEW_ADMIN = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_signer_rotation_price_announcement_and_admin_hand_over(testnet, workdir) -> None:
    url, w3 = testnet
    record = json.loads((workdir / "deployments" / f"{SEPOLIA}.json").read_text())
    registry, redemption = contract(w3, record, "FeedbackRegistry"), contract(w3, record, "TierRedemption")
    old, new = "0x" + "5a" * 20, "0x" + "6b" * 20
    assert operator(testnet, workdir, "rotate-signer", "1", old, new).returncode == 0
    assert not registry.functions.isSigner(1, Web3.to_checksum_address(old)).call()
    assert registry.functions.isSigner(1, Web3.to_checksum_address(new)).call()

    announced = operator(testnet, workdir, "announce-price", "0", "55")
    assert announced.returncode == 0, announced.stderr[-2000:]
    assert "item 0 costs 55 SVC from" in announced.stdout
    assert redemption.functions.pendingPriceChange(0).call()[0] == 55 * 10**18

    assert operator(testnet, workdir, "transfer-admin", NEW_ADMIN).returncode == 0
    w3.provider.make_request("evm_increaseTime", [86400 + 1])  # the configured admin_transfer_delay
    w3.provider.make_request("evm_mine", [])
    accepted = operator(testnet, workdir, "accept-admin", key=NEW_ADMIN_KEY)
    assert accepted.returncode == 0, accepted.stderr[-2000:]
    for name in ("ServiceCoin", "FeedbackRegistry", "TierRedemption"):
        assert contract(w3, record, name).functions.defaultAdmin().call() == NEW_ADMIN
    renounced = operator(testnet, workdir, "renounce-roles")
    assert renounced.returncode == 0, renounced.stderr[-2000:]
    pauser = redemption.functions.PAUSER_ROLE().call()
    assert not redemption.functions.hasRole(pauser, DEPLOYER).call()
    # Every brand's catalog and fulfiller roles too, brand 2 included, though the last deploy's
    # config had brand 1 only.
    assert json.loads((workdir / "deployments" / f"{SEPOLIA}.json").read_text())["brands"] == [1, 2]
    for brand in (1, 2):
        for role in (redemption.functions.catalogRole(brand), redemption.functions.fulfillerRole(brand)):
            assert not redemption.functions.hasRole(role.call(), DEPLOYER).call()
    # The old deployer can no longer change anything an admin decides.
    assert operator(testnet, workdir, "add-signer", "1", "0x" + "7c" * 20).returncode != 0


def test_a_brownie_encrypted_account_can_deploy(testnet, workdir) -> None:
    """The interactive path: a brownie keystore account, its password from the environment here."""
    from eth_account import Account as EthAccount

    account_id = f"servicecoin-test-{os.getpid()}"
    keystore = Path.home() / ".brownie" / "accounts" / f"{account_id}.json"
    keystore.parent.mkdir(parents=True, exist_ok=True)
    keystore.write_text(json.dumps(EthAccount.encrypt(NEW_ADMIN_KEY, "pw")))
    try:
        url, _ = testnet
        env = {**os.environ, "SERVICECOIN_DEPLOYER_ACCOUNT": account_id, "SERVICECOIN_DEPLOYER_PASSWORD": "pw",
               "SERVICECOIN_DEPLOYMENTS_DIR": str(workdir / "deployments")}
        env.pop("SERVICECOIN_DEPLOYER_KEY", None)
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "operator.py"), "--rpc-url", url, "add-signer", "1", "0x" + "7c" * 20],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )
        # This account is the admin since the hand-over above: its signer registration goes through.
        assert result.returncode == 0, result.stderr[-2000:]
        record = json.loads((workdir / "deployments" / f"{SEPOLIA}.json").read_text())
        registry = contract(testnet[1], record, "FeedbackRegistry")
        assert registry.functions.isSigner(1, Web3.to_checksum_address("0x" + "7c" * 20)).call()
        wrong = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "operator.py"), "--rpc-url", url, "pause", "coin"],
            cwd=ROOT, env={**env, "SERVICECOIN_DEPLOYER_PASSWORD": "wrong"}, capture_output=True, text=True, timeout=300,
        )
        assert wrong.returncode != 0 and f"brownie account {account_id!r}" in wrong.stderr
    finally:
        keystore.unlink(missing_ok=True)

"""`servicecoin config check` against a real registry: it is the dry run of `run`, so it must
pass what `run` accepts and refuse what `run` refuses, for the same reasons."""

from __future__ import annotations

import httpx
from click.testing import CliRunner

from oracle.cli import main as cli
from oracle.events import event_id
from oracle.ingest.server import serving
from oracle.service import build_oracle
from scripts.local_oracle import signer_addresses, write_oracle_files
from tests.integration.test_pipeline_on_chain import generic_event, run_until


def config_check(files, environ=None):
    return CliRunner().invoke(cli, ["-c", str(files.config_path), "config", "check"], env=environ or files.environ)


def with_cosigner(oracle_files, deployment, name: str, address: str):
    """The oracle's files again, with one co-signer (its service need not be up for the check)."""
    config = oracle_files.config()
    return write_oracle_files(
        oracle_files.directory.parent / name, config.chain.rpc_url, config.chain.chain_id,
        deployment.registry.address,
        cosigners=[{"url": "http://127.0.0.1:9", "address": address, "secret_env": "COSIGN_SECRET"}],
    )


def test_a_remote_cosigner_counts_toward_the_quorum(oracle_files, deployment, accounts) -> None:
    config = oracle_files.config()
    deployment.registry.setQuorum(1, 2, {"from": accounts[0]})
    # Quorum 2: one local keystore alone falls short, for `config check` as for `run`.
    alone = config_check(oracle_files)
    assert alone.exit_code == 2
    assert "problem: the registry needs 2 signatures per batch of brand 1; 1 distinct signer(s) configured" in alone.output
    assert build_oracle(config, environ=oracle_files.environ).self_check() == [
        "the registry needs 2 signatures per batch of brand 1; 1 distinct signer(s) configured"
    ]

    # The registered co-signer completes it.
    cosigner = signer_addresses()[1]
    files = with_cosigner(oracle_files, deployment, "with-cosigner", cosigner)
    environ = {**files.environ, "COSIGN_SECRET": "cosign-secret"}
    result = config_check(files, environ)
    assert result.exit_code == 0, result.output
    assert "1 signer(s), 1 co-signer(s)" in result.output
    assert build_oracle(files.config(), environ=environ).self_check() == []
    # `run` reads the co-signer's shared secret as it starts; so does the dry run.
    without_secret = config_check(files)
    assert without_secret.exit_code == 2
    assert f"problem: co-signer {cosigner}: environment variable COSIGN_SECRET is not set" in without_secret.output


def test_a_key_listed_twice_counts_once_toward_the_quorum(oracle_files, deployment, accounts) -> None:
    deployment.registry.setQuorum(1, 2, {"from": accounts[0]})
    local = signer_addresses()[0]  # the local keystore's address, named again as a co-signer
    files = with_cosigner(oracle_files, deployment, "twice", local)
    result = config_check(files, {**files.environ, "COSIGN_SECRET": "cosign-secret"})
    assert result.exit_code == 2
    assert "problem: the registry needs 2 signatures per batch of brand 1; 1 distinct signer(s) configured" in result.output


def test_an_unregistered_cosigner_is_named(oracle_files, deployment, accounts) -> None:
    stranger = accounts[5].address
    files = with_cosigner(oracle_files, deployment, "stranger", stranger)
    result = config_check(files, {**files.environ, "COSIGN_SECRET": "cosign-secret"})
    assert result.exit_code == 2
    assert f"problem: signer {stranger} is not a signer of brand 1 on the registry" in result.output


def test_a_signer_of_another_brand_only_is_refused(oracle_files, deployment, accounts) -> None:
    """Signers are per brand: the oracle of brand 1 whose key signs for brand 2 alone would have
    every batch refused (UnknownSigner), so it does not start."""
    local = signer_addresses()[0]
    deployment.registry.rotateSigner(1, local, accounts[6].address, {"from": accounts[0]})
    deployment.registry.registerBrand(2, 10**21, {"from": accounts[0]})
    deployment.registry.addSigner(2, local, {"from": accounts[0]})
    result = config_check(oracle_files)
    assert result.exit_code == 2
    assert f"problem: signer {local} is not a signer of brand 1 on the registry" in result.output


def test_an_outbox_behind_the_chain_is_refused_by_the_dry_run(oracle_files, deployment, chain) -> None:
    oracle = build_oracle(oracle_files.config(), environ=oracle_files.environ)
    with serving(oracle.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert generic_event(client, 900, customer="first-outbox").status_code == 202
    run_until(oracle, lambda: oracle.outbox.event_state(event_id(1, "generic", "ev-900")) == "final", chain)
    assert config_check(oracle_files).exit_code == 0  # the brand's latest outbox is fine

    config = oracle_files.config()
    other = write_oracle_files(
        oracle_files.directory.parent / "restored", config.chain.rpc_url, config.chain.chain_id, deployment.registry.address
    )
    result = config_check(other)
    assert result.exit_code == 2
    assert (
        "problem: registry: " not in result.output
        and "problem: sequence number 1 of brand 1 is already recorded on chain" in result.output
    )


def test_another_contract_as_the_registry_is_named_clearly(oracle_files, deployment) -> None:
    """The coin's address in chain.registry: its calls revert; the check says what that means."""
    config = oracle_files.config()
    files = write_oracle_files(
        oracle_files.directory.parent / "coin-as-registry", config.chain.rpc_url, config.chain.chain_id,
        deployment.coin.address,
    )
    result = config_check(files)
    assert result.exit_code == 2
    assert f"the contract at {deployment.coin.address} does not answer as a FeedbackRegistry of this version" in result.output
    assert "check chain.registry" in result.output


def test_reads_of_the_chain_refuse_an_rpc_of_another_chain(oracle_files, deployment) -> None:
    """`verify` and `wallet show` read the chain too: with chain.chain_id wrong they described
    another chain's state, `verify` even saying the content matched (a QA finding, 2026-11-24)."""
    config = oracle_files.config()
    files = write_oracle_files(oracle_files.directory.parent / "mainnet-id", config.chain.rpc_url, 1,
                               deployment.registry.address)
    for command in (["verify", "--source", "generic", "e1"], ["wallet", "show", "cust-1"]):
        result = CliRunner().invoke(cli, ["-c", str(files.config_path), *command], env=files.environ)
        assert result.exit_code == 1, result.output
        assert f"chain.chain_id is 1, but the RPC at {config.chain.rpc_url} serves chain {config.chain.chain_id}" in result.output


def test_another_brands_catalog_items_and_a_missing_fulfiller_role_are_named(oracle_files, deployment, accounts) -> None:
    """Items and the fulfiller role are per brand on TierRedemption: a brand's config naming
    another brand's item, or an operations account without the brand's fulfiller role, would
    only show as redemptions never fulfilled. The dry run names both."""
    import json

    from eth_account import Account
    from eth_utils import keccak

    from scripts.local_oracle import PASSWORD

    redemption, admin = deployment.redemption, {"from": accounts[0]}
    redemption.grantRole(redemption.catalogRole(2), accounts[0], admin)
    theirs = int(redemption.addItem(2, (10**18, 5, 0, 0, 0, 0, 0, True), admin).return_value)
    unknown = theirs + 1
    operations_key = keccak(text="servicecoin-config-check-operations")
    operations = Account.from_key(operations_key).address

    def files_with(name: str, items: list[int]):
        config = oracle_files.config()
        files = write_oracle_files(
            oracle_files.directory.parent / name, config.chain.rpc_url, config.chain.chain_id,
            deployment.registry.address,
            chain={"redemption": redemption.address, "catalog_items": items},
            operations={"keystore": "operations.json"},
            fulfilment={"url": "http://127.0.0.1:9/fulfil", "secret_env": "FULFILMENT_SECRET"},
        )
        (files.directory / "operations.json").write_text(json.dumps(Account.encrypt(operations_key, PASSWORD)))
        return files, {**files.environ, "FULFILMENT_SECRET": "fulfilment-secret"}

    files, environ = files_with("other-brands-items", [0, theirs, unknown])
    result = config_check(files, environ)
    assert result.exit_code == 2
    assert f"problem: chain.catalog_items: item {theirs} is brand 2's, not brand 1's" in result.output
    assert f"problem: chain.catalog_items: item {unknown} does not exist on TierRedemption" in result.output
    assert (f"problem: fulfilment: the operations account {operations} lacks brand 1's fulfiller role "
            "on TierRedemption") in result.output
    assert "item 0" not in result.output  # brand 1's own item is fine

    redemption.grantRole(redemption.fulfillerRole(1), operations, admin)
    files, environ = files_with("own-items", [0])
    result = config_check(files, environ)
    assert result.exit_code == 0, result.output

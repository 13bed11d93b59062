"""The oracle against a real chain: `brownie test tests/integration` launches Anvil, the
contracts are deployed by the operator's own `deploy()`, and the oracle talks to the chain
only through its own web3 client over HTTP, as in production."""

from __future__ import annotations

import pytest

from scripts import brownie_compat
from scripts.deploy import deploy
from scripts.deploy_config import config_for_network
from scripts.local_oracle import OracleFiles, signer_addresses, write_oracle_files

brownie_compat.install()


@pytest.fixture
def deployment(accounts):
    """A fresh deployment per test: each test's oracle starts a fresh outbox, whose sequence
    numbers must not meet an earlier test's on the same registry."""
    signers = signer_addresses()
    config = config_for_network("development").with_signers(signers)
    deployed = deploy(accounts[0], config)
    for address in signers:  # the signers pay gas for the batches they submit
        accounts[0].transfer(address, "10 ether")
    return deployed


@pytest.fixture
def oracle_files(tmp_path, deployment, web3) -> OracleFiles:
    return write_oracle_files(tmp_path / "oracle", web3.provider.endpoint_uri, web3.eth.chain_id, deployment.registry.address)

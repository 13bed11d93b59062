"""Fixtures for the contract suite (run by `brownie test`, on Anvil or Ganache)."""

from __future__ import annotations

import itertools

import pytest
from eth_account import Account
from eth_utils import keccak

from oracle.kinds import FeedbackKind
from oracle.typed_data import Domain, FeedbackBatch, FeedbackRecord, sign_batch
from scripts import brownie_compat
from scripts.deploy import deploy
from scripts.deploy_config import config_for_network, to_units

COIN = 10**18
BRAND = 1
# Every batch a test sends gets its own deadline offset. After an isolation revert, a module
# would otherwise resend a byte-identical transaction (same nonce, payload and second), whose
# identical hash brownie then reports as "dropped without known replacement".
_UNIQUE = itertools.count()


brownie_compat.install()


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    """Every test starts from the module's fresh deployment."""


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def carol(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def outsider(accounts):
    return accounts[9]


@pytest.fixture(scope="session")
def signer_keys():
    """Three oracle signing keys, derived deterministically so failures are reproducible."""
    return [keccak(text=f"servicecoin-test-signer-{i}") for i in range(3)]


@pytest.fixture(scope="session")
def signer_addresses(signer_keys):
    return [Account.from_key(key).address for key in signer_keys]


@pytest.fixture(scope="session")
def config(signer_addresses):
    """The development configuration with the test signers (signer 0 registered for brand 1, quorum 1)."""
    return config_for_network("development").with_signers([signer_addresses[0]])


@pytest.fixture(scope="module")
def deployment(admin, config):
    return deploy(admin, config)


@pytest.fixture(scope="module")
def coin(deployment):
    return deployment.coin


@pytest.fixture(scope="module")
def registry(deployment):
    return deployment.registry


@pytest.fixture(scope="module")
def redemption(deployment):
    return deployment.redemption


@pytest.fixture(scope="module")
def forwarder(deployment):
    """The ServiceCoinForwarder that the redemption contract trusts (ERC-2771)."""
    return deployment.forwarder


@pytest.fixture(scope="module")
def domain(registry, chain):
    return Domain(chain_id=chain.id, verifying_contract=registry.address)


class Batches:
    """Builds, signs and submits feedback batches the way the oracle does."""

    def __init__(self, registry, domain, signer_keys, chain, admin):
        self.registry = registry
        self.domain = domain
        self.signer_keys = signer_keys
        self.chain = chain
        self.admin = admin
        self._seq = itertools.count(1)

    def record(self, customer, kind=FeedbackKind.SURVEY_RESPONSE, seq=None, occurred_at=None, event_id=None):
        seq = next(self._seq) if seq is None else seq
        return FeedbackRecord(
            event_id=event_id or keccak(text=f"brand-1/zendesk/event-{seq}"),
            customer=str(customer),
            seq=seq,
            kind=int(kind),
            occurred_at=self._latest_block_time() - 60 if occurred_at is None else occurred_at,
            content_commitment=keccak(text=f"salted-content-{seq}"),
        )

    def _latest_block_time(self):
        """The chain's own clock. Not chain.time(): after an isolation revert Anvil's clock
        restarts at the snapshot's block while brownie's keeps running, so chain.time() runs
        ahead and a record stamped from it could occur in the chain's future."""
        return self.chain[-1].timestamp

    def batch(self, records, brand_id=BRAND, deadline=None, policy_hash=None):
        return FeedbackBatch(
            brand_id=brand_id,
            policy_hash=policy_hash or keccak(text="policy-v1"),
            deadline=self.chain.time() + 3600 + next(_UNIQUE) if deadline is None else deadline,
            records=tuple(records),
        )

    def sign(self, batch, keys=None, domain=None):
        return sign_batch(self.signer_keys[:1] if keys is None else keys, domain or self.domain, batch)

    def submit(self, batch, signatures=None, sender=None):
        signatures = self.sign(batch) if signatures is None else signatures
        return self.registry.submitBatch(batch.as_packed(), signatures, {"from": sender or self.admin})

    def reward(self, customers, kind=FeedbackKind.SURVEY_RESPONSE):
        """Records one event per customer in one batch and returns the transaction."""
        return self.submit(self.batch([self.record(c, kind) for c in customers]))


@pytest.fixture(scope="module")
def batches(registry, domain, signer_keys, chain, admin):
    return Batches(registry, domain, signer_keys, chain, admin)


@pytest.fixture(scope="session")
def units():
    return to_units

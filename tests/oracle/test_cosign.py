"""An independent co-signer: what it refuses to sign, and the oracle's client over real HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_utils import keccak

from oracle.cosign.client import CosignError, RemoteCosigner
from oracle.cosign.review import CosignLimits, review_batch
from oracle.cosign.server import create_cosigner_app
from oracle.cosign.wire import batch_to_wire
from oracle.ingest.signatures import sign_generic
from oracle.policy import load_policy
from oracle.signer import BatchSigner
from oracle.typed_data import Domain, FeedbackBatch, FeedbackRecord, batch_digest, recover_signer
from oracle.ingest.server import serving

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"
DOMAIN = Domain(chain_id=31337, verifying_contract="0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")
COSIGNER_KEY = keccak(text="test-cosigner")
COSIGNER = Account.from_key(COSIGNER_KEY).address
SECRET = "shared-cosign-secret"
NOW = int(time.time())


@pytest.fixture(scope="module")
def policy():
    return load_policy(EXAMPLE_POLICY)


def record(seq: int, customer: str = "0x" + "aa" * 20, kind: int = 1, occurred_at: int = NOW - 60) -> FeedbackRecord:
    return FeedbackRecord(keccak(text=f"event-{seq}"), customer, seq, kind, occurred_at, keccak(text=f"content-{seq}"))


def batch(policy, records=None, **changes) -> FeedbackBatch:
    fields = {"brand_id": 1, "policy_hash": policy.hash, "deadline": NOW + 600,
              "records": tuple([record(1), record(2, customer="0x" + "bb" * 20)] if records is None else records)}
    fields.update(changes)
    return FeedbackBatch(**fields)


def test_a_batch_that_follows_the_published_policy_passes(policy) -> None:
    assert review_batch(batch(policy), policy, CosignLimits(), NOW) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"brand_id": 2}, "brand 2 is not this co-signer's brand 1"),
        ({"policy_hash": b"\x01" * 32}, "is not the published policy"),
        ({"deadline": NOW + 10_000}, "is not within the next 7200 s"),
        ({"deadline": NOW - 1}, "is not within the next 7200 s"),
        ({"records": ()}, "0 records: a batch holds 1 to 500"),
        ({"records": (record(1), record(1))}, "a sequence number appears twice"),
        ({"records": (record(1, kind=9),)}, "seq 1: unknown kind 9"),
        ({"records": (record(1, occurred_at=NOW + 3600),)}, "in the future"),
        ({"records": tuple(record(n) for n in range(25))}, "25 records for 0xaaaa"),
    ],
)
def test_each_breach_is_refused_with_its_reason(policy, changes, problem) -> None:
    problems = review_batch(batch(policy, **changes), policy, CosignLimits(), NOW)
    assert any(problem in p for p in problems), problems


def test_a_kind_the_policy_does_not_reward_is_refused(tmp_path, policy) -> None:
    narrow = tmp_path / "policy.yaml"
    narrow.write_text("version: 1\nbrand_id: 1\nkinds:\n  csat_rating: {base_reward: 2}\n")
    loaded = load_policy(narrow)
    problems = review_batch(batch(loaded, policy_hash=loaded.hash), loaded, CosignLimits(), NOW)
    assert problems == [
        "seq 1: kind survey_response is not rewarded by the policy",
        "seq 2: kind survey_response is not rewarded by the policy",
    ]


@pytest.fixture(scope="module")
def cosigner_url(policy):
    signer = BatchSigner(Account.from_key(COSIGNER_KEY), DOMAIN)
    with serving(create_cosigner_app(signer, policy, SECRET)) as url:
        yield url


def test_the_cosigner_signs_a_good_batch_and_the_client_checks_the_signer(cosigner_url, policy) -> None:
    good = batch(policy)
    signature = RemoteCosigner(cosigner_url, COSIGNER, SECRET, DOMAIN).sign(good)
    assert recover_signer(batch_digest(DOMAIN, good), signature) == COSIGNER


def test_the_client_reports_a_refusal_with_the_cosigners_reasons(cosigner_url, policy) -> None:
    with pytest.raises(CosignError, match="refused the batch \\(422\\): policy hash 0x0101"):
        RemoteCosigner(cosigner_url, COSIGNER, SECRET, DOMAIN).sign(batch(policy, policy_hash=b"\x01" * 32))


def test_a_wrong_shared_secret_or_expected_address_fails(cosigner_url, policy) -> None:
    with pytest.raises(CosignError, match="\\(401\\): X-ServiceCoin-Signature does not match"):
        RemoteCosigner(cosigner_url, COSIGNER, "guess", DOMAIN).sign(batch(policy))
    impostor = "0x" + "12" * 20
    with pytest.raises(CosignError, match=f"not {impostor}"):
        RemoteCosigner(cosigner_url, impostor, SECRET, DOMAIN).sign(batch(policy))


def test_an_unreachable_cosigner_is_a_cosign_error(policy) -> None:
    with pytest.raises(CosignError, match="unreachable"):
        RemoteCosigner("http://127.0.0.1:9", COSIGNER, SECRET, DOMAIN, timeout=2).sign(batch(policy))


def test_a_malformed_request_is_refused_naming_the_field(cosigner_url, policy) -> None:
    wire = batch_to_wire(batch(policy))
    wire["records"][0]["customer"] = "0x1234"
    body = json.dumps(wire).encode()
    response = httpx.post(f"{cosigner_url}/cosign", content=body, headers=sign_generic(body, SECRET.encode(), NOW))
    assert response.status_code == 422
    assert response.json()["error"] == "records.0.customer: Value error, must be a 0x-prefixed 20-byte hex address"

"""The BatchRecorded log: per record, in the batch's order, its EIP-712 hashStruct and its
outcome, and the only registry log a batch emits. An outcome is status (bits 192-199: 0
rewarded, else 1 + SkipReason) | welcome bonus (bits 96-191) | reward (bits 0-95); the records'
fields are in the transaction's input."""

import pytest
from eth_abi import encode
from eth_utils import keccak

from oracle.kinds import FeedbackKind
from oracle.typed_data import batch_digest, record_hash
from tests.contracts.batch_outcomes import outcomes, registry_logs, rewarded, skipped, submitted_batch

from .helpers import (
    ALREADY_RECORDED,
    BRAND,
    BRAND_CAP_REACHED,
    COIN,
    CUSTOMER_CAP_REACHED,
    KIND_NOT_REWARDED,
    OCCURS_IN_FUTURE,
    UNREWARDED_KIND,
    WELCOME,
    ZERO_CUSTOMER,
)

ZERO = "0x" + "00" * 20
BATCH_RECORDED_TOPIC = keccak(
    text="BatchRecorded(uint32,bytes32,bytes32,uint256,uint256,uint256,bytes32[],uint256[])"
)


@pytest.fixture
def mixed(batches, chain, alice, bob, carol):
    """A batch of seven records: rewarded, skipped for four reasons and repeated customers,
    with what each record's outcome must be, in order (alice and bob are new: welcome bonus)."""
    records = [
        batches.record(alice),  # survey: 5, first reward: welcome
        batches.record(ZERO),
        batches.record(bob, FeedbackKind.REFERRAL),  # 25, first reward: welcome
        batches.record(carol, UNREWARDED_KIND),
        batches.record(alice, FeedbackKind.PRODUCT_REVIEW),  # 10, welcome already paid
        batches.record(carol, occurred_at=chain.time() + 3600),
    ]
    records.append(records[2])  # the same seq again in the batch
    expected = [
        rewarded(5 * COIN, WELCOME),
        skipped(ZERO_CUSTOMER),
        rewarded(25 * COIN, WELCOME),
        skipped(KIND_NOT_REWARDED),
        rewarded(10 * COIN),
        skipped(OCCURS_IN_FUTURE),
        skipped(ALREADY_RECORDED),
    ]
    return batches.batch(records), expected


def test_the_log_has_one_outcome_per_record_in_the_batch_order(batches, mixed):
    batch, expected = mixed
    tx = batches.submit(batch)
    assert len(tx.events["BatchRecorded"]["outcomes"]) == len(batch.records)
    assert outcomes(tx) == expected


def test_recorded_plus_skipped_is_the_number_of_outcomes(batches, mixed):
    batch, expected = mixed
    tx = batches.submit(batch)
    summary = tx.events["BatchRecorded"]
    assert (summary["recorded"], summary["skipped"]) == (3, 4)
    assert summary["recorded"] == sum(o.rewarded for o in outcomes(tx)) == tx.return_value
    assert summary["recorded"] + summary["skipped"] == len(summary["outcomes"]) == len(batch.records)


def test_minted_is_the_sum_of_the_outcomes_and_the_supply_increase(batches, coin, mixed, carol):
    batches.reward([carol])  # supply already above zero
    supply = coin.totalSupply()
    batch, _ = mixed
    tx = batches.submit(batch)
    minted = tx.events["BatchRecorded"]["minted"]
    assert minted == sum(o.reward + o.welcome for o in outcomes(tx)) == 40 * COIN + 2 * WELCOME
    assert coin.totalSupply() - supply == minted
    assert sum(e["value"] for e in tx.events["Transfer"]) == minted


@pytest.mark.parametrize(
    "reason", [ALREADY_RECORDED, KIND_NOT_REWARDED, ZERO_CUSTOMER, OCCURS_IN_FUTURE, CUSTOMER_CAP_REACHED, BRAND_CAP_REACHED]
)
def test_a_skipped_record_has_its_reason_and_no_reward_or_welcome(batches, registry, admin, chain, alice, reason):
    """Alice is new, so a reward would carry the welcome bonus: a skipped record's has none."""
    record = batches.record(alice)
    if reason == ALREADY_RECORDED:
        batches.submit(batches.batch([record]))
    elif reason == KIND_NOT_REWARDED:
        record = batches.record(alice, UNREWARDED_KIND)
    elif reason == ZERO_CUSTOMER:
        record = batches.record(ZERO)
    elif reason == OCCURS_IN_FUTURE:
        record = batches.record(alice, occurred_at=chain.time() + 3600)
    elif reason == CUSTOMER_CAP_REACHED:
        registry.setCustomerCap(0, {"from": admin})
    else:
        registry.setBrandCap(BRAND, 0, {"from": admin})
    tx = batches.submit(batches.batch([record]))
    assert tx.events["BatchRecorded"]["outcomes"] == [(reason + 1) << 192]  # the raw word
    assert outcomes(tx) == [skipped(reason)]
    assert tx.events["BatchRecorded"]["minted"] == 0


def test_a_new_customers_first_reward_carries_the_welcome_bonus_in_its_outcome(batches, coin, alice):
    tx = batches.reward([alice, alice], FeedbackKind.PRODUCT_REVIEW)
    assert tx.events["BatchRecorded"]["outcomes"] == [WELCOME << 96 | 10 * COIN, 10 * COIN]  # the raw words
    assert outcomes(tx) == [rewarded(10 * COIN, WELCOME), rewarded(10 * COIN)]
    assert coin.balanceOf(alice) == 20 * COIN + WELCOME
    assert outcomes(batches.reward([alice])) == [rewarded(5 * COIN)]


def test_a_batch_emits_exactly_one_registry_log(batches, registry, mixed):
    """No per-record log: the registry's only log in the receipt is BatchRecorded (the coin
    logs one Transfer per rewarded customer)."""
    batch, _ = mixed
    tx = batches.submit(batch)
    logs = registry_logs(tx, registry)
    assert len(logs) == 1
    assert bytes(logs[0]["topics"][0]) == BATCH_RECORDED_TOPIC
    assert [e.name for e in tx.events if e.address == registry.address] == ["BatchRecorded"]


def test_a_batch_of_only_skipped_records_emits_one_registry_log_and_no_transfer(batches, registry, alice):
    tx = batches.submit(batches.batch([batches.record(alice, UNREWARDED_KIND), batches.record(ZERO)]))
    assert len(registry_logs(tx, registry)) == 1
    assert len(tx.logs) == 1
    assert outcomes(tx) == [skipped(KIND_NOT_REWARDED), skipped(ZERO_CUSTOMER)]


def test_the_records_of_the_outcomes_are_in_the_signed_transaction_input(batches, registry, domain, mixed):
    """What the log no longer repeats: the input holds the records in the outcomes' order, and
    the log's digest is the one their signers signed."""
    batch, expected = mixed
    tx = batches.submit(batch)
    assert submitted_batch(registry, tx.input) == batch
    assert bytes(tx.events["BatchRecorded"]["digest"]) == batch_digest(domain, batch)
    assert len(outcomes(tx)) == len(submitted_batch(registry, tx.input).records)


def test_the_log_names_each_record_by_its_hash_in_the_batch_order(batches, registry, mixed):
    """Whoever holds a record finds it by its hash, however the batch was sent: the hashes are
    the registry's own hashRecord and the oracle's, record for record."""
    batch, _expected = mixed
    tx = batches.submit(batch)
    logged = [bytes(h) for h in tx.events["BatchRecorded"]["recordHashes"]]
    assert logged == [record_hash(r) for r in batch.records]
    assert logged == [bytes(registry.hashRecord(r.as_tuple())) for r in batch.records]
    assert logged[2] == logged[6]  # the record given twice: rewarded once (index 2), skipped once



@pytest.mark.parametrize("size", [1, 7, 40])
def test_the_log_is_exactly_the_abi_encoding_of_its_values(batches, registry, domain, alice, bob, size):
    """The registry writes BatchRecorded's data in place (contracts/BatchLog.sol), not through
    `emit`: its topics and bytes must be what the ABI encoder would write for the same values,
    no word more or less, and the digest the one the signers signed (the records' hashes are
    hashed where they lie in the log's buffer)."""
    records = [batches.record(alice if n % 3 else bob) for n in range(size)]
    records.append(batches.record(ZERO))
    batch = batches.batch(records)
    tx = batches.submit(batch)
    [log] = registry_logs(tx, registry)
    summary = tx.events["BatchRecorded"]
    digest = batch_digest(domain, batch)
    assert [bytes(topic) for topic in log["topics"]] == [
        BATCH_RECORDED_TOPIC, BRAND.to_bytes(32, "big"), digest,
    ]
    hashes = [record_hash(record) for record in batch.records]
    values = (batch.policy_hash, summary["recorded"], summary["skipped"], summary["minted"], hashes,
              summary["outcomes"])
    assert bytes(log["data"]) == encode(["bytes32", "uint256", "uint256", "uint256", "bytes32[]", "uint256[]"], values)
    assert summary["skipped"] == 1 and len(summary["outcomes"]) == size + 1

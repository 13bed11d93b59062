"""A batch holds at most `batching.max_records_per_customer` records of one customer: a co-signer
refuses more (its own limit), and a refused batch would block every later one."""

from __future__ import annotations

from oracle.store.outbox import Outbox
from tests.oracle.test_outbox import (  # noqa: F401 - fixtures used by name
    T0,
    address_for,
    helpdesk_event,
    outbox,
    policy,
    receive,
    url,
)


def backlog(outbox: Outbox, policy, counts: dict[str, int]) -> None:  # noqa: F811
    n = 0
    for customer, count in counts.items():
        for _ in range(count):
            n += 1
            receive(outbox, helpdesk_event(n, customer=customer))
    outbox.decide_received(policy, address_for, limit=10_000)


def customers_of(batch) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in batch.records:
        counts[record.customer_address] = counts.get(record.customer_address, 0) + 1
    return counts


def test_one_customers_backlog_does_not_crowd_out_the_others(outbox: Outbox, policy) -> None:  # noqa: F811
    limitless = policy.model_copy(update={"kinds": {
        k: v.model_copy(update={"max_per_customer_per_day": None}) for k, v in policy.kinds.items()}})
    backlog(outbox, limitless, {"busy": 30, "quiet-1": 2, "quiet-2": 1})
    first = outbox.open_batch(brand_id=1, max_size=10, now=T0, max_per_customer=3)
    assert customers_of(first) == {address_for("busy"): 3, address_for("quiet-1"): 2, address_for("quiet-2"): 1}
    # The busy customer's remaining records go out three at a time, lowest seq first.
    second = outbox.open_batch(brand_id=1, max_size=10, now=T0, max_per_customer=3)
    assert customers_of(second) == {address_for("busy"): 3}
    assert [r.seq for r in second.records] == sorted(r.seq for r in second.records)
    assert min(r.seq for r in second.records) > max(r.seq for r in first.records if r.customer_address == address_for("busy"))
    batches = 2
    while outbox.open_batch(brand_id=1, max_size=10, now=T0, max_per_customer=3) is not None:
        batches += 1
    assert batches == 10 and outbox.counts_by_state() == {"batched": 33}


def test_without_a_limit_the_lowest_seqs_fill_the_batch(outbox: Outbox, policy) -> None:  # noqa: F811
    limitless = policy.model_copy(update={"kinds": {
        k: v.model_copy(update={"max_per_customer_per_day": None}) for k, v in policy.kinds.items()}})
    backlog(outbox, limitless, {"busy": 12})
    assert len(outbox.open_batch(brand_id=1, max_size=10, now=T0).records) == 10


def test_a_backlog_far_longer_than_a_batch_does_not_hide_the_others(outbox: Outbox, policy) -> None:  # noqa: F811
    limitless = policy.model_copy(update={"kinds": {
        k: v.model_copy(update={"max_per_customer_per_day": None}) for k, v in policy.kinds.items()}})
    backlog(outbox, limitless, {"busy": 600, "late": 1})
    first = outbox.open_batch(brand_id=1, max_size=10, now=T0, max_per_customer=3)
    assert customers_of(first) == {address_for("busy"): 3, address_for("late"): 1}


def test_the_limit_applies_where_a_cosigner_would_refuse_or_when_set(tmp_path) -> None:
    from oracle.config import OracleConfig
    from oracle.service import records_per_customer_limit

    base = {"brand_id": 1, "policy": "policy.yaml", "chain": {"rpc_url": "http://127.0.0.1:9", "chain_id": 1,
            "registry": "0x" + "11" * 20}, "signers": [{"keystore": "oracle.json"}], "sources": {"generic": {"secret_env": "G"}}}
    cosigner = {"url": "http://127.0.0.1:9", "address": "0x" + "22" * 20, "secret_env": "C"}
    assert records_per_customer_limit(OracleConfig.model_validate(base)) is None
    assert records_per_customer_limit(OracleConfig.model_validate({**base, "cosigners": [cosigner]})) == 20
    assert records_per_customer_limit(OracleConfig.model_validate(
        {**base, "cosigners": [cosigner], "batching": {"max_records_per_customer": 5}})) == 5

"""Records the registry skipped for a cap or the supply limit are sent again on request
(`servicecoin retry-skipped`), keeping their sequence numbers; other skips are not."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from eth_utils import to_checksum_address

from oracle.custody import CustodialWallets, content_master_key
from oracle.identity import Identity
from oracle.store.outbox import NOT_REWARDED, Outbox
from tests.oracle.test_cli import installation, invoke  # noqa: F401 - the fixture is used by name
from tests.oracle.test_outbox import (  # noqa: F401 - fixtures used by name
    MASTER_KEY,
    T0,
    address_for,
    broadcast,
    helpdesk_event,
    outbox,
    policy,
    receive,
    url,
)


def final_batch(outbox: Outbox, policy, skipped: dict[int, str], count: int = 4):  # noqa: F811
    """`count` events of distinct customers through one mined, final batch; the records at the
    positions in `skipped` were skipped by the registry with the given reasons."""
    helpdesk = [helpdesk_event(n, customer=f"c{n}") for n in range(1, count + 1)]
    receive(outbox, *helpdesk)
    outbox.decide_received(policy, address_for)
    batch = outbox.open_batch(brand_id=1, max_size=10, now=T0)
    outbox.mark_signed(batch.batch_id, b"\x07" * 32, T0 + 600, b"\x08" * 32, [b"\x09" * 65])
    outbox.mark_submitted(batch.batch_id, broadcast(0x0A, 5))
    outbox.mark_confirmed(batch.batch_id, b"\x0a" * 32, 120, b"\x0b" * 32,
                          not_rewarded={helpdesk[i].id: reason for i, reason in skipped.items()})
    outbox.mark_final(batch.batch_id)
    return helpdesk, batch


def test_cap_and_supply_skips_go_back_to_eligible_with_their_sequence_numbers(outbox: Outbox, policy) -> None:  # noqa: F811
    helpdesk, batch = final_batch(
        outbox, policy, {0: "CustomerCapReached", 1: "BrandCapReached", 2: "SupplyLimitReached"}, count=5
    )
    seqs = [outbox.event_row(e.id).seq for e in helpdesk]
    before = {r.event_id: r for r in outbox.batch_records(batch.batch_id)}
    counts = outbox.requeue_skipped(policy, address_for)
    assert counts == ({"CustomerCapReached": 1, "BrandCapReached": 1, "SupplyLimitReached": 1}, {})
    assert outbox.counts_by_state() == {"eligible": 3, "final": 2}
    rows = [outbox.event_row(e.id) for e in helpdesk[:3]]
    assert [(r.state, r.seq, r.batch_id, r.reason) for r in rows] == [("eligible", s, None, None) for s in seqs[:3]]
    # The next batch carries exactly those records again, same seq, address and commitment.
    again = outbox.open_batch(brand_id=1, max_size=10, now=T0 + 100)
    assert sorted(r.seq for r in again.records) == sorted(seqs[:3])
    assert all(record == before[record.event_id] for record in again.records)


def test_other_skips_and_rewarded_records_stay_final(outbox: Outbox, policy) -> None:  # noqa: F811
    helpdesk, _ = final_batch(outbox, policy, {0: "AlreadyRecorded", 1: "LifetimeLimitReached", 2: "ZeroCustomer"})
    assert outbox.requeue_skipped(policy, address_for) == ({}, {})
    assert outbox.counts_by_state() == {"final": 4}
    assert outbox.event_row(helpdesk[0].id).reason == NOT_REWARDED + "AlreadyRecorded"


def test_a_dry_run_counts_and_changes_nothing(outbox: Outbox, policy) -> None:  # noqa: F811
    final_batch(outbox, policy, {0: "CustomerCapReached", 1: "CustomerCapReached"})
    assert outbox.requeue_skipped(policy, address_for, dry_run=True) == ({"CustomerCapReached": 2}, {})
    assert outbox.counts_by_state() == {"final": 4}


def test_another_brands_skips_are_left_alone(outbox: Outbox, policy) -> None:  # noqa: F811
    final_batch(outbox, policy, {0: "CustomerCapReached"})
    other_brand = policy.model_copy(update={"brand_id": 2})
    assert outbox.requeue_skipped(other_brand, address_for) == ({}, {})
    assert outbox.counts_by_state() == {"final": 4}


def test_a_retried_record_goes_to_the_wallet_linked_since(outbox: Outbox, policy) -> None:  # noqa: F811
    """A customer who linked a wallet after the skip: the retry pays the wallet, not the
    custodial address the first batch named (whose coins the link already moved away)."""
    helpdesk, _ = final_batch(outbox, policy, {0: "CustomerCapReached"})
    wallet = "0x" + "5b" * 20
    outbox.requeue_skipped(policy, lambda customer: wallet if customer == helpdesk[0].customer_id else address_for(customer))
    row = outbox.event_row(helpdesk[0].id)
    assert (row.state, row.customer_address) == ("eligible", wallet)
    assert outbox.open_batch(brand_id=1, max_size=10, now=T0 + 100).records[0].customer_address == wallet


def test_a_link_requested_during_a_retry_readdresses_the_retried_record(
    url: str, outbox: Outbox, policy  # noqa: F811
) -> None:
    """`servicecoin wallet link` (its own connections) between the retry's address lookup and
    its commit: the link waits for the retry, then re-addresses the record it made eligible."""
    helpdesk, _ = final_batch(outbox, policy, {0: "CustomerCapReached"})
    wallets = CustodialWallets(secrets.token_bytes(32), brand_id=1)
    linker = Identity(Outbox.open(url, MASTER_KEY).engine, wallets)
    wallet = "0x" + "5b" * 20
    requested = []
    link = threading.Thread(target=lambda: requested.append(linker.request_link(helpdesk[0].customer_id,
                                                                               to_checksum_address(wallet),
                                                                               proof=None)))

    def address_during_a_link(customer_id: str) -> str:
        link.start()
        link.join(timeout=1.0)  # it finishes here only if it does not wait for the retry
        return address_for(customer_id)

    outbox.requeue_skipped(policy, address_during_a_link)
    link.join(timeout=30)
    assert requested[0].readdressed == 1
    assert outbox.event_row(helpdesk[0].id).customer_address == to_checksum_address(wallet)


def test_a_kind_the_policy_no_longer_rewards_is_left_as_it_is(outbox: Outbox, policy) -> None:  # noqa: F811
    """Decided under the policy of today, as a new event would be: a co-signer holding the
    current policy would refuse a batch carrying a kind it no longer rewards."""
    helpdesk, _ = final_batch(outbox, policy, {0: "CustomerCapReached", 1: "CustomerCapReached"})
    without_csat = policy.model_copy(update={"kinds": {k: v for k, v in policy.kinds.items() if k != "csat_rating"}})
    assert outbox.requeue_skipped(without_csat, address_for) == ({}, {"CustomerCapReached": 2})
    assert outbox.counts_by_state() == {"final": 4}  # left as they were, reason and all
    assert outbox.event_row(helpdesk[0].id).reason == NOT_REWARDED + "CustomerCapReached"


def test_the_command_reports_what_it_requeued(installation) -> None:  # noqa: F811
    directory, env = installation
    master_key = content_master_key(bytes.fromhex(env["SERVICECOIN_BRAND_SECRET"]))
    store = Outbox.open(f"sqlite:///{Path(directory) / 'servicecoin.db'}", master_key)  # the config's default store
    from oracle.policy import load_policy
    from tests.oracle.test_outbox import EXAMPLE_POLICY

    final_batch(store, load_policy(EXAMPLE_POLICY).policy, {0: "CustomerCapReached", 1: "BrandCapReached"})
    dry = invoke(env, "retry-skipped", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would re-queue 2 record(s): BrandCapReached 1, CustomerCapReached 1" in dry.output
    done = invoke(env, "retry-skipped")
    assert done.exit_code == 0, done.output
    assert "re-queued 2 record(s): BrandCapReached 1, CustomerCapReached 1" in done.output
    assert store.counts_by_state() == {"eligible": 2, "final": 2}
    assert "nothing to retry" in invoke(env, "retry-skipped").output

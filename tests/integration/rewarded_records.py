"""Every record the registry rewarded, read the way an auditor would: each BatchRecorded log
(record hashes and outcomes) with its transaction's input (the records, whose hashes must be the
logged ones), through oracle/chain/record_lookup.py. The oracle sends every batch directly to
the registry, so every input is readable here."""

from __future__ import annotations

from oracle.chain.receipts import fetch_receipt
from oracle.chain.record_lookup import RecordLookup
from oracle.typed_data import FeedbackRecord, record_hash


def rewarded_records(deployment, web3) -> list[FeedbackRecord]:
    lookup = RecordLookup(web3, deployment.registry.address)
    logs = web3.eth.get_logs({"address": lookup.registry, "fromBlock": 0, "toBlock": "latest",
                              "topics": ["0x" + lookup.batch_topic.hex()]})
    rewarded = []
    for tx_hash in dict.fromkeys(bytes(log["transactionHash"]) for log in logs):
        [logged] = lookup.logged_batches(fetch_receipt(web3, tx_hash))
        records = lookup.input_records(tx_hash)
        assert records is not None and [record_hash(r) for r in records] == list(logged.record_hashes)
        rewarded.extend(r for r, outcome in zip(records, logged.outcomes) if outcome.rewarded)
    return rewarded


def rewarded_event_ids(deployment, web3) -> list[bytes]:
    """The event id of every rewarded record, in the order the chain rewarded them."""
    return [record.event_id for record in rewarded_records(deployment, web3)]

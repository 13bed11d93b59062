"""Every record the registry rewarded, read the way an auditor would: each BatchRecorded log
(the outcomes) with its transaction's input (the records), through oracle/chain/record_lookup.py."""

from __future__ import annotations

from oracle.chain.record_lookup import MinedRecord, RecordLookup


def rewarded_records(deployment, web3) -> list[MinedRecord]:
    lookup = RecordLookup(web3, deployment.registry.address)
    logs = web3.eth.get_logs({"address": lookup.registry, "fromBlock": 0, "toBlock": "latest",
                              "topics": ["0x" + lookup.batch_topic.hex()]})
    mined = []
    for tx_hash in dict.fromkeys(bytes(log["transactionHash"]) for log in logs):
        batch = lookup.mined_batch(tx_hash)
        assert batch is not None, f"batch 0x{tx_hash.hex()} is no direct submitBatch call"
        mined.extend(m for m in batch if m.outcome.rewarded)
    return mined


def rewarded_event_ids(deployment, web3) -> list[bytes]:
    """The event id of every rewarded record, in the order the chain rewarded them."""
    return [m.record.event_id for m in rewarded_records(deployment, web3)]

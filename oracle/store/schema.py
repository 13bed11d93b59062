"""Tables of the outbox, in SQLAlchemy Core so that one codebase runs on SQLite (default, one
oracle instance) and PostgreSQL (several instances: advisory locks serialise deciders).

Amounts are integers in coin units (18 decimals), stored as decimal strings: SQLite's integers
are 64-bit (10 coins is already 10**19 units) and its NUMERIC would silently fall back to a
float. Never floats; exact in both databases.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

EVENT_STATES = ("received", "eligible", "ineligible", "batched", "submitted", "confirmed", "final")
BATCH_STATES = ("open", "signed", "submitted", "confirmed", "final")
# 1: events, batches, issuance, contents, keys, counters. 2: batch_attempts (replacements).
# 3: the customer loop: wallet_links, chain_cursors, redemptions, price_announcements, notes, relays.
# 4: ix_events_brand_state (an index only; migrate() adds it to an existing outbox).
# 5: master_key_check (a wrong brand secret is refused at open).
SCHEMA_VERSION = 5

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
)

events = Table(
    "events",
    metadata,
    Column("event_id", LargeBinary(32), primary_key=True),
    Column("brand_id", BigInteger, nullable=False),
    Column("source", String(32), nullable=False),
    Column("helpdesk_event_id", String(200), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("kind", Integer, nullable=False),
    Column("occurred_at", BigInteger, nullable=False),
    Column("day", String(10), nullable=False),  # UTC date of occurred_at: rate limits and budgets
    Column("flags", Text, nullable=False),  # JSON list
    Column("content_commitment", LargeBinary(32), nullable=False),  # what goes on-chain, fixed at receipt
    Column("customer_address", String(42)),  # resolved once, when eligible: retries sign the same record
    Column("received_at", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("reason", Text),  # why ineligible
    Column("reward_units", String(80)),  # the policy's base reward, once eligible (decimal string)
    Column("seq", BigInteger),  # the brand's dense sequence number, once eligible
    Column("batch_id", BigInteger, ForeignKey("batches.batch_id")),
    UniqueConstraint("brand_id", "seq", name="uq_events_brand_seq"),
    CheckConstraint(f"state IN {EVENT_STATES}", name="ck_events_state"),
    Index("ix_events_state", "state"),
    Index("ix_events_customer_day", "customer_id", "kind", "day"),
    # v3: a batch's records, and the customer behind an address (redemptions, wallet links),
    # without a scan of every event ever received.
    Index("ix_events_batch", "batch_id"),
    Index("ix_events_customer_address", "customer_address"),
    # v4: the pipeline asks "how many eligible events of this brand, since when" before every
    # batch. Without it SQLite answered from the (brand_id, seq) unique index, reading every
    # event of the brand: 37 ms per question at 20,000 events (make bench's profile put the
    # pipeline's SQL at 45% of its CPU). With it the answer is read from the index alone.
    Index("ix_events_brand_state", "brand_id", "state", "received_at"),
)

batches = Table(
    "batches",
    metadata,
    # BIGINT on PostgreSQL; SQLite auto-increments only an INTEGER PRIMARY KEY (64-bit anyway).
    Column("batch_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("brand_id", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("policy_hash", LargeBinary(32)),
    Column("deadline", BigInteger),
    Column("digest", LargeBinary(32)),
    Column("signatures", Text),  # JSON list of hex signatures
    Column("tx_hash", LargeBinary(32)),
    Column("nonce", BigInteger),
    Column("raw_tx", LargeBinary),  # the signed transaction, re-broadcast as is if dropped
    Column("block_number", BigInteger),
    Column("block_hash", LargeBinary(32)),
    CheckConstraint(f"state IN {BATCH_STATES}", name="ck_batches_state"),
    Index("ix_batches_state", "state"),
)

daily_issuance = Table(
    "daily_issuance",
    metadata,
    Column("brand_id", BigInteger, primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("units", String(80), nullable=False),  # decimal string: eligible rewards that day
)

customer_keys = Table(
    "customer_keys",
    metadata,
    Column("customer_id", String(200), primary_key=True),
    # The customer's AES-256 data key, itself encrypted (AES-GCM) under the brand's master key.
    # Deleting this row is the crypto-shredding of everything the customer wrote.
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

master_key_check = Table(
    "master_key_check",
    metadata,
    Column("id", Integer, primary_key=True),  # one row
    # HMAC-SHA256(content master key, a label): tells the key the outbox was made with apart from
    # any other without revealing it (ContentVault.check_master_key).
    Column("value", LargeBinary, nullable=False),
)

contents = Table(
    "contents",
    metadata,
    Column("event_id", LargeBinary(32), primary_key=True),
    Column("customer_id", String(200), nullable=False, index=True),
    Column("ciphertext", LargeBinary, nullable=False),  # nonce (12 bytes) + AES-GCM output
    Column("salt", LargeBinary(32)),  # NULL once erased: the commitment can no longer be opened
    Column("commitment", LargeBinary(32), nullable=False),  # keccak256(salt + content): on-chain
)

sequence_counters = Table(
    "sequence_counters",
    metadata,
    Column("brand_id", BigInteger, primary_key=True),
    Column("next_seq", BigInteger, nullable=False),
)

batch_attempts = Table(
    "batch_attempts",
    metadata,
    # Every transaction broadcast for a batch, replacements included: any one of them may be the
    # one that gets mined, so the submitter looks for a receipt of each.
    Column("tx_hash", LargeBinary(32), primary_key=True),
    Column("batch_id", BigInteger, ForeignKey("batches.batch_id"), nullable=False, index=True),
    Column("nonce", BigInteger, nullable=False),
    Column("max_fee", String(80), nullable=False),  # wei, decimal string
    Column("priority_fee", String(80), nullable=False),
    Column("sent_at", BigInteger, nullable=False),
)


# ------------------------------------------------------------------ v3: the customer loop

wallet_links = Table(
    "wallet_links",
    metadata,
    # A customer who linked their own wallet: later rewards go to `address`; the coins and the
    # on-chain history at `custodial_address` move there with FeedbackRegistry.linkWallet.
    Column("customer_id", String(200), primary_key=True),
    Column("custodial_address", String(42), nullable=False),
    Column("address", String(42), nullable=False, unique=True),
    Column("state", String(16), nullable=False),  # requested -> linked
    Column("requested_at", BigInteger, nullable=False),
    Column("linked_at", BigInteger),
    Column("tx_hash", LargeBinary(32)),
    CheckConstraint("state IN ('requested', 'linked')", name="ck_wallet_links_state"),
)

chain_cursors = Table(
    "chain_cursors",
    metadata,
    # How far a chain follower has read: the last block it processed and that block's hash, so
    # a reorg under it is noticed (the hash no longer matches) and the follower rewinds.
    Column("name", String(64), primary_key=True),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", LargeBinary(32), nullable=False),
)

REDEMPTION_STATES = ("pending", "fulfilled", "disputed", "refunded", "settled", "orphaned")
REDEMPTION_ACTIONS = ("deliver", "fulfil", "refund")

redemptions = Table(
    "redemptions",
    metadata,
    # One row per TierRedemption redemption, written by the redemption watcher from the chain's
    # events (oracle/redeem/watcher.py) and worked on by the fulfiller (oracle/redeem/fulfiller.py).
    Column("redemption_id", BigInteger, primary_key=True),
    Column("customer_address", String(42), nullable=False, index=True),
    Column("item_id", BigInteger, nullable=False),
    Column("price", String(80), nullable=False),  # coin units paid into escrow, decimal string
    Column("tier", Integer, nullable=False),
    Column("redeemed_at", BigInteger, nullable=False),  # timestamp of the Redeemed event's block
    Column("redeemed_block", BigInteger, nullable=False),
    # The on-chain status as the watcher last read it from events (only the watcher writes it),
    # and the block of the event that set it: a reorg under that block makes the watcher replay
    # the redemption's events. 'orphaned': its Redeemed event was in a block that a reorg removed.
    Column("state", String(16), nullable=False),
    Column("state_block", BigInteger, nullable=False),
    # The fulfiller's next step while the redemption is pending: deliver through the brand's
    # webhook, then fulfil on chain; or refund on chain once delivery has failed for good.
    Column("action", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),  # failed deliveries so far
    Column("next_attempt_at", Float, nullable=False),  # unix seconds: the backoff survives restarts
    Column("last_error", Text),
    Column("refund_reason", Text),
    # What the brand delivered is sealed in `contents` (per-customer AES-GCM, erasable) under
    # oracle.redeem.keys.redemption_key(chain, contract, id, customer, item); this is its salted commitment,
    # the value fulfil() puts on chain. chain_commitment is the one the Fulfilled event carried.
    Column("delivery_commitment", LargeBinary(32)),
    Column("delivered_at", BigInteger),
    Column("chain_commitment", LargeBinary(32)),
    Column("fulfil_tx", LargeBinary(32)),
    Column("refund_tx", LargeBinary(32)),
    CheckConstraint(f"state IN {REDEMPTION_STATES}", name="ck_redemptions_state"),
    CheckConstraint(f"action IN {REDEMPTION_ACTIONS}", name="ck_redemptions_action"),
    Index("ix_redemptions_work", "state", "next_attempt_at"),
)

price_announcements = Table(
    "price_announcements",
    metadata,
    # Every PriceChangeAnnounced event, keyed by where it was logged. 'announced' until the item's
    # announcement is cancelled or replaced by a newer one before taking effect; whether it has
    # taken effect is a matter of the chain's clock (effective_at), decided when listed.
    Column("block_number", BigInteger, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    Column("item_id", BigInteger, nullable=False, index=True),
    Column("old_price", String(80), nullable=False),
    Column("new_price", String(80), nullable=False),
    Column("announced_at", BigInteger, nullable=False),
    Column("effective_at", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("state_block", BigInteger, nullable=False),
    Column("tx_hash", LargeBinary(32), nullable=False),
    CheckConstraint("state IN ('announced', 'cancelled', 'replaced')", name="ck_price_announcements_state"),
)

NOTE_STATES = ("pending", "posted", "failed")

notes = Table(
    "notes",
    metadata,
    # The on-chain proof of a final reward, to be posted on the helpdesk ticket it came from
    # (oracle/notes/). Posted at least once: a crash between the helpdesk's answer and this row's
    # update repeats one note, which carries the event id so the brand can tell it is a repeat.
    Column("event_id", LargeBinary(32), primary_key=True),
    Column("helpdesk", String(32), nullable=False),  # the notes adapter: the event's source
    Column("ticket_id", String(100), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),  # unix seconds: the backoff survives restarts
    Column("last_error", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("posted_at", BigInteger),
    CheckConstraint(f"state IN {NOTE_STATES}", name="ck_notes_state"),
    Index("ix_notes_work", "state", "next_attempt_at"),
)

note_cursors = Table(
    "note_cursors",
    metadata,
    # Every batch up to `batch_id` was final and its events queued for notes: the scan for new
    # final rewards starts after it instead of reading every final event each time.
    Column("name", String(32), primary_key=True),
    Column("batch_id", BigInteger, nullable=False),
)


relay_uses = Table(
    "relay_uses",
    metadata,
    # Gasless redemptions relayed per customer (their address, lower case), kept for the rolling
    # window of the relay's limit: in the database, so a restart or a second `serve` process
    # cannot reset or split the count.
    Column("use_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("customer", String(42), nullable=False),
    Column("used_at", Float, nullable=False),
    Index("ix_relay_uses_customer", "customer", "used_at"),
)

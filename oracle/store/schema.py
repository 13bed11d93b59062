"""Tables of the outbox, in SQLAlchemy Core so that one codebase runs on SQLite (default, one
oracle instance) and PostgreSQL (several instances: row locks serialise sequence numbers).

Amounts are integers in coin units (18 decimals), stored as decimal strings: SQLite's integers
are 64-bit (10 coins is already 10**19 units) and its NUMERIC would silently fall back to a
float. Never floats; exact in both databases.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
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
SCHEMA_VERSION = 3

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

"""Feedback content stays off-chain, encrypted per customer; the chain holds a salted commitment.

- Each customer has a random AES-256 data key, stored only wrapped (AES-GCM) under the brand's
  master key, so a copy of the database alone reveals nothing.
- Content (the helpdesk's JSON: comment, rating, answers) is canonicalised, encrypted with the
  customer's key (AES-GCM, random 96-bit nonce, the event id as associated data so a
  ciphertext cannot be moved to another event) and stored with a random 32-byte salt.
- The on-chain commitment is keccak256(salt || canonical content). The salt matters: a 1-5
  rating has five possible contents, and an unsalted hash of one is guessed in five tries.
- `erase(customer)` deletes the customer's key and every salt of theirs: the content can no
  longer be read, nor a guess checked against the on-chain commitment, while the chain and
  every other record stay intact and verifiable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_utils import keccak
from sqlalchemy import Connection, Engine, delete, insert, select, update

from oracle.errors import OracleError
from oracle.store.engine import chunks, write_transaction
from oracle.store.schema import contents, customer_keys, master_key_check

NONCE_BYTES = 12
KEY_WRAP_CONTEXT = b"servicecoin/customer-key/v1/"
KEY_CHECK_LABEL = b"servicecoin/v1/master-key-check"


WRONG_BRAND_SECRET = (
    "the brand secret is not the one this outbox was made with (SERVICECOIN_BRAND_SECRET or "
    "secrets.brand_secret_file): with it, customers' custodial addresses and content keys would be "
    "other ones, and their rewards paid where nobody can use them. Restore the outbox's secret"
)


class PrivacyError(OracleError):
    """Content cannot be stored, read or verified; the message says why."""


def canonical(content: dict[str, Any]) -> bytes:
    """One byte string per content: sorted keys, no spaces, UTF-8 (what the commitment hashes)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def commitment(salt: bytes, content: dict[str, Any]) -> bytes:
    return keccak(salt + canonical(content))


@dataclass(frozen=True)
class Opened:
    content: dict[str, Any]
    salt: bytes
    commitment: bytes


class ContentVault:
    def __init__(self, engine: Engine, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise PrivacyError(f"the master key must be 32 bytes, got {len(master_key)}")
        self._engine = engine
        self._master = AESGCM(master_key)
        self._master_key = master_key

    def seal(self, connection: Connection, customer_id: str, event_id: bytes, content: dict[str, Any], now: int) -> bytes:
        """Encrypts and stores an event's content inside the caller's transaction (the one that
        stores the event) and returns the commitment that goes on-chain."""
        key = self._customer_key(connection, customer_id, now)
        salt = os.urandom(32)
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = nonce + AESGCM(key).encrypt(nonce, canonical(content), event_id)
        digest = commitment(salt, content)
        connection.execute(
            insert(contents).values(
                event_id=event_id, customer_id=customer_id, ciphertext=ciphertext, salt=salt, commitment=digest
            )
        )
        return digest

    def seal_many(
        self, connection: Connection, items: list[tuple[str, bytes, dict[str, Any]]], now: int
    ) -> list[bytes]:
        """`seal` for many (customer id, event id, content) at once, in the caller's transaction:
        one read of the customers' keys, one insert of the new keys, one of the contents."""
        customers = sorted({customer for customer, _, _ in items})
        keys: dict[str, bytes] = {}
        for chunk in chunks(customers):
            for customer, wrapped in connection.execute(
                select(customer_keys.c.customer_id, customer_keys.c.wrapped_key).where(customer_keys.c.customer_id.in_(chunk))
            ):
                keys[customer] = self._unwrap(customer, wrapped)
        new_keys = []
        for customer in customers:
            if customer not in keys:
                keys[customer] = AESGCM.generate_key(bit_length=256)
                nonce = os.urandom(NONCE_BYTES)
                wrapped = nonce + self._master.encrypt(nonce, keys[customer], KEY_WRAP_CONTEXT + customer.encode())
                new_keys.append({"customer_id": customer, "wrapped_key": wrapped, "created_at": now})
        if new_keys:
            connection.execute(insert(customer_keys), new_keys)
        rows, digests = [], []
        for customer, event_id, content in items:
            salt, nonce = os.urandom(32), os.urandom(NONCE_BYTES)
            ciphertext = nonce + AESGCM(keys[customer]).encrypt(nonce, canonical(content), event_id)
            digest = commitment(salt, content)
            rows.append({"event_id": event_id, "customer_id": customer, "ciphertext": ciphertext, "salt": salt,
                         "commitment": digest})
            digests.append(digest)
        if rows:
            connection.execute(insert(contents), rows)
        return digests

    def open(self, event_id: bytes) -> Opened | None:
        """The decrypted content, its salt and commitment; None once the customer is erased."""
        with self._engine.connect() as connection:
            row = connection.execute(select(contents).where(contents.c.event_id == event_id)).one_or_none()
            if row is None:
                raise PrivacyError(f"no content stored for event {event_id.hex()}")
            wrapped = connection.execute(
                select(customer_keys.c.wrapped_key).where(customer_keys.c.customer_id == row.customer_id)
            ).scalar()
        if wrapped is None or row.salt is None:
            return None
        key = self._unwrap(row.customer_id, wrapped)
        nonce, sealed = row.ciphertext[:NONCE_BYTES], row.ciphertext[NONCE_BYTES:]
        try:
            plaintext = AESGCM(key).decrypt(nonce, sealed, event_id)
        except InvalidTag:
            raise PrivacyError(f"event {event_id.hex()}: the stored content fails authentication") from None
        content = json.loads(plaintext)
        return Opened(content=content, salt=row.salt, commitment=row.commitment)

    def verify(self, event_id: bytes, on_chain_commitment: bytes) -> str:
        """'match', 'mismatch' or 'erased': whether the stored content opens the on-chain commitment."""
        opened = self.open(event_id)
        if opened is None:
            return "erased"
        return "match" if commitment(opened.salt, opened.content) == on_chain_commitment else "mismatch"

    def erase(self, customer_id: str) -> int:
        """Crypto-shreds a customer: deletes their data key and every salt. Returns how many
        contents became unreadable. Irreversible by design."""
        with write_transaction(self._engine) as connection:
            connection.execute(delete(customer_keys).where(customer_keys.c.customer_id == customer_id))
            result = connection.execute(
                update(contents).where(contents.c.customer_id == customer_id).values(salt=None)
            )
        return int(result.rowcount)

    def check_master_key(self, connection: Connection) -> None:
        """Refuses a master key other than the outbox's: the brand secret derives it, and the
        custodial addresses too, so with a wrong secret new content would be sealed under a key
        nobody keeps and rewards paid to addresses nobody holds. The first open records a check
        value; an outbox from before it (schema 4) is checked against a stored customer key."""
        value = hmac.new(self._master_key, KEY_CHECK_LABEL, hashlib.sha256).digest()
        stored = connection.execute(select(master_key_check.c.value)).scalar()
        if stored is None:
            row = connection.execute(select(customer_keys).limit(1)).first()
            if row is not None and not self._opens(row.customer_id, row.wrapped_key):
                raise PrivacyError(WRONG_BRAND_SECRET)
            connection.execute(insert(master_key_check).values(id=1, value=value))
        elif not hmac.compare_digest(bytes(stored), value):
            raise PrivacyError(WRONG_BRAND_SECRET)

    def _opens(self, customer_id: str, wrapped: bytes) -> bool:
        try:
            self._unwrap(customer_id, wrapped)
        except PrivacyError:
            return False
        return True

    def _customer_key(self, connection: Connection, customer_id: str, now: int) -> bytes:
        wrapped = connection.execute(
            select(customer_keys.c.wrapped_key).where(customer_keys.c.customer_id == customer_id)
        ).scalar()
        if wrapped is not None:
            return self._unwrap(customer_id, wrapped)
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + self._master.encrypt(nonce, key, KEY_WRAP_CONTEXT + customer_id.encode())
        connection.execute(insert(customer_keys).values(customer_id=customer_id, wrapped_key=wrapped, created_at=now))
        return key

    def _unwrap(self, customer_id: str, wrapped: bytes) -> bytes:
        try:
            return self._master.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], KEY_WRAP_CONTEXT + customer_id.encode())
        except InvalidTag:
            raise PrivacyError(f"customer {customer_id!r}: the data key does not open with this master key") from None

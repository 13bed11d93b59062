"""Who gets a customer's rewards: the wallet they linked, else their custodial address.

A link is requested with `servicecoin wallet link CUSTOMER ADDRESS`. Requesting it records the
wallet and, in the same transaction, re-addresses the customer's eligible events that no batch
holds yet, so every reward decided from then on goes to the wallet. The coins and reward history
already at the custodial address move on chain afterwards (oracle/linking.py).

Why requests cannot race the pipeline: the pipeline resolves addresses inside its deciding
transaction, which holds the outbox's write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the
brand's decision lock, which a request takes too). A link committed
before that transaction began is seen by `address_for` (it reads the latest commit); a link
committed after it waited for the lock, and then re-addressed what the decision made eligible.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils import is_checksum_address, is_hex_address, to_checksum_address
from sqlalchemy import Engine, bindparam, func, insert, select, update

from oracle.custody import CustodialWallets
from oracle.errors import OracleError
from oracle.store.engine import DECISION_LOCK, serialise, write_transaction
from oracle.store.schema import events, wallet_links

log = logging.getLogger("servicecoin.identity")
ZERO_ADDRESS = "0x" + "00" * 20
# Events whose reward is decided but not final: a coin or history still on its way to the address.
IN_FLIGHT_STATES = ("eligible", "batched", "submitted", "confirmed")


class LinkRefused(OracleError):
    """A wallet link that cannot be recorded; nothing was changed. The message says why."""


@dataclass(frozen=True)
class WalletLink:
    customer_id: str
    custodial_address: str
    address: str
    state: str  # requested | linked
    requested_at: int
    linked_at: int | None
    tx_hash: bytes | None


@dataclass(frozen=True)
class LinkRequested:
    link: WalletLink
    readdressed: int  # eligible events whose reward now goes to the wallet


def checked_wallet(address: str) -> str:
    """The address, if it is a well-formed, EIP-55 checksummed, non-zero address.

    The checksum is required, not just accepted: the link moves coins irreversibly, and an
    all-lowercase address carries no protection against a mistyped character."""
    if not is_hex_address(address):
        raise LinkRefused(f"{address!r} is not an address (expected 0x and 40 hex digits)")
    if not is_checksum_address(address):
        raise LinkRefused(
            f"{address} has no valid EIP-55 checksum: give it exactly as the wallet shows it "
            f"(mixed case), e.g. {to_checksum_address(address)} if that is the one you mean"
        )
    if address.lower() == ZERO_ADDRESS:
        raise LinkRefused("the zero address cannot hold coins")
    return address


class Identity:
    """Maps helpdesk customer ids to addresses and records wallet links."""

    def __init__(self, engine: Engine, wallets: CustodialWallets, clock: Any = time.time) -> None:
        self._engine = engine
        self._wallets = wallets
        self._clock = clock
        self._lookup = _LinkLookup(engine)

    def custodial_address(self, customer_id: str) -> str:
        return self._wallets.address_for(customer_id)

    def custodial_account(self, customer_id: str) -> Any:
        return self._wallets.account_for(customer_id)

    def address_for(self, customer_id: str) -> str:
        """Where a reward decided now goes: the linked wallet (requested or completed), else
        the custodial address. Called once per eligible event, inside the deciding transaction."""
        return self._lookup.wallet_of(customer_id) or self._wallets.address_for(customer_id)

    def link_of(self, customer_id: str) -> WalletLink | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(wallet_links).where(wallet_links.c.customer_id == customer_id)).first()
        return None if row is None else _link(row)

    def links_in(self, state: str) -> list[WalletLink]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(wallet_links).where(wallet_links.c.state == state).order_by(wallet_links.c.requested_at)
            ).all()
        return [_link(row) for row in rows]

    def request_link(
        self, customer_id: str, wallet: str, forbidden: dict[str, str] | None = None, *,
        proof: Callable[[str, str], None] | None,
    ) -> LinkRequested:
        """Records a link as requested and re-addresses the customer's unbatched eligible events,
        in one transaction. `forbidden`: other addresses that must never be a customer's wallet
        (the protocol's contracts), by what they are. `proof(wallet, custodial)`: raises
        LinkRefused unless the wallet proved it is the customer's (oracle/wallet_proof.py); it
        runs after the address checks, before anything is written. Required, so that no caller
        forgets it: None says the wallet was proven otherwise (the outbox's unit tests). Raises
        LinkRefused, changing nothing."""
        wallet = checked_wallet(wallet)
        custodial = self._wallets.address_for(customer_id)
        if wallet.lower() == custodial.lower():
            raise LinkRefused(f"{wallet} is the custodial address of {customer_id!r} itself, not a wallet of theirs")
        for what, address in (forbidden or {}).items():
            if wallet.lower() == address.lower():
                raise LinkRefused(f"{wallet} is {what}, not a customer's wallet")
        if proof is not None:
            proof(wallet, custodial)
        now = int(self._clock())
        with write_transaction(self._engine) as connection:
            # PostgreSQL: wait for a decision in progress, whose events would otherwise be made
            # eligible at the custodial address just after this re-addressed none of them.
            serialise(connection, DECISION_LOCK, self._wallets.brand_id)
            existing = connection.execute(select(wallet_links).where(wallet_links.c.customer_id == customer_id)).first()
            if existing is not None:
                if existing.address.lower() == wallet.lower():
                    raise LinkRefused(f"{customer_id!r} is already linked to {existing.address} ({existing.state})")
                raise LinkRefused(
                    f"{customer_id!r} is already linked to {existing.address} ({existing.state}); a link is permanent"
                )
            self._refuse_foreign_address(connection, customer_id, wallet)
            connection.execute(
                insert(wallet_links).values(
                    customer_id=customer_id, custodial_address=custodial, address=wallet, state="requested",
                    requested_at=now,
                )
            )
            readdressed = connection.execute(
                update(events)
                .where(events.c.customer_id == customer_id, events.c.state == "eligible")
                .values(customer_address=wallet)
            ).rowcount
        link = WalletLink(customer_id, custodial, wallet, "requested", now, None, None)
        return LinkRequested(link, int(readdressed))

    @staticmethod
    def _refuse_foreign_address(connection: Any, customer_id: str, wallet: str) -> None:
        """Another customer's wallet or custodial address would merge two customers' coins."""
        lowered = wallet.lower()
        other = connection.execute(
            select(wallet_links.c.customer_id, wallet_links.c.address).where(
                (func.lower(wallet_links.c.address) == lowered) | (func.lower(wallet_links.c.custodial_address) == lowered)
            )
        ).first()
        if other is not None:
            what = "wallet" if other.address.lower() == lowered else "custodial address"
            raise LinkRefused(f"{wallet} is the {what} of another customer ({other.customer_id!r})")
        # Every address the oracle ever rewarded is in the events table: a custodial address of
        # a customer who never linked can only be recognised there (the derivation is keyed).
        paid = connection.execute(
            select(events.c.customer_id)
            .where(func.lower(events.c.customer_address) == lowered, events.c.customer_id != customer_id)
            .limit(1)
        ).first()
        if paid is not None:
            raise LinkRefused(f"{wallet} receives the rewards of another customer ({paid.customer_id!r})")

    def in_flight_to(self, customer_id: str, address: str) -> int:
        """How many of the customer's rewards to `address` are decided but not yet final."""
        with self._engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count()).where(
                        events.c.customer_id == customer_id,
                        events.c.customer_address == address,
                        events.c.state.in_(IN_FLIGHT_STATES),
                    )
                ).scalar()
            )

    def mark_linked(self, customer_id: str, tx_hash: bytes | None) -> None:
        with write_transaction(self._engine) as connection:
            connection.execute(
                update(wallet_links)
                .where(wallet_links.c.customer_id == customer_id, wallet_links.c.state == "requested")
                .values(state="linked", linked_at=int(self._clock()), tx_hash=tx_hash)
            )


def sweep_again(connection: Any, custodial_address: str) -> bool:
    """Coins reached a custodial address whose customer has already linked a wallet (a refund of
    a redemption made before the link): the link goes back to requested, so the linker moves
    them too (linkWallet may run again: the holder's nonce is per signature). Inside the
    caller's transaction; True when a link was reopened."""
    reopened = connection.execute(
        update(wallet_links)
        .where(wallet_links.c.custodial_address == custodial_address, wallet_links.c.state == "linked")
        .values(state="requested")
    )
    return bool(reopened.rowcount)


def _link(row: Any) -> WalletLink:
    return WalletLink(
        row.customer_id, row.custodial_address, row.address, row.state, row.requested_at, row.linked_at,
        None if row.tx_hash is None else bytes(row.tx_hash),
    )


class _LinkLookup:
    """A customer's linked wallet, read on a connection of its own per thread.

    Why not a pooled SQLAlchemy connection: the lookup runs once per eligible event on the
    pipeline's hot path, and a pool checkout plus BEGIN costs ~300 us against ~15 us for one
    statement on a kept DBAPI connection. Each statement runs in autocommit (SQLite: the engine
    sets isolation_level None; other databases: committed right after), so it always sees the
    latest committed link and never holds a snapshot open."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        statement = select(wallet_links.c.address).where(wallet_links.c.customer_id == bindparam("customer"))
        compiled = statement.compile(dialect=engine.dialect)
        self._sql = str(compiled)
        self._positional = bool(engine.dialect.positional)
        self._local = threading.local()

    def wallet_of(self, customer_id: str) -> str | None:
        try:
            return self._read(customer_id)
        except self._engine.dialect.loaded_dbapi.Error as exc:
            # The kept connection may be dead (a database restart, a failover) or stuck in an
            # aborted transaction: drop it and read once more on a new one, which raises if the
            # database is really unreachable. Kept, it would fail every later lookup.
            log.warning("wallet lookup: %s; reading again on a new connection", exc)
            self._discard()
            return self._read(customer_id)

    def _read(self, customer_id: str) -> str | None:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._engine.raw_connection()
        cursor = connection.cursor()
        try:
            cursor.execute(self._sql, (customer_id,) if self._positional else {"customer": customer_id})
            row = cursor.fetchone()
        finally:
            cursor.close()
        if self._engine.dialect.name != "sqlite":
            connection.commit()  # end the read transaction the driver opened
        return None if row is None else str(row[0])

    def _discard(self) -> None:
        connection, self._local.connection = getattr(self._local, "connection", None), None
        if connection is not None:
            connection.invalidate()  # its driver connection closed; the pool opens a new one

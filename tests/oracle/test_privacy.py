"""Content encrypted per customer, salted commitments, and crypto-shredding on erase."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils import keccak
from sqlalchemy import select, update

from oracle.events import HelpdeskEvent
from oracle.kinds import FeedbackKind
from oracle.privacy import ContentVault, PrivacyError, canonical, commitment
from oracle.store.outbox import Outbox
from oracle.store.schema import contents, customer_keys, master_key_check

MASTER_KEY = keccak(text="servicecoin-test-master-key")
T0 = 1_795_000_000


def rating(n: int, customer: str = "cust-1") -> HelpdeskEvent:
    return HelpdeskEvent(1, "zendesk", f"csat-{n}", customer, FeedbackKind.CSAT_RATING, T0 + n)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "outbox.db"


@pytest.fixture
def outbox(db: Path) -> Outbox:
    return Outbox.open(f"sqlite:///{db}", MASTER_KEY)


def test_canonical_content_ignores_key_order() -> None:
    assert canonical({"b": 1, "a": "é"}) == canonical({"a": "é", "b": 1}) == '{"a":"é","b":1}'.encode()


def test_commitment_is_keccak_of_salt_and_canonical_content(outbox: Outbox) -> None:
    event = rating(1)
    outbox.receive(event, {"rating": 4, "comment": "quick"}, received_at=T0)
    opened = outbox.vault.open(event.id)
    assert opened.commitment == keccak(opened.salt + canonical({"comment": "quick", "rating": 4}))
    assert opened.commitment == commitment(opened.salt, opened.content)


def test_identical_ratings_get_different_commitments(outbox: Outbox) -> None:
    first, second = rating(1), rating(2)
    outbox.receive(first, {"rating": 5}, received_at=T0)
    outbox.receive(second, {"rating": 5}, received_at=T0)
    assert outbox.event_row(first.id).content_commitment != outbox.event_row(second.id).content_commitment


def test_an_unsalted_guess_does_not_match_the_commitment(outbox: Outbox) -> None:
    event = rating(1)
    outbox.receive(event, {"rating": 3}, received_at=T0)
    on_chain = outbox.event_row(event.id).content_commitment
    assert all(keccak(canonical({"rating": r})) != on_chain for r in range(1, 6))


def test_content_is_not_stored_in_clear(outbox: Outbox, db: Path) -> None:
    outbox.receive(rating(1), {"comment": "my-very-private-remark"}, received_at=T0)
    outbox._engine.dispose()  # checkpoint nothing hidden in other handles
    raw = b"".join(p.read_bytes() for p in db.parent.glob("outbox.db*"))
    assert b"my-very-private-remark" not in raw


def test_another_master_key_cannot_read_the_content(outbox: Outbox, db: Path) -> None:
    event = rating(1)
    outbox.receive(event, {"rating": 2}, received_at=T0)
    with pytest.raises(PrivacyError, match="the brand secret is not the one this outbox was made with"):
        Outbox.open(f"sqlite:///{db}", keccak(text="another-master-key"))  # refused at once
    intruder = ContentVault(outbox.engine, keccak(text="another-master-key"))  # and the vault itself
    with pytest.raises(PrivacyError, match="customer 'cust-1': the data key does not open with this master key"):
        intruder.open(event.id)


def test_a_ciphertext_moved_to_another_event_fails_authentication(outbox: Outbox) -> None:
    first, second = rating(1), rating(2)
    outbox.receive(first, {"rating": 1}, received_at=T0)
    outbox.receive(second, {"rating": 5}, received_at=T0)
    with outbox._engine.begin() as connection:
        moved = connection.execute(select(contents.c.ciphertext).where(contents.c.event_id == first.id)).scalar()
        connection.execute(update(contents).where(contents.c.event_id == second.id).values(ciphertext=moved))
    with pytest.raises(PrivacyError, match="fails authentication"):
        outbox.vault.open(second.id)


def test_verify_matches_the_on_chain_commitment_and_nothing_else(outbox: Outbox) -> None:
    event = rating(1)
    outbox.receive(event, {"rating": 4}, received_at=T0)
    on_chain = outbox.event_row(event.id).content_commitment
    assert outbox.vault.verify(event.id, on_chain) == "match"
    assert outbox.vault.verify(event.id, keccak(text="something else")) == "mismatch"


def test_erase_shreds_one_customer_and_keeps_the_records(outbox: Outbox) -> None:
    mine, other = rating(1, "cust-1"), rating(2, "cust-2")
    outbox.receive(mine, {"rating": 1}, received_at=T0)
    outbox.receive(rating(3, "cust-1"), {"rating": 2}, received_at=T0)
    outbox.receive(other, {"rating": 5}, received_at=T0)
    on_chain = outbox.event_row(mine.id).content_commitment
    assert outbox.vault.erase("cust-1") == 2
    assert outbox.vault.open(mine.id) is None
    assert outbox.vault.verify(mine.id, on_chain) == "erased"
    assert outbox.event_row(mine.id).content_commitment == on_chain  # the record stays verifiable on chain
    assert outbox.vault.open(other.id).content == {"rating": 5}
    with outbox._engine.connect() as connection:
        assert connection.execute(select(customer_keys.c.customer_id)).scalars().all() == ["cust-2"]


def test_a_short_master_key_is_refused(db: Path) -> None:
    with pytest.raises(PrivacyError, match="the master key must be 32 bytes, got 16"):
        Outbox.open(f"sqlite:///{db}", b"\x00" * 16)


def test_opening_an_unknown_event_is_refused(outbox: Outbox) -> None:
    with pytest.raises(PrivacyError, match="no content stored for event"):
        outbox.vault.open(b"\x00" * 32)


def test_a_wrong_brand_secret_is_refused_at_open_even_for_an_outbox_from_before_the_check(
    outbox: Outbox, db: Path
) -> None:
    """An outbox made before the check (schema 4) has no check value: a stored customer key
    decides, and the right key then records the value for the next opens."""
    outbox.receive(rating(1), {"rating": 2}, received_at=T0)
    with outbox.engine.begin() as connection:
        connection.execute(master_key_check.delete())
    with pytest.raises(PrivacyError, match="the brand secret is not the one this outbox was made with"):
        Outbox.open(f"sqlite:///{db}", keccak(text="another-master-key"))
    with outbox.engine.connect() as connection:
        assert connection.execute(select(master_key_check)).all() == []  # nothing recorded for it
    Outbox.open(f"sqlite:///{db}", MASTER_KEY)
    with outbox.engine.connect() as connection:
        assert len(connection.execute(select(master_key_check)).all()) == 1


def test_an_empty_outbox_takes_the_first_key_and_refuses_others(db: Path) -> None:
    Outbox.open(f"sqlite:///{db}", MASTER_KEY)
    with pytest.raises(PrivacyError, match="Restore the outbox's secret"):
        Outbox.open(f"sqlite:///{db}", keccak(text="another-master-key"))
    Outbox.open(f"sqlite:///{db}", MASTER_KEY)

"""The brand's analytics, read from the outbox: who participates most, who went quiet, and which
kinds of feedback come least.

Everything is counted from the events the helpdesk delivered, by when they happened
(`occurred_at`), over a window of `days` ending now:
- **most active customers**: the most events rewarded in the window (ties: the larger sum of
  base rewards). Base rewards are the policy's amounts; the chain multiplies them by the
  customer's tier, so the coins minted may be higher.
- **churn risk**: customers with rewarded events in the window before this one and no event
  at all in this one, the most active first. They used to take part and stopped.
- **kinds with least feedback**: every kind of participation, with what was received,
  rewarded, declined (by the policy or by an on-chain cap) and still on its way, fewest first.
  A kind nobody used in the window shows with zeros.

An event counts as rewarded once its batch is confirmed on chain and the registry did not skip
it. A record skipped as AlreadyRecorded was rewarded by an earlier transaction (a resubmission),
so it counts too. Queries group in the database, so a report over millions of events reads
index ranges, not rows into Python.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select

from oracle.kinds import FeedbackKind
from oracle.store.schema import events

DAY = 86_400
_ON_CHAIN = ("confirmed", "final")
_PENDING = ("received", "eligible", "batched", "submitted")


@dataclass(frozen=True)
class CustomerActivity:
    customer_id: str
    rewarded: int
    base_reward_units: int
    last_seen: int  # occurred_at of the customer's latest event in the window


@dataclass(frozen=True)
class ChurnRisk:
    customer_id: str
    rewarded_before: int  # rewarded events in the previous window
    last_seen: int


@dataclass(frozen=True)
class KindVolume:
    kind: str
    received: int
    rewarded: int
    declined: int
    pending: int


@dataclass(frozen=True)
class Report:
    brand_id: int
    days: int
    since: int  # start of the window (unix seconds, inclusive)
    until: int  # its end (now, exclusive)
    most_active: list[CustomerActivity]
    churn_risk: list[ChurnRisk]
    kinds: list[KindVolume]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _rewarded() -> Any:
    """The SQL condition for "rewarded on chain" (see the module doc)."""
    return and_(
        events.c.state.in_(_ON_CHAIN),
        or_(events.c.reason.is_(None), events.c.reason.like("%AlreadyRecorded%")),
    )


def build_report(engine: Engine, brand_id: int, now: int, days: int = 30, top: int = 10) -> Report:
    if days < 1 or top < 1:
        raise ValueError("days and top must be at least 1")
    since, before = now - days * DAY, now - 2 * days * DAY
    brand = events.c.brand_id == brand_id
    with engine.connect() as connection:
        most_active = _most_active(connection, brand, since, now, top)
        churn = _churn_risk(connection, brand, before, since, now, top)
        kinds = _kind_volumes(connection, brand, since, now)
    return Report(brand_id, days, since, now, most_active, churn, kinds)


def _in_window(start: int, end: int) -> Any:
    return and_(events.c.occurred_at >= start, events.c.occurred_at < end)


def _most_active(connection: Any, brand: Any, since: int, now: int, top: int) -> list[CustomerActivity]:
    rewarded = func.count()
    query = (
        select(events.c.customer_id, rewarded, func.max(events.c.occurred_at), events.c.reward_units)
        .where(brand, _in_window(since, now), _rewarded())
        .group_by(events.c.customer_id, events.c.reward_units)
    )
    # Grouped by reward too: reward_units is a decimal string, summed exactly here rather than
    # as a float in SQL. A policy has a handful of amounts, so this stays a small result.
    totals: dict[str, list[int]] = {}
    for customer, count, last_seen, units in connection.execute(query):
        entry = totals.setdefault(customer, [0, 0, 0])
        entry[0] += count
        entry[1] += int(Decimal(units or 0)) * count
        entry[2] = max(entry[2], last_seen)
    ranked = sorted(totals.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    return [CustomerActivity(customer, n, units, last) for customer, (n, units, last) in ranked[:top]]


def _churn_risk(connection: Any, brand: Any, before: int, since: int, now: int, top: int) -> list[ChurnRisk]:
    active_now = select(events.c.customer_id).where(brand, _in_window(since, now))
    rewarded_before = func.count()
    query = (
        select(events.c.customer_id, rewarded_before, func.max(events.c.occurred_at))
        .where(brand, _in_window(before, since), _rewarded(), events.c.customer_id.not_in(active_now))
        .group_by(events.c.customer_id)
        .order_by(rewarded_before.desc(), func.max(events.c.occurred_at).desc(), events.c.customer_id)
        .limit(top)
    )
    return [ChurnRisk(customer, n, last) for customer, n, last in connection.execute(query)]


def _kind_volumes(connection: Any, brand: Any, since: int, now: int) -> list[KindVolume]:
    rewarded = func.sum(case((_rewarded(), 1), else_=0))
    pending = func.sum(case((events.c.state.in_(_PENDING), 1), else_=0))
    query = (
        select(events.c.kind, func.count(), rewarded, pending)
        .where(brand, _in_window(since, now))
        .group_by(events.c.kind)
    )
    counts = {kind: (received, int(r or 0), int(p or 0)) for kind, received, r, p in connection.execute(query)}
    volumes = []
    for kind in FeedbackKind:
        received, rewarded_n, pending_n = counts.get(int(kind), (0, 0, 0))
        volumes.append(KindVolume(kind.name.lower(), received, rewarded_n, received - rewarded_n - pending_n, pending_n))
    return sorted(volumes, key=lambda v: (v.received, v.rewarded, v.kind))

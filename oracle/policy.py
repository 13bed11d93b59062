"""The brand's published reward policy: which helpdesk events earn coins, and how many.

A YAML file, validated at start-up with errors that name the field. The policy decides
*eligibility* (kind enabled, quality gates, per-customer rate limits, the daily budget); the
*amount* is the public on-chain schedule (base reward per kind times the customer's tier),
which the oracle checks the policy's `base_rewards` against at start-up. Nothing here reads a
rating's value: a 1-star and a 5-star answer to the same survey are the same event, because
paying for positive reviews is unethical and in many jurisdictions illegal.

The policy's hash (keccak256 of the file's bytes) travels on-chain with every batch, so anyone
can tell which published rules produced a reward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Protocol

import yaml
from eth_utils import keccak
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from oracle.errors import PolicyError
from oracle.kinds import FeedbackKind
from oracle.strict_yaml import load_unique
from oracle.units import svc, to_units
from oracle.validation import describe, require_known_kinds

Coins = Annotated[Decimal, Field(gt=0, max_digits=30, decimal_places=18)]


def _known_kind(name: str) -> str:
    require_known_kinds([name])
    return name


# Checked key by key, beside the rules' values, so that one report names every problem.
KindName = Annotated[str, AfterValidator(_known_kind)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindRule(_Strict):
    """How one kind of participation is rewarded."""

    base_reward: Coins
    # Most rewarded events of this kind per customer per UTC day (None: no limit of its own).
    max_per_customer_per_day: int | None = Field(default=None, ge=1)
    # Flags the helpdesk must have set on the event (e.g. an agent marked the question valid).
    requires: tuple[str, ...] = ()


class Policy(_Strict):
    version: int = Field(ge=1)
    brand_id: int = Field(ge=0, lt=2**32)
    kinds: dict[KindName, KindRule] = Field(min_length=1)
    # Most base reward per UTC day (the day the event occurred), over all customers (None:
    # only on-chain caps). Tier multipliers and welcome bonuses, applied on chain, come on top.
    daily_budget: Coins | None = None

    def rule_for(self, kind: FeedbackKind) -> KindRule | None:
        return self.kinds.get(kind.name.lower())


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    hash: bytes  # keccak256 of the file's bytes: what goes on-chain with each batch


def load_policy(path: Path | str) -> LoadedPolicy:
    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such policy file") from None
    try:
        raw = load_unique(raw_bytes)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from None
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(f"{path}: {describe(exc)}") from None
    return LoadedPolicy(policy=policy, hash=keccak(raw_bytes))


@dataclass(frozen=True)
class Event:
    """What the policy needs to know of a helpdesk event (no content, no rating)."""

    customer_id: str
    kind: FeedbackKind
    day: date
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    eligible: bool
    reason: str  # why not, for the store's `ineligible` state; "eligible" otherwise
    base_reward: Decimal = Decimal(0)


class RewardHistory(Protocol):
    """What has been decided eligible so far (the outbox knows)."""

    def count_for(self, customer_id: str, kind: FeedbackKind, day: date) -> int: ...

    def budget_used(self, day: date) -> Decimal: ...


def decide(policy: Policy, event: Event, history: RewardHistory) -> Decision:
    """Eligibility of one event. Pure: the caller records an eligible decision in the same
    transaction that reads the history, so two events cannot both take the last slot."""
    rule = policy.rule_for(event.kind)
    if rule is None:
        return Decision(False, f"kind {event.kind.name.lower()} is not rewarded by policy v{policy.version}")
    missing = sorted(set(rule.requires) - event.flags)
    if missing:
        return Decision(False, f"quality gate: missing {', '.join(missing)}")
    if rule.max_per_customer_per_day is not None:
        if history.count_for(event.customer_id, event.kind, event.day) >= rule.max_per_customer_per_day:
            return Decision(
                False, f"rate limit: {rule.max_per_customer_per_day} {event.kind.name.lower()} per customer per day"
            )
    if policy.daily_budget is not None and history.budget_used(event.day) + rule.base_reward > policy.daily_budget:
        return Decision(False, f"daily budget of {policy.daily_budget} coins reached")
    return Decision(True, "eligible", rule.base_reward)


def schedule_mismatches(policy: Policy, on_chain_base_rewards: dict[FeedbackKind, int]) -> list[str]:
    """Differences between the policy's base rewards and the registry's public schedule (in
    coin units, 18 decimals). The oracle refuses to start while there is any: a policy must
    not promise what the chain will not pay."""
    problems = []
    for name, rule in policy.kinds.items():
        kind = FeedbackKind.from_name(name)
        expected = to_units(rule.base_reward)
        actual = on_chain_base_rewards.get(kind, 0)
        if actual != expected:
            problems.append(f"kinds.{name}.base_reward: policy says {svc(expected)} SVC, the registry pays {svc(actual)} SVC "
                            f"({expected} and {actual} units)")
    return problems

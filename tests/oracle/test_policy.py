"""The reward policy: validation that names the field, eligibility decisions, the hash."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from eth_utils import keccak

from oracle.errors import PolicyError
from oracle.kinds import FeedbackKind
from oracle.policy import Event, decide, load_policy, schedule_mismatches
from scripts.deploy_config import config_for_network, to_units

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"
DAY = date(2026, 11, 22)


class FakeHistory:
    """In-memory RewardHistory: what was decided eligible so far."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, FeedbackKind, date]] = Counter()
        self.used: dict[date, Decimal] = {}

    def count_for(self, customer_id: str, kind: FeedbackKind, day: date) -> int:
        return self.counts[(customer_id, kind, day)]

    def budget_used(self, day: date) -> Decimal:
        return self.used.get(day, Decimal(0))

    def record(self, event: Event, amount: Decimal) -> None:
        self.counts[(event.customer_id, event.kind, event.day)] += 1
        self.used[event.day] = self.budget_used(event.day) + amount


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def policy():
    return load_policy(EXAMPLE).policy


def test_example_policy_loads_with_every_kind(policy) -> None:
    assert policy.version == 1
    assert set(policy.kinds) == {kind.name.lower() for kind in FeedbackKind}


def test_policy_hash_is_keccak_of_the_file_bytes() -> None:
    assert load_policy(EXAMPLE).hash == keccak(EXAMPLE.read_bytes())


def test_policy_hash_changes_with_any_byte(tmp_path: Path) -> None:
    changed = write(tmp_path, EXAMPLE.read_text().replace("daily_budget: 50000", "daily_budget: 50001"))
    assert load_policy(changed).hash != load_policy(EXAMPLE).hash


def test_example_policy_matches_the_development_schedule(policy) -> None:
    config = config_for_network("development")
    on_chain = {FeedbackKind.from_name(k): to_units(v) for k, v in config.base_rewards.items()}
    assert schedule_mismatches(policy, on_chain) == []


def test_schedule_mismatch_names_the_field_and_both_amounts(policy) -> None:
    on_chain = {kind: to_units(policy.rule_for(kind).base_reward) for kind in FeedbackKind}
    on_chain[FeedbackKind.REFERRAL] = 1
    assert schedule_mismatches(policy, on_chain) == [
        f"kinds.referral.base_reward: policy says 25 SVC, the registry pays 0.000000000000000001 SVC ({25 * 10**18} and 1 units)"
    ]


@pytest.mark.parametrize(
    "text, field",
    [
        ("version: 1\nbrand_id: 1\nkinds: {compliment: {base_reward: 1}}\n", "kinds"),
        ("version: 1\nbrand_id: 1\nkinds: {csat_rating: {base_reward: -1}}\n", "kinds.csat_rating.base_reward"),
        ("version: 1\nbrand_id: 1\nkinds: {csat_rating: {base_reward: 1, bonus: 2}}\n", "kinds.csat_rating.bonus"),
        ("brand_id: 1\nkinds: {csat_rating: {base_reward: 1}}\n", "version"),
        ("version: 1\nbrand_id: 1\nkinds: {}\n", "kinds"),
        ("version: 1\nbrand_id: 1\ndaily_budget: 0\nkinds: {csat_rating: {base_reward: 1}}\n", "daily_budget"),
        (
            "version: 1\nbrand_id: 1\nkinds: {csat_rating: {base_reward: 1, max_per_customer_per_day: 0}}\n",
            "kinds.csat_rating.max_per_customer_per_day",
        ),
    ],
)
def test_invalid_policy_is_refused_naming_the_field(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(PolicyError, match=rf"policy\.yaml: .*{field}(:| )"):
        load_policy(write(tmp_path, text))


def test_unknown_kind_error_lists_the_known_kinds(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="unknown feedback kind 'compliment'.*csat_rating"):
        load_policy(write(tmp_path, "version: 1\nbrand_id: 1\nkinds: {compliment: {base_reward: 1}}\n"))


def test_malformed_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(write(tmp_path, "version: [1\n"))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no such policy file"):
        load_policy(tmp_path / "absent.yaml")


def test_enabled_kind_without_gates_is_eligible_for_its_base_reward(policy) -> None:
    decision = decide(policy, Event("c1", FeedbackKind.SURVEY_RESPONSE, DAY), FakeHistory())
    assert (decision.eligible, decision.reason, decision.base_reward) == (True, "eligible", Decimal(5))


def test_kind_the_policy_does_not_reward_is_ineligible(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "version: 2\nbrand_id: 1\nkinds: {csat_rating: {base_reward: 1}}\n")).policy
    decision = decide(policy, Event("c1", FeedbackKind.REFERRAL, DAY), FakeHistory())
    assert (decision.eligible, decision.reason) == (False, "kind referral is not rewarded by policy v2")


def test_question_not_marked_valid_fails_the_quality_gate(policy) -> None:
    decision = decide(policy, Event("c1", FeedbackKind.VALID_QUESTION, DAY), FakeHistory())
    assert (decision.eligible, decision.reason) == (False, "quality gate: missing agent_marked_valid")


def test_question_marked_valid_by_an_agent_is_eligible(policy) -> None:
    event = Event("c1", FeedbackKind.VALID_QUESTION, DAY, frozenset({"agent_marked_valid"}))
    assert decide(policy, event, FakeHistory()).eligible


def test_rate_limit_allows_up_to_the_daily_count_per_customer(policy) -> None:
    history = FakeHistory()
    event = Event("c1", FeedbackKind.SURVEY_RESPONSE, DAY)
    decisions = []
    for _ in range(4):
        decision = decide(policy, event, history)
        decisions.append(decision.eligible)
        if decision.eligible:
            history.record(event, decision.base_reward)
    assert decisions == [True, True, True, False]
    assert decide(policy, event, history).reason == "rate limit: 3 survey_response per customer per day"


def test_rate_limit_is_per_customer_and_per_day(policy) -> None:
    history = FakeHistory()
    for _ in range(3):
        history.record(Event("c1", FeedbackKind.SURVEY_RESPONSE, DAY), Decimal(5))
    assert decide(policy, Event("c2", FeedbackKind.SURVEY_RESPONSE, DAY), history).eligible
    assert decide(policy, Event("c1", FeedbackKind.SURVEY_RESPONSE, date(2026, 11, 23)), history).eligible


def test_daily_budget_refuses_what_would_exceed_it(policy) -> None:
    history = FakeHistory()
    history.used[DAY] = Decimal(49_996)
    assert decide(policy, Event("c1", FeedbackKind.CSAT_RATING, DAY), history).eligible  # 49,998
    decision = decide(policy, Event("c1", FeedbackKind.SURVEY_RESPONSE, DAY), history)  # would be 50,001
    assert (decision.eligible, decision.reason) == (False, "daily budget of 50000 coins reached")


def test_event_carries_no_rating_so_rewards_cannot_depend_on_one() -> None:
    assert not any("rating" in name or "score" in name for name in Event.__dataclass_fields__)


def test_a_kind_given_twice_is_refused(tmp_path: Path) -> None:
    """The last of two `csat_rating:` entries would win silently (found by a QA pass, 2026-11-24)."""
    text = EXAMPLE.read_text().replace("kinds:\n", "kinds:\n  csat_rating:\n    base_reward: 2\n", 1)
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=r"(?s)not valid YAML.*found the key 'csat_rating' twice"):
        load_policy(path)


def test_an_unknown_kind_and_a_bad_reward_are_both_named(tmp_path: Path) -> None:
    """One report names every problem: an error in one kind's rule used to hide an unknown
    kind beside it (a QA finding, 2026-11-24)."""
    text = EXAMPLE.read_text().replace("base_reward: 2\n", "base_reward: 0\n", 1)
    text = text.replace("kinds:\n", "kinds:\n  compliment:\n    base_reward: 1\n", 1)
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert "kinds.csat_rating.base_reward: Input should be greater than 0" in str(raised.value)
    assert "kinds.compliment.[key]: Value error, unknown feedback kind 'compliment'" in str(raised.value)

"""How long the stateful suite explores.

`make test` (and a plain `brownie test`) runs the bounded profile: a few sequences of steps,
the same ones on every run (derandomized, no example database), so that `make test` is
reproducible. `make audit` sets SERVICECOIN_AUDIT=1 for the long profile: many random
sequences. (That every rule reaches both its success and its revert branch is proved by
test_every_rule_reaches_its_success_and_its_revert_branch, a fixed sequence, in both.)
SERVICECOIN_AUDIT_EXAMPLES and SERVICECOIN_AUDIT_STEPS override either profile's figures
(e.g. to explore overnight).

Hypothesis picks a random subset of rules to enable in each example (swarm testing) and
counts only examples of at least MIN_STEPS steps (test_system_properties.py), so the number
of examples, not only their length, decides how many rule combinations a run sees.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck

AUDIT_ENV = "SERVICECOIN_AUDIT"
BOUNDED = {"max_examples": 5, "stateful_step_count": 30, "derandomize": True, "database": None}
LONG = {"max_examples": 50, "stateful_step_count": 50}


def is_long() -> bool:
    return os.environ.get(AUDIT_ENV, "") not in ("", "0")


def settings() -> dict:
    """hypothesis settings for brownie's state_machine fixture."""
    chosen = dict(LONG if is_long() else BOUNDED)
    if os.environ.get("SERVICECOIN_AUDIT_EXAMPLES"):
        chosen["max_examples"] = int(os.environ["SERVICECOIN_AUDIT_EXAMPLES"])
    if os.environ.get("SERVICECOIN_AUDIT_STEPS"):
        chosen["stateful_step_count"] = int(os.environ["SERVICECOIN_AUDIT_STEPS"])
    # Each step is a chain transaction plus dozens of calls: slow by hypothesis's standards.
    chosen["suppress_health_check"] = [HealthCheck.too_slow]
    chosen["deadline"] = None
    return chosen

"""A helpdesk's month, generated from a fixed seed so every demo run tells the same story.

Zendesk-shaped: CSAT ratings arrive through the Zendesk route exactly as a legacy-CSAT trigger
sends them (signed by Zendesk's scheme); surveys, reviews, questions, referrals and community
answers arrive through the generic route with the flags an agent or a shop would set. Some
events fail a quality gate, some customers exceed a daily rate limit, and a few deliveries are
repeated, as helpdesks do.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from oracle.ingest.helpdesks import ZENDESK_TEMPLATE_MARKER
from oracle.ingest.signatures import sign_generic, sign_zendesk

KIND_WEIGHTS = {
    "csat_rating": 35,
    "survey_response": 20,
    "product_review": 12,
    "valid_question": 15,
    "referral": 6,
    "community_answer": 12,
}
# The flag each kind's quality gate needs (examples/policy.yaml), and how often it is set.
GATES = {
    "product_review": ("verified_purchase", 0.9),
    "valid_question": ("agent_marked_valid", 0.7),
    "referral": ("referee_first_purchase", 0.6),
    "community_answer": ("accepted_answer", 0.5),
}


@dataclass(frozen=True)
class Delivery:
    route: str  # "zendesk" or "generic"
    body: bytes
    kind: str
    repeat: bool = False

    def headers(self, zendesk_secret: bytes, generic_secret: bytes, now: int) -> dict[str, str]:
        sign = sign_zendesk if self.route == "zendesk" else sign_generic
        secret = zendesk_secret if self.route == "zendesk" else generic_secret
        return {"Content-Type": "application/json", **sign(self.body, secret, now)}


def helpdesk_month(now: int, customers: int = 30, events: int = 600, seed: int = 2026) -> list[Delivery]:
    rng = random.Random(seed)
    kinds = list(KIND_WEIGHTS)
    # Some customers take part far more often than others.
    activity = [1 + (i % 5) ** 2 for i in range(customers)]
    deliveries: list[Delivery] = []
    for n in range(events):
        requester = 7000 + rng.choices(range(customers), weights=activity)[0]
        kind = rng.choices(kinds, weights=list(KIND_WEIGHTS.values()))[0]
        occurred_at = now - rng.randint(60, 30 * 86400)  # over the last 30 days
        if kind == "csat_rating":
            rating = rng.choice(["Good, I'm satisfied", "Bad, I'm unsatisfied"])
            body = {"servicecoin": ZENDESK_TEMPLATE_MARKER, "ticket_id": str(40_000 + n),
                    "requester_id": str(requester), "rating": rating}
            deliveries.append(Delivery("zendesk", json.dumps(body).encode(), kind))
        else:
            gate = GATES.get(kind)
            flags = [gate[0]] if gate and rng.random() < gate[1] else []
            body = {"event_id": f"{kind}-{n}", "customer_id": f"zendesk:{requester}", "kind": kind,
                    "occurred_at": occurred_at, "flags": flags,
                    "content": {"text": f"{kind.replace('_', ' ')} #{n}", "score": rng.randint(1, 5)}}
            deliveries.append(Delivery("generic", json.dumps(body).encode(), kind))
        if rng.random() < 0.04:  # the helpdesk delivers this one again
            deliveries.append(Delivery(deliveries[-1].route, deliveries[-1].body, kind, repeat=True))
    return deliveries

"""Zendesk (both CSAT forms), Intercom and Freshdesk through real HTTP, each signed the way
that helpdesk signs. Payloads follow the vendors' documented examples (cited in
docs/brand-integration.md)."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
from eth_utils import keccak

from oracle.events import event_id
from oracle.ingest.app import IngestConfig, create_app
from oracle.ingest.helpdesks import (
    FRESHDESK_TEMPLATE_MARKER,
    ZENDESK_TEMPLATE_MARKER,
    FreshdeskSource,
    IntercomSource,
    ZendeskSource,
    parse_time,
)
from oracle.ingest.signatures import sign_zendesk
from oracle.ingest.sources import PayloadError
from oracle.store.outbox import Outbox
from oracle.ingest.server import serving

NOW = 1_795_000_000
MASTER_KEY = keccak(text="servicecoin-test-master-key")
ZENDESK_SECRET, INTERCOM_SECRET, FRESHDESK_TOKEN = "zd-signing-secret", "ic-client-secret", "fd-token"


@pytest.fixture(scope="module")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Outbox:
    return Outbox.open(f"sqlite:///{tmp_path_factory.mktemp('helpdesks') / 'outbox.db'}", MASTER_KEY)


@pytest.fixture(scope="module")
def client(outbox: Outbox):
    sources = [
        ZendeskSource(ZENDESK_SECRET, replay_window=300),
        IntercomSource(INTERCOM_SECRET),
        FreshdeskSource(FRESHDESK_TOKEN),
    ]
    app = create_app(outbox, IngestConfig(brand_id=1), sources, clock=lambda: NOW)
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        yield c


def csat_id(source: str, thread: str) -> bytes:
    return event_id(1, source, f"csat:{thread}")


# ------------------------------------------------------------------ Zendesk


def zendesk_post(client: httpx.Client, payload: dict, signed_at: int = NOW, secret: str = ZENDESK_SECRET):
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Zendesk-Webhook-Id": "01F1KRFQ6BG29CNWFR60NK5FNY",
               **sign_zendesk(body, secret.encode(), signed_at)}
    return client.post("/webhooks/zendesk", content=body, headers=headers)


def trigger_body(ticket: str, rating: str = "Good, I'm satisfied", requester: str = "7881") -> dict:
    return {"servicecoin": ZENDESK_TEMPLATE_MARKER, "ticket_id": ticket, "requester_id": requester, "rating": rating}


def csat_event_body(ticket: str, requester: str = "7881", event_type: str = "zen:event-type:ticket.csat_received"):
    # Zendesk's documented envelope for event-subscribed webhooks; `detail` is the ticket.
    return {
        "type": event_type,
        "account_id": 12514403,
        "id": f"2b24ef10-19d4-4740-93cf-{ticket:0>12}",
        "time": "2026-11-18T10:12:55.254571515Z",
        "zendesk_event_version": "2022-11-06",
        "subject": f"zen:ticket:{ticket}",
        "detail": {"id": ticket, "requester_id": requester, "status": "SOLVED"},
        "event": {},
    }


def test_a_legacy_zendesk_rating_is_stored_once_per_ticket(client, outbox) -> None:
    response = zendesk_post(client, trigger_body("208"))
    assert response.status_code == 202
    row = outbox.event_row(csat_id("zendesk", "ticket:208"))
    assert (row.customer_id, row.kind, row.occurred_at) == ("zendesk:7881", 0, NOW)
    assert outbox.vault.open(row.event_id).content == {"rating": "Good, I'm satisfied", "ticket_id": "208"}
    # The customer changes their mind: the same ticket's rating earns nothing more.
    again = zendesk_post(client, trigger_body("208", rating="Bad, I'm unsatisfied"))
    assert (again.status_code, again.json()) == (202, response.json())
    assert outbox.vault.open(row.event_id).content["rating"] == "Good, I'm satisfied"


def test_a_newer_zendesk_csat_event_shares_the_tickets_reward(client, outbox) -> None:
    response = zendesk_post(client, csat_event_body("209"))
    assert response.status_code == 202
    row = outbox.event_row(csat_id("zendesk", "ticket:209"))
    assert (row.customer_id, row.occurred_at) == ("zendesk:7881", parse_time("2026-11-18T10:12:55Z", "t"))
    # A ticket already rated through the legacy trigger is the same event.
    legacy_first = zendesk_post(client, csat_event_body("208"))
    assert legacy_first.json()["event_id"] == "0x" + csat_id("zendesk", "ticket:208").hex()


def test_zendesk_events_of_other_types_are_acknowledged_and_ignored(client, outbox) -> None:
    before = outbox.counts_by_state()
    response = zendesk_post(client, csat_event_body("300", event_type="zen:event-type:ticket.status_changed"))
    assert (response.status_code, response.json()["status"]) == (200, "ignored")
    assert outbox.counts_by_state() == before


def test_an_offered_but_unanswered_zendesk_survey_is_ignored(client, outbox) -> None:
    response = zendesk_post(client, trigger_body("301", rating="offered"))
    assert response.json() == {"status": "ignored", "reason": "ticket 301 has no rating yet"}
    assert outbox.event_state(csat_id("zendesk", "ticket:301")) is None


def test_a_zendesk_delivery_with_a_wrong_signature_is_refused(client, outbox) -> None:
    response = zendesk_post(client, trigger_body("302"), secret="guess")
    assert (response.status_code, response.json()["error"]) == (401, "X-Zendesk-Webhook-Signature does not match the body")
    assert outbox.event_state(csat_id("zendesk", "ticket:302")) is None


def test_a_stale_zendesk_delivery_is_refused(client, outbox) -> None:
    response = zendesk_post(client, trigger_body("303"), signed_at=NOW - 600)
    assert response.status_code == 401 and "replay window" in response.json()["error"]


def test_an_unexpanded_zendesk_placeholder_is_refused_naming_the_field(client, outbox) -> None:
    response = zendesk_post(client, trigger_body("{{ticket.id}}"))
    assert response.status_code == 422
    assert response.json()["error"].startswith("ticket_id: String should match pattern")


def test_a_zendesk_body_that_is_neither_form_is_refused(client) -> None:
    response = zendesk_post(client, {"ticket": 1})
    assert response.status_code == 422 and "servicecoin" in response.json()["error"]


# ------------------------------------------------------------------ Intercom


def intercom_post(client: httpx.Client, payload: dict, secret: str = INTERCOM_SECRET):
    body = json.dumps(payload).encode()
    signature = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return client.post("/webhooks/intercom", content=body, headers={"X-Hub-Signature": signature})


def rating_notification(conversation: str, rating: int | None = 5, external_id: str | None = "cust-42") -> dict:
    # Intercom's documented notification envelope; data.item is the Conversation.
    return {
        "type": "notification_event",
        "app_id": "a86dr8yl",
        "id": f"notif_{conversation}",
        "topic": "conversation.rating.added",
        "created_at": NOW - 30,
        "delivery_attempts": 1,
        "first_sent_at": NOW - 30,
        "data": {
            "type": "notification_event_data",
            "item": {
                "type": "conversation",
                "id": conversation,
                "conversation_rating": {
                    "rating": rating,
                    "remark": "quick and clear",
                    "created_at": NOW - 3600,
                    "contact": {"type": "contact", "id": "5ba682d23d7cf92bef87bfd4", "external_id": external_id},
                    "teammate": {"type": "admin", "id": "814860"},
                },
            },
        },
    }


def test_an_intercom_rating_is_stored_for_the_brands_own_customer_id(client, outbox) -> None:
    response = intercom_post(client, rating_notification("147"))
    assert response.status_code == 202
    row = outbox.event_row(csat_id("intercom", "conversation:147"))
    assert (row.customer_id, row.occurred_at) == ("cust-42", NOW - 30)
    assert outbox.vault.open(row.event_id).content["rating"] == 5


def test_an_intercom_rating_whose_contact_changed_keeps_the_first_and_answers_200(client, outbox, caplog) -> None:
    """Intercom's id is one per conversation: a re-rating after the lead was identified names
    another customer. One reward per conversation, the first kept; a 2xx, or Intercom retries."""
    assert intercom_post(client, rating_notification("160", external_id=None)).status_code == 202
    again = intercom_post(client, rating_notification("160", external_id="cust-77"))
    assert (again.status_code, again.json()) == (200, {
        "status": "ignored",
        "reason": "event id 'csat:conversation:160' was stored for another customer or kind: the first is kept",
    })
    assert outbox.event_row(csat_id("intercom", "conversation:160")).customer_id == "intercom:5ba682d23d7cf92bef87bfd4"
    # The log says what happened in its text too (text logs drop the fields), and gives no advice
    # the brand cannot follow (the id is Intercom's).
    assert ("intercom delivered event 'csat:conversation:160' again with customer 'cust-77', kind csat_rating; "
            "the stored one (customer 'intercom:5ba682d23d7cf92bef87bfd4', kind") in caplog.text


def test_an_intercom_contact_without_external_id_is_namespaced(client, outbox) -> None:
    assert intercom_post(client, rating_notification("148", external_id=None)).status_code == 202
    assert outbox.event_row(csat_id("intercom", "conversation:148")).customer_id == "intercom:5ba682d23d7cf92bef87bfd4"


def test_other_intercom_topics_are_ignored(client, outbox) -> None:
    body = rating_notification("149") | {"topic": "conversation.admin.replied"}
    response = intercom_post(client, body)
    assert (response.status_code, response.json()["status"]) == (200, "ignored")
    assert outbox.event_state(csat_id("intercom", "conversation:149")) is None


def test_an_intercom_delivery_with_a_wrong_signature_is_refused(client, outbox) -> None:
    response = intercom_post(client, rating_notification("150"), secret="guess")
    assert (response.status_code, response.json()["error"]) == (401, "X-Hub-Signature does not match the body")
    assert outbox.event_state(csat_id("intercom", "conversation:150")) is None


@pytest.mark.parametrize("rating", ["missing", None, {"rating": None}], ids=["missing", "null", "no_rating_yet"])
def test_an_intercom_conversation_without_a_rating_is_ignored(client, outbox, rating) -> None:
    """Answered 200, not 422: Intercom retries a 4xx and then counts it against the webhook."""
    body = rating_notification("152")
    if rating == "missing":
        del body["data"]["item"]["conversation_rating"]
    else:
        body["data"]["item"]["conversation_rating"] = rating
    response = intercom_post(client, body)
    assert (response.status_code, response.json()) == (
        200, {"status": "ignored", "reason": "conversation 152 has no rating yet"}
    )
    assert outbox.event_state(csat_id("intercom", "conversation:152")) is None


def test_an_intercom_rating_without_contact_is_refused_naming_the_field(client) -> None:
    body = rating_notification("151")
    del body["data"]["item"]["conversation_rating"]["contact"]
    response = intercom_post(client, body)
    assert response.status_code == 422
    assert response.json()["error"] == "data.item.conversation_rating.contact: Field required"


# ------------------------------------------------------------------ Freshdesk


def freshdesk_post(client: httpx.Client, payload: dict, token: str | None = FRESHDESK_TOKEN):
    headers = {} if token is None else {"X-ServiceCoin-Token": token}
    return client.post("/webhooks/freshdesk", content=json.dumps(payload).encode(), headers=headers)


def feedback_body(ticket: str, customer: str = "cust-77") -> dict:
    return {"servicecoin": FRESHDESK_TEMPLATE_MARKER, "ticket_id": ticket, "customer_id": customer}


def test_a_freshdesk_feedback_is_stored_at_its_time_of_arrival(client, outbox) -> None:
    response = freshdesk_post(client, feedback_body("432"))
    assert response.status_code == 202
    row = outbox.event_row(csat_id("freshdesk", "ticket:432"))
    assert (row.customer_id, row.occurred_at, row.received_at) == ("freshdesk:cust-77", NOW, NOW)
    assert freshdesk_post(client, feedback_body("432")).json() == response.json()


def test_a_freshdesk_delivery_without_the_token_is_refused(client, outbox) -> None:
    assert freshdesk_post(client, feedback_body("433"), token=None).json()["error"] == "missing header X-ServiceCoin-Token"
    assert freshdesk_post(client, feedback_body("433"), token="guess").status_code == 401
    assert outbox.event_state(csat_id("freshdesk", "ticket:433")) is None


def test_an_unexpanded_freshdesk_placeholder_is_refused(client, outbox) -> None:
    response = freshdesk_post(client, feedback_body("434", customer="{{ticket.requester.unique_external_id}}"))
    assert response.status_code == 422 and "unexpanded placeholder" in response.json()["error"]


# ------------------------------------------------------------------ parsing details


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-03-25T05:09:27Z", 1616648967),
        ("2025-02-11T14:32:05.254571515Z", 1739284325),
        ("2013-12-12T05:35Z", 1386826500),
        ("2021-03-25T07:09:27+02:00", 1616648967),
    ],
)
def test_zendesk_times_parse_in_every_documented_shape(text: str, expected: int) -> None:
    assert parse_time(text, "time") == expected


@pytest.mark.parametrize("text", ["yesterday", "2021-03-25T05:09:27", ""])
def test_times_without_a_zone_or_unparseable_are_refused(text: str) -> None:
    with pytest.raises(PayloadError, match="time"):
        parse_time(text, "time")


def test_a_brand_can_name_its_own_zendesk_csat_event_type() -> None:
    from oracle.ingest.sources import Delivery

    source = ZendeskSource(ZENDESK_SECRET, 300, csat_event_types=("zen:event-type:ticket.survey_answered",))
    delivery = Delivery(brand_id=1, headers={}, received_at=NOW)
    custom = source.parse(csat_event_body("700", event_type="zen:event-type:ticket.survey_answered"), delivery)
    assert custom.event is not None and custom.event.helpdesk_event_id == "csat:ticket:700"
    default = source.parse(csat_event_body("701"), delivery)
    assert default.event is None and default.ignored == "event type zen:event-type:ticket.csat_received is not rewarded"

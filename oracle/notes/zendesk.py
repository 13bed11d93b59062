"""Zendesk's ticket comment API: a note is a comment added with

    PUT {base_url}/api/v2/tickets/{ticket_id}.json
    {"ticket": {"comment": {"body": "...", "public": false}}}

authenticated with an API token: basic auth "{email}/token:{api_token}". A private comment
(public: false) is an internal note that the requester does not see.

How answers are treated: 2xx posted; 429 retried after its Retry-After; 408, 409 (Zendesk's
"ticket update conflict" when two updates race) and 5xx retried with backoff, as are network
errors; any other 4xx is definitive (401/403 bad credentials, 404 no such ticket, 422 a
closed ticket or invalid body) and the note fails with the reason instead of being retried.
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

import httpx

from oracle.notes.adapter import PostResult, RetryPolicy

_TICKET = re.compile(r"^csat:ticket:(\d{1,20})$")
_RETRYABLE_4XX = {408, 409, 429}
# A Retry-After beyond this is treated as this: a note is not worth a day's silence.
_MAX_RETRY_AFTER = 3600.0


class ZendeskNotes:
    source = "zendesk"

    def __init__(
        self, base_url: str, email: str, api_token: str, retry: RetryPolicy, public: bool = False,
        timeout: float = 10.0, transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retry = retry
        self._public = public
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), auth=(f"{email}/token", api_token), timeout=timeout, transport=transport,
            headers={"User-Agent": "servicecoin-oracle"},
        )

    def ticket_for(self, helpdesk_event_id: str) -> str | None:
        """Zendesk CSAT events are `csat:ticket:<id>` (oracle/ingest/helpdesks.py); a backfilled
        row with the same id is the same event. Other ids name no ticket."""
        match = _TICKET.match(helpdesk_event_id)
        return match.group(1) if match else None

    def post(self, ticket_id: str, body: str) -> PostResult:
        payload = {"ticket": {"comment": {"body": body, "public": self._public}}}
        try:
            response = self._client.put(f"/api/v2/tickets/{ticket_id}.json", json=payload)
        except httpx.HTTPError as exc:
            return PostResult("retry", f"Zendesk unreachable: {type(exc).__name__}: {exc}")
        status = response.status_code
        if 200 <= status < 300:
            return PostResult("posted")
        reason = f"HTTP {status}: {_error_text(response)}"
        if status == 429:
            return PostResult("retry", reason, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
        if status >= 500 or status in _RETRYABLE_4XX:
            return PostResult("retry", reason)
        return PostResult("failed", reason, pause_all=status in (401, 403))

    def close(self) -> None:
        self._client.close()


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(timezone.utc)
    return min(max((when - now).total_seconds(), 0.0), _MAX_RETRY_AFTER)


def _error_text(response: httpx.Response) -> str:
    """Zendesk's error in a few words (its JSON `error`/`description`), never the whole body."""
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or response.text[:200]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return str(error.get("title") or error.get("message") or error)[:200]
        parts = [str(data[k]) for k in ("error", "description") if data.get(k)]
        if parts:
            return ": ".join(parts)[:200]
    return response.reason_phrase

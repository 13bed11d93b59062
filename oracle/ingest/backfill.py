"""Backfill: a helpdesk export (JSONL or CSV) into the outbox, row by row, with the same
validation and dedupe as the webhooks. A row already stored (by a webhook or an earlier run) is
a duplicate and changes nothing, so a backfill can be re-run safely after an interruption.

JSONL: one generic-webhook object per line (docs/brand-integration.md).
CSV: a header row with event_id, customer_id, kind, occurred_at, and optionally flags
(separated by ';') and content (a JSON object).
Both in UTF-8, with or without the byte-order mark spreadsheets write; a line that is not
UTF-8 rejects its row, named by line, and the others are read.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from oracle.errors import OracleError
from oracle.ingest.generic import GenericWebhook
from oracle.ingest.strict_json import MalformedJSON, parse_object
from oracle.store.outbox import EventIdConflict, Outbox
from oracle.validation import describe

CSV_REQUIRED = ("event_id", "customer_id", "kind", "occurred_at")
BOM = b"\xef\xbb\xbf"


@dataclass
class BackfillSummary:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)


class RowError(OracleError):
    """A row that cannot be read (its line is rejected), or a file that cannot be (all is)."""


def _text_lines(handle: Any, not_utf8: set[int]) -> Iterator[str]:
    """The file's lines as text, each decoded alone: a line that is not UTF-8 is kept (with
    replacement characters) so that line numbers stay true, and its number noted. Lines end
    in \n, \r\n or a lone \r (old Mac exports), as csv reads them."""
    number = 0
    for chunk in handle:  # split on \n only
        for raw in chunk.splitlines(keepends=True):
            number += 1
            if number == 1:
                raw = raw.removeprefix(BOM)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                not_utf8.add(number)
                yield raw.decode("utf-8", errors="replace")


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    not_utf8: set[int] = set()
    with path.open("rb") as handle:
        reader = csv.reader(_text_lines(handle, not_utf8))
        try:
            header = next(reader, [])
            missing = [c for c in CSV_REQUIRED if c not in header]
            if missing:
                yield 1, RowError(f"header lacks column(s): {', '.join(missing)}")
                return
            while True:
                first = reader.line_num + 1  # a quoted field may span lines: the row is first..line_num
                fields = next(reader, None)
                if fields is None:
                    return
                if not fields:
                    continue  # a blank line
                try:
                    if not_utf8.intersection(range(first, reader.line_num + 1)):
                        raise RowError("not UTF-8 text")
                    yield first, _csv_to_payload(_as_record(header, fields))
                except RowError as exc:
                    yield first, exc
        except csv.Error as exc:  # e.g. a quote left open to the end of the file
            yield reader.line_num, RowError(f"not readable as CSV from here on: {exc}")


def _as_record(header: list[str], fields: list[str]) -> dict[str | None, Any]:
    """A row as csv.DictReader gives it: extra fields under None, missing ones None."""
    record: dict[str | None, Any] = dict(zip(header, fields))
    record.update({name: None for name in header[len(fields):]})
    if len(fields) > len(header):
        record[None] = fields[len(header):]
    return record


def _csv_to_payload(row: dict[str, Any]) -> dict[str, Any]:
    if None in row:
        raise RowError("more fields than the header names")
    occurred = (row.get("occurred_at") or "").strip()
    if not (occurred.isascii() and occurred.isdigit()):
        raise RowError(f"occurred_at: expected unix seconds, got {occurred!r}")
    payload: dict[str, Any] = {
        "event_id": row["event_id"],
        "customer_id": row["customer_id"],
        "kind": row["kind"],
        "occurred_at": int(occurred),
        "flags": [f for f in (row.get("flags") or "").split(";") if f],
    }
    content = (row.get("content") or "").strip()
    if content:
        try:
            payload["content"] = parse_object(content.encode())
        except MalformedJSON as exc:
            raise RowError(f"content: malformed JSON: {exc}") from None
    return payload


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, start=1):
            if line == 1:
                raw = raw.removeprefix(BOM)
            if not raw.strip():
                continue
            try:
                yield line, parse_object(raw)
            except MalformedJSON as exc:
                yield line, RowError(f"malformed JSON: {exc}")


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_rows(path)
    raise RowError(f"{path}: unknown export format {suffix!r} (expected .jsonl, .ndjson or .csv)")


def count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        lines = sum(1 for raw in handle if raw.strip())
    return lines - 1 if path.suffix.lower() == ".csv" else lines


def backfill(
    outbox: Outbox,
    path: Path,
    brand_id: int,
    source: str,
    now: int,
    on_row: Callable[[], None] = lambda: None,
) -> BackfillSummary:
    summary = BackfillSummary()
    for line, row in read_rows(path):
        on_row()
        if isinstance(row, RowError):
            summary.rejected.append((line, str(row)))
            continue
        try:
            webhook = GenericWebhook.model_validate(row)
        except ValidationError as exc:
            summary.rejected.append((line, describe(exc)))
            continue
        event = webhook.to_event(brand_id, source=source)
        if event.occurred_at > now:
            summary.rejected.append((line, "occurred_at: in the future"))
            continue
        try:
            new = outbox.receive(event, webhook.content, received_at=now)
        except EventIdConflict as exc:
            summary.rejected.append((line, str(exc)))
            continue
        if new:
            summary.accepted += 1
        else:
            summary.duplicate += 1
    return summary

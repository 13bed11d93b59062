"""JSON parsing for untrusted webhook bodies: anything ambiguous is an error, not a guess.

Python's json module accepts NaN and Infinity, keeps the last of duplicate keys, parses
integers of any size (CPython caps at 4300 digits, slowly) and recurses as deep as the stack
allows. A webhook body with any of those is malformed or hostile: refuse it with a reason.
"""

from __future__ import annotations

import json
from typing import Any

from oracle.errors import OracleError

MAX_DEPTH = 32
MAX_INT_DIGITS = 40  # uint128 has 39 digits: nothing a helpdesk sends needs more


class MalformedJSON(OracleError):
    """The body is not acceptable JSON; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise MalformedJSON(f"{name} is not allowed")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise MalformedJSON(f"integer with {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedJSON(f"duplicate key {key!r}")
        result[key] = value
    return result


def _depth(value: Any, limit: int) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise MalformedJSON(f"nested deeper than {limit} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _bracket_depth(body: str, limit: int) -> None:
    # Checked before parsing, so a hostile body cannot make the parser itself recurse deeply.
    depth = 0
    in_string = escaped = False
    for char in body:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise MalformedJSON(f"nested deeper than {limit} levels")
        elif char in "]}":
            depth -= 1


def parse_object(body: bytes, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """A JSON object from a raw body, or MalformedJSON with the reason."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJSON("body is not UTF-8") from None
    _bracket_depth(text, max_depth)
    try:
        value = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant, parse_int=_parse_int
        )
    except json.JSONDecodeError as exc:
        raise MalformedJSON(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    _depth(value, max_depth)
    if not isinstance(value, dict):
        raise MalformedJSON(f"expected a JSON object, got {type(value).__name__}")
    return value

"""Untrusted webhook bodies: ambiguity is refused with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle.ingest.strict_json import MAX_DEPTH, MalformedJSON, parse_object


def test_a_plain_object_parses() -> None:
    assert parse_object(b'{"id": "t-1", "score": 5, "tags": ["a"]}') == {"id": "t-1", "score": 5, "tags": ["a"]}


@pytest.mark.parametrize(
    "body, reason",
    [
        (b'{"id": 1, "id": 2}', "duplicate key 'id'"),
        (b'{"x": NaN}', "NaN is not allowed"),
        (b'{"x": Infinity}', "Infinity is not allowed"),
        (b'{"x": ' + b"9" * 41 + b"}", "integer with 41 digits"),
        (b'{"x": ', "not JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'"text"', "expected a JSON object, got str"),
        (b'{"x": "\xff"}', "body is not UTF-8"),
        (b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH}"),
    ],
)
def test_malformed_bodies_are_refused_with_their_reason(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedJSON, match=reason):
        parse_object(body)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert parse_object(b'{"note": "' + b"[{" * 100 + b'"}') == {"note": "[{" * 100}


def test_a_hostile_nesting_of_a_million_levels_is_refused_without_recursing() -> None:
    with pytest.raises(MalformedJSON, match="nested deeper"):
        parse_object(b"[" * 1_000_000)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_either_parse_to_an_object_or_raise_malformed(body: bytes) -> None:
    try:
        assert isinstance(parse_object(body), dict)
    except MalformedJSON:
        pass


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.text(max_size=10) | st.integers(-(10**30), 10**30),
                    lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=5), children, max_size=4), max_leaves=20))
def test_well_formed_json_round_trips(value) -> None:
    import json

    body = json.dumps({"v": value}).encode()
    assert parse_object(body) == {"v": value}

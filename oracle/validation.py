"""One way to report invalid input: every problem, each prefixed by the field it is in."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from oracle.kinds import FeedbackKind


def describe(exc: ValidationError) -> str:
    """'kinds.csat_rating.base_reward: Input should be greater than 0; version: Field required'."""
    return "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
    )


def require_known_kinds(names: Iterable[str]) -> None:
    """Raises ValueError (which pydantic reports under the field) for a kind name not in FeedbackKind."""
    for name in names:
        FeedbackKind.from_name(name)

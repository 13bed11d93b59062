"""Exact `revert_pattern`s for custom errors, shared by the contract suites.

brownie renders a decoded custom error as "Name: arg1, arg2" (nothing after the colon when
it has no arguments): addresses come out lower-case (eth-abi's decoding) and bytes32 values
as Python bytes reprs. Building the pattern from the values themselves keeps every revert
assertion exact, so a test names both the error and the arguments it expects.
"""

from __future__ import annotations

import re
from typing import Any


def _render(arg: Any) -> str:
    if isinstance(arg, bytes):  # bytes32 (brownie's HexString too): Python's bytes repr
        return str(bytes(arg))
    if hasattr(arg, "address"):  # an Account or a Contract
        arg = arg.address
    if isinstance(arg, str):  # an address
        return arg.lower()
    return str(int(arg))


def error(name: str, *args: Any) -> str:
    """The revert pattern of custom error `name` raised with `args`."""
    return re.escape(f"{name}: {', '.join(_render(a) for a in args)}")

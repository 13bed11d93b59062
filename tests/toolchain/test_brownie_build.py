"""brownie must be the pure-Python build from its source distribution.

The published eth-brownie 1.22.2 wheel is compiled with mypyc, which breaks the
`state_machine` fixture (TypeError: _BrownieStateMachine object expected), project configs
with `cmd_settings`, and coverage (see ../shared/TOOLCHAIN.md). The contract suite uses the
state_machine fixture (tests/contracts/coin/test_supply_invariant.py); this test names the
cause directly if an install step ever brings the wheel back.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import brownie


def test_brownie_is_1_22_2() -> None:
    assert metadata.version("eth-brownie") == "1.22.2"


def test_brownie_has_no_mypyc_compiled_modules() -> None:
    package = Path(brownie.__file__).parent
    compiled = sorted(str(p.relative_to(package)) for p in package.rglob("*.so"))
    assert compiled == [], f"brownie was installed from the mypyc wheel: {compiled[:5]}"

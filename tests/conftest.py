"""Shared fixtures: named accounts, oracle signer keys, and a deployment made by the same
`deploy()` the operator's script uses."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # lets tests import `scripts.*` and `oracle.*`
    sys.path.insert(0, str(ROOT))

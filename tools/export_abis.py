"""Copies the contracts' ABIs from brownie's build artifacts into the oracle package.

The oracle ships them (oracle/abi/*.json) so that a brand can `pip install .` without the
contract toolchain; tests/toolchain/test_offline_compile.py keeps them equal to a fresh
compile. Run after changing a contract: `make abis`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ("ServiceCoin", "FeedbackRegistry", "TierRedemption", "ServiceCoinForwarder")
TARGET = ROOT / "oracle" / "abi"


def abi_json(build_dir: Path, name: str) -> str:
    abi = json.loads((build_dir / f"{name}.json").read_text())["abi"]
    return json.dumps(abi, indent=1, sort_keys=True) + "\n"


def main(build_dir: Path = ROOT / "build" / "contracts") -> int:
    TARGET.mkdir(exist_ok=True)
    for name in CONTRACTS:
        (TARGET / f"{name}.json").write_text(abi_json(build_dir, name))
    print(f"wrote {len(CONTRACTS)} ABIs to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

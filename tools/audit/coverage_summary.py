"""Branch coverage per contract from brownie's report (reports/coverage.json, written by
`brownie test --coverage`), and the audit's gate on it.

Brownie counts each branch (an `if`, a `require`, a revert condition, a ternary) in two
directions, taken and not taken; a branch is fully covered when both were seen. This prints,
for each deployed contract of contracts/*.sol, the directions seen over the directions that
exist, for the functions written in the project's own files: the contract's, and the abstract
contracts and libraries of contracts/ compiled into it (Brands, BatchCustomers, PackedAccount,
...). Inherited OpenZeppelin code is shown apart, for information. It fails when the project's
own branches are below GOAL.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "reports" / "coverage.json"
GOAL = 0.95


def main() -> int:
    if not REPORT.exists():
        sys.exit(f"{REPORT} is missing: run `brownie test tests/contracts --coverage` first")
    coverage = json.loads(REPORT.read_text())["coverage"]
    own_contracts = sorted(p.stem for p in (ROOT / "contracts").glob("*.sol"))
    seen_total = directions_total = 0
    print(f"{'contract':<22} {'own branches':>16} {'%':>7}   {'with inherited code':>20}   not fully covered")
    for name in own_contracts:
        if name not in coverage:
            print(f"{name:<22} {'not deployed itself (counted in the contracts it is compiled into)':>16}")
            continue
        branches = coverage[name]["branches"]  # function -> [true, false, total]
        own = {fn: v for fn, v in branches.items() if fn.split(".")[0] in own_contracts}
        seen = sum(t + f for t, f, _ in own.values())
        directions = sum(2 * total for _, _, total in own.values())
        everything = coverage[name]["totals"]["branches"]
        all_pct = (everything[0] + everything[1]) / (2 * everything[2]) if everything[2] else 1.0
        gaps = [fn for fn, (t, f, total) in own.items() if t + f < 2 * total]
        seen_total += seen
        directions_total += directions
        pct = seen / directions if directions else 1.0
        print(f"{name:<22} {seen:>7} / {directions:<6} {pct:>7.1%}   {all_pct:>19.1%}    {', '.join(sorted(gaps)) or '-'}")
    overall = seen_total / directions_total if directions_total else 1.0
    verdict = "meets" if overall >= GOAL else "is below"
    print(f"all contracts: {seen_total} / {directions_total} branch directions = {overall:.1%}, which {verdict} the {GOAL:.0%} goal")
    return 0 if overall >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())

"""Where the gas of a feedback batch goes, from Anvil's struct-log traces.

    brownie run scripts/gas_breakdown.py --network <net>

Needs struct-log traces, which Anvil gives only when started with --steps-tracing: start it
yourself on the network's port (brownie then attaches to it), or add `steps_tracing=true` to
the network's settings.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from typing import Any, Sequence

from brownie import accounts, chain, web3
from hexbytes import HexBytes

from scripts.gas_snapshot import SNAPSHOT_PATH, GasBench

_CALLS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"}


def calldata_gas(data: bytes) -> int:
    """EIP-2028: 4 gas per zero byte of calldata, 16 per other byte."""
    return sum(4 if byte == 0 else 16 for byte in data)


def _category(op: str) -> str:
    if op.startswith("LOG"):
        return op
    if op in ("SSTORE", "SLOAD", "KECCAK256"):
        return op
    if op in _CALLS:
        return "call overhead (cold account, value, precompile)"
    if op in ("CALLDATALOAD", "CALLDATACOPY", "CALLDATASIZE"):
        return "calldata reads"
    if op in ("MSTORE", "MLOAD", "MSTORE8", "RETURNDATACOPY", "CODECOPY", "RETURN"):
        return "memory (incl. expansion)"
    return "stack, arithmetic, jumps"


def trace_breakdown(
    txid: str, pc_maps: dict[str, dict[str, Any]] | None = None, names: dict[str, str] | None = None
) -> dict[str, int]:
    """Gas of a mined transaction split by kind of opcode, from Anvil's struct-log trace, and
    (with `pc_maps`: frame name -> brownie pcMap) by source function as well. A frame is named
    by its contract (`names`: lower-case address -> name; the transaction's target is
    "registry"), or "<op> callee" for an address not in `names`.

    A call opcode's cost in the trace includes the gas forwarded to the callee; here it is
    reduced to what the caller pays itself, the callee's opcodes being counted on their own.
    """
    result = web3.provider.make_request(
        "debug_traceTransaction",
        [txid, {"disableStack": names is None, "disableStorage": True, "enableMemory": False}],
    )
    steps = result["result"]["structLogs"]
    if not steps:
        raise RuntimeError("the chain returned an empty trace: start Anvil with --steps-tracing")
    cost = [int(step["gasCost"]) for step in steps]
    for i in range(len(steps) - 1, -1, -1):  # inner calls first
        if steps[i]["op"] not in _CALLS:
            continue
        depth = steps[i]["depth"]
        j = next((k for k in range(i + 1, len(steps)) if steps[k]["depth"] <= depth), None)
        if j is None:
            continue
        cost[i] = int(steps[i]["gas"]) - int(steps[j]["gas"]) - sum(cost[i + 1 : j])
    totals: dict[str, int] = {}
    frames = ["registry"]  # who runs at each depth: the registry, then what each call opened
    for step, used in zip(steps, cost):
        del frames[step["depth"] :]
        frame = frames[-1]
        key = f"{frame}: {_category(step['op'])}"
        totals[key] = totals.get(key, 0) + used
        if pc_maps and frame in pc_maps:
            source = pc_maps[frame].get(str(step["pc"]), {}).get("fn") or "(compiler helpers: ABI, checks)"
            by_function = f"{frame} in {source}"
            totals[by_function] = totals.get(by_function, 0) + used
        if step["op"] in ("SSTORE", "SLOAD") or step["op"].startswith("LOG"):
            counted = f"{frame}: number of {step['op']}"
            totals[counted] = totals.get(counted, 0) + 1
        if step["op"] in _CALLS:
            # The callee's address is the call's second argument: the stack's second from the top.
            callee = f"{int(step['stack'][-2], 16):040x}" if names is not None else ""
            frames.append((names or {}).get("0x" + callee, f"{step['op']} callee"))
    return totals


def _pc_map(contract: str) -> dict[str, Any]:
    """Brownie's map from program counter to source function, from the build artifact."""
    artifact = SNAPSHOT_PATH.parent.parent / "build" / "contracts" / f"{contract}.json"
    return json.loads(artifact.read_text())["pcMap"]


def breakdown(sizes: Sequence[int] = (10, 100)) -> dict[str, Any]:
    """Where the gas of a returning-customer batch goes. Needs struct-log traces: on Anvil,
    start the chain with --steps-tracing (without it Anvil returns empty traces).

    Two batch sizes separate the fixed cost of a batch from the cost of each further event:
    per event = (cost at the larger size - cost at the smaller) / (difference in size).
    The split by opcode is exact; the split by source function ("X in f") is approximate,
    since the optimizer shares code between functions and the source map names only one.
    """
    log = io.StringIO()
    chain.snapshot()
    try:
        with contextlib.redirect_stdout(log):
            bench = GasBench.deploy(accounts[0])
            receipts = bench.run_batches("returning_same_period", sizes)
            contracts = {"registry": "FeedbackRegistry", "coin": "ServiceCoin", "tiers": "TierRedemption"}
            pc_maps = {frame: _pc_map(name) for frame, name in contracts.items()}
            deployment = bench.deployment
            names = {
                deployment.coin.address.lower(): "coin",
                deployment.redemption.address.lower(): "tiers",  # tierSchedule
            }
            parts = {}
            for size, tx in receipts.items():
                data = bytes(HexBytes(tx.input))
                split = {
                    "base transaction": 21_000,
                    "calldata (EIP-2028)": calldata_gas(data),
                    **trace_breakdown(tx.txid, pc_maps, names),
                }
                counted = sum(v for k, v in split.items() if " in " not in k and "number" not in k)
                split["refund (gas_used minus the parts)"] = tx.gas_used - counted
                split["total (gas_used)"] = tx.gas_used
                split["calldata bytes"] = len(data)
                parts[size] = split
    except BaseException:
        sys.stdout.write(log.getvalue())
        raise
    finally:
        chain.revert()
    small, large = sorted(parts)
    keys = sorted(set(parts[small]) | set(parts[large]))
    print(f"returning_same_period: gas by part, batch {small} and {large}, and per further event")
    print(f"{'part':<62}{small:>12}{large:>12}{'per event':>12}{'fixed':>12}")
    for key in keys:
        a, b = parts[small].get(key, 0), parts[large].get(key, 0)
        per_event = (b - a) / (large - small)
        print(f"{key:<62}{a:>12,}{b:>12,}{per_event:>12,.1f}{a - small * per_event:>12,.0f}")
    return parts


def main() -> dict[str, Any]:
    return breakdown()


"""`make audit`, static part: slither over the contracts and an ERC-20 / EIP-2612 conformance
check of ServiceCoin, both through the project's own solc; fails on anything not triaged.

Run with the project's Python (.venv); the tools run from their own virtualenv, .venv-audit
(tools/audit/requirements.txt). Steps:
1. a solc standard-JSON input for contracts/*.sol (not contracts/test/) with brownie-config.yaml's
   compiler settings (version, EVM version, optimizer, remappings);
2. one compilation by crytic-compile through the project's solc (~/.solcx/solc-v0.8.28, the
   offline solcjs wrapper or a native solc: see tools/setup_toolchain.py), exported once and
   reused by every later step;
3. slither's detectors (OpenZeppelin under node_modules/ filtered out); every finding of impact
   High or Medium must match an entry of tools/audit/slither-triage.yaml, which gives the reason
   it is accepted, and every entry must still match a finding;
4. slither-check-erc for ERC20 and ERC2612 on ServiceCoin; a failed property must be triaged too.
Outputs (JSON) go to reports/audit/. Exit status 1 when anything is unresolved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "reports" / "audit"
AUDIT_BIN = ROOT / ".venv-audit" / "bin"
TRIAGE = Path(__file__).with_name("slither-triage.yaml")
GATED_IMPACTS = ("High", "Medium")
ERCS = ("erc20", "erc2612")


def solc_binary(version: str) -> Path:
    folder = Path(os.environ.get("SOLCX_BINARY_PATH") or Path.home() / ".solcx")
    binary = folder / f"solc-v{version}"
    if not binary.exists():
        sys.exit(f"{binary} is missing: run `make setup` first")
    return binary


def standard_input(config: dict) -> dict:
    solc = config["compiler"]["solc"]
    sources = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "contracts").glob("*.sol"))
    return {
        "language": "Solidity",
        "sources": {path: {"urls": [path]} for path in sources},
        "settings": {
            "evmVersion": config["compiler"]["evm_version"],
            "optimizer": {"enabled": solc["optimizer"]["enabled"], "runs": solc["optimizer"]["runs"]},
            "remappings": solc.get("remappings", []),
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode", "evm.methodIdentifiers"], "": ["ast"]}},
        },
    }


def run(tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    command = [str(AUDIT_BIN / tool), *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"`{' '.join(command)}` failed with status {result.returncode}")
    return result


def compile_once(config: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    source = OUT / "solc-input.json"
    source.write_text(json.dumps(standard_input(config), indent=1))
    export = OUT / "crytic"
    solc = solc_binary(config["compiler"]["solc"]["version"])
    run("crytic-compile", str(source.relative_to(ROOT)), "--compile-force-framework", "solc-json",
        "--solc", str(solc), "--export-format", "standard", "--export-dir", str(export.relative_to(ROOT)))
    exported = export / f"{source.name}.json"
    if not exported.exists():
        sys.exit(f"crytic-compile wrote no {exported}")
    return exported


def _where(finding: dict) -> tuple[str | None, str | None, list[str]]:
    """(contract, function, expressions) a slither finding points at."""
    contract = function = None
    expressions = []
    for element in finding.get("elements", []):
        fields = element.get("type_specific_fields", {})
        if element["type"] == "function" and function is None:
            function = element["name"]
            contract = fields.get("parent", {}).get("name")
        elif element["type"] in ("node", "variable"):  # an expression, or a local variable's name
            expressions.append(element["name"])
            parent = fields.get("parent", {})
            if function is None and parent.get("type") == "function":
                function = parent["name"]
                contract = parent.get("type_specific_fields", {}).get("parent", {}).get("name")
        elif element["type"] == "contract" and contract is None:
            contract = element["name"]
    return contract, function, expressions


def _matches(entry: dict, check: str, contract, function, expressions) -> bool:
    if entry["check"] != check:
        return False
    if entry.get("contract") not in (None, contract) or entry.get("function") not in (None, function):
        return False
    wanted = entry.get("expression")
    return wanted is None or any(wanted in e for e in expressions)


def gate(findings: list[tuple[str, str, str | None, str | None, list[str], str]], triage: list[dict]) -> int:
    """Prints every gated finding with its verdict; returns how many problems there are."""
    used = [False] * len(triage)
    problems = 0
    for check, impact, contract, function, expressions, description in findings:
        entry = next((i for i, e in enumerate(triage) if _matches(e, check, contract, function, expressions)), None)
        where = f"{contract}.{function}" if function else (contract or "?")
        if entry is None:
            problems += 1
            print(f"  UNRESOLVED {impact} {check} at {where}: {description.strip().splitlines()[0]}")
        else:
            used[entry] = True
            print(f"  accepted   {impact} {check} at {where} {expressions or ''}: {triage[entry]['reason'].strip()}")
    for entry, was_used in zip(triage, used):
        if not was_used:
            problems += 1
            print(f"  STALE triage entry (matches no finding any more): {entry['check']} {entry.get('contract')}.{entry.get('function')} {entry.get('expression', '')}")
    return problems


def slither(exported: Path, triage: list[dict]) -> int:
    report = OUT / "slither.json"
    report.unlink(missing_ok=True)
    run("slither", str(exported.relative_to(ROOT)), "--compile-force-framework", "standard",
        "--filter-paths", "node_modules", "--json", str(report.relative_to(ROOT)), check=False)
    results = json.loads(report.read_text())
    if not results.get("success"):
        sys.exit(f"slither failed: {results.get('error')}")
    detectors = results.get("results", {}).get("detectors", [])
    counts = {}
    for finding in detectors:
        counts[finding["impact"]] = counts.get(finding["impact"], 0) + 1
    print("slither findings by impact (node_modules excluded): "
          + ", ".join(f"{impact} {counts.get(impact, 0)}" for impact in ("High", "Medium", "Low", "Informational", "Optimization")))
    gated = [
        (f["check"], f["impact"], *_where(f), f["description"])
        for f in detectors
        if f["impact"] in GATED_IMPACTS
    ]
    return gate(gated, [e for e in triage if e.get("tool", "slither") == "slither"])


def erc_conformance(exported: Path, triage: list[dict]) -> int:
    problems = 0
    for erc in ERCS:
        report = OUT / f"{erc}-conformance.json"
        report.unlink(missing_ok=True)
        run("slither-check-erc", str(exported.relative_to(ROOT)), "ServiceCoin", "--erc", erc,
            "--compile-force-framework", "standard", "--json", str(report.relative_to(ROOT)))
        results = json.loads(report.read_text())
        if not results.get("success"):
            sys.exit(f"slither-check-erc {erc} failed: {results.get('error')}")
        failures = [
            (check, "Conformance", "ServiceCoin", None, [], item["description"])
            for check, items in results["results"].get("erc-conformance", {}).items()
            for item in items
        ]
        print(f"slither-check-erc ServiceCoin {erc.upper()}: properties not met: {len(failures)}")
        problems += gate(failures, [e for e in triage if e.get("tool") == f"check-erc-{erc}"])
    return problems


def main() -> int:
    config = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())
    triage = yaml.safe_load(TRIAGE.read_text()) or []
    for entry in triage:
        if not entry.get("reason", "").strip():
            sys.exit(f"triage entry without a reason: {entry}")
    version = run("slither", "--version").stdout.strip()
    print(f"slither {version}, solc {config['compiler']['solc']['version']} (evm {config['compiler']['evm_version']})")
    exported = compile_once(config)
    problems = slither(exported, triage) + erc_conformance(exported, triage)
    print("static analysis: " + ("OK" if problems == 0 else f"{problems} unresolved"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""The toolchain works on a fresh machine: no ~/.solcx, no ~/.brownie, nothing downloaded.

Runs the real setup script and a real `brownie compile` under an empty HOME, in a copy of
the project, so a missing install step shows up here rather than on a user's machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SETUP = ROOT / "tools" / "setup_toolchain.py"
WRAPPER = ROOT / "tools" / "solc" / "solcjs-wrapper.js"


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def fresh_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if k not in {"SOLCX_BINARY_PATH"}}
    env["HOME"] = str(home)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "contracts", copy / "contracts")
    shutil.copy(ROOT / "brownie-config.yaml", copy / "brownie-config.yaml")
    (copy / "node_modules").symlink_to(ROOT / "node_modules")
    return copy


@pytest.fixture(scope="module")
def setup_output(fresh_home: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, str(SETUP)], fresh_home, ROOT)


def test_setup_succeeds_under_an_empty_home(setup_output: subprocess.CompletedProcess[str]) -> None:
    assert setup_output.returncode == 0, setup_output.stderr
    assert "toolchain ready" in setup_output.stdout


def test_setup_installs_solc_0_8_28_for_py_solc_x(setup_output, fresh_home) -> None:
    solc = Path(fresh_home["HOME"]) / ".solcx" / "solc-v0.8.28"
    out = run([str(solc), "--version"], fresh_home, ROOT)
    assert out.returncode == 0
    assert "Version: 0.8.28+commit.7893614a" in out.stdout


def test_setup_configures_ganache_and_anvil_for_shanghai(setup_output, fresh_home) -> None:
    config = yaml.safe_load((Path(fresh_home["HOME"]) / ".brownie" / "network-config.yaml").read_text())
    settings = {net["id"]: net.get("cmd_settings") or {} for net in config["development"]}
    assert settings["ganache-cli"]["evm_version"] == "shanghai"
    assert settings["development"]["evm_version"] == "shanghai"


def test_the_configured_anvil_leaves_no_block_states_on_disk(setup_output, fresh_home) -> None:
    """Anvil's default writes a copy of the state per block to ~/.foundry/anvil/tmp and never
    removes it: a whole `make test` once filled the disk. The command `make setup` configures
    keeps none there, and still answers for the recent blocks the oracle and the tests read."""
    from web3 import HTTPProvider, Web3

    from oracle.ingest.server import free_port

    config = yaml.safe_load((Path(fresh_home["HOME"]) / ".brownie" / "network-config.yaml").read_text())
    command = next(net["cmd"] for net in config["development"] if net["id"] == "development").split(" ")
    port = free_port()
    anvil = subprocess.Popen([*command, "--port", str(port), "--silent"], env=fresh_home,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        w3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 60}))
        deadline = time.monotonic() + 20
        while not w3.is_connected():
            assert time.monotonic() < deadline and anvil.poll() is None, "anvil did not start"
            time.sleep(0.1)
        sender, receiver = w3.eth.accounts[:2]
        w3.eth.send_transaction({"from": sender, "to": receiver, "value": 1})
        assert w3.provider.make_request("anvil_mine", [hex(1000)]).get("error") is None  # default: ~990 files
        assert w3.eth.get_balance(receiver, block_identifier=w3.eth.block_number - 300) > 0
    finally:
        anvil.terminate()
        anvil.wait(timeout=30)
    states = Path(fresh_home["HOME"]) / ".foundry" / "anvil" / "tmp"
    assert not states.exists() or not any(path.is_file() for path in states.rglob("*"))


def test_setup_is_idempotent(setup_output, fresh_home) -> None:
    solc = Path(fresh_home["HOME"]) / ".solcx" / "solc-v0.8.28"
    networks = Path(fresh_home["HOME"]) / ".brownie" / "network-config.yaml"
    before = (solc.stat().st_mtime_ns, networks.stat().st_mtime_ns)
    again = run([sys.executable, str(SETUP)], fresh_home, ROOT)
    assert again.returncode == 0, again.stderr
    assert (solc.stat().st_mtime_ns, networks.stat().st_mtime_ns) == before


def test_brownie_compiles_the_contracts_from_scratch(setup_output, fresh_home, project_copy) -> None:
    out = run([str(VENV_BIN / "brownie"), "compile"], fresh_home, project_copy)
    assert out.returncode == 0, out.stdout + out.stderr
    for name in ("ServiceCoin", "FeedbackRegistry", "TierRedemption"):
        artifact = json.loads((project_copy / "build" / "contracts" / f"{name}.json").read_text())
        assert len(artifact["bytecode"]) > 1000, name
        assert artifact["compiler"]["version"].startswith("0.8.28")
        assert artifact["compiler"]["evm_version"] == "shanghai"
        assert artifact["compiler"]["optimizer"] == {"enabled": True, "runs": 200}


def test_shipped_abis_equal_freshly_compiled_ones(setup_output, fresh_home, project_copy) -> None:
    """oracle/abi/*.json (what `pip install .` gives a brand) match the contracts as they are."""
    sys.path.insert(0, str(ROOT / "tools"))
    from export_abis import CONTRACTS, TARGET, abi_json

    build = project_copy / "build" / "contracts"
    if not build.exists():
        out = run([str(VENV_BIN / "brownie"), "compile"], fresh_home, project_copy)
        assert out.returncode == 0, out.stdout + out.stderr
    stale = [name for name in CONTRACTS if (TARGET / f"{name}.json").read_text() != abi_json(build, name)]
    assert stale == [], f"shipped ABIs differ from a fresh compile: {stale}; run `make abis` and commit"


def test_wrapper_refuses_arguments_py_solc_x_never_sends(fresh_home) -> None:
    out = run(["node", str(WRAPPER), "--bin", "x.sol"], fresh_home, ROOT)
    assert out.returncode == 2
    assert "unsupported argument" in out.stderr


def test_wrapper_reads_no_import_outside_the_allowed_paths(fresh_home, tmp_path: Path) -> None:
    outside = tmp_path / "secret.sol"
    outside.write_text("// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract S {}\n")
    source = f'// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\nimport "{outside}";\ncontract A {{}}\n'
    request = {"language": "Solidity", "sources": {"A.sol": {"content": source}}, "settings": {}}
    workdir = tmp_path / "work"
    workdir.mkdir()
    out = subprocess.run(
        ["node", str(WRAPPER), "--standard-json", "--allow-paths", str(workdir)],
        input=json.dumps(request), capture_output=True, text=True, cwd=workdir, env=fresh_home, timeout=120,
    )
    errors = json.loads(out.stdout)["errors"]
    assert any("File not found inside the allowed paths" in e["message"] for e in errors)

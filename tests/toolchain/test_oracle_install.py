"""A brand installs the oracle alone: `pip install .` in a fresh virtualenv gives a working
`servicecoin` with the contract ABIs inside the package, and none of the contract toolchain
(brownie, the compiler, the chains)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def oracle_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("brand")
    source = work / "servicecoin"
    # What a brand gets from a release: the package and its metadata, no build outputs.
    shutil.copytree(ROOT / "oracle", source / "oracle", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(source)],
        capture_output=True, text=True, timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return venv


def test_servicecoin_runs_from_a_plain_install(oracle_venv: Path) -> None:
    result = subprocess.run([str(oracle_venv / "bin" / "servicecoin"), "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for command in ("run", "ingest", "status", "verify", "config"):
        assert command in result.stdout


def test_the_abis_ship_inside_the_package(oracle_venv: Path) -> None:
    code = (
        "from oracle.abi import load_abi;"
        "print(sorted(e['name'] for e in load_abi('FeedbackRegistry') if e['type'] == 'function')[:3])"
    )
    result = subprocess.run([str(oracle_venv / "bin" / "python"), "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("[")


def test_the_contract_toolchain_is_not_installed(oracle_venv: Path) -> None:
    for module in ("brownie", "solcx"):
        result = subprocess.run([str(oracle_venv / "bin" / "python"), "-c", f"import {module}"], capture_output=True)
        assert result.returncode != 0, f"{module} should not come with the oracle"

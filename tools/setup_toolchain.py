"""Put the offline contract toolchain in place; safe to run any number of times.

`make setup` runs this after the Python and npm packages are installed. It
1. installs a `solc-v0.8.28` that py-solc-x (and so brownie) will find without a download:
   a native solc of that version if one is on PATH, else the wrapper over the npm `solc`
   package (tools/solc/solcjs-wrapper.js);
2. exposes the project's Node chains (anvil, ganache, ganache-cli) inside the virtualenv's
   bin/, so that an activated venv (and brownie launched from it) finds them;
3. configures brownie's local networks for shanghai bytecode (brownie launches Ganache with
   istanbul by default, where OpenZeppelin 5's PUSH0 is an invalid opcode).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SOLC_VERSION = "0.8.28"
ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "tools" / "solc" / "solcjs-wrapper.js"
VENV_BIN = Path(sys.executable).parent
NODE_BIN = ROOT / "node_modules" / ".bin"
CHAIN_COMMANDS = ("anvil", "ganache", "ganache-cli")
# network id -> cmd_settings brownie must use for it
NETWORK_SETTINGS = {
    "development": {"evm_version": "shanghai"},
    "ganache-cli": {"evm_version": "shanghai"},
}
# Anvil keeps the states of its last few hundred blocks in memory and, by default, writes the
# older ones to ~/.foundry/anvil/tmp, a full copy of the state per block, never removed when
# brownie stops it: one `make test` wrote 8.4 GB there, and a full disk failed the suite.
# The tests never read a state that old, so nothing is written to disk. Brownie has no
# setting for the flag (its anvil settings are a fixed list), so it goes in the command.
ANVIL_COMMAND = "anvil --max-persisted-states 0"
NETWORK_COMMANDS = {"development": ANVIL_COMMAND}


class SetupError(RuntimeError):
    """A step of the toolchain setup could not be completed."""


def solc_install_folder() -> Path:
    # Same rule as py-solc-x: $SOLCX_BINARY_PATH, else ~/.solcx.
    folder = Path(os.environ.get("SOLCX_BINARY_PATH") or Path.home() / ".solcx")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def reported_version(executable: Path | str) -> str | None:
    try:
        out = subprocess.run(
            [str(executable), "--version"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"Version: (\d+\.\d+\.\d+)", out)
    return match.group(1) if match else None


def install_solc() -> str:
    target = solc_install_folder() / f"solc-v{SOLC_VERSION}"
    native = shutil.which("solc")
    if native and reported_version(native) == SOLC_VERSION:
        if not target.exists() or target.resolve() != Path(native).resolve():
            target.unlink(missing_ok=True)
            target.symlink_to(native)
        return f"native solc {native}"
    node = shutil.which("node")
    if node is None:
        raise SetupError("node is not on PATH: it is needed to run the solcjs compiler")
    script = f'#!/bin/sh\n# Written by {Path(__file__).name}: solc {SOLC_VERSION} via solcjs.\nexec "{node}" "{WRAPPER}" "$@"\n'
    if target.is_symlink() or not target.exists() or target.read_text() != script:
        target.unlink(missing_ok=True)
        target.write_text(script)
        target.chmod(0o755)
    version = reported_version(target)
    if version != SOLC_VERSION:
        raise SetupError(f"{target} reports version {version!r}, expected {SOLC_VERSION}")
    return f"solcjs wrapper at {target}"


def link_chain_commands() -> None:
    for name in CHAIN_COMMANDS:
        source = NODE_BIN / name
        if not source.exists():
            raise SetupError(f"{source} is missing: run `npm ci` first")
        link = VENV_BIN / name
        if link.is_symlink() and link.resolve() == source.resolve():
            continue
        link.unlink(missing_ok=True)
        link.symlink_to(source)


def configure_brownie_networks() -> None:
    from brownie._config import CONFIG  # imported late: brownie writes ~/.brownie on import

    for network_id, wanted in NETWORK_SETTINGS.items():
        current = CONFIG.networks[network_id].get("cmd_settings") or {}
        changes = [f"{key}={value}" for key, value in wanted.items() if current.get(key) != value]
        command = NETWORK_COMMANDS.get(network_id)
        if command is not None and CONFIG.networks[network_id].get("cmd") != command:
            changes.append(f"cmd={command}")
        if not changes:
            continue
        subprocess.run(
            [str(VENV_BIN / "brownie"), "networks", "modify", network_id, *changes],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )


def main() -> int:
    try:
        how = install_solc()
        link_chain_commands()
        configure_brownie_networks()
    except (SetupError, subprocess.CalledProcessError) as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        return 1
    print(f"toolchain ready: {how}; chains in {VENV_BIN}; brownie networks on shanghai")
    return 0


if __name__ == "__main__":
    sys.exit(main())

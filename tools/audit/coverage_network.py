"""Makes sure brownie has the `audit-coverage` network that `make audit-coverage` runs on;
safe to run any number of times.

Brownie measures coverage from debug_traceTransaction's opcode steps. Ganache returns them;
Anvil returns an empty step list unless started with --steps-tracing (which also slows it, so
the everyday `development` network stays without it). This network is Anvil with steps
tracing, on a port of its own (8549), with the same settings as `development` otherwise.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from setup_toolchain import ANVIL_COMMAND  # noqa: E402 - the same Anvil command as `development`

BROWNIE = Path(sys.executable).with_name("brownie")
NETWORK = "audit-coverage"
SETTINGS = {
    "port": 8549,
    "accounts": 10,
    "base_fee": 0,
    "evm_version": "shanghai",
    "gas_limit": 12000000,
    "steps_tracing": True,
}


def main() -> int:
    from brownie._config import CONFIG  # imported late: brownie writes ~/.brownie on import

    settings = [f"{key}={str(value).lower() if isinstance(value, bool) else value}" for key, value in SETTINGS.items()]
    if NETWORK not in CONFIG.networks:
        command = ["networks", "add", "Development", NETWORK, f"cmd={ANVIL_COMMAND}", "host=http://127.0.0.1", *settings]
    elif (CONFIG.networks[NETWORK].get("cmd_settings") or {}, CONFIG.networks[NETWORK].get("cmd")) != (
        SETTINGS, ANVIL_COMMAND
    ):
        command = ["networks", "modify", NETWORK, f"cmd={ANVIL_COMMAND}", *settings]
    else:
        return 0
    subprocess.run([str(BROWNIE), *command], check=True, capture_output=True, cwd=ROOT)
    print(f"brownie network {NETWORK}: anvil with steps tracing on port {SETTINGS['port']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

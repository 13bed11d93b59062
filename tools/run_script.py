"""Runs `scripts/<name>.py`'s main() on a brownie network: `brownie run` without its path trap.

`brownie run` imports a script by its absolute path (/a/b.c/scripts/demo.py becomes the module
`a.b.c.scripts.demo`), which fails wherever a directory on the path contains a dot, such as a
checkout under /tmp/tmp.X. This loads the project, imports the script as `scripts.<name>`,
and always disconnects at the end, so a chain brownie launched is stopped even on Ctrl-C.

    python tools/run_script.py demo [--network development] [--free-port]

--free-port launches the development chain on a free port instead of 8545, so the demo runs
beside anything else listening there (another chain, a test run).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", help="a module in scripts/, e.g. demo")
    parser.add_argument("--network", default="development")
    parser.add_argument("--free-port", action="store_true", help="launch the local chain on a free port")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    # The chains (anvil, ganache-cli) are linked into this virtualenv's bin/ by `make setup`.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    from brownie import network, project

    loaded = project.load(ROOT)
    loaded.load_config()
    loaded._add_to_main_namespace()  # `from brownie import ServiceCoin`, as under `brownie run`
    if args.free_port:
        from brownie._config import CONFIG

        from oracle.ingest.server import free_port

        CONFIG.networks[args.network].setdefault("cmd_settings", {})["port"] = free_port()
    network.connect(args.network)
    try:
        importlib.import_module(f"scripts.{args.script}").main()
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        if network.is_connected():
            network.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())

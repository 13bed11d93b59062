"""Runs `scripts/<name>.py`'s main() on a brownie network: `brownie run` without its path trap
(see scripts/brownie_session.py).

    python tools/run_script.py demo [--network development] [--free-port] [--rpc-url URL]

--free-port launches the development chain on a free port instead of 8545, so the demo runs
beside anything else listening there (another chain, a test run).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.brownie_session import brownie_session  # noqa: E402 - needs the path above


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", help="a module in scripts/, e.g. demo")
    parser.add_argument("--network", default="development")
    parser.add_argument("--free-port", action="store_true", help="launch the local chain on a free port")
    parser.add_argument("--rpc-url", help="connect to this JSON-RPC endpoint instead of a named network")
    parser.add_argument("--gas-limit", type=int, help="block gas limit of the chain brownie launches")
    args = parser.parse_args(argv)
    try:
        with brownie_session(args.network, free_port=args.free_port, rpc_url=args.rpc_url, gas_limit=args.gas_limit):
            importlib.import_module(f"scripts.{args.script}").main()
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

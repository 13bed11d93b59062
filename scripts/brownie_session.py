"""Load the brownie project and connect to a network, for the programs that drive brownie
themselves (tools/run_script.py, scripts/operator.py) instead of through `brownie run`.

`brownie run` imports a script by its absolute path (/a/b.c/scripts/demo.py becomes the module
`a.b.c.scripts.demo`), which fails wherever a directory on the path contains a dot, such as a
checkout under /tmp/tmp.X. The session always disconnects at the end, so a chain brownie
launched is stopped even on Ctrl-C.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADHOC_NETWORK = "servicecoin-rpc"


class SessionError(SystemExit):
    pass


@contextmanager
def brownie_session(
    network_id: str = "development",
    *,
    free_port: bool = False,
    rpc_url: str | None = None,
    gas_limit: int | None = None,
) -> Iterator[None]:
    """`rpc_url` connects to any EVM chain without a brownie network entry (a live network
    named servicecoin-rpc is added for this process only); `free_port` launches the
    development chain on a free port instead of 8545."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    # The chains (anvil, ganache-cli) are linked into this virtualenv's bin/ by `make setup`.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    from brownie import network, project
    from brownie._config import CONFIG

    _without_brownie_deployment_artifacts()
    loaded = project.load(ROOT)
    loaded.load_config()
    loaded._add_to_main_namespace()  # `from brownie import ServiceCoin`, as under `brownie run`
    if rpc_url:
        from web3 import HTTPProvider, Web3

        try:
            chain_id = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": 10})).eth.chain_id
        except Exception as exc:  # noqa: BLE001 - any failure here means the RPC is unusable
            raise SessionError(f"cannot connect to network {ADHOC_NETWORK!r} at {rpc_url}: {type(exc).__name__}: {exc}") from None
        CONFIG.networks[ADHOC_NETWORK] = {
            "id": ADHOC_NETWORK, "name": "RPC from the command line", "host": rpc_url,
            # A string, as in brownie's network-config.yaml: its deployment map mixes the two otherwise.
            "chainid": str(chain_id),
        }
        network_id = ADHOC_NETWORK
    elif network_id not in CONFIG.networks:
        raise SessionError(f"unknown brownie network {network_id!r}; known: {', '.join(sorted(CONFIG.networks))}")
    if free_port:
        from oracle.ingest.server import free_port as pick_port

        CONFIG.networks[network_id].setdefault("cmd_settings", {})["port"] = pick_port()
    if gas_limit:  # the block gas limit of a chain brownie launches
        CONFIG.networks[network_id].setdefault("cmd_settings", {})["gas_limit"] = gas_limit
    try:
        network.connect(network_id)
    except Exception as exc:  # noqa: BLE001 - brownie raises many kinds; all mean "cannot connect"
        raise SessionError(f"cannot connect to network {network_id!r}: {type(exc).__name__}: {exc}") from None
    try:
        yield
    finally:
        if network.is_connected():
            network.disconnect()


def _without_brownie_deployment_artifacts() -> None:
    """Brownie keeps its own copy of every live deployment under build/deployments/<chainid>/
    and reloads it on connect, failing with ContractNotFound once the chain no longer has that
    code (a testnet reset, a fresh local chain with Sepolia's id). The project's record is
    deployments/<chainId>.json (scripts/deploy.py), so brownie's copy is switched off."""
    from brownie.network.contract import _DeployedContractBase
    from brownie.project.main import Project

    Project._load_deployments = lambda self: None  # type: ignore[method-assign]
    _DeployedContractBase._save_deployment = lambda self: None  # type: ignore[method-assign]
    _DeployedContractBase._delete_deployment = lambda self: None  # type: ignore[method-assign]

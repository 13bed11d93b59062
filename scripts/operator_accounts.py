"""The operator's deployer account: never a key in a file of this repository.

- $SERVICECOIN_DEPLOYER_KEY: a private key in the environment, for automation (CI, a secret
  manager injecting it);
- $SERVICECOIN_DEPLOYER_ACCOUNT: the id of a brownie encrypted account (`brownie accounts new
  <id>`); its password is asked for, or read from $SERVICECOIN_DEPLOYER_PASSWORD;
- on a development chain brownie launched, its first unlocked account.
"""

from __future__ import annotations

import os
from typing import Any


class DeployerError(SystemExit):
    pass


def load_deployer() -> Any:
    from brownie import accounts, network
    from brownie._config import CONFIG

    key = os.environ.get("SERVICECOIN_DEPLOYER_KEY")
    if key:
        try:
            return accounts.add(key)
        except (ValueError, TypeError):
            raise DeployerError("SERVICECOIN_DEPLOYER_KEY is not a valid private key") from None
    account_id = os.environ.get("SERVICECOIN_DEPLOYER_ACCOUNT")
    if account_id:
        try:
            return accounts.load(account_id, password=os.environ.get("SERVICECOIN_DEPLOYER_PASSWORD"))
        except FileNotFoundError:
            raise DeployerError(f"no brownie account {account_id!r}: create it with `brownie accounts new {account_id}`") from None
        except ValueError as exc:
            raise DeployerError(f"brownie account {account_id!r}: {exc}") from None
    if CONFIG.network_type == "development" and len(accounts) > 0:
        return accounts[0]
    raise DeployerError(
        f"no deployer for network {network.show_active()!r}: set SERVICECOIN_DEPLOYER_ACCOUNT (a brownie "
        "encrypted account) or SERVICECOIN_DEPLOYER_KEY"
    )

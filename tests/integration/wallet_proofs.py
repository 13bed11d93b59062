"""What a customer's wallet signs before the oracle links it: its WalletOwnership message
(oracle/wallet_proof.py), as the brand's app has the wallet sign it."""

from __future__ import annotations

import time

from eth_account import Account
from eth_utils import keccak

from oracle.typed_data import Domain
from oracle.wallet_proof import ownership_typed_data

WALLET_KEY = keccak(text="a customer's own wallet")


def proof_of(  # type: ignore[no-untyped-def]
    files, customer: str, key: bytes = WALLET_KEY, valid_for: int = 600, wallet: str | None = None
) -> list[str]:
    """`wallet link`'s --signature and --deadline: `key` signs the WalletOwnership message of
    `wallet` (default: the key's own address; a contract wallet's owner key for a contract
    wallet), as the customer's wallet does in the brand's app."""
    config = files.config()
    deadline = int(time.time()) + valid_for
    domain = Domain(chain_id=config.chain.chain_id, verifying_contract=config.chain.registry)
    wallet = wallet or Account.from_key(key).address
    typed = ownership_typed_data(domain, wallet, files.custodial_address(customer), deadline)
    return ["--signature", "0x" + bytes(Account.sign_typed_data(key, full_message=typed).signature).hex(),
            "--deadline", str(deadline)]

"""Keys derived from the brand's one secret, and customers' custodial wallets.

Customers need no wallet to earn: each gets a custodial address derived deterministically from
the brand secret and their helpdesk customer id, so no table maps people to addresses and
nothing on-chain reveals who a customer is (the derivation is keyed). The brand can later sign,
as that custodial holder, the LinkWallet message that moves the coins to a wallet the customer
owns. The same secret, under a different HKDF label, gives the key that wraps content keys.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_account import Account
from eth_account.signers.local import LocalAccount

# The order of secp256k1: a private key must lie in [1, n).
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def derive_key(brand_secret: bytes, label: str) -> bytes:
    """A 32-byte key for one purpose; keys under different labels are independent."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(brand_secret)


def content_master_key(brand_secret: bytes) -> bytes:
    return derive_key(brand_secret, "servicecoin/v1/content-master-key")


class CustodialWallets:
    """Deterministic custodial keys: the same customer always gets the same address."""

    def __init__(self, brand_secret: bytes, brand_id: int) -> None:
        self._root = derive_key(brand_secret, "servicecoin/v1/custodial-wallets")
        self._brand_id = brand_id
        self.address_for = lru_cache(maxsize=65536)(self._address_for)

    @property
    def brand_id(self) -> int:
        return self._brand_id

    def account_for(self, customer_id: str) -> LocalAccount:
        counter = 0
        while True:
            # A fresh counter on the (astronomically unlikely) out-of-range draw keeps keys uniform.
            message = f"{self._brand_id}|{customer_id}|{counter}".encode()
            candidate = int.from_bytes(hmac.new(self._root, message, hashlib.sha256).digest(), "big")
            if 0 < candidate < _SECP256K1_ORDER:
                return Account.from_key(candidate.to_bytes(32, "big"))
            counter += 1

    def _address_for(self, customer_id: str) -> str:
        return str(self.account_for(customer_id).address)

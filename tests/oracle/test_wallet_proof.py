"""A wallet proves it is the customer's before a link (oracle/wallet_proof.py): its own
signature over its WalletOwnership message, this customer's custodial address, this chain and
registry, before the deadline. (Contract wallets, through ERC-1271, are tested on Anvil:
integration/test_customer_wallets.py.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from oracle.identity import LinkRefused
from oracle.typed_data import Domain
from oracle.wallet_proof import ownership_typed_data, require_ownership

KEY = keccak(text="wallet-proof-test-key")
WALLET = Account.from_key(KEY).address
CUSTODIAL = "0x" + "9c" * 20
DOMAIN = Domain(chain_id=31337, verifying_contract="0x" + "11" * 20)
NOW = 1_800_000_000
# An externally owned wallet has no code: the proof is checked with ecrecover, nothing else is asked.
EOA_CHAIN = SimpleNamespace(eth=SimpleNamespace(get_code=lambda address: b""))


def signed(key: bytes = KEY, domain: Domain = DOMAIN, custodial: str = CUSTODIAL, deadline: int = NOW + 60) -> bytes:
    typed = ownership_typed_data(domain, WALLET, custodial, deadline)
    return bytes(Account.sign_typed_data(key, full_message=typed).signature)


def check(signature: bytes, deadline: int = NOW + 60, custodial: str = CUSTODIAL) -> None:
    require_ownership(EOA_CHAIN, DOMAIN, WALLET, custodial, deadline, signature, NOW)  # type: ignore[arg-type]


def test_the_wallets_own_signature_before_the_deadline_is_accepted() -> None:
    check(signed())
    check(signed(deadline=NOW), deadline=NOW)  # the deadline's own second still counts


@pytest.mark.parametrize(
    "signature, message",
    [
        (signed(key=keccak(text="someone else")), f"not the wallet {WALLET}'s"),
        (signed(custodial="0x" + "9d" * 20), f"not the wallet {WALLET}'s"),  # another customer's proof
        (signed(domain=Domain(chain_id=1, verifying_contract="0x" + "11" * 20)), "not the wallet"),  # another chain
        (signed(domain=Domain(chain_id=31337, verifying_contract="0x" + "12" * 20)), "not the wallet"),
        (b"\x01" * 10, "the wallet's signature is malformed"),
    ],
    ids=["another_key", "another_customer", "another_chain", "another_registry", "malformed"],
)
def test_any_other_signature_is_refused(signature: bytes, message: str) -> None:
    with pytest.raises(LinkRefused, match=message):
        check(signature)


def test_an_expired_proof_is_refused_even_when_the_signature_is_right() -> None:
    with pytest.raises(LinkRefused, match=f"the wallet's signature expired at {NOW - 1}"):
        check(signed(deadline=NOW - 1), deadline=NOW - 1)


def test_the_message_names_the_wallet_the_custodial_address_and_the_deadline() -> None:
    typed = ownership_typed_data(DOMAIN, WALLET.lower(), CUSTODIAL, NOW)
    assert typed["primaryType"] == "WalletOwnership"
    assert typed["message"] == {"wallet": WALLET, "custodialAddress": to_checksum_address(CUSTODIAL), "deadline": NOW}
    assert typed["domain"]["chainId"] == 31337

"""A wallet proves it is the customer's before a link (oracle/wallet_proof.py): its own
signature over its WalletOwnership message, this customer's custodial address, this chain and
registry, before the deadline. (Contract wallets, through ERC-1271, are tested on Anvil:
integration/test_customer_wallets.py.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from oracle.identity import LinkRefused
from oracle.typed_data import Domain
from oracle.wallet_proof import (
    ERC1271_MAGIC_VALUE,
    MAX_PROOF_LIFETIME_SECONDS,
    ownership_typed_data,
    require_ownership,
)

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
        (signed(key=keccak(text="someone else")), f"does not verify for WalletOwnership\\(wallet {WALLET}"),
        (signed(custodial="0x" + "9d" * 20), "does not verify"),  # another customer's proof
        (signed(domain=Domain(chain_id=1, verifying_contract="0x" + "11" * 20)), "does not verify"),  # another chain
        (signed(domain=Domain(chain_id=31337, verifying_contract="0x" + "12" * 20)), "does not verify"),
        (b"\x01" * 10, "not a 65-byte ECDSA signature, and no contract is deployed at"),
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


def test_a_proof_valid_for_more_than_a_week_is_refused() -> None:
    far = NOW + MAX_PROOF_LIFETIME_SECONDS + 1
    with pytest.raises(LinkRefused, match="is more than 604800 s ahead"):
        check(signed(deadline=far), deadline=far)
    check(signed(deadline=NOW + MAX_PROOF_LIFETIME_SECONDS), deadline=NOW + MAX_PROOF_LIFETIME_SECONDS)


class _Wallet:
    """A contract wallet's ERC-1271 answer: `approve(digest, signature)` decides."""

    def __init__(self, approve) -> None:  # type: ignore[no-untyped-def]
        self.asked: list[tuple[bytes, bytes]] = []
        self.functions = SimpleNamespace(isValidSignature=self._ask)
        self._approve = approve

    def _ask(self, digest: bytes, signature: bytes) -> SimpleNamespace:
        self.asked.append((digest, signature))
        return SimpleNamespace(call=lambda: ERC1271_MAGIC_VALUE if self._approve(digest, signature) else b"\x00" * 4)


def contract_chain(wallet: _Wallet) -> SimpleNamespace:
    return SimpleNamespace(eth=SimpleNamespace(get_code=lambda address: b"\x60\x80",
                                               contract=lambda address, abi: wallet))


def test_a_contract_wallet_that_approves_the_signature_proves_it() -> None:
    signature = b"\x02" * 70  # a contract wallet's own format
    wallet = _Wallet(lambda digest, sig: sig == signature)
    require_ownership(contract_chain(wallet), DOMAIN, WALLET, CUSTODIAL, NOW + 60, signature, NOW)  # type: ignore[arg-type]
    signable = encode_typed_data(full_message=ownership_typed_data(DOMAIN, WALLET, CUSTODIAL, NOW + 60))
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert wallet.asked[0] == (digest, signature)  # asked about the EIP-712 digest of the message
    assert wallet.asked[1][1] == b"" and wallet.asked[1][0] != digest  # then a random digest, refused


@pytest.mark.parametrize("approve, message", [
    (lambda digest, sig: False, "is a contract that does not approve this signature"),
    (lambda digest, sig: True, "is a contract that approves any signature"),  # e.g. an uninitialised account
], ids=["refuses", "approves_anything"])
def test_a_contract_wallet_that_refuses_or_approves_anything_proves_nothing(approve, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LinkRefused, match=message):
        require_ownership(contract_chain(_Wallet(approve)), DOMAIN, WALLET, CUSTODIAL, NOW + 60, b"\x02" * 70, NOW)  # type: ignore[arg-type]

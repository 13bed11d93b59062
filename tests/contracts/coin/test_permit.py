"""EIP-2612 permit: an allowance set by the holder's off-chain signature, submitted by anyone."""

from __future__ import annotations

import brownie
import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from oracle.typed_data import Domain, permit_typed_data
from oracle.typed_data import sign_permit as sign_permit_message

COIN = 10**18
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


@pytest.fixture(scope="module")
def owner_key():
    """A local key with no ether: its holder only signs, never sends a transaction."""
    return keccak(text="servicecoin-test-permit-owner")


@pytest.fixture(scope="module")
def owner(owner_key):
    return Account.from_key(owner_key).address


@pytest.fixture(scope="module")
def permit_data(coin, chain):
    """permit_data(owner, spender, value, nonce, deadline) -> the full EIP-712 Permit message."""

    def _permit_data(owner, spender, value, nonce, deadline):
        domain = Domain(chain_id=chain.id, verifying_contract=coin.address, name="Service Coin", version="1")
        return permit_typed_data(domain, owner, str(spender), value, nonce, deadline)

    return _permit_data


@pytest.fixture(scope="module")
def sign_permit(permit_data):
    """sign_permit(key, owner, spender, value, nonce, deadline) -> (v, r, s) for permit()."""

    def _sign(key, owner, spender, value, nonce, deadline):
        return sign_permit_message(key, permit_data(owner, spender, value, nonce, deadline))

    return _sign


def test_domain_separator_matches_the_python_domain(coin, chain):
    expected = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [keccak(text=DOMAIN_TYPE), keccak(text="Service Coin"), keccak(text="1"), chain.id, coin.address],
        )
    )
    assert bytes(coin.DOMAIN_SEPARATOR()) == expected
    domain = coin.eip712Domain()
    assert (domain[1], domain[2], domain[3], domain[4]) == ("Service Coin", "1", chain.id, coin.address)


def test_permit_sets_the_allowance_and_consumes_the_nonce(
    coin, chain, owner, owner_key, bob, protocol, sign_permit
):
    deadline = chain.time() + 3600
    v, r, s = sign_permit(owner_key, owner, protocol, 5 * COIN, 0, deadline)
    tx = coin.permit(owner, protocol, 5 * COIN, deadline, v, r, s, {"from": bob})
    assert coin.allowance(owner, protocol) == 5 * COIN
    assert coin.nonces(owner) == 1
    assert tx.events["Approval"][0]["owner"] == owner
    assert tx.events["Approval"][0]["spender"] == protocol
    assert tx.events["Approval"][0]["value"] == 5 * COIN


def test_spender_pulls_coins_with_a_permitted_allowance(
    coin, chain, mint, owner, owner_key, protocol, sign_permit
):
    mint({owner: 8 * COIN})
    deadline = chain.time() + 3600
    v, r, s = sign_permit(owner_key, owner, protocol, 5 * COIN, 0, deadline)
    coin.permit(owner, protocol, 5 * COIN, deadline, v, r, s, {"from": protocol})
    coin.transferFrom(owner, protocol, 5 * COIN, {"from": protocol})
    assert coin.balanceOf(owner) == 3 * COIN
    assert coin.balanceOf(protocol) == 5 * COIN
    assert coin.allowance(owner, protocol) == 0


def test_expired_permit_is_refused(coin, chain, owner, owner_key, bob, sign_permit, err):
    deadline = chain.time() + 60
    v, r, s = sign_permit(owner_key, owner, bob, COIN, 0, deadline)
    chain.sleep(120)
    with brownie.reverts(revert_pattern=err("ERC2612ExpiredSignature", deadline)):
        coin.permit(owner, bob, COIN, deadline, v, r, s, {"from": bob})
    assert coin.nonces(owner) == 0


def test_permit_signed_by_another_key_is_refused(coin, chain, owner, bob, sign_permit, err):
    intruder_key = keccak(text="servicecoin-test-permit-intruder")
    intruder = Account.from_key(intruder_key).address
    deadline = chain.time() + 3600
    v, r, s = sign_permit(intruder_key, owner, bob, COIN, 0, deadline)
    with brownie.reverts(revert_pattern=err("ERC2612InvalidSigner", intruder, owner)):
        coin.permit(owner, bob, COIN, deadline, v, r, s, {"from": bob})
    assert coin.allowance(owner, bob) == 0


def test_replayed_permit_is_refused(
    coin, chain, owner, owner_key, bob, sign_permit, permit_data, err
):
    deadline = chain.time() + 3600
    v, r, s = sign_permit(owner_key, owner, bob, COIN, 0, deadline)
    coin.permit(owner, bob, COIN, deadline, v, r, s, {"from": bob})
    # With the nonce consumed the contract hashes nonce 1, so the same signature recovers
    # to an unrelated address.
    replay_signer = Account.recover_message(
        encode_typed_data(full_message=permit_data(owner, bob, COIN, 1, deadline)), vrs=(v, r, s)
    )
    with brownie.reverts(revert_pattern=err("ERC2612InvalidSigner", replay_signer, owner)):
        coin.permit(owner, bob, COIN, deadline, v, r, s, {"from": bob})
    assert coin.nonces(owner) == 1


def test_permit_for_a_different_value_is_refused(
    coin, chain, owner, owner_key, bob, sign_permit, permit_data, err
):
    deadline = chain.time() + 3600
    v, r, s = sign_permit(owner_key, owner, bob, COIN, 0, deadline)
    tampered_signer = Account.recover_message(
        encode_typed_data(full_message=permit_data(owner, bob, 100 * COIN, 0, deadline)), vrs=(v, r, s)
    )
    with brownie.reverts(revert_pattern=err("ERC2612InvalidSigner", tampered_signer, owner)):
        coin.permit(owner, bob, 100 * COIN, deadline, v, r, s, {"from": bob})

"""linkWallet: a custodial customer moves coins and reward history to their own wallet, with
the holder's EIP-712 signature, relayed by a LINK_OPERATOR_ROLE holder; each signature works once."""

import re

import brownie
import pytest
from eth_utils import keccak

from oracle.typed_data import link_wallet_digest, sign_digest
from tests.contracts.batch_outcomes import outcomes, rewarded, skipped

from .helpers import COIN, CUSTOMER_CAP_REACHED, WELCOME, error, recover

ZERO = "0x" + "00" * 20
LINK_OPERATOR_ROLE = keccak(text="LINK_OPERATOR_ROLE")


@pytest.fixture
def deadline(chain):
    return chain.time() + 3600


@pytest.fixture
def earned(batches, holder):
    """The custodial holder earned two survey rewards (10) and the welcome bonus (5)."""
    batches.reward([holder.address, holder.address])


@pytest.fixture
def sign(domain, holder, deadline):
    """The LinkWallet signature of `key` (the holder's by default) for holder -> `target`."""

    def _sign(target, nonce=0, key=None, expires=None):
        digest = link_wallet_digest(domain, holder.address, str(target), nonce, expires or deadline)
        return sign_digest(key or holder.key, digest)

    return _sign


@pytest.fixture
def link(registry, admin, holder, deadline, sign):
    """Relays holder -> `target`, signed by the holder, as the link operator (the deployer)."""

    def _link(target, signature=None, sender=None):
        signature = sign(target) if signature is None else signature
        return registry.linkWallet(holder.address, target, deadline, signature, {"from": sender or admin})

    return _link


def test_link_moves_balance_and_reward_history_to_the_target(registry, coin, holder, bob, earned, link):
    tx = link(bob)
    period = registry.currentPeriod()
    assert tx.events["WalletLinked"] == {
        "from": holder.address,
        "to": bob,
        "balanceMoved": 15 * COIN,
        "lifetimeMoved": 10 * COIN,
    }
    assert (coin.balanceOf(holder.address), coin.balanceOf(bob)) == (0, 15 * COIN)
    assert registry.accountOf(bob) == (10 * COIN, 2, period, True)
    assert registry.accountOf(holder.address) == (0, 0, period, True)
    assert registry.linkNonce(holder.address) == 1


def test_link_into_a_wallet_with_history_adds_both_histories(batches, registry, coin, bob, earned, link):
    batches.reward([bob])
    link(bob)
    assert coin.balanceOf(bob) == 15 * COIN + 10 * COIN
    assert registry.accountOf(bob) == (15 * COIN, 3, registry.currentPeriod(), True)


def test_the_customer_cap_follows_the_linked_history(batches, registry, admin, holder, bob, link):
    registry.setCustomerCap(2, {"from": admin})
    batches.reward([holder.address, holder.address])
    link(bob)
    tx = batches.reward([bob])
    assert outcomes(tx) == [skipped(CUSTOMER_CAP_REACHED)]


def test_replaying_a_used_link_signature_fails_because_the_nonce_moved(
    registry, domain, holder, bob, earned, deadline, sign, link
):
    signature = sign(bob)
    link(bob, signature)
    recovered = recover(link_wallet_digest(domain, holder.address, str(bob), 1, deadline), signature)
    with brownie.reverts(revert_pattern=error("InvalidLinkSignature", holder.address, recovered)):
        link(bob, signature)
    assert registry.linkNonce(holder.address) == 1


def test_link_signed_by_another_key_is_refused(registry, coin, holder, stranger, bob, earned, sign, link):
    with brownie.reverts(revert_pattern=error("InvalidLinkSignature", holder.address, stranger.address)):
        link(bob, sign(bob, key=stranger.key))
    assert coin.balanceOf(holder.address) == 15 * COIN
    assert registry.linkNonce(holder.address) == 0


def test_link_signature_for_another_target_is_refused(domain, holder, bob, carol, earned, deadline, sign, link):
    signature = sign(bob)
    recovered = recover(link_wallet_digest(domain, holder.address, str(carol), 0, deadline), signature)
    with brownie.reverts(revert_pattern=error("InvalidLinkSignature", holder.address, recovered)):
        link(carol, signature)


def test_expired_link_is_refused(registry, admin, holder, bob, earned, chain, sign):
    expired = chain.time() - 60
    with brownie.reverts(revert_pattern=re.escape(f"LinkExpired: {expired}, ") + r"\d+"):
        registry.linkWallet(holder.address, bob, expired, sign(bob, expires=expired), {"from": admin})


@pytest.mark.parametrize("target", ["zero", "self"])
def test_link_to_the_zero_address_or_to_itself_is_refused(holder, earned, link, target):
    to = ZERO if target == "zero" else holder.address
    with brownie.reverts(revert_pattern=error("InvalidLinkTarget", holder.address, to)):
        link(to)


def test_linked_source_never_gets_a_second_welcome_bonus(batches, coin, holder, bob, earned, link):
    link(bob)
    tx = batches.reward([holder.address])
    assert outcomes(tx) == [rewarded(5 * COIN)]
    assert coin.balanceOf(holder.address) == 5 * COIN


def test_linking_a_source_that_never_earned_leaves_one_welcome_bonus_for_the_target(
    batches, registry, holder, bob, link
):
    tx = link(bob)
    assert tx.events["WalletLinked"] == {"from": holder.address, "to": bob, "balanceMoved": 0, "lifetimeMoved": 0}
    assert registry.accountOf(holder.address)["welcomed"]
    assert outcomes(batches.reward([holder.address])) == [rewarded(5 * COIN)]
    assert outcomes(batches.reward([bob])) == [rewarded(5 * COIN, WELCOME)]


def test_link_relayed_without_the_link_operator_role_is_refused(coin, outsider, bob, earned, link):
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", outsider, LINK_OPERATOR_ROLE)):
        link(bob, sender=outsider)
    assert coin.balanceOf(bob) == 0


def test_the_zero_address_cannot_be_linked_from(registry, admin, bob, deadline):
    with brownie.reverts(revert_pattern=error("ECDSAInvalidSignature")):
        registry.linkWallet(ZERO, bob, deadline, b"\x00" * 65, {"from": admin})


def test_a_link_while_the_coin_is_paused_is_refused_even_without_coins(
    batches, registry, coin, admin, chain, holder, bob, link
):
    """The history lives in the coin's holder data, and nothing in the coin changes while it is
    paused: a link reverts even for a holder with no coins (here, one who never earned any),
    and its nonce stays unused."""
    coin.pause({"from": admin})
    with brownie.reverts(revert_pattern=error("EnforcedPause")):
        link(bob)
    assert registry.linkNonce(holder.address) == 0
    coin.unpause({"from": admin})
    link(bob)
    assert registry.linkNonce(holder.address) == 1
    assert registry.accountOf(holder.address)["welcomed"]


def test_a_link_whose_combined_period_count_passes_24_bits_is_refused(registry, coin, admin, holder, bob, link):
    # 2^24 - 1 rewarded records in one period cannot be earned in a test, so the two accounts are
    # written directly through the coin's minter interface (a role granted for this test only).
    coin.grantRole(keccak(text="MINTER_ROLE"), admin, {"from": admin})
    period = registry.currentPeriod()

    def account(rewards):  # PackedAccount: lifetime | period << 96 | rewards << 128 | welcomed << 152
        return 10 * COIN | period << 96 | rewards << 128 | 1 << 152

    coin.setHolderData(holder.address, account(2**24 - 1), {"from": admin})
    coin.setHolderData(bob, account(1), {"from": admin})
    with brownie.reverts(revert_pattern=error("AmountTooLarge", 2**24, 2**24 - 1)):
        link(bob)
    assert registry.accountOf(holder.address)[1] == 2**24 - 1  # nothing moved
    coin.setHolderData(bob, account(0), {"from": admin})
    link(bob)  # exactly 2^24 - 1 together fits
    assert registry.accountOf(bob)[1] == 2**24 - 1

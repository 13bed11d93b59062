"""A catalog several brands share: the relay pays gas only for the brand's own items. With
chain.catalog_items another item is refused before any signing and before any chain call; and
whatever the setting, an item TierRedemption says is another brand's is refused."""

from __future__ import annotations

import pytest
from web3 import HTTPProvider, Web3

from oracle.redeem.relay import InvalidRedemptionOrder, RedeemRelay, RedemptionOrder, SignedRedemption

DEAD_RPC = "http://127.0.0.1:9"  # nothing answers: a chain call would fail, not refuse
CUSTOMER = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"


def relay(items: frozenset[int] | None) -> RedeemRelay:
    return RedeemRelay(Web3(HTTPProvider(DEAD_RPC)), "0x" + "22" * 20, "0x" + "33" * 20, sender=None,  # type: ignore[arg-type]
                       items=items)


def test_another_brands_item_is_refused_before_the_customer_signs_or_the_chain_is_asked() -> None:
    with pytest.raises(InvalidRedemptionOrder, match=r"item 7 is not one of this brand's catalog items \(0, 3\)"):
        relay(frozenset({0, 3})).typed_data_for(CUSTOMER, 7, 10**18, 2**40)
    signed = SignedRedemption(RedemptionOrder.checked(CUSTOMER, 7, 10**18, 2**40), b"\x01" * 65, b"\x01" * 65)
    with pytest.raises(InvalidRedemptionOrder, match="item 7 is not one of this brand's"):
        relay(frozenset({0, 3})).prepare(signed)


def test_the_brands_own_items_go_on_to_the_chain() -> None:
    with pytest.raises(OSError):  # past the item check: the dead RPC is asked next
        relay(frozenset({0, 3})).typed_data_for(CUSTOMER, 3, 10**18, 2**40)
    with pytest.raises(OSError):
        relay(None).typed_data_for(CUSTOMER, 7, 10**18, 2**40)


class _Call:
    def __init__(self, result: object) -> None:
        self.result = result

    def call(self) -> object:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def test_a_dispute_of_another_brands_redemption_is_refused_before_signing() -> None:
    from types import SimpleNamespace

    from web3.exceptions import ContractLogicError

    from oracle.redeem.dispute_relay import DisputeRelay

    redemptions = {4: _redemption(item=7), 5: _redemption(item=3), 6: ContractLogicError("RedemptionNotFound")}
    contract = SimpleNamespace(functions=SimpleNamespace(redemptionOf=lambda rid: _Call(redemptions[rid])))
    fake = SimpleNamespace(items=frozenset({0, 3}), brand_id=None, redemption=contract, require_brand=lambda *_: None,
                           require_time_left=lambda deadline: (_ for _ in ()).throw(OSError("the chain is asked next")))
    disputes = DisputeRelay(fake)  # type: ignore[arg-type]
    with pytest.raises(InvalidRedemptionOrder, match="redemption 4 is of item 7, not one of this brand's"):
        disputes.typed_data_for(CUSTOMER, 4, 2**40)
    for ours_or_unknown in (5, 6):  # on to the next check (an unknown one: the simulation names it)
        with pytest.raises(OSError, match="the chain is asked next"):
            disputes.typed_data_for(CUSTOMER, ours_or_unknown, 2**40)


def _redemption(item: int, brand: int = 1) -> tuple:
    """redemptionOf's tuple: customer, itemId, createdAt, status, pricePaid, fulfilledAt,
    pauseClockAtFulfil, brandId, deliveryCommitment."""
    return (CUSTOMER, item, 0, 1, 10**18, 0, 0, brand, b"\x00" * 32)


# ---------------------------------------------------------------- the item's brand on chain


def test_another_brands_item_is_refused_by_its_brand_on_chain() -> None:
    """Without chain.catalog_items, the relay still pays only for its brand's perks: TierRedemption
    says whose each item is (itemBrand)."""
    from types import SimpleNamespace

    from web3.exceptions import ContractLogicError

    brands = {7: _Call(2), 3: _Call(1), 9: _Call(ContractLogicError("ItemNotFound"))}
    ours = RedeemRelay(Web3(HTTPProvider(DEAD_RPC)), "0x" + "22" * 20, "0x" + "33" * 20, sender=None,  # type: ignore[arg-type]
                       brand_id=1)
    ours.redemption = SimpleNamespace(functions=SimpleNamespace(itemBrand=lambda item: brands[item]))
    with pytest.raises(InvalidRedemptionOrder, match="item 7 is brand 2's, not this oracle's brand 1"):
        ours.typed_data_for(CUSTOMER, 7, 10**18, 2**40)
    signed = SignedRedemption(RedemptionOrder.checked(CUSTOMER, 7, 10**18, 2**40), b"\x01" * 65, b"\x01" * 65)
    with pytest.raises(InvalidRedemptionOrder, match="item 7 is brand 2's"):
        ours.prepare(signed)
    for own_or_unknown in (3, 9):  # past the brand check: the dead RPC is asked next
        with pytest.raises(OSError):
            ours.typed_data_for(CUSTOMER, own_or_unknown, 10**18, 2**40)


def test_a_dispute_of_another_brands_redemption_is_refused_by_its_brand_on_chain() -> None:
    from types import SimpleNamespace

    from oracle.redeem.dispute_relay import DisputeRelay

    redemptions = {4: _redemption(item=0, brand=2), 5: _redemption(item=0, brand=1)}
    relay = RedeemRelay(Web3(HTTPProvider(DEAD_RPC)), "0x" + "22" * 20, "0x" + "33" * 20, sender=None,  # type: ignore[arg-type]
                        brand_id=1)
    relay.redemption = SimpleNamespace(functions=SimpleNamespace(redemptionOf=lambda rid: _Call(redemptions[rid])))
    disputes = DisputeRelay(relay)
    with pytest.raises(InvalidRedemptionOrder, match="redemption 4 is brand 2's, not this oracle's brand 1"):
        disputes.typed_data_for(CUSTOMER, 4, 2**40)
    with pytest.raises(OSError):  # ours: on to the chain (the dead RPC)
        disputes.typed_data_for(CUSTOMER, 5, 2**40)

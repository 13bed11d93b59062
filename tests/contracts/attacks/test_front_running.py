"""A price change cannot front-run a redemption: an announcement takes effect only after the
notice period, so a redemption mined in the same block as the announcement (even right after
it) pays the price the customer saw; and a redemption that lands once a rise has taken effect
fails on the customer's maxPrice instead of paying more (test_price_timelock.py)."""

from tests.contracts.redemption.helpers import BRAND, make_item
from tests.contracts.registry.helpers import mined_at

COIN = 10**18
OLD, NEW = 10 * COIN, 50 * COIN


def test_an_announcement_mined_before_a_redemption_in_its_block_does_not_change_its_price(
    redemption, coin, batches, admin, alice, chain
):
    item = redemption.addItem(BRAND, make_item(price=OLD, stock=3), {"from": admin}).events["ItemAdded"]["itemId"]
    batches.reward([alice, alice, alice])
    coin.approve(redemption, 2**256 - 1, {"from": alice})
    unmined = {"required_confs": 0, "gas_limit": 1_000_000}
    with mined_at(chain[-1].timestamp + 10):
        # The catalog manager bids more gas to be mined first.
        announce = redemption.announcePrice(item, NEW, {"from": admin, "gas_price": "20 gwei", **unmined})
        redeem = redemption.redeem(item, NEW, {"from": alice, "gas_price": "10 gwei", **unmined})
    announce.wait(1)
    redeem.wait(1)
    assert announce.block_number == redeem.block_number
    assert announce.txindex < redeem.txindex
    assert redeem.events["Redeemed"]["price"] == OLD
    assert redemption.redemptionOf(0)[4] == OLD
    assert redemption.priceOf(item) == OLD  # the new price waits for its notice period

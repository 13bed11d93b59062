"""The one identity of a redemption off-chain: the brand's Idempotency-Key for its delivery and
the key its delivery record is sealed under in the content store."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

REDEMPTION_KEY_LABEL = "servicecoin/redemption/v1"


def redemption_key(chain_id: int, contract: str, redemption_id: int, customer: str, item_id: int) -> bytes:
    """keccak256(abi.encode(string "servicecoin/redemption/v1", uint256 chainId, address
    contract, uint256 redemptionId, address customer, uint256 itemId)).

    Redemption ids restart at 0 in every TierRedemption deployment, so the chain and the
    contract are part of the key. The customer and the item are too: a reorg deeper than the
    watcher's confirmations can give an id to another customer's redemption, which must not
    receive the first one's delivery; the same redemption mined again keeps its key, and so its
    one delivery. The label keeps the key apart from feedback event ids, which share the
    content store's key space."""
    return keccak(
        encode(
            ["string", "uint256", "address", "uint256", "address", "uint256"],
            [REDEMPTION_KEY_LABEL, chain_id, to_checksum_address(contract), redemption_id,
             to_checksum_address(customer), item_id],
        )
    )

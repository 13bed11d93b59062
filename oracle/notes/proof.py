"""The note's text: the on-chain proof of one reward, in words an agent can act on."""

from __future__ import annotations

from dataclasses import dataclass

from oracle.units import svc


@dataclass(frozen=True)
class RewardProof:
    event_id: bytes
    seq: int
    reward_units: int
    tx_hash: bytes
    block_number: int
    registry: str
    chain_id: int


def render_note(proof: RewardProof, explorer_tx_url: str | None = None) -> str:
    tx = "0x" + proof.tx_hash.hex()
    event = "0x" + proof.event_id.hex()
    link = f" ({explorer_tx_url.format(tx=tx)})" if explorer_tx_url else ""
    return "\n".join([
        f"ServiceCoin: the rating on this ticket earned the customer {svc(proof.reward_units)} SVC, "
        "recorded on chain for good.",
        "",
        f"Transaction: {tx}{link}",
        f"Block: {proof.block_number} (chain {proof.chain_id})",
        f"Registry: {proof.registry}",
        f"Event id: {event}",
        f"Sequence number: {proof.seq}",
        f"Reward: {svc(proof.reward_units)} SVC",
        "",
        "How to verify: the transaction above carries this event id among its records, and the "
        f"registry's BatchRecorded log in it gives the reward; on the oracle, `servicecoin verify {event}` checks it and that the on-chain "
        "commitment matches the stored feedback. One note per event id: the same event id twice is a "
        "repeat of the same proof, not a second reward.",
    ])

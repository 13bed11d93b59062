"""The naive baseline of the benchmarks (contracts/test/NaiveRewards.sol): an oracle key signing
each reward (or a batch of them) with EIP-712, exactly as eth-account signs any typed data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

REWARD_FIELDS = [
    {"name": "eventId", "type": "bytes32"},
    {"name": "customer", "type": "address"},
    {"name": "amount", "type": "uint256"},
]


@dataclass(frozen=True)
class NaiveReward:
    event_id: bytes
    customer: str
    amount: int

    def as_tuple(self) -> tuple[bytes, str, int]:
        return (self.event_id, self.customer, self.amount)

    def as_message(self) -> dict[str, Any]:
        return {"eventId": self.event_id, "customer": self.customer, "amount": self.amount}


class NaiveOracle:
    def __init__(self, key: bytes, chain_id: int, contract: str) -> None:
        self.key = key
        self.domain = {"name": "NaiveRewards", "version": "1", "chainId": chain_id, "verifyingContract": contract}

    def _sign(self, primary: str, types: dict[str, Any], message: dict[str, Any]) -> bytes:
        domain_fields = [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ]
        full = {"types": {"EIP712Domain": domain_fields, **types}, "primaryType": primary,
                "domain": self.domain, "message": message}
        return bytes(Account.sign_message(encode_typed_data(full_message=full), self.key).signature)

    def sign_reward(self, reward: NaiveReward) -> bytes:
        return self._sign("Reward", {"Reward": REWARD_FIELDS}, reward.as_message())

    def sign_batch(self, rewards: list[NaiveReward]) -> bytes:
        types = {"RewardBatch": [{"name": "rewards", "type": "Reward[]"}], "Reward": REWARD_FIELDS}
        return self._sign("RewardBatch", types, {"rewards": [r.as_message() for r in rewards]})

"""Reads the state the invariants compare in one eth_call, through contracts/test/SystemLens.sol
(test only). Per-view calls cost ~20 ms each through brownie on these machines; one snapshot
of everything costs about as much as two of them."""

from __future__ import annotations

from dataclasses import dataclass

from brownie import web3


@dataclass(frozen=True)
class Snapshot:
    """SystemLens.Snapshot, field by field (see the contract for what each one reads)."""

    block: int
    total_supply: int
    balances: tuple[int, ...]
    allowances: tuple[int, ...]
    transfers_open: bool
    coin_paused: bool
    registry_paused: bool
    redemption_paused: bool
    accounts: tuple[tuple[int, int, int, bool], ...]
    tiers: tuple[int, ...]
    brand: tuple[int, int, int, bool, bool]
    quorum: int
    signer_count: int
    customer_cap: int
    is_signer: tuple[bool, ...]
    items: tuple[tuple, ...]
    redeemed_by: tuple[int, ...]
    redemptions: tuple[tuple, ...]
    roles: tuple[bool, ...]


class Lens:
    """`read()` snapshots everything but roles (cached per block); `roles()` reads the role
    matrix, which is most of the lens's work, so the invariants ask for it only when needed."""

    def __init__(self, contract, query: tuple):
        self.contract = contract
        self.role_query = query
        self.query = (*query[:-3], [], [], [])
        self._cached: Snapshot | None = None

    def forget(self) -> None:
        """Drops the cached snapshot (the chain was reverted: block numbers repeat)."""
        self._cached = None

    def read(self) -> Snapshot:
        """The snapshot at the latest block, read once per block."""
        block = web3.eth.block_number
        if self._cached is None or self._cached.block != block:
            values = self.contract.read(self.query, block_identifier=block)
            self._cached = Snapshot(block, *(_plain(v) for v in values))
        return self._cached

    def roles(self) -> tuple[bool, ...]:
        """hasRole of every (contract, role, account) in the query, in its order."""
        return _plain(self.contract.read(self.role_query)[-1])


def _plain(value):
    """brownie's ReturnValue and struct tuples as plain (hashable) tuples."""
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    return value

"""The redemption loop, one step at a time: follow TierRedemption's confirmed events into the
store, then work the pending redemptions that are due. `servicecoin run` calls `step()` every
`chain.poll_seconds` in a StepRunner thread; tests call it directly."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from oracle.abi import load_abi
from oracle.chain.follower import ChainFollower, PollReport
from oracle.chain.ops_sender import OpsSender
from oracle.config import ConfigError, OracleConfig, read_secret
from oracle.metrics import OracleMetrics
from oracle.redeem.fulfiller import Backoff, FulfilReport, Fulfiller
from oracle.redeem.fulfilment import FulfilmentClient
from oracle.redeem.store import RedemptionStore
from oracle.redeem.watcher import RedemptionWatcher
from oracle.store.outbox import Outbox

FOLLOWER_NAME = "redemptions"


def redemption_contract(w3: Web3, address: str) -> Any:
    return w3.eth.contract(address=to_checksum_address(address), abi=load_abi("TierRedemption"))


@dataclass
class LoopReport:
    polls: list[PollReport]
    fulfilment: FulfilReport | None


class RedemptionLoop:
    def __init__(self, store: RedemptionStore, follower: ChainFollower, fulfiller: Fulfiller | None) -> None:
        self.store = store
        self.follower = follower
        self.fulfiller = fulfiller

    def step(self) -> LoopReport:
        polls = self.follower.catch_up()
        return LoopReport(polls, self.fulfiller.step() if self.fulfiller is not None else None)


def build_redemption_loop(
    config: OracleConfig,
    outbox: Outbox,
    w3: Web3,
    sender: OpsSender | None,
    metrics: OracleMetrics | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> RedemptionLoop:
    """The watcher alone (listing redemptions and prices), or with the fulfiller when the config
    has a fulfilment endpoint (which needs the operations account to send fulfil and refund)."""
    chain = config.chain
    if chain.redemption is None:
        raise ConfigError("chain.redemption: the TierRedemption address is needed to follow redemptions")
    contract = redemption_contract(w3, chain.redemption)
    store = RedemptionStore(outbox.engine)

    def count(outcome: str) -> None:
        if metrics is not None:
            metrics.redemptions.labels(outcome).inc()

    watcher = RedemptionWatcher(on_dispute=lambda _rid: count("disputed"), items=chain.catalog_items,
                                brand_id=config.brand_id)
    follower = ChainFollower(w3, outbox.engine, FOLLOWER_NAME, contract, watcher, chain.start_block, chain.confirmations)
    fulfiller = None
    if config.fulfilment is not None:
        if sender is None:
            raise ConfigError("fulfilment: the operations account (operations.keystore) sends fulfil and refund")
        settings = config.fulfilment
        client = FulfilmentClient(settings.url, read_secret(settings.secret_env, environ).encode(),
                                  settings.timeout_seconds, clock=clock)
        backoff = Backoff(settings.max_attempts, settings.first_retry_seconds, settings.max_retry_seconds)
        fulfiller = Fulfiller(store, outbox.vault, client, contract, sender, chain.chain_id, backoff, clock, count,
                              items=chain.catalog_items)
    return RedemptionLoop(store, follower, fulfiller)

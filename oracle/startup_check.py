"""The one start-up check against the chain: what `config check` reports and what makes `run`
and `work` refuse to start. Kept in one place so that the dry run and the real start judge the
chain, the signers and the outbox alike (`config check` also loads every file and secret `run`
loads, each in its own attempt, so that it can report every problem at once)."""

from __future__ import annotations

from collections.abc import Sequence

from oracle.chain.registry import RegistryClient
from oracle.config import OracleConfig
from oracle.policy import Policy
from oracle.store.outbox import Outbox


def startup_problems(
    config: OracleConfig, registry: RegistryClient, outbox: Outbox, signers: Sequence[str], policy: Policy
) -> list[str]:
    """Everything that would make the oracle sign batches the registry rejects or skips.

    `signers` are every address that signs this oracle's batches: its local keystores and its
    remote co-signers, which together must reach the registry's quorum."""
    problems = registry.self_check(config.chain.chain_id, list(signers), config.brand_id, policy)
    next_seq = outbox.next_seq(config.brand_id)
    if not problems and registry.is_recorded(config.brand_id, next_seq):
        # Another outbox (an old backup, a second oracle with its own database) has used this
        # brand's sequence numbers: its records would be skipped as already recorded.
        problems.append(
            f"sequence number {next_seq} of brand {config.brand_id} is already recorded on chain: "
            "this outbox is not the brand's latest (restored from an old backup, or another oracle's?)"
        )
    return problems

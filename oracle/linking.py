"""Completes requested wallet links on chain: FeedbackRegistry.linkWallet moves the coins and the
reward history (lifetime earned, so the tier; the period's earnings, so the cap) from the
customer's custodial address to their wallet.

The custodial key signs the holder's EIP-712 LinkWallet(from, to, nonce, deadline) (domain from
the registry's eip712Domain(), nonce from linkNonce); the operations account, which holds
LINK_OPERATOR_ROLE, sends it.

A link is completed only once no reward to the custodial address is in flight (decided, batched,
submitted or confirmed but not final): a reward landing there after the move would stay behind.
Until then it stays requested and `step()` (run by `servicecoin run`) completes it later.

Idempotent across crashes: nothing is sent unless the chain shows something to move. A link
whose transaction was mined just before a crash is found empty at the custodial address on the
next try and marked linked, with the transaction found from its WalletLinked log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from web3 import Web3

from oracle.abi import load_abi
from oracle.chain.ops_sender import OpsRejected, OpsSender
from oracle.chain.registry import RegistryClient
from oracle.identity import Identity, WalletLink
from oracle.typed_data import link_wallet_typed_data
from oracle.units import svc

log = logging.getLogger("servicecoin.linking")

# How long the holder's signature stays valid: long enough for a replacement under congestion.
SIGNATURE_LIFETIME_SECONDS = 3600


@dataclass(frozen=True)
class LinkOutcome:
    customer_id: str
    what: str  # linked | waiting | failed
    detail: str
    tx_hash: bytes | None = None


@dataclass
class LinkStepReport:
    outcomes: list[LinkOutcome] = field(default_factory=list)


@dataclass(frozen=True)
class CustodialHoldings:
    balance: int
    lifetime: int

    @property
    def empty(self) -> bool:
        return self.balance == 0 and self.lifetime == 0


class WalletLinker:
    def __init__(self, identity: Identity, registry: RegistryClient, sender: OpsSender, start_block: int = 0) -> None:
        self.identity = identity
        self.registry = registry
        self.sender = sender
        self.start_block = start_block  # the deployment's block: no WalletLinked log is older
        self._coin: Any = None

    def holdings(self, address: str) -> CustodialHoldings:
        return CustodialHoldings(self.coin_balance(address), self.registry.lifetime_earned(address))

    def coin_balance(self, address: str) -> int:
        if self._coin is None:
            coin_address = self.registry.contract.functions.coin().call()
            self._coin = self.registry.w3.eth.contract(address=coin_address, abi=load_abi("ServiceCoin"))
        return int(self._coin.functions.balanceOf(Web3.to_checksum_address(address)).call())

    def step(self) -> LinkStepReport:
        """Tries every requested link once; a failure leaves it requested for the next step."""
        report = LinkStepReport()
        for link in self.identity.links_in("requested"):
            try:
                report.outcomes.append(self.complete(link))
            except Exception as exc:  # noqa: BLE001 - one link's RPC failure must not stop the others
                log.error("wallet link of %s failed: %s", link.customer_id, exc)
                report.outcomes.append(LinkOutcome(link.customer_id, "failed", f"{type(exc).__name__}: {exc}"))
        return report

    def complete(self, link: WalletLink) -> LinkOutcome:
        """Moves the custodial holdings to the wallet if nothing is in flight to the custodial
        address; marks the link linked once the custodial address holds nothing."""
        waiting = self.identity.in_flight_to(link.customer_id, link.custodial_address)
        if waiting:
            return LinkOutcome(
                link.customer_id, "waiting",
                f"{waiting} reward(s) to the custodial address are not final yet; the coins move once they are",
            )
        holdings = self.holdings(link.custodial_address)
        if holdings.empty:
            # Nothing (left) to move: never earned, or our earlier transaction already moved it.
            tx_hash = self._linked_tx(link)
            self.identity.mark_linked(link.customer_id, tx_hash)
            return LinkOutcome(link.customer_id, "linked", "nothing left at the custodial address", tx_hash)
        try:
            receipt = self.sender.send_call(self._link_call(link), f"link wallet of {link.customer_id}")
        except OpsRejected:
            # A transaction of ours from before a crash may have been mined meanwhile (the
            # signature's nonce is then used up): if the custodial address is empty, it was.
            if not self.holdings(link.custodial_address).empty:
                raise
            tx_hash = self._linked_tx(link)
        else:
            tx_hash = bytes(receipt["transactionHash"])
        self.identity.mark_linked(link.customer_id, tx_hash)
        log.info("wallet linked", extra={"customer": link.customer_id, "tx": "0x" + (tx_hash or b"").hex()})
        moved = f"moved {svc(holdings.balance)} SVC and a lifetime of {svc(holdings.lifetime)} SVC earned to {link.address}"
        return LinkOutcome(link.customer_id, "linked", moved, tx_hash)

    def _link_call(self, link: WalletLink) -> Any:
        registry = self.registry
        nonce = int(registry.contract.functions.linkNonce(link.custodial_address).call())
        chain_time = int(registry.w3.eth.get_block("latest")["timestamp"])
        deadline = chain_time + SIGNATURE_LIFETIME_SECONDS
        typed = link_wallet_typed_data(registry.domain(), link.custodial_address, link.address, nonce, deadline)
        holder = self.identity.custodial_account(link.customer_id)
        signature = bytes(Account.sign_typed_data(holder.key, full_message=typed).signature)
        return registry.contract.functions.linkWallet(link.custodial_address, link.address, deadline, signature)

    def _linked_tx(self, link: WalletLink) -> bytes | None:
        """The transaction of the latest WalletLinked(custodial -> wallet) log, if there is one."""
        logs = self.registry.contract.events.WalletLinked().get_logs(
            from_block=self.start_block, argument_filters={"from": link.custodial_address, "to": link.address}
        )
        return bytes(logs[-1]["transactionHash"]) if logs else None


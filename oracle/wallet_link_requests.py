"""Asking for a wallet link, as `servicecoin wallet link-message` / `wallet link` and the relay's
HTTP routes (POST /v1/wallet-link/typed-data, /v1/wallet-link) both do: the customer must be one
this outbox knows (a mistyped id would take the wallet for good), the wallet not a protocol
contract nor the customer's own custodial address, and the wallet must have signed its
WalletOwnership message (oracle/wallet_proof.py). Then the link is recorded; moving the coins on
chain is the WalletLinker's (at once from the CLI, by `work` otherwise).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from web3 import Web3

from oracle import erasure
from oracle.abi import load_abi
from oracle.config import OracleConfig
from oracle.identity import Identity, LinkRefused, LinkRequested, checked_wallet
from oracle.store.outbox import Outbox
from oracle.typed_data import Domain
from oracle.wallet_proof import ownership_typed_data, require_ownership


class WalletLinkRequests:
    def __init__(
        self, config: OracleConfig, outbox: Outbox, identity: Identity, w3: Web3,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.identity = identity
        self.w3 = w3
        self.clock = clock
        self.domain = Domain(chain_id=config.chain.chain_id, verifying_contract=config.chain.registry)
        self._contracts: dict[str, str] | None = None

    def message(self, customer: str, wallet: str, valid_for: int, new_customer: bool = False) -> dict[str, Any]:
        """The EIP-712 WalletOwnership message the wallet signs (eth_signTypedData_v4), valid for
        `valid_for` seconds. Refuses now, before the customer signs, what the link would refuse
        for the customer and the address alone: an unknown customer, one already linked, the
        customer's custodial address, a protocol contract. (That no other customer uses the
        address is checked when the link is recorded, in the same transaction.)"""
        self._require_known(customer, new_customer)
        wallet = checked_wallet(wallet)
        custodial = self.identity.custodial_address(customer)
        if wallet.lower() == custodial.lower():
            raise LinkRefused(f"{wallet} is the custodial address of {customer!r} itself, not a wallet of theirs")
        for what, address in self.protocol_contracts().items():
            if wallet.lower() == address.lower():
                raise LinkRefused(f"{wallet} is {what}, not a customer's wallet")
        existing = self.identity.link_of(customer)
        if existing is not None:
            raise LinkRefused(f"{customer!r} is already linked to {existing.address} ({existing.state}); "
                              "a link is permanent")
        return ownership_typed_data(self.domain, wallet, custodial, int(self.clock()) + valid_for)

    def request(
        self, customer: str, wallet: str, deadline: int, signature: bytes, new_customer: bool = False
    ) -> LinkRequested:
        """Records the link once every check passed; raises LinkRefused, changing nothing. Chain
        errors (asking a contract wallet, reading the coin's address) propagate as they are."""
        self._require_known(customer, new_customer)

        def proof(checked: str, custodial: str) -> None:
            require_ownership(self.w3, self.domain, checked, custodial, deadline, signature, int(self.clock()))

        return self.identity.request_link(customer, wallet, self.protocol_contracts(), proof=proof)

    def protocol_contracts(self) -> dict[str, str]:
        """Addresses that are never a customer's wallet: coins sent there would be stuck."""
        if self._contracts is None:
            chain = self.config.chain
            registry = self.w3.eth.contract(address=Web3.to_checksum_address(chain.registry),
                                            abi=load_abi("FeedbackRegistry"))
            contracts = {"the FeedbackRegistry": chain.registry,
                         "the ServiceCoin": str(registry.functions.coin().call())}
            if chain.redemption:
                contracts["the TierRedemption"] = chain.redemption
            if chain.forwarder:
                contracts["the forwarder"] = chain.forwarder
            self._contracts = contracts
        return self._contracts

    def _require_known(self, customer: str, new_customer: bool) -> None:
        if not new_customer and not erasure.readable(self.outbox.engine, customer).known:
            raise LinkRefused(f"no customer {customer!r} in this outbox (ids look like zendesk:7881); a link cannot "
                              "be undone: check the id, or pass --new-customer (new_customer) to link before their "
                              "first event")

"""The wallet-link routes on the relay, for the brand's app (authenticated as the relay's routes
are, with the relay's secret):

    POST /v1/wallet-link/typed-data  {customer_id, wallet[, valid_for][, new_customer]}
        -> 200 {message}: the WalletOwnership message the wallet signs (eth_signTypedData_v4)
    POST /v1/wallet-link             {customer_id, wallet, deadline, signature[, new_customer]}
        -> 200 {customer_id, wallet, custodial_address, state: "requested", readdressed}

A refusal is a 400 that says why and changes nothing (a database or chain RPC failure is a 503):
an unknown customer (new_customer: true
links one before their first event), a wallet that is not an EIP-55 address, a protocol contract,
the customer's custodial address or another customer's, a customer already linked, or a
signature that is not the wallet's (oracle/wallet_proof.py). A recorded link sends new rewards
to the wallet at once; `work` (or `run`) moves the coins and history on chain.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from oracle.wallet_link_requests import WalletLinkRequests
from oracle.wallet_proof import MAX_PROOF_LIFETIME_SECONDS, signature_from_hex


class LinkMessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: StrictStr = Field(min_length=1, max_length=256)
    wallet: StrictStr
    valid_for: StrictInt = Field(default=3600, ge=60, le=MAX_PROOF_LIFETIME_SECONDS)
    new_customer: StrictBool = False


class LinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: StrictStr = Field(min_length=1, max_length=256)
    wallet: StrictStr
    deadline: StrictInt = Field(ge=0, lt=2**256)
    signature: StrictStr
    new_customer: StrictBool = False


class WalletLinkRoutes:
    def __init__(self, requests: WalletLinkRequests) -> None:
        self.requests = requests

    def actions(self) -> dict[str, Any]:
        return {"/v1/wallet-link/typed-data": self._message, "/v1/wallet-link": self._link}

    async def _message(self, payload: dict[str, Any]) -> JSONResponse:
        body = LinkMessageBody.model_validate(payload)
        message = await run_in_threadpool(
            self.requests.message, body.customer_id, body.wallet, body.valid_for, body.new_customer
        )
        return JSONResponse({"message": message})

    async def _link(self, payload: dict[str, Any]) -> JSONResponse:
        body = LinkBody.model_validate(payload)
        signature = signature_from_hex(body.signature)
        requested = await run_in_threadpool(
            self.requests.request, body.customer_id, body.wallet, body.deadline, signature, body.new_customer
        )
        link = requested.link
        return JSONResponse({
            "customer_id": link.customer_id, "wallet": link.address, "custodial_address": link.custodial_address,
            "state": link.state, "readdressed": requested.readdressed,
        })


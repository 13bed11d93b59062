"""The relay's HTTP routes on the oracle's server, for the brand's app (never for the public):

    POST /v1/relay/redeem/typed-data   {customer, item_id, max_price, deadline[, permit_signature]}
        -> 200 {permit, request}: what the customer's wallet signs (eth_signTypedData_v4); the
           request is null until the permit's signature is given (it carries that signature)
    POST /v1/relay/redeem              {customer, item_id, max_price, deadline,
                                        permit_signature, request_signature}
        -> 200 {redemption_id, tx_hash, customer, item_id, price}
    POST /v1/relay/dispute/typed-data  {customer, redemption_id, deadline}
        -> 200 {request}: the forward request for `dispute(redemption_id)` the wallet signs
    POST /v1/relay/dispute             {customer, redemption_id, deadline, request_signature}
        -> 200 {redemption_id, tx_hash, customer}
    POST /v1/wallet-link/typed-data, POST /v1/wallet-link: a customer's own wallet, proven theirs
        by its signature (oracle/wallet_link_http.py)

All are authenticated like the generic webhook (X-ServiceCoin-Signature: v1=HMAC-SHA256 over
timestamp "." body, with X-ServiceCoin-Timestamp inside the replay window) with the relay's own
secret: relaying spends the brand's gas, so only the brand's app, which knows who its customer
is, may ask. Amounts are coin units (18 decimals), as JSON integers or decimal strings.

Refusals cost nothing and say why: 400 a malformed body or field, a signature that is not the
customer's, an expired deadline; 401 authentication; 409 a redemption or dispute the contract
refuses (its error is named: PriceAboveMaximum, InsufficientStock, DisputeWindowClosed, ...) or a
signature already used; 413 a body too large; 429 the customer's daily relays (redemptions and
disputes together) are used up (Retry-After); 503 the chain cannot
be reached or did not confirm in time (the same request sent again waits for the transaction
still pending rather than sending a copy: OpsSender's flights). The chain work runs in a worker
thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from sqlalchemy.exc import SQLAlchemyError
from web3.exceptions import Web3Exception

from oracle.config import ConfigError
from oracle.identity import LinkRefused
from oracle.ingest.app import BodyTooLarge, error, read_limited
from oracle.ingest.signatures import SignatureError, verify_generic
from oracle.ingest.strict_json import MalformedJSON, parse_object
from oracle.redeem.dispute_relay import DisputeOrder, DisputeRelay
from oracle.redeem.relay import (
    InvalidRedemptionOrder,
    RedeemRelay,
    RedemptionOrder,
    RedemptionRefused,
    RelayError,
    RelayNothingSent,
    RelayUnavailable,
    RequestExpired,
    SignatureMismatch,
    SignedRedemption,
    StaleSignature,
)
from oracle.redeem.relay_limit import RateLimited, RollingLimit
from oracle.redeem.signed_messages import SignatureFormatError, parse_signature
from oracle.store.errors import store_error
from oracle.validation import describe
from oracle.wallet_link_http import WalletLinkRoutes


def _units(value: Any) -> Any:
    """Coin units as a JSON integer or a decimal string (JavaScript loses integers above 2**53)."""
    if isinstance(value, str):
        if not value.isdigit():
            raise ValueError("must be an integer or a string of decimal digits")
        return int(value)
    return value


Units = Annotated[StrictInt, BeforeValidator(_units)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: str
    item_id: StrictInt = Field(ge=0)
    max_price: Units = Field(ge=0)
    deadline: StrictInt = Field(ge=0)


class TypedDataBody(_Body):
    permit_signature: str | None = None


class RedeemBody(_Body):
    permit_signature: str
    request_signature: str


class DisputeTypedDataBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: str
    redemption_id: StrictInt = Field(ge=0)
    deadline: StrictInt = Field(ge=0)


class DisputeBody(DisputeTypedDataBody):
    request_signature: str


@dataclass
class RelayEndpoint:
    """What the routes need: the relays, the HMAC secret of the brand's app, the per-customer limit."""

    relay: RedeemRelay
    secret: bytes
    limit: RollingLimit
    replay_window: int = 300
    disputes: DisputeRelay | None = None
    links: WalletLinkRoutes | None = None  # oracle/wallet_link_http.py

    def routes(self, max_body_bytes: int, clock: Callable[[], float]) -> list[Route]:
        actions = {"/v1/relay/redeem/typed-data": self._typed_data, "/v1/relay/redeem": self._redeem}
        if self.disputes is not None:
            actions |= {"/v1/relay/dispute/typed-data": self._dispute_typed_data, "/v1/relay/dispute": self._dispute}
        if self.links is not None:
            actions |= self.links.actions()
        return [Route(path, self._handler(action, max_body_bytes, clock), methods=["POST"])
                for path, action in actions.items()]

    def _handler(self, action: Any, max_body_bytes: int, clock: Callable[[], float]) -> Any:
        async def handle(request: Request) -> JSONResponse:
            try:
                body = await read_limited(request, max_body_bytes)
            except BodyTooLarge:
                return error(413, f"body larger than {max_body_bytes} bytes")
            try:
                verify_generic(request.headers, body, self.secret, int(clock()), self.replay_window)
            except SignatureError as exc:
                return error(401, str(exc))
            try:
                return await action(parse_object(body))
            except MalformedJSON as exc:
                return error(400, f"malformed JSON: {exc}")
            except ValidationError as exc:
                return error(400, describe(exc))
            except (InvalidRedemptionOrder, SignatureMismatch, RequestExpired, LinkRefused) as exc:
                return error(400, str(exc))
            except RedemptionRefused as exc:
                return JSONResponse({"error": str(exc), "revert": exc.revert.name if exc.revert else None},
                                    status_code=409)
            except RateLimited as exc:
                return JSONResponse({"error": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after)})
            except (RelayUnavailable, ConfigError) as exc:
                return error(503, str(exc))
            except (StaleSignature, RelayError) as exc:
                return error(409, str(exc))
            except (Web3Exception, OSError) as exc:  # requests' connection errors are OSErrors
                return error(503, f"the chain RPC failed: {type(exc).__name__}")
            except SQLAlchemyError as exc:  # the outbox (wallet links, the daily relay count)
                return error(503, f"the outbox database failed: {store_error(exc)}")

        return handle

    async def _typed_data(self, payload: dict[str, Any]) -> JSONResponse:
        body = TypedDataBody.model_validate(payload)
        permit = None if body.permit_signature is None else _signature("permit_signature", body.permit_signature)
        messages = await run_in_threadpool(
            self.relay.typed_data_for, body.customer, body.item_id, body.max_price, body.deadline, permit
        )
        return JSONResponse(messages.as_json())

    async def _redeem(self, payload: dict[str, Any]) -> JSONResponse:
        body = RedeemBody.model_validate(payload)
        signed = SignedRedemption(
            RedemptionOrder.checked(body.customer, body.item_id, body.max_price, body.deadline),
            _signature("permit_signature", body.permit_signature),
            _signature("request_signature", body.request_signature),
        )
        prepared = await run_in_threadpool(self.relay.prepare, signed)
        # Counted only now: what was refused above cost no gas. A request still in flight from an
        # earlier attempt (answered 503) was counted then, and sending it again spends nothing.
        use = None
        if not self.relay.in_flight(prepared.request, prepared.request_signature):
            use = self.limit.acquire(signed.order.customer)
        done = await self._sent(use, self.relay.send, prepared)
        return JSONResponse({
            "redemption_id": done.redemption_id, "tx_hash": done.tx_hash, "customer": done.customer,
            "item_id": done.item_id, "price": str(done.price),
        })


    async def _sent(self, use: int | None, send: Any, prepared: Any) -> Any:
        """`send(prepared)` in a worker thread; a use counted for it is taken back if nothing
        was sent (the operations account stayed busy), so the customer's retry is not charged."""
        try:
            return await run_in_threadpool(send, prepared)
        except RelayNothingSent:
            if use is not None:
                self.limit.release(use)
            raise

    async def _dispute_typed_data(self, payload: dict[str, Any]) -> JSONResponse:
        assert self.disputes is not None  # the route exists only with a dispute relay
        body = DisputeTypedDataBody.model_validate(payload)
        request = await run_in_threadpool(self.disputes.typed_data_for, body.customer, body.redemption_id, body.deadline)
        return JSONResponse({"request": request})

    async def _dispute(self, payload: dict[str, Any]) -> JSONResponse:
        assert self.disputes is not None
        body = DisputeBody.model_validate(payload)
        order = DisputeOrder.checked(body.customer, body.redemption_id, body.deadline)
        prepared = await run_in_threadpool(
            self.disputes.prepare, order, _signature("request_signature", body.request_signature)
        )
        use = None
        if not self.disputes.in_flight(prepared):
            use = self.limit.acquire(order.customer)  # counted only now, as for redemptions
        done = await self._sent(use, self.disputes.send, prepared)
        return JSONResponse({"redemption_id": done.redemption_id, "tx_hash": done.tx_hash, "customer": done.customer})


def _signature(field: str, text: str) -> bytes:
    try:
        return parse_signature(text)
    except SignatureFormatError as exc:
        raise InvalidRedemptionOrder(f"{field}: {exc}") from None

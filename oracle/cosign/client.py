"""The oracle's side: a remote co-signer that signs like a local key, or refuses with reasons."""

from __future__ import annotations

import json
import time

import httpx
from oracle.cosign.wire import batch_to_wire
from oracle.errors import OracleError
from oracle.ingest.signatures import sign_generic
from oracle.typed_data import Domain, FeedbackBatch, batch_digest, recover_signer


class CosignError(OracleError):
    """A co-signer refused a batch or could not be reached; the batch waits and is asked again."""


class RemoteCosigner:
    def __init__(self, url: str, address: str, secret: str, domain: Domain, timeout: float = 10) -> None:
        self.url = url.rstrip("/")
        self.address = address
        self.domain = domain
        self._secret = secret.encode()
        self._timeout = timeout

    def sign(self, batch: FeedbackBatch) -> bytes:
        body = json.dumps(batch_to_wire(batch)).encode()
        headers = {"Content-Type": "application/json", **sign_generic(body, self._secret, int(time.time()))}
        try:
            response = httpx.post(f"{self.url}/cosign", content=body, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise CosignError(f"co-signer {self.address} at {self.url} unreachable: {exc}") from None
        if response.status_code != 200:
            try:
                reason = response.json().get("error", response.text)
            except ValueError:
                reason = response.text
            raise CosignError(f"co-signer {self.address} refused the batch ({response.status_code}): {reason}")
        try:
            signature = bytes.fromhex(response.json()["signature"].removeprefix("0x"))
            # Never pass on a signature the registry would reject: it must be this co-signer's.
            recovered = recover_signer(batch_digest(self.domain, batch), signature)
        except (ValueError, KeyError, TypeError) as exc:
            raise CosignError(f"co-signer at {self.url} answered without a valid signature: {exc}") from None
        if recovered.lower() != self.address.lower():
            raise CosignError(f"co-signer at {self.url} answered with a signature by {recovered}, not {self.address}")
        return signature

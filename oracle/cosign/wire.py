"""A batch as JSON between the oracle and a co-signer: the EIP-712 message's own field names,
bytes as 0x-hex. Parsed strictly: a malformed request is refused naming the field."""

from __future__ import annotations

from typing import Annotated, Any

from eth_utils import is_hex_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from oracle.typed_data import FeedbackBatch, FeedbackRecord


def _bytes32(value: str) -> str:
    if not (value.startswith("0x") and len(value) == 66 and all(c in "0123456789abcdefABCDEF" for c in value[2:])):
        raise ValueError("must be 0x followed by 64 hex digits")
    return value


def _address(value: str) -> str:
    if not is_hex_address(value):
        raise ValueError("must be a 0x-prefixed 20-byte hex address")
    return value


Bytes32 = Annotated[str, AfterValidator(_bytes32)]
Address = Annotated[str, AfterValidator(_address)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class WireRecord(_Strict):
    eventId: Bytes32
    customer: Address
    seq: int = Field(ge=0, lt=2**64)
    kind: int = Field(ge=0, lt=256)
    occurredAt: int = Field(ge=0, lt=2**40)
    contentCommitment: Bytes32


class WireBatch(_Strict):
    brandId: int = Field(ge=0, lt=2**32)
    policyHash: Bytes32
    deadline: int = Field(ge=0, lt=2**64)
    records: list[WireRecord] = Field(max_length=500)

    def to_batch(self) -> FeedbackBatch:
        records = tuple(
            FeedbackRecord(bytes.fromhex(r.eventId[2:]), r.customer, r.seq, r.kind, r.occurredAt,
                           bytes.fromhex(r.contentCommitment[2:]))
            for r in self.records
        )
        return FeedbackBatch(self.brandId, bytes.fromhex(self.policyHash[2:]), self.deadline, records)


def batch_to_wire(batch: FeedbackBatch) -> dict[str, Any]:
    return {
        "brandId": batch.brand_id,
        "policyHash": "0x" + batch.policy_hash.hex(),
        "deadline": batch.deadline,
        "records": [
            {"eventId": "0x" + r.event_id.hex(), "customer": r.customer, "seq": r.seq, "kind": r.kind,
             "occurredAt": r.occurred_at, "contentCommitment": "0x" + r.content_commitment.hex()}
            for r in batch.records
        ],
    }

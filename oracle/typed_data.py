"""EIP-712 types of the FeedbackRegistry, built in Python exactly as the contract builds them.

Two ways to the same digest: `batch_typed_data` gives the full EIP-712 message for
eth-account (what a co-signer or a wallet displays), and `batch_digest` hashes the structs
directly with eth-abi and keccak, which is ~100x faster and what the oracle's hot path uses.
Tests pin both to the contract's own `hashRecord` / `batchDigest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys import keys
from eth_utils import keccak, to_canonical_address, to_checksum_address

from oracle.abi_encoding import abi_encode

DOMAIN_NAME = "ServiceCoin FeedbackRegistry"
DOMAIN_VERSION = "1"

EIP712_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
# EIP-2612, as OpenZeppelin's ERC20Permit (the ServiceCoin) hashes it.
PERMIT_FIELDS = [
    {"name": "owner", "type": "address"},
    {"name": "spender", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
RECORD_FIELDS = [
    {"name": "eventId", "type": "bytes32"},
    {"name": "customer", "type": "address"},
    {"name": "seq", "type": "uint64"},
    {"name": "kind", "type": "uint8"},
    {"name": "occurredAt", "type": "uint40"},
    {"name": "contentCommitment", "type": "bytes32"},
]
BATCH_FIELDS = [
    {"name": "brandId", "type": "uint32"},
    {"name": "policyHash", "type": "bytes32"},
    {"name": "deadline", "type": "uint64"},
    {"name": "records", "type": "FeedbackRecord[]"},
]
LINK_WALLET_FIELDS = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]


def _type_string(name: str, fields: list[dict[str, str]]) -> str:
    return f"{name}(" + ",".join(f"{f['type']} {f['name']}" for f in fields) + ")"


RECORD_TYPE = _type_string("FeedbackRecord", RECORD_FIELDS)
BATCH_TYPE = _type_string("FeedbackBatch", BATCH_FIELDS) + RECORD_TYPE
RECORD_TYPEHASH = keccak(text=RECORD_TYPE)
BATCH_TYPEHASH = keccak(text=BATCH_TYPE)
LINK_WALLET_TYPEHASH = keccak(text=_type_string("LinkWallet", LINK_WALLET_FIELDS))
_DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    event_id: bytes
    customer: str
    seq: int
    kind: int
    occurred_at: int
    content_commitment: bytes

    def as_tuple(self) -> tuple[bytes, str, int, int, int, bytes]:
        """The record as the contract's ABI tuple (for a transaction's arguments)."""
        return (self.event_id, self.customer, self.seq, self.kind, self.occurred_at, self.content_commitment)

    def as_message(self) -> dict[str, Any]:
        return {
            "eventId": self.event_id,
            "customer": to_checksum_address(self.customer),
            "seq": self.seq,
            "kind": self.kind,
            "occurredAt": self.occurred_at,
            "contentCommitment": self.content_commitment,
        }


@dataclass(frozen=True, slots=True)
class FeedbackBatch:
    brand_id: int
    policy_hash: bytes
    deadline: int
    records: tuple[FeedbackRecord, ...]

    def as_tuple(self) -> tuple[int, bytes, int, list[tuple[bytes, str, int, int, int, bytes]]]:
        """The batch as the contract's FeedbackBatch tuple (what is signed; `batchDigest`'s argument)."""
        return (self.brand_id, self.policy_hash, self.deadline, [r.as_tuple() for r in self.records])

    def as_packed(self) -> tuple[int, bytes, int, bytes]:
        """The batch as submitBatch takes it: the PackedFeedbackBatch tuple, records packed."""
        return (self.brand_id, self.policy_hash, self.deadline, pack_records(self.records))


# A packed record (PackedFeedbackBatch.records): each field big-endian at its own width, in
# FeedbackRecord's order: event id 32 bytes, customer 20, seq 8, kind 1, occurred at 5,
# content commitment 32. The contract's RecordCalldata reads this layout.
RECORD_BYTES = 98


def pack_records(records: Sequence[FeedbackRecord]) -> bytes:
    """The records packed as submitBatch takes them. ValueError names a field that does not fit."""
    return b"".join(_pack_record(record) for record in records)


def _pack_record(record: FeedbackRecord) -> bytes:
    try:
        packed = (_fixed(record.event_id, 32) + to_canonical_address(record.customer) + record.seq.to_bytes(8, "big")
                  + record.kind.to_bytes(1, "big") + record.occurred_at.to_bytes(5, "big")
                  + _fixed(record.content_commitment, 32))
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"record seq {record.seq} does not fit the packed layout: {exc}") from exc
    return packed


def _fixed(value: bytes, width: int) -> bytes:
    if len(value) != width:
        raise ValueError(f"{len(value)} bytes where {width} are expected")
    return bytes(value)


def unpack_records(data: bytes) -> list[FeedbackRecord]:
    """The records that `data` packs. ValueError unless it holds a whole number of records."""
    if len(data) % RECORD_BYTES:
        raise ValueError(f"{len(data)} bytes of packed records: not a multiple of {RECORD_BYTES}")
    records = []
    for start in range(0, len(data), RECORD_BYTES):
        r = data[start : start + RECORD_BYTES]
        records.append(FeedbackRecord(
            event_id=bytes(r[0:32]), customer=to_checksum_address(r[32:52]), seq=int.from_bytes(r[52:60], "big"),
            kind=r[60], occurred_at=int.from_bytes(r[61:66], "big"), content_commitment=bytes(r[66:98]),
        ))
    return records


@dataclass(frozen=True, slots=True)
class Domain:
    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }

    def separator(self) -> bytes:
        return keccak(
            abi_encode(
                ("bytes32", "bytes32", "bytes32", "uint256", "address"),
                [
                    _DOMAIN_TYPEHASH,
                    keccak(text=self.name),
                    keccak(text=self.version),
                    self.chain_id,
                    to_checksum_address(self.verifying_contract),
                ],
            )
        )


def record_hash(record: FeedbackRecord) -> bytes:
    """EIP-712 hashStruct(FeedbackRecord)."""
    return keccak(
        abi_encode(
            ("bytes32", "bytes32", "address", "uint64", "uint8", "uint40", "bytes32"),
            [RECORD_TYPEHASH, *record.as_tuple()],
        )
    )


def batch_struct_hash(batch: FeedbackBatch) -> bytes:
    """EIP-712 hashStruct(FeedbackBatch): an array of structs hashes to keccak of the members' hashes."""
    records_hash = keccak(b"".join(record_hash(r) for r in batch.records))
    return keccak(
        abi_encode(
            ("bytes32", "uint32", "bytes32", "uint64", "bytes32"),
            [BATCH_TYPEHASH, batch.brand_id, batch.policy_hash, batch.deadline, records_hash],
        )
    )


@lru_cache(maxsize=8)
def batch_digest(domain: Domain, batch: FeedbackBatch) -> bytes:
    """The digest the registry's signers sign: keccak(0x1901 || domainSeparator || hashStruct).
    Cached for the last few batches: the pipeline records a batch's digest and each of its
    signers hashes the same batch again (one keccak per record, ~60 µs per record). Domain and
    batch are frozen, so a cache hit is the same value."""
    return keccak(b"\x19\x01" + domain.separator() + batch_struct_hash(batch))


def typed_message(
    domain: Domain, primary_type: str, types: dict[str, list[dict[str, str]]], message: dict[str, Any]
) -> dict[str, Any]:
    """A full EIP-712 message (what eth-account's `full_message` and wallets take)."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_FIELDS, **types},
        "primaryType": primary_type,
        "domain": domain.as_dict(),
        "message": message,
    }


def batch_typed_data(domain: Domain, batch: FeedbackBatch) -> dict[str, Any]:
    """The full EIP-712 message for a batch."""
    message = {
        "brandId": batch.brand_id,
        "policyHash": batch.policy_hash,
        "deadline": batch.deadline,
        "records": [r.as_message() for r in batch.records],
    }
    types = {"FeedbackBatch": BATCH_FIELDS, "FeedbackRecord": RECORD_FIELDS}
    return typed_message(domain, "FeedbackBatch", types, message)


def link_wallet_typed_data(domain: Domain, source: str, target: str, nonce: int, deadline: int) -> dict[str, Any]:
    """The full EIP-712 LinkWallet message a custodial or self-custody holder signs."""
    message = {"from": to_checksum_address(source), "to": to_checksum_address(target), "nonce": nonce, "deadline": deadline}
    return typed_message(domain, "LinkWallet", {"LinkWallet": LINK_WALLET_FIELDS}, message)


def permit_typed_data(
    domain: Domain, owner: str, spender: str, value: int, nonce: int, deadline: int
) -> dict[str, Any]:
    """The full EIP-2612 Permit message for the coin (`domain`: the coin's eip712Domain())."""
    message = {
        "owner": to_checksum_address(owner),
        "spender": to_checksum_address(spender),
        "value": value,
        "nonce": nonce,
        "deadline": deadline,
    }
    return typed_message(domain, "Permit", {"Permit": PERMIT_FIELDS}, message)


def sign_permit(private_key: bytes | str, typed: dict[str, Any]) -> tuple[int, bytes, bytes]:
    """(v, r, s) of a signed permit message, as ERC20Permit.permit takes them."""
    signed = Account.sign_typed_data(private_key, full_message=typed)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def sign_digest(private_key: bytes | str, digest: bytes) -> bytes:
    """A 65-byte (r, s, v) signature over an EIP-712 digest; eth-keys always gives low-s."""
    signed = Account.unsafe_sign_hash(digest, private_key)
    return bytes(signed.signature)


def recover_signer(digest: bytes, signature: bytes) -> str:
    """The address whose key made a 65-byte (r, s, v) signature over `digest` (v 27/28 or 0/1)."""
    if len(signature) != 65:
        raise ValueError(f"a signature is 65 bytes, got {len(signature)}")
    v = signature[64] - 27 if signature[64] >= 27 else signature[64]
    public_key = keys.Signature(signature[:64] + bytes([v])).recover_public_key_from_msg_hash(digest)
    return str(public_key.to_checksum_address())


def sign_batch(private_keys: Sequence[bytes | str], domain: Domain, batch: FeedbackBatch) -> list[bytes]:
    """Signatures of several signers, ordered by signer address as the registry requires."""
    digest = batch_digest(domain, batch)
    signed = [(Account.from_key(key).address.lower(), sign_digest(key, digest)) for key in private_keys]
    return [signature for _, signature in sorted(signed)]


def link_wallet_digest(domain: Domain, source: str, target: str, nonce: int, deadline: int) -> bytes:
    struct_hash = keccak(
        abi_encode(
            ("bytes32", "address", "address", "uint256", "uint256"),
            [LINK_WALLET_TYPEHASH, to_checksum_address(source), to_checksum_address(target), nonce, deadline],
        )
    )
    return keccak(b"\x19\x01" + domain.separator() + struct_hash)


def full_typed_data_digest(typed: dict[str, Any]) -> bytes:
    """Digest of a full EIP-712 message computed by eth-account (the reference implementation)."""
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)

"""The FeedbackRegistry as the oracle uses it: its EIP-712 domain, the start-up self-check,
the calldata of a batch, and the reads behind `servicecoin verify` and `status`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from oracle.abi import load_abi
from oracle.abi_encoding import abi_encode
from oracle.chain.receipts import MinedReceipt
from oracle.chain.record_lookup import RecordLookup
from oracle.errors import OracleError
from oracle.kinds import FeedbackKind
from oracle.policy import Policy, schedule_mismatches
from oracle.typed_data import (
    BATCH_TYPEHASH,
    DOMAIN_NAME,
    DOMAIN_VERSION,
    RECORD_TYPEHASH,
    Domain,
    FeedbackBatch,
    FeedbackRecord,
    record_hash,
)


@dataclass(frozen=True)
class RecordProof:
    """Where a record was rewarded on chain: its batch's transaction (the record is in its input,
    the reward in its BatchRecorded log)."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    customer: str
    seq: int
    kind: int
    occurred_at: int
    content_commitment: bytes
    reward: int


class RegistryClient:
    def __init__(self, w3: Web3, address: str) -> None:
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.contract = w3.eth.contract(address=self.address, abi=load_abi("FeedbackRegistry"))
        self.lookup = RecordLookup(w3, self.address)

    def domain(self) -> Domain:
        """The domain as the contract reports it (ERC-5267), not as configured."""
        _fields, name, version, chain_id, verifying, _salt, _ext = self.contract.functions.eip712Domain().call()
        return Domain(chain_id=chain_id, verifying_contract=verifying, name=name, version=version)

    def base_rewards(self) -> dict[FeedbackKind, int]:
        return {kind: self.contract.functions.baseReward(int(kind)).call() for kind in FeedbackKind}

    def brand(self, brand_id: int) -> BrandState:
        return BrandState(*self.contract.functions.brandOf(brand_id).call())

    def is_signer(self, brand_id: int, address: str) -> bool:
        """Whether `address` signs for the brand (signers are per brand on chain)."""
        return bool(self.contract.functions.isSigner(brand_id, to_checksum_address(address)).call())

    def is_recorded(self, brand_id: int, seq: int) -> bool:
        return bool(self.contract.functions.isRecorded(brand_id, seq).call())

    def lifetime_earned(self, customer: str) -> int:
        return int(self.contract.functions.lifetimeEarned(to_checksum_address(customer)).call())

    def submit_calldata(self, batch: FeedbackBatch, signatures: list[bytes]) -> bytes:
        """submitBatch's calldata, encoded by eth_abi from the ABI's own types. Not through
        `contract.encode_abi`: web3 normalises and validates every value of every record first,
        which `make bench` measured at ten times the encoding itself (940 against 88 µs per
        record in batches of 300). The records are built by the oracle from checked values, and
        packed (FeedbackBatch.as_packed) as the registry reads them."""
        return self.lookup.submit_selector + abi_encode(self.lookup.submit_types, [batch.as_packed(), signatures])

    def self_check(self, expected_chain_id: int, signers: list[str], brand_id: int, policy: Policy) -> list[str]:
        """Everything that would make the oracle sign batches the registry rejects, or promise
        rewards it does not pay. Empty when the oracle may start."""
        problems = []
        code = bytes(self.w3.eth.get_code(self.address))
        if not code:
            return [f"no contract at {self.address} on chain {self.w3.eth.chain_id}"]
        problems.extend(log_format_problems(code, self.lookup.batch_topic))
        problems.extend(submit_format_problems(code, self.lookup.submit_selector))
        chain_id = self.w3.eth.chain_id
        if chain_id != expected_chain_id:
            problems.append(f"the RPC serves chain {chain_id}, the config says {expected_chain_id}")
        try:
            problems.extend(self._identity_problems(chain_id))
            brand = self.brand(brand_id)
            if not brand.registered:
                problems.append(f"brand {brand_id} is not registered on the registry")
            else:
                if not brand.active:
                    problems.append(f"brand {brand_id} is deactivated on the registry")
                problems.extend(self._signer_problems(brand_id, brand.quorum, signers))
            problems.extend(schedule_mismatches(policy, self.base_rewards()))
        except (ContractLogicError, BadFunctionCallOutput) as exc:
            # Another contract at that address (the coin, an older registry): its calls revert.
            problems.append(f"the contract at {self.address} does not answer as a FeedbackRegistry of this "
                            f"version ({type(exc).__name__}: {exc}): check chain.registry")
        return problems

    def _identity_problems(self, chain_id: int) -> list[str]:
        """The EIP-712 domain and type hashes: what the oracle signs must be what this contract checks."""
        problems = []
        domain = self.domain()
        if (domain.name, domain.version) != (DOMAIN_NAME, DOMAIN_VERSION):
            problems.append(f"EIP-712 domain is {domain.name!r} v{domain.version}, the oracle signs for {DOMAIN_NAME!r} v{DOMAIN_VERSION}")
        if domain.chain_id != chain_id or domain.verifying_contract.lower() != self.address.lower():
            problems.append("the registry's EIP-712 domain does not name this chain and contract")
        if bytes(self.contract.functions.FEEDBACK_BATCH_TYPEHASH().call()) != BATCH_TYPEHASH:
            problems.append("FeedbackBatch typehash differs from the oracle's: a different registry version")
        if bytes(self.contract.functions.FEEDBACK_RECORD_TYPEHASH().call()) != RECORD_TYPEHASH:
            problems.append("FeedbackRecord typehash differs from the oracle's: a different registry version")
        return problems

    def _signer_problems(self, brand_id: int, quorum: int, signers: list[str]) -> list[str]:
        problems = [f"signer {signer} is not a signer of brand {brand_id} on the registry"
                    for signer in signers if not self.is_signer(brand_id, signer)]
        # Distinct addresses: the registry counts one signature per signer, so a key listed twice
        # (a local keystore that is also named as a co-signer) does not help reach the quorum.
        distinct = len({signer.lower() for signer in signers})
        if distinct < quorum:
            problems.append(f"the registry needs {quorum} signatures per batch of brand {brand_id}; "
                            f"{distinct} distinct signer(s) configured")
        return problems

    def not_rewarded(self, receipt: MinedReceipt) -> dict[bytes, str]:
        """Records of the oracle's own mined batch that the registry skipped and that were never
        rewarded, by event id, with the reason (the first, for an event given twice). A record
        skipped as already recorded whose reward is on chain was rewarded, and is not listed:
        the same record earlier in the batch, or an earlier transaction of the batch (a
        resubmission after a reorg, or the signed batch sent by someone else first, through
        any contract)."""
        logged = self.lookup.logged_batches(receipt)
        if len(logged) != 1:
            # The oracle sends each batch in a transaction of its own: a receipt without its log
            # is another registry's or a misread, and "all rewarded" would be a silent guess.
            raise RegistryReadError(f"transaction 0x{receipt.tx_hash.hex()} has {len(logged)} BatchRecorded logs "
                                    f"of {self.address}; the oracle's own batch has exactly one")
        [batch] = logged
        if all(outcome.rewarded for outcome in batch.outcomes):
            return {}  # the common case: nothing to read beyond the receipt
        records = self.lookup.input_records(receipt.tx_hash)
        if records is None or [record_hash(r) for r in records] != list(batch.record_hashes):
            raise RegistryReadError(f"transaction 0x{receipt.tx_hash.hex()}: its input's records are not the ones "
                                    "its BatchRecorded log hashes")
        skipped: dict[bytes, str] = {}
        for record, hashed, outcome in zip(records, batch.record_hashes, batch.outcomes, strict=True):
            if outcome.rewarded or batch.rewarded(hashed) is not None:
                continue
            if outcome.reason == "AlreadyRecorded" and self.lookup.rewarded(
                batch.brand_id, record, to_block=receipt.block_number, exclude=receipt.tx_hash
            ):
                continue
            skipped.setdefault(record.event_id, str(outcome.reason))
        return skipped

    def find_record(
        self, brand_id: int, event_id: bytes, from_block: int = 0, record: FeedbackRecord | None = None,
        tx_hint: bytes | None = None,
    ) -> RecordProof | None:
        """The event's reward on chain, if any. With the record as the outbox holds it, it is
        found by its hash among the batches that paid its customer (`tx_hint` read first);
        without, by reading the inputs of the brand's batches from `from_block`."""
        if record is not None:
            mined = self.lookup.rewarded(brand_id, record, from_block=from_block, tx_hint=tx_hint)
        else:
            mined = self.lookup.rewarded_by_event_id(brand_id, event_id, from_block=from_block)
        if mined is None:
            return None
        found = mined.record
        return RecordProof(
            tx_hash=mined.tx_hash,
            block_number=mined.block_number,
            block_hash=mined.block_hash,
            customer=found.customer,
            seq=found.seq,
            kind=found.kind,
            occurred_at=found.occurred_at,
            content_commitment=found.content_commitment,
            reward=mined.outcome.reward,
        )


def log_format_problems(code: bytes, batch_topic: bytes) -> list[str]:
    """Whether the registry logs batches as this oracle reads them. The typehashes do not tell:
    a registry of the version before (one log per record) signs the same records, but its
    BatchRecorded has another signature, so this oracle would find no outcomes and take skipped
    records for rewarded ones. Solidity pushes an event's topic as a 32-byte constant where it
    emits it (PUSH32, 0x7f), so the deployed code holds it."""
    if b"\x7f" + batch_topic in code:
        return []
    return ["the registry's code does not emit BatchRecorded with per-record outcomes as this oracle "
            "reads it: a registry of another version (check chain.registry, or upgrade the oracle with it)"]


def submit_format_problems(code: bytes, submit_selector: bytes) -> list[str]:
    """Whether the registry takes batches as this oracle sends them. A registry of the version
    before takes the records ABI-encoded, not packed: another submitBatch selector, so every
    batch this oracle sends would revert. Solidity's dispatcher pushes each function's selector
    (PUSH4, 0x63), so the deployed code holds it."""
    if b"\x63" + submit_selector in code:
        return []
    return ["the registry's code has no submitBatch taking packed records as this oracle sends them: a "
            "registry of another version (check chain.registry, or upgrade the oracle with it)"]


class RegistryReadError(OracleError):
    """A mined batch's receipt or input is not what this registry writes for the oracle's own
    batch: nothing is concluded from it (the submitter tries again on its next pass)."""


class BrandState(NamedTuple):
    """IFeedbackRegistry.Brand, field for field."""

    cap_per_period: int
    issued_in_period: int
    period: int
    quorum: int
    signer_count: int
    active: bool
    registered: bool

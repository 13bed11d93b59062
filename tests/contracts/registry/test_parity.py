"""Parity across the boundary: the oracle's EIP-712 types, hashes and digests are the contract's.

If any of these drift, every batch the oracle signs is refused on-chain (UnknownSigner).
"""

from brownie.test import given
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from hypothesis import strategies as st

from oracle import typed_data
from oracle.typed_data import (
    Domain,
    FeedbackBatch,
    FeedbackRecord,
    batch_digest,
    batch_struct_hash,
    batch_typed_data,
    full_typed_data_digest,
    link_wallet_digest,
    record_hash,
)

from .helpers import BRAND, COIN, WELCOME, chain_property_settings

HYPOTHESIS = chain_property_settings(12)

st_bytes32 = st.binary(min_size=32, max_size=32)
st_address = st.binary(min_size=20, max_size=20).map(to_checksum_address)
st_record = st.builds(
    FeedbackRecord,
    event_id=st_bytes32,
    customer=st_address,
    seq=st.integers(0, 2**64 - 1),
    kind=st.integers(0, 2**8 - 1),
    occurred_at=st.integers(0, 2**40 - 1),
    content_commitment=st_bytes32,
)
st_batch = st.builds(
    FeedbackBatch,
    brand_id=st.integers(0, 2**32 - 1),
    policy_hash=st_bytes32,
    deadline=st.integers(0, 2**64 - 1),
    records=st.lists(st_record, min_size=0, max_size=3).map(tuple),
)


def test_record_typehash_equals_the_oracle_one(registry):
    assert bytes(registry.FEEDBACK_RECORD_TYPEHASH()) == typed_data.RECORD_TYPEHASH


def test_batch_typehash_equals_the_oracle_one(registry):
    assert bytes(registry.FEEDBACK_BATCH_TYPEHASH()) == typed_data.BATCH_TYPEHASH


def test_link_wallet_typehash_equals_the_oracle_one(registry):
    assert bytes(registry.LINK_WALLET_TYPEHASH()) == typed_data.LINK_WALLET_TYPEHASH


def test_typehashes_are_keccak_of_the_eip712_type_strings(registry):
    record = (
        "FeedbackRecord(bytes32 eventId,address customer,uint64 seq,uint8 kind,uint40 occurredAt,"
        "bytes32 contentCommitment)"
    )
    batch = "FeedbackBatch(uint32 brandId,bytes32 policyHash,uint64 deadline,FeedbackRecord[] records)" + record
    link = "LinkWallet(address from,address to,uint256 nonce,uint256 deadline)"
    assert bytes(registry.FEEDBACK_RECORD_TYPEHASH()) == keccak(text=record)
    assert bytes(registry.FEEDBACK_BATCH_TYPEHASH()) == keccak(text=batch)
    assert bytes(registry.LINK_WALLET_TYPEHASH()) == keccak(text=link)


def test_eip712_domain_names_the_registry_on_this_chain(registry, chain):
    fields, name, version, chain_id, verifying_contract, salt, extensions = registry.eip712Domain()
    assert fields == "0x0f"  # name, version, chainId, verifyingContract
    assert (name, version) == ("ServiceCoin FeedbackRegistry", "1")
    assert (name, version) == (typed_data.DOMAIN_NAME, typed_data.DOMAIN_VERSION)
    assert chain_id == chain.id
    assert verifying_contract == registry.address
    assert bytes(salt) == b"\x00" * 32
    assert extensions == []


def test_domain_separator_of_the_exposed_domain_is_the_one_the_contract_hashes_with(registry, domain, batches, alice):
    _, name, version, chain_id, verifying_contract, _, _ = registry.eip712Domain()
    separator = Domain(chain_id=chain_id, verifying_contract=verifying_contract, name=name, version=version).separator()
    assert separator == domain.separator()
    batch = batches.batch([batches.record(alice)])
    assert bytes(registry.batchDigest(batch.as_tuple())) == keccak(b"\x19\x01" + separator + batch_struct_hash(batch))


@HYPOTHESIS
@given(record=st_record)
def test_hash_record_equals_the_oracle_record_hash(registry, record):
    assert bytes(registry.hashRecord(record.as_tuple())) == record_hash(record)


@HYPOTHESIS
@given(batch=st_batch)
def test_batch_digest_equals_the_oracle_digest_and_the_eth_account_reference(registry, domain, batch):
    expected = batch_digest(domain, batch)
    assert full_typed_data_digest(batch_typed_data(domain, batch)) == expected
    assert bytes(registry.batchDigest(batch.as_tuple())) == expected


def test_batch_signed_with_eth_account_typed_data_is_accepted(registry, domain, batches, signer_keys, alice, coin):
    batch = batches.batch([batches.record(alice), batches.record(alice)])
    signed = Account.sign_typed_data(signer_keys[0], full_message=batch_typed_data(domain, batch))
    tx = batches.submit(batch, signatures=[bytes(signed.signature)])
    assert bytes(tx.events["BatchRecorded"]["digest"]) == batch_digest(domain, batch)
    assert tx.events["BatchRecorded"]["recorded"] == 2
    assert coin.balanceOf(alice) == 2 * 5 * COIN + WELCOME


def test_batch_signed_by_the_oracle_records_under_the_digest_it_signed(registry, domain, batches, alice):
    batch = batches.batch([batches.record(alice)], policy_hash=keccak(text="policy-v2"))
    tx = batches.submit(batch)
    assert tx.events["BatchRecorded"]["brandId"] == BRAND
    assert bytes(tx.events["BatchRecorded"]["digest"]) == batch_digest(domain, batch)
    assert bytes(tx.events["BatchRecorded"]["policyHash"]) == keccak(text="policy-v2")


def test_link_wallet_digest_equals_the_eth_account_reference(domain, holder, bob):
    typed = typed_data.link_wallet_typed_data(domain, holder.address, bob.address, 3, 2**40)
    assert link_wallet_digest(domain, holder.address, bob.address, 3, 2**40) == full_typed_data_digest(typed)

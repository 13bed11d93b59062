"""Constants and helpers shared by the FeedbackRegistry tests."""

from __future__ import annotations

from contextlib import contextmanager

from brownie import web3
from eth_abi import decode, encode
from hypothesis import HealthCheck, settings
from eth_keys import keys
from eth_utils import function_signature_to_4byte_selector
from web3.exceptions import ContractLogicError

from tests.contracts.revert_patterns import error  # noqa: F401  (re-exported for the tests)

COIN = 10**18
BRAND = 1
UINT96_MAX = 2**96 - 1
UINT24_MAX = 2**24 - 1
BPS = 10_000
# Order of the secp256k1 group: s and n - s both verify (the malleable twin).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# IFeedbackRegistry.SkipReason, in declaration order.
(
    ALREADY_RECORDED,
    KIND_NOT_REWARDED,
    ZERO_CUSTOMER,
    OCCURS_IN_FUTURE,
    CUSTOMER_CAP_REACHED,
    BRAND_CAP_REACHED,
    LIFETIME_LIMIT_REACHED,
    SUPPLY_LIMIT_REACHED,
) = range(8)

# scripts/config/development.yaml, in units.
WELCOME = 5 * COIN
CUSTOMER_CAP = 50  # rewarded records per customer per period
BRAND_CAP = 100_000 * COIN
PERIOD = 86_400
# A kind with no base reward in the development schedule.
UNREWARDED_KIND = 7


def split(signature):
    """(r, s, v) of a 65-byte signature."""
    return signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]


def high_s_twin(signature):
    """The other valid signature of the same key and digest: s' = n - s with v flipped."""
    r, s, v = split(signature)
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


def recover(digest, signature):
    """The address ecrecover gives for a 65-byte (r, s, v) signature over `digest`."""
    r, s, v = split(signature)
    vrs = (v - 27, int.from_bytes(r, "big"), s)
    return keys.Signature(vrs=vrs).recover_public_key_from_msg_hash(digest).to_checksum_address()


@contextmanager
def mined_at(timestamp):
    """Transactions sent inside the block are mined together in one block at `timestamp`.

    Both chains stop automatic mining (Anvil: evm_setAutomine, Ganache: miner_stop), so the
    transactions wait in the pool until evm_mine seals them with exactly that timestamp.
    Send them with {"required_confs": 0, "gas_limit": ...} (no estimate, no waiting).
    """
    anvil = "anvil" in web3.client_version.lower()
    if anvil:
        web3.provider.make_request("evm_setAutomine", [False])
    else:
        web3.provider.make_request("miner_stop", [])
    try:
        yield
        web3.provider.make_request("evm_mine", [timestamp])
    finally:
        if anvil:
            web3.provider.make_request("evm_setAutomine", [True])
        else:
            web3.provider.make_request("miner_start", [])


# The development tier schedule (TierRedemption.setTiers by deploy()).
TIER_THRESHOLDS = [0, 100 * COIN, 500 * COIN, 2000 * COIN]
TIER_MULTIPLIERS_BPS = [10_000, 11_000, 12_500, 15_000]


def expected_reward(base, lifetime):
    """The registry's rule: base reward times the multiplier of the highest tier reached, floored."""
    multiplier = max(m for t, m in zip(TIER_THRESHOLDS, TIER_MULTIPLIERS_BPS) if lifetime >= t)
    return base * multiplier // BPS


def expected_rewards(base, count, lifetime=0):
    """Rewards of `count` records of one kind to one customer, tiers rising record by record."""
    rewards = []
    for _ in range(count):
        rewards.append(expected_reward(base, lifetime))
        lifetime += rewards[-1]
    return rewards


def submit_unmined(registry, batches, batch, gas_limit=2_000_000):
    """Sends a signed batch without a gas estimate and without brownie's confirmation wait
    (inside `mined_at`, or for a batch too large for brownie's wait: see test_batch_size)."""
    tx = {"from": batches.admin, "gas_limit": gas_limit, "required_confs": 0}
    return registry.submitBatch(batch.as_packed(), batches.sign(batch), tx)


def call_reverts_with(web3_, tx: dict) -> str:
    """The revert data (hex) of an eth_call that must revert. Anvil gives it as is, Ganache
    inside {"0x": {"return" or "reason": ...}}; brownie's web3 raises the node's error object."""
    try:
        web3_.eth.call(tx)
    except ContractLogicError as exc:
        data = exc.data
    except ValueError as exc:
        data = exc.args[0]["data"]
    else:
        raise AssertionError("the call did not revert")
    if isinstance(data, dict):
        [detail] = data.values()
        return detail.get("return") or detail["reason"]
    return data



# A FeedbackRecord in the ABI: six static words (eventId, customer, seq, kind, occurredAt, commitment).
RECORD_TUPLE = "(bytes32,address,uint64,uint8,uint40,bytes32)"


def call_with_records(contract, function: str, packed: bytes, result_types: list[str]):
    """('ok', decoded result) or ('reverted', revert data) of an eth_call of `function(bytes)`,
    `packed` being records as PackedFeedbackBatch packs them (or any bytes)."""
    selector = function_signature_to_4byte_selector(f"{function}(bytes)")
    tx = {"to": contract.address, "data": "0x" + (selector + encode(["bytes"], [packed])).hex()}
    try:
        raw = web3.eth.call(tx)
    except (ContractLogicError, ValueError):  # brownie's web3 raises the node's error object as is
        return "reverted", call_reverts_with(web3, tx)
    return "ok", decode(result_types, bytes(raw))


def chain_property_settings(max_examples: int) -> settings:
    """Hypothesis settings for a property test whose examples are calls to a chain: no deadline
    (a node's answer time is not the code's), and the health checks that a module's deployed
    fixture and large batches would trip turned off."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )

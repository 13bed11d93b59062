"""The submitter's arithmetic and the revert decoder, with a fake node; custodial keys."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from oracle.chain.reverts import decode_revert
from oracle.chain.submitter import GWEI, FeeCapExceeded, SubmitSettings, Submitter, bumped
from oracle.custody import CustodialWallets, content_master_key


class FakeEth:
    def __init__(self, base_fee: int = 10 * GWEI, pending: int = 0, gas_limit: int = 30_000_000) -> None:
        self.chain_id = 31337
        self.base_fee, self.pending, self.gas_limit = base_fee, pending, gas_limit

    def get_block(self, _which):
        return {"baseFeePerGas": self.base_fee, "gasLimit": self.gas_limit}

    def get_transaction_count(self, _address, _which):
        return self.pending


class FakeOutbox:
    def __init__(self, in_flight: int | None = None) -> None:
        self.in_flight = in_flight

    def highest_nonce_in_flight(self):
        return self.in_flight


def submitter(eth: FakeEth, outbox: FakeOutbox | None = None, cap_gwei: int = 100, tip_gwei: float = 1.5) -> Submitter:
    settings = SubmitSettings(
        max_fee=cap_gwei * GWEI, priority_fee=int(tip_gwei * GWEI), replace_after=60, confirmations=1, finality_depth=12
    )
    account = SimpleNamespace(address="0x" + "ab" * 20)
    return Submitter(SimpleNamespace(eth=eth), account, outbox or FakeOutbox(), settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("fee", [0, 1, 7, 8, 9, 10**9, 1_500_000_001, 2**200])
def test_a_bump_is_at_least_an_eighth_and_at_least_one_wei(fee: int) -> None:
    new = bumped(fee)
    assert new * 8 >= fee * 9 and new > fee


def test_fees_are_twice_the_base_fee_plus_the_tip_under_the_cap() -> None:
    assert submitter(FakeEth(base_fee=10 * GWEI)).price() == (int(21.5 * GWEI), int(1.5 * GWEI))
    # Near the cap the max fee is the cap, and the tip shrinks to what fits above the base fee.
    assert submitter(FakeEth(base_fee=99 * GWEI)).price() == (100 * GWEI, 1 * GWEI)


def test_a_base_fee_at_the_cap_makes_batches_wait() -> None:
    with pytest.raises(FeeCapExceeded, match="base fee 100.00 gwei is at or above the cap of 100.00 gwei"):
        submitter(FakeEth(base_fee=100 * GWEI)).price()


def test_the_next_nonce_skips_transactions_the_node_has_not_seen() -> None:
    assert submitter(FakeEth(pending=5))._take_nonce() == 5
    assert submitter(FakeEth(pending=5), FakeOutbox(in_flight=7))._take_nonce() == 8
    assert submitter(FakeEth(pending=9), FakeOutbox(in_flight=7))._take_nonce() == 9


def test_the_gas_limit_covers_every_record_on_its_costliest_path() -> None:
    s = submitter(FakeEth())
    assert s._gas_limit(records=1) == 150_000 + 70_000
    assert s._gas_limit(records=300) == 150_000 + 300 * 70_000
    assert submitter(FakeEth(gas_limit=5_000_000))._gas_limit(records=100) == 5_000_000  # never above a block


def test_the_costliest_path_bound_is_above_every_measured_batch() -> None:
    """WORST_RECORD_GAS and BATCH_OVERHEAD_GAS against snapshots/gas.json: every measured batch,
    fresh customers with the welcome bonus on a fresh bitmap word included, uses at most 87% of
    the limit the submitter gives it (the rest is room for state that moves before inclusion)."""
    snapshot = json.loads((Path(__file__).resolve().parents[2] / "snapshots" / "gas.json").read_text())
    s = submitter(FakeEth())
    for case in snapshot["submit_batch"].values():
        for size, measured in case.items():
            assert measured["total"] <= 0.87 * s._gas_limit(records=int(size)), (size, measured)


def _error(signature: str, types: list[str], values: list) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(types, values)


def test_custom_errors_decode_to_their_name_and_arguments() -> None:
    data = _error("BatchExpired(uint64,uint256)", ["uint64", "uint256"], [5, 10])
    decoded = decode_revert("0x" + data.hex())
    assert (decoded.name, decoded.args, str(decoded)) == ("BatchExpired", (5, 10), "BatchExpired(5, 10)")
    signer = "0x" + "12" * 20
    unknown = decode_revert(_error("UnknownSigner(uint32,address)", ["uint32", "address"], [7, signer]))
    assert str(unknown) == "UnknownSigner(7, 0x1212121212121212121212121212121212121212)"
    assert str(decode_revert(_error("EnforcedPause()", [], []))) == "EnforcedPause()"


def test_builtin_errors_and_garbage() -> None:
    assert str(decode_revert(_error("Error(string)", ["string"], ["nope"]))) == "Error(nope)"
    assert str(decode_revert(_error("Panic(uint256)", ["uint256"], [0x11]))) == "Panic(17)"
    assert decode_revert(None) is None
    assert decode_revert("0x") is None
    assert decode_revert("0xdeadbeef") is None  # a selector of no contract of ours
    assert decode_revert(_error("BatchExpired(uint64,uint256)", [], [])) is None  # truncated arguments
    assert decode_revert("not hex") is None


def test_custodial_addresses_are_deterministic_and_keyed() -> None:
    secret = bytes(range(32))
    wallets = CustodialWallets(secret, brand_id=1)
    assert wallets.address_for("cust-1") == CustodialWallets(secret, brand_id=1).address_for("cust-1")
    assert wallets.address_for("cust-1") == wallets.account_for("cust-1").address
    others = {
        wallets.address_for("cust-2"),
        CustodialWallets(secret, brand_id=2).address_for("cust-1"),
        CustodialWallets(bytes(32), brand_id=1).address_for("cust-1"),
    }
    assert wallets.address_for("cust-1") not in others and len(others) == 3
    assert content_master_key(secret) != wallets.account_for("cust-1").key

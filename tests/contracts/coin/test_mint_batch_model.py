"""mintBatchWithData and holderDataOf, whose loops read calldata in assembly, against a model.

CONVENTIONS.md allows assembly only with a test that proves it equal to the plain expression:
here the plain expression is the interface's own rule (IServiceCoin), kept in Python. Random
batches, with holders listed more than once, must leave every balance, every holder's data,
the supply and the Transfer events as the model says; words wider than their ABI type, which
no encoder writes but anyone can send, must be refused as the ABI decoder refuses them.
"""

from __future__ import annotations

import pytest
from brownie import web3
from brownie.test import given
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.contracts.registry.helpers import call_reverts_with

ZERO = "0x0000000000000000000000000000000000000000"
MAX_DATA = 2**160 - 1
HOLDERS = 4

HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

entries = st.lists(
    st.tuples(
        st.integers(0, HOLDERS - 1),
        st.one_of(st.just(0), st.integers(1, 10**24)),
        st.one_of(st.just(0), st.just(MAX_DATA), st.integers(0, MAX_DATA)),
    ),
    max_size=12,
)


@pytest.fixture(scope="module")
def holders(accounts):
    return [accounts[i] for i in range(6, 6 + HOLDERS)]


@given(first=entries, second=entries)
@HYPOTHESIS
def test_balances_data_supply_and_events_follow_the_model(coin, minter, holders, first, second):
    balances, data = [0] * HOLDERS, [0] * HOLDERS
    for batch in (first, second):
        tx = coin.mintBatchWithData(
            [holders[h] for h, _, _ in batch], [a for _, a, _ in batch], [d for _, _, d in batch], {"from": minter}
        )
        for h, amount, bits in batch:
            balances[h] += amount
            data[h] = bits  # a later entry's data replaces the earlier one's
        logged = [(e["from"], e["to"], e["value"]) for e in tx.events["Transfer"]] if batch else []
        assert logged == [(ZERO, holders[h], a) for h, a, _ in batch]
    assert [coin.balanceOf(h) for h in holders] == balances
    assert coin.holderDataOf(holders) == data
    assert [coin.holderData(h) for h in holders] == data
    assert coin.totalSupply() == sum(balances)


def _words(data: str) -> list[bytes]:
    raw = bytes.fromhex(data[2:])
    return [raw[:4]] + [raw[i : i + 32] for i in range(4, len(raw), 32)]


def _join(words: list[bytes]) -> str:
    return "0x" + b"".join(words).hex()


@pytest.mark.parametrize("dirty", ["holder", "data"])
def test_a_word_wider_than_its_type_is_refused_as_the_decoder_refuses_it(coin, minter, holders, dirty):
    words = _words(coin.mintBatchWithData.encode_input([holders[0], holders[1]], [5, 6], [7, 8]))
    # Layout: selector, three offsets, then each array's length and its two words.
    holder_word, data_word = 5, 11
    index = holder_word if dirty == "holder" else data_word
    assert int.from_bytes(words[index], "big") == (int(holders[0].address, 16) if dirty == "holder" else 7)
    words[index] = b"\x01" + words[index][1:]
    assert call_reverts_with(web3, {"from": minter.address, "to": coin.address, "data": _join(words)}) in ("0x", "")
    # The clean input, the same call otherwise, goes through.
    words[index] = b"\x00" + words[index][1:]
    web3.eth.call({"from": minter.address, "to": coin.address, "data": _join(words)})


def test_holder_data_of_refuses_a_holder_word_wider_than_an_address(coin, holders):
    words = _words(coin.holderDataOf.encode_input([holders[0], holders[1]]))
    words[3] = b"\x01" + words[3][1:]  # selector, offset, length, then holder 0
    assert call_reverts_with(web3, {"to": coin.address, "data": _join(words)}) in ("0x", "")

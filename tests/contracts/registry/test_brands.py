"""Brands: registered once by the admin, with a cap; only active brands' batches are accepted."""

import brownie
import pytest

from .helpers import BRAND, COIN, error

ADMIN_ROLE = b"\x00" * 32


def test_register_brand_stores_it_active_and_emits(registry, admin):
    tx = registry.registerBrand(2, 500 * COIN, {"from": admin})
    assert tx.events["BrandRegistered"] == {"brandId": 2, "capPerPeriod": 500 * COIN}
    assert registry.brandOf(2) == (500 * COIN, 0, 0, 1, 0, True, True)  # quorum 1, no signer yet


def test_registering_a_registered_brand_is_refused(registry, admin):
    with brownie.reverts(revert_pattern=error("BrandAlreadyRegistered", BRAND)):
        registry.registerBrand(BRAND, 1, {"from": admin})
    assert registry.brandOf(BRAND)["capPerPeriod"] == 100_000 * COIN


def test_set_brand_cap_changes_the_cap_and_emits(registry, admin):
    tx = registry.setBrandCap(BRAND, 7 * COIN, {"from": admin})
    assert tx.events["BrandCapChanged"] == {"brandId": BRAND, "oldCap": 100_000 * COIN, "newCap": 7 * COIN}
    assert registry.brandOf(BRAND)["capPerPeriod"] == 7 * COIN


@pytest.mark.parametrize(
    "call",
    [lambda r, tx: r.setBrandCap(99, 1, tx), lambda r, tx: r.setBrandActive(99, False, tx)],
    ids=["setBrandCap", "setBrandActive"],
)
def test_changing_an_unregistered_brand_is_refused(registry, admin, call):
    with brownie.reverts(revert_pattern=error("BrandNotRegistered", 99)):
        call(registry, {"from": admin})
    assert registry.brandOf(99) == (0, 0, 0, 0, 0, False, False)


def test_set_brand_active_emits(registry, admin):
    tx = registry.setBrandActive(BRAND, False, {"from": admin})
    assert tx.events["BrandActiveChanged"] == {"brandId": BRAND, "active": False}
    assert not registry.brandOf(BRAND)["active"]
    assert registry.brandOf(BRAND)["registered"]


def test_inactive_brand_batches_are_refused(batches, registry, admin, alice):
    registry.setBrandActive(BRAND, False, {"from": admin})
    batch = batches.batch([batches.record(alice)])
    with brownie.reverts(revert_pattern=error("BrandNotActive", BRAND)):
        batches.submit(batch)
    assert not registry.isRecorded(BRAND, batch.records[0].seq)


def test_reactivated_brand_batches_are_accepted(batches, registry, admin, alice):
    registry.setBrandActive(BRAND, False, {"from": admin})
    registry.setBrandActive(BRAND, True, {"from": admin})
    assert batches.reward([alice]).events["BatchRecorded"]["recorded"] == 1


def test_unknown_brand_batches_are_refused(batches, alice):
    batch = batches.batch([batches.record(alice)], brand_id=99)
    with brownie.reverts(revert_pattern=error("BrandNotActive", 99)):
        batches.submit(batch)


@pytest.mark.parametrize(
    "call",
    [
        lambda r, tx: r.registerBrand(2, COIN, tx),
        lambda r, tx: r.setBrandCap(BRAND, COIN, tx),
        lambda r, tx: r.setBrandActive(BRAND, False, tx),
    ],
    ids=["registerBrand", "setBrandCap", "setBrandActive"],
)
def test_only_the_admin_manages_brands(registry, outsider, call):
    with brownie.reverts(revert_pattern=error("AccessControlUnauthorizedAccount", outsider, ADMIN_ROLE)):
        call(registry, {"from": outsider})
    assert registry.brandOf(BRAND) == (100_000 * COIN, 0, 0, 1, 1, True, True)
    assert not registry.brandOf(2)["registered"]

"""ServiceCoin's identity and the roles that deploy() wires."""

from __future__ import annotations

from eth_utils import keccak

ROLE_NAMES = ("MINTER_ROLE", "BURNER_ROLE", "PROTOCOL_ROLE", "WALLET_LINKER_ROLE", "PAUSER_ROLE")
ZERO_ROLE = bytes(32)


def _roles_held(coin, account):
    return {name for name in ROLE_NAMES if coin.hasRole(getattr(coin, name)(), account)}


def _role_holders(coin, role):
    """Every account holding `role`, rebuilt from the coin's RoleGranted/RoleRevoked logs
    (the contract is not enumerable, so the logs are the complete record)."""
    first = coin.tx.block_number
    holders = set()
    grants = coin.events.get_sequence(from_block=first, event_type="RoleGranted")
    revokes = coin.events.get_sequence(from_block=first, event_type="RoleRevoked")
    for log in sorted(grants + revokes, key=lambda e: (e.blockNumber, e.logIndex)):
        if bytes(log.args.role) != bytes(role):
            continue
        if log.event == "RoleGranted":
            holders.add(log.args.account)
        else:
            holders.discard(log.args.account)
    return holders


def test_name_symbol_and_decimals(coin):
    assert (coin.name(), coin.symbol(), coin.decimals()) == ("Service Coin", "SVC", 18)


def test_role_ids_are_the_hashes_of_their_names(coin):
    for name in ROLE_NAMES:
        assert bytes(getattr(coin, name)()) == keccak(text=name)
    assert bytes(coin.DEFAULT_ADMIN_ROLE()) == ZERO_ROLE


def test_every_role_is_administered_by_the_default_admin(coin):
    for name in ROLE_NAMES:
        assert bytes(coin.getRoleAdmin(getattr(coin, name)())) == ZERO_ROLE


def test_registry_mints_links_wallets_and_moves_coins(coin, registry):
    assert _roles_held(coin, registry) == {"MINTER_ROLE", "WALLET_LINKER_ROLE", "PROTOCOL_ROLE"}
    assert not coin.hasRole(coin.DEFAULT_ADMIN_ROLE(), registry)


def test_redemption_burns_and_moves_coins(coin, redemption):
    assert _roles_held(coin, redemption) == {"BURNER_ROLE", "PROTOCOL_ROLE"}
    assert not coin.hasRole(coin.DEFAULT_ADMIN_ROLE(), redemption)


def test_only_the_registry_mints_and_only_the_redemption_contract_burns(coin, registry, redemption):
    assert _role_holders(coin, coin.MINTER_ROLE()) == {registry.address}
    assert _role_holders(coin, coin.BURNER_ROLE()) == {redemption.address}
    assert _role_holders(coin, coin.WALLET_LINKER_ROLE()) == {registry.address}
    assert _role_holders(coin, coin.PROTOCOL_ROLE()) == {registry.address, redemption.address}


def test_deployer_is_default_admin_and_pauser(coin, admin, config):
    assert coin.defaultAdmin() == admin
    assert coin.owner() == admin
    assert _role_holders(coin, coin.DEFAULT_ADMIN_ROLE()) == {admin.address}
    assert _roles_held(coin, admin) == {"PAUSER_ROLE"}
    assert coin.defaultAdminDelay() == config.admin_transfer_delay
    assert coin.pendingDefaultAdmin() == ("0x" + "0" * 40, 0)


def test_starts_restricted_unpaused_and_empty(coin):
    assert coin.transfersOpen() is False
    assert coin.paused() is False
    assert coin.totalSupply() == 0

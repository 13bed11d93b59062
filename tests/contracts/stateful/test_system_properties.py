"""The auditor's stateful property suite: random sequences across all three contracts, the
chain compared with a Python model after every step.

Rules (rules_*.py) send valid, replayed, duplicated, over-cap and badly signed batches; rotate
signers and change the quorum; redeem, fulfil, dispute, refund, reject disputes and settle;
announce and cancel prices while time moves on; transfer, transferFrom and approve under both
transfer policies; pause and unpause each contract; grant and revoke roles (and try to
escalate). Each rule predicts success or the exact custom error from the model. Invariants
(invariants.py) run after every step. test_every_branch.py drives the same machine through a
fixed sequence that takes every rule down both its success and its revert branch.
docs/invariants.md maps each property to them.

    brownie test tests/contracts/stateful --network ganache-cli          # bounded profile
    SERVICECOIN_AUDIT=1 brownie test tests/contracts/stateful ...        # the long profile
"""

from __future__ import annotations

import copy
import sys
from collections import Counter

from hypothesis import reject

from brownie import SystemLens, chain, web3
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from oracle.kinds import FeedbackKind
from oracle.typed_data import FeedbackBatch, FeedbackRecord, sign_batch
from tests.contracts.redemption.helpers import BRAND, OTHER_BRAND

from . import profiles
from .invariants import Invariants, rewarded_records
from .lens import Lens
from .model import (
    Account as ModelAccount,
    Brand,
    CoinModel,
    Item,
    Redemption,
    RedemptionModel,
    RegistryModel,
    RolesModel,
    Status,
    SystemModel,
    TierSchedule,
    ZERO_ADDRESS,
)
from .rules_access import ROLES, AccessRules
from .rules_coin import MAX_UINT256, CoinRules
from .rules_redemption import UNKNOWN_ITEM, RedemptionRules
from .rules_registry import FIRST_SEQ, POLICY_HASH, RegistryRules

COIN = 10**18
# Development catalog ids used by the machine: a discount (limit 3), priority support
# (tier 1, limit 1) and an e-book; plus a scarce item added below (stock 3, limit 2).
DISCOUNT, PRIORITY_SUPPORT, EBOOK = 0, 1, 3
SCARCE_ITEM = (10 * COIN, 3, 2, 0, 3, 0, 0, True)
# Caps low enough that the machine's batches reach them within an example.
CUSTOMER_CAP = 4  # rewarded records per customer per period
BRAND_CAP = 1_000 * COIN
# Hypothesis runs the smallest extension of each new example first, and while such short
# examples stay valid it caps the next examples at ten times their length (one step each).
# Examples of fewer steps than this are therefore rejected (not counted), so that every
# example hypothesis counts explores a whole sequence.
MIN_STEPS = 2

# Every rule that calls a contract, by the name it tallies its branches under.
RULES = (
    "submit_batch",
    "replay_batch",
    "submit_duplicate_event",
    "add_signer",
    "remove_signer",
    "rotate_signer",
    "set_quorum",
    "set_limit",
    "set_customer_cap",
    "set_brand_active",
    "transfer",
    "transfer_from",
    "approve",
    "set_transfers_open",
    "redeem",
    "fulfil",
    "dispute",
    "refund",
    "reject_dispute",
    "settle",
    "announce_price",
    "cancel_price_change",
    "update_item",
    "set_tiers",
    "pause",
    "unpause",
    "grant_role",
    "revoke_role",
)


class SystemMachine(RegistryRules, CoinRules, RedemptionRules, AccessRules, Invariants):
    def __init__(cls, deployment, accounts, domain, signer_keys, branches):
        """Runs once, before brownie's snapshot: every example starts from the state left here."""
        cls.coin, cls.registry, cls.redemption = deployment.coin, deployment.registry, deployment.redemption
        cls.domain = domain
        cls.branches = branches
        cls.admin = accounts[0]
        cls.customers = list(accounts[1:4])
        cls.staff = list(accounts[4:8])
        cls.relayer, cls.outsider = accounts[8], accounts[9]
        cls.operators = [cls.admin, *cls.staff, cls.customers[0]]
        cls.grantees = [cls.admin, *cls.staff]
        cls.holders = [*cls.customers, cls.staff[0]]
        cls.receivers = [*cls.holders, cls.redemption, ZERO_ADDRESS]
        cls.balance_holders = [*cls.holders, cls.redemption]
        # Signer 0 is registered by deploy(); 1 is added below; 2 and 3 only by the rules.
        cls.signer_pool = [*signer_keys[:3], keccak(text="servicecoin-stateful-signer-3")]
        cls.stranger_key = keccak(text="servicecoin-stateful-stranger")
        cls.signer_address = {key: Account.from_key(key).address for key in cls.signer_pool}
        cls.role_ids = {name: _role_id(name) for names in ROLES.values() for name in names}
        cls.role_names = {role_id: name for name, role_id in cls.role_ids.items()}
        cls.role_triples = [
            (contract, name, account)
            for contract, names in ROLES.items()
            for name in names
            for account in [*cls.grantees, *cls.customers, cls.relayer]
        ]
        cls.decoders = Invariants._decoders(cls)
        first_block = web3.eth.block_number + 1
        _seed(cls)
        cls.initial_logged = Invariants.read_logs(cls, first_block, web3.eth.block_number)
        cls.initial_model = _read_model(cls)
        cls.snapshot_block = web3.eth.block_number

    def setup(self):
        """Runs before each example, after brownie reverted the chain to the snapshot."""
        self.model = copy.deepcopy(self.initial_model)
        self.accepted_batches = list(self.seed_batches)
        self.next_seq = FIRST_SEQ
        self.steps = -1  # check_invariants runs once before the first step
        self.frozen = {}
        # The seed's own grants (the second brand's roles to the admin) come first.
        self.expected_role_events = [
            (event, contract, self.role_names[bytes(args["role"])], args["account"].lower())
            for contract, event, args in self.initial_logged if event in ("RoleGranted", "RoleRevoked")
        ]
        self.roles_compared_at = 0
        self.lens.forget()
        self.logged = list(self.initial_logged)
        self.logged_block = self.snapshot_block
        self.last_lifetime = {str(c): self.model.registry.lifetime(str(c)) for c in self.customers}
        chain.mine()  # the latest block then carries the chain's current clock

    def check_invariants(self, settings):
        """hypothesis calls this once before the first step and after every step: count steps."""
        super().check_invariants(settings)
        self.steps += 1

    def teardown(self):
        """The end of an example: too short to count (see MIN_STEPS), or the roles compared."""
        if sys.exc_info()[0] is not None:
            return  # the step's own failure is the report
        if self.steps < MIN_STEPS:
            reject()
        self.compare_roles()


def _role_id(name: str) -> bytes:
    """A role's id by its name in ROLES; the catalog and fulfiller roles are the per-brand roles
    of BRAND, and with _2 those of OTHER_BRAND (the scarce item's brand)."""
    if name == "DEFAULT_ADMIN_ROLE":
        return b"\x00" * 32
    if name in ("CATALOG_ROLE", "FULFILLER_ROLE"):
        return keccak(encode(["bytes32", "uint32"], [keccak(text=name), BRAND]))
    if name in ("CATALOG_ROLE_2", "FULFILLER_ROLE_2"):
        return keccak(encode(["bytes32", "uint32"], [keccak(text=name.removesuffix("_2")), OTHER_BRAND]))
    return keccak(text=name)


def _seed(machine) -> None:
    """The state every example starts from: low caps, a second signer, a scarce item of a second brand, the
    customers rewarded by one batch (three referrals: 80 coins each with the welcome bonus),
    allowances between holders, and one redemption each: Disputed (customer 0), Fulfilled (1)
    and Pending (2). So every rule can succeed from the first step."""
    admin = {"from": machine.admin}
    machine.registry.setCustomerCap(CUSTOMER_CAP, admin)
    machine.registry.setBrandCap(1, BRAND_CAP, admin)
    machine.registry.addSigner(1, machine.signer_address[machine.signer_pool[1]], admin)
    # The scarce item is a second brand's, whose roles the admin holds too (the rules grant and
    # revoke them like any other): every catalog and fulfilment rule meets both brands' roles.
    for role in (machine.redemption.catalogRole(OTHER_BRAND), machine.redemption.fulfillerRole(OTHER_BRAND)):
        machine.redemption.grantRole(role, machine.admin, admin)
    scarce = machine.redemption.addItem(OTHER_BRAND, SCARCE_ITEM, admin).events["ItemAdded"]["itemId"]
    machine.item_ids = [DISCOUNT, PRIORITY_SUPPORT, EBOOK, scarce]
    machine.item_choices = [*machine.item_ids, UNKNOWN_ITEM]
    for customer in machine.customers:
        machine.coin.approve(machine.redemption, MAX_UINT256, {"from": customer})
        for spender in machine.holders:
            if spender != customer:
                machine.coin.approve(spender, 100 * COIN, {"from": customer})

    now = web3.eth.get_block("latest")["timestamp"]
    records = [
        FeedbackRecord(
            event_id=keccak(text=f"stateful/seed/event-{seq}"),
            customer=str(customer),
            seq=seq,
            kind=int(FeedbackKind.REFERRAL),
            occurred_at=now - 60,
            content_commitment=keccak(text=f"stateful/seed/content-{seq}"),
        )
        for seq, customer in enumerate(machine.customers * 3, start=1)
    ]
    batch = FeedbackBatch(brand_id=1, policy_hash=POLICY_HASH, deadline=now + 3600, records=tuple(records))
    signatures = sign_batch(machine.signer_pool[:1], machine.domain, batch)
    machine.registry.submitBatch(batch.as_packed(), signatures, {"from": machine.relayer})
    machine.seed_batches = [(batch, signatures)]

    first, second, third = machine.customers
    machine.redemption.redeem(EBOOK, 30 * COIN, {"from": first})
    machine.redemption.redeem(scarce, 10 * COIN, {"from": second})
    machine.redemption.redeem(scarce, 10 * COIN, {"from": third})
    machine.redemption.fulfil(0, keccak(text="seed-delivery-0"), admin)
    machine.redemption.fulfil(1, keccak(text="seed-delivery-1"), admin)
    machine.redemption.dispute(0, {"from": first})

    contracts = {"coin": machine.coin, "registry": machine.registry, "redemption": machine.redemption}
    query = (
        machine.coin, machine.registry, machine.redemption, 1,
        machine.balance_holders, machine.customers, list(machine.signer_address.values()), machine.item_ids,
        [contracts[c] for c, _, _ in machine.role_triples],
        [machine.role_ids[name] for _, name, _ in machine.role_triples],
        [account for _, _, account in machine.role_triples],
    )
    machine.lens = Lens(SystemLens.deploy(admin), query)


def _read_model(machine) -> SystemModel:
    """The model of the state the chain is in now: settings and balances read from the chain,
    the ledgers (what was minted, recorded, paid, refunded) from the seed's logs."""
    coin, registry, redemption = machine.coin, machine.registry, machine.redemption
    snapshot = machine.lens.read()
    coin_model = CoinModel(transfers_open=snapshot.transfers_open, paused=snapshot.coin_paused)
    for holder, balance in zip(machine.balance_holders, snapshot.balances):
        coin_model.balances[str(holder).lower()] = balance
    for owner in machine.holders:
        for spender in machine.receivers[:-1]:
            coin_model.approve(str(owner), str(spender), coin.allowance(owner, spender))
    cap, issued, period, _quorum, _signers, active, _ = snapshot.brand
    registry_model = RegistryModel(
        period_length=registry.PERIOD_LENGTH(),
        customer_cap=snapshot.customer_cap,
        welcome_bonus=registry.welcomeBonus(),
        base_rewards={kind: registry.baseReward(kind) for kind in range(8)},
        brands={1: Brand(cap=cap, issued_in_period=issued, period=period, active=active)},
        signers={a.lower() for a, on in zip(machine.signer_address.values(), snapshot.is_signer) if on},
        quorum=snapshot.quorum,
        paused=snapshot.registry_paused,
    )
    for customer, account in zip(machine.customers, snapshot.accounts):
        registry_model.accounts[str(customer).lower()] = ModelAccount(*account)
    thresholds, multipliers = redemption.tierSchedule()
    redemption_model = RedemptionModel(
        notice_period=redemption.PRICE_NOTICE_PERIOD(),
        dispute_window=redemption.DISPUTE_WINDOW(),
        tiers=TierSchedule(list(thresholds), list(multipliers)),
        items={},
        max_tiers=redemption.MAX_TIERS(),
        max_multiplier_bps=redemption.MAX_MULTIPLIER_BPS(),
        paused=snapshot.redemption_paused,
    )
    for item_id, fields in zip(machine.item_ids, snapshot.items):
        assert redemption.pendingPriceChange(item_id)[1] == 0
        redemption_model.items[item_id] = Item(*fields, brand=redemption.itemBrand(item_id), given=fields[1])
    for customer, item_id, _, status, paid, fulfilled_at, pause_clock, _brand, _ in snapshot.redemptions:
        redemption_model.redemptions.append(
            Redemption(str(customer), item_id, Status(status), paid, fulfilled_at, pause_clock)
        )
        redemption_model.redeemed_by[(item_id, str(customer).lower())] += 1
    for brand, record, _ in rewarded_records(machine.initial_logged):
        registry_model.recorded.add((brand, record.seq))
        registry_model.rewarded.append((brand, record.seq, record.event_id))
    for contract, event, args in machine.initial_logged:
        if event == "Transfer" and args["from"].lower() == ZERO_ADDRESS:
            coin_model.minted += args["value"]
        elif event == "Redeemed":
            redemption_model.paid[args["customer"].lower()] += args["price"]
    roles = RolesModel()
    for (contract, name, account), held in zip(machine.role_triples, machine.lens.roles()):
        if held:
            roles.grant(contract, name, str(account))
    return SystemModel(coin=coin_model, registry=registry_model, redemption=redemption_model, roles=roles)


def test_the_system_follows_its_model(state_machine, deployment, accounts, domain, signer_keys):
    branches = Counter()
    state_machine(SystemMachine, deployment, accounts, domain, signer_keys, branches, settings=profiles.settings())


"""The system's invariants, checked against the chain after every step of the machine.

Most compare the chain with the model; the log-based ones read the contracts' own events
since the example began and need no model at all (docs/invariants.md maps each property the
system promises to the invariant or test that checks it).
"""

from __future__ import annotations

from collections import Counter

from brownie import web3
from eth_utils import event_abi_to_log_topic

from oracle.chain.outcomes import decode_outcomes
from tests.contracts.batch_outcomes import submitted_batch

from .machine_base import MachineBase

ZERO = "0x" + "00" * 20
# name -> the contracts whose logs carry it
LOGGED_EVENTS = {
    "RoleGranted": ("coin", "registry", "redemption"),
    "RoleRevoked": ("coin", "registry", "redemption"),
    # Its args gain "batch": the batch its transaction's input carries (the log has only outcomes).
    "BatchRecorded": ("registry",),
    "Transfer": ("coin",),
    "Redeemed": ("redemption",),
    "Refunded": ("redemption",),
}


def rewarded_records(logged) -> list:
    """(brand, record, outcome) of every record rewarded in the logged BatchRecorded events,
    oldest first: each log's outcomes are its batch's records', one each, in order."""
    rewarded = []
    for _, event, args in logged:
        if event != "BatchRecorded":
            continue
        batch, outcomes = args["batch"], decode_outcomes(args["outcomes"])
        assert batch.brand_id == args["brandId"]
        assert len(outcomes) == len(batch.records) == args["recorded"] + args["skipped"]
        assert sum(o.rewarded for o in outcomes) == args["recorded"]
        assert sum(o.reward + o.welcome for o in outcomes) == args["minted"]
        rewarded.extend((batch.brand_id, r, o) for r, o in zip(batch.records, outcomes) if o.rewarded)
    return rewarded


class Invariants(MachineBase):
    # ------------------------------------------------------------------ the event log

    def _decoders(self):
        """topic0 -> (contract name, event name, web3 event) for every event in LOGGED_EVENTS."""
        decoders = {}
        for name, contract_names in LOGGED_EVENTS.items():
            for contract_name in contract_names:
                contract = {"coin": self.coin, "registry": self.registry, "redemption": self.redemption}[contract_name]
                abi = next(e for e in contract.abi if e.get("type") == "event" and e["name"] == name)
                event = web3.eth.contract(address=contract.address, abi=[abi]).events[name]()
                decoders[(contract.address.lower(), event_abi_to_log_topic(abi))] = (contract_name, name, event)
        return decoders

    def read_logs(self, from_block: int, to_block: int) -> list:
        """(contract name, event name, args) of the three contracts' logs in those blocks."""
        raw = web3.eth.get_logs(
            {
                "fromBlock": from_block,
                "toBlock": to_block,
                "address": [self.coin.address, self.registry.address, self.redemption.address],
            }
        )
        logged = []
        for log in raw:
            key = (log["address"].lower(), bytes(log["topics"][0]))
            if key in self.decoders:
                contract_name, name, event = self.decoders[key]
                args = event.process_log(log)["args"]
                if name == "BatchRecorded":
                    transaction = web3.eth.get_transaction(log["transactionHash"])
                    # Sent to the registry itself (the machine never submits through a contract).
                    assert transaction["to"].lower() == self.registry.address.lower()
                    args = {**args, "batch": submitted_batch(self.registry, transaction["input"])}
                logged.append((contract_name, name, args))
        return logged

    def sync_logs(self) -> None:
        """Appends the logs of every block since the last call to self.logged."""
        latest = web3.eth.block_number
        if latest > self.logged_block:
            self.logged.extend(self.read_logs(self.logged_block + 1, latest))
            self.logged_block = latest

    def logged_events(self, name: str):
        """(contract name, args) of every logged event called `name`, oldest first."""
        return [(contract, args) for contract, event, args in self.logged if event == name]

    # ------------------------------------------------------------------ coin

    def invariant_total_supply_is_the_sum_of_balances(self):
        """No coin exists outside the tracked holders, and the supply equals their sum."""
        snapshot = self.lens.read()
        assert snapshot.total_supply == sum(snapshot.balances) == self.model.coin.supply

    def invariant_balances_and_allowances_follow_the_model(self):
        snapshot, coin = self.lens.read(), self.model.coin
        assert snapshot.balances == tuple(coin.balance(str(h)) for h in self.balance_holders)
        assert snapshot.allowances == tuple(coin.allowance(str(c), str(self.redemption)) for c in self.customers)
        assert snapshot.transfers_open is coin.transfers_open

    # ------------------------------------------------------------------ registry

    def invariant_each_event_rewarded_once_and_minted_equals_rewards(self):
        """From the chain alone (BatchRecorded's outcomes, each at its record's position in the
        batch its transaction's input carries): no (brand, seq) and no event id rewarded twice;
        every coin minted is a recorded reward or a welcome bonus, and nothing else mints."""
        self.sync_logs()
        recorded = rewarded_records(self.logged)
        keys = [(brand, record.seq) for brand, record, _ in recorded]
        event_ids = [record.event_id for _, record, _ in recorded]
        assert len(set(keys)) == len(keys), "a (brand, seq) was rewarded twice"
        assert len(set(event_ids)) == len(event_ids), "an event id was rewarded twice"
        rewards = sum(outcome.reward for _, _, outcome in recorded)
        welcomes = sum(outcome.welcome for _, _, outcome in recorded)
        minted = sum(args["value"] for _, args in self.logged_events("Transfer") if args["from"].lower() == ZERO)
        assert minted == rewards + welcomes == self.model.coin.minted
        assert sum(args["minted"] for _, args in self.logged_events("BatchRecorded")) == minted
        assert sorted(keys) == sorted((brand, seq) for brand, seq, _ in self.model.registry.rewarded)

    def invariant_accounts_caps_and_signers_follow_the_model(self):
        """Per-period sums and lifetime earnings equal the model's, which never lets a reward
        pass a cap in force (each accepted batch also checks the caps on chain); signers too."""
        snapshot, registry = self.lens.read(), self.model.registry
        assert snapshot.accounts == tuple(registry.account(str(c)).as_tuple() for c in self.customers)
        brand = registry.brands[1]
        assert snapshot.brand == (
            brand.cap, brand.issued_in_period, brand.period, registry.quorum, len(registry.signers), brand.active, True
        )
        assert (snapshot.quorum, snapshot.signer_count) == (registry.quorum, len(registry.signers))
        assert snapshot.customer_cap == registry.customer_cap
        assert snapshot.is_signer == tuple(self.signer_address[k].lower() in registry.signers for k in self.signer_pool)

    def invariant_lifetime_never_decreases_and_sets_the_tier(self):
        snapshot, schedule = self.lens.read(), self.model.redemption.tiers
        for customer, account, tier in zip(self.customers, snapshot.accounts, snapshot.tiers):
            lifetime = account[0]
            assert lifetime >= self.last_lifetime[str(customer)], "lifetime earned decreased"
            self.last_lifetime[str(customer)] = lifetime
            assert tier == schedule.tier_of(lifetime)

    # ------------------------------------------------------------------ redemption

    def invariant_stock_never_below_zero_and_redemptions_within_it(self):
        snapshot, model = self.lens.read(), self.model.redemption
        for item_id, on_chain in zip(self.item_ids, snapshot.items):
            item = model.items[item_id]
            assert 0 <= item.taken <= item.given, "more units redeemed than were in stock"
            assert on_chain[1] == item.stock == item.given - item.taken
            assert on_chain[2:] == item.as_tuple()[2:]  # limit, tier gate, category, window, active
        expected = tuple(
            model.redeemed_by[(item_id, str(c).lower())] for item_id in self.item_ids for c in self.customers
        )
        assert snapshot.redeemed_by == expected

    def invariant_escrow_covers_open_redemptions_and_refunds_never_exceed_payments(self):
        snapshot, model = self.lens.read(), self.model.redemption
        assert len(snapshot.redemptions) == len(model.redemptions)
        for on_chain, expected in zip(snapshot.redemptions, model.redemptions):
            customer, item_id, _, status, paid, fulfilled_at, pause_clock, brand, _ = on_chain
            assert (customer.lower(), item_id, status, paid) == (
                expected.customer.lower(), expected.item_id, int(expected.status), expected.price_paid
            )
            assert brand == model.items[item_id].brand  # the item's brand, for good
            assert (fulfilled_at, pause_clock) == (expected.fulfilled_at, expected.pause_clock_at_fulfil)
        escrow_balance = snapshot.balances[self.balance_holders.index(self.redemption)]
        assert escrow_balance == model.escrow() + self.model.donations
        # From the logs alone: per customer, refunds never exceed what was paid, and each
        # redemption is refunded at most once, by exactly its price.
        self.sync_logs()
        paid, refunded, prices = Counter(), Counter(), {}
        for _, args in self.logged_events("Redeemed"):
            paid[args["customer"].lower()] += args["price"]
            prices[args["redemptionId"]] = args["price"]
        refunded_ids = []
        for _, args in self.logged_events("Refunded"):
            refunded[args["customer"].lower()] += args["amount"]
            assert args["amount"] == prices[args["redemptionId"]]
            refunded_ids.append(args["redemptionId"])
        assert len(set(refunded_ids)) == len(refunded_ids), "a redemption was refunded twice"
        for customer, amount in refunded.items():
            assert amount <= paid[customer]
        assert +paid == +model.paid and +refunded == +model.refunded

    # ------------------------------------------------------------------ pause and roles

    def fingerprint(self, contract: str):
        """What a pause freezes, read from the chain: the supply and every balance (coin); the
        customers' accounts and the brand's issuance (registry); every redemption (redemption).
        Configuration (caps, signers, brands, the catalog, tiers) is the admin's to change while
        paused, so it is not part of it."""
        snapshot = self.lens.read()
        if contract == "coin":
            return (snapshot.total_supply, snapshot.balances)
        if contract == "registry":
            return (snapshot.accounts, snapshot.brand[1:3])
        return snapshot.redemptions

    def invariant_nothing_changes_while_paused(self):
        """A paused contract's state is exactly what it was when it was paused."""
        snapshot = self.lens.read()
        paused = (snapshot.coin_paused, snapshot.registry_paused, snapshot.redemption_paused)
        assert paused == (self.model.coin.paused, self.model.registry.paused, self.model.redemption.paused)
        assert set(self.frozen) == {c for c, p in zip(("coin", "registry", "redemption"), paused) if p}
        for contract, fingerprint in self.frozen.items():
            assert self.fingerprint(contract) == fingerprint, (
                f"{contract} changed while paused: {fingerprint} -> {self.fingerprint(contract)}"
            )

    def invariant_roles_change_only_by_admin_grants(self):
        """Every RoleGranted and RoleRevoked since the example began was sent by the admin and is
        one the machine asked for, in order: no account gains (or loses) a role any other way.
        And every tracked (contract, role, account) on chain is as the model holds it."""
        self.sync_logs()
        changes = []
        for contract, event, args in self.logged:
            if event in ("RoleGranted", "RoleRevoked"):
                assert args["sender"].lower() == str(self.admin).lower(), f"{event} not sent by the admin"
                changes.append((event, contract, self.role_names[bytes(args["role"])], args["account"].lower()))
        assert changes == self.expected_role_events
        if len(changes) != self.roles_compared_at:
            self.compare_roles()
            self.roles_compared_at = len(changes)

    def compare_roles(self) -> None:
        """Every tracked (contract, role, account) on chain is as the model holds it (one lens
        call reads the whole matrix: done when roles changed, and at the end of each example)."""
        expected = tuple(self.model.roles.has(c, name, str(a)) for c, name, a in self.role_triples)
        assert self.lens.roles() == expected

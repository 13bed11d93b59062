"""Rules on the FeedbackRegistry: new, replayed and duplicated batches signed well or badly,
signer rotation, quorum, caps and brands. Each rule predicts success or the named error from
the model, sends the call, and on success applies it to the model and checks its events."""

from __future__ import annotations

import dataclasses
import re

from eth_account import Account
from eth_utils import keccak
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from oracle.chain.outcomes import RecordOutcome
from oracle.typed_data import FeedbackBatch, FeedbackRecord, batch_digest
from tests.contracts.batch_outcomes import outcomes as logged_outcomes, registry_logs, submitted_batch
from tests.contracts.revert_patterns import error

from .machine_base import MachineBase
from .model import UINT24_MAX, UINT96_MAX, Record, ZERO_ADDRESS
from .signing import ATTACKS, VALID, quorum_error, signatures_for

COIN = 10**18
BRAND = 1
POLICY_HASH = keccak(text="stateful-policy-v1")
KINDS = [0, 1, 2, 3, 4, 5, 7]  # 7 has no base reward: KindNotRewarded
# First sequence number of an example: close to a 256-bit bitmap word boundary, so batches
# soon cross from one word to the next.
FIRST_SEQ = 250


class RegistryRules(MachineBase):
    # A record: (customer index, 3 = the zero address; kind; when it occurred, or "dup" for a
    # record repeating the previous record's seq in the same batch under another event id).
    st_records = st.lists(
        st.tuples(
            st.integers(0, 3),
            st.sampled_from(KINDS),
            st.sampled_from(["past", "past", "past", "past", "future", "dup"]),
        ),
        min_size=1,
        max_size=5,
    )
    # Valid signing is as likely as all the attacks together.
    st_signing = st.sampled_from(list(VALID) * (len(ATTACKS) // 2) + list(ATTACKS))
    st_expired = st.sampled_from([False, False, False, False, False, True])
    st_quorum = st.sampled_from([0, 1, 1, 2, 2, 3, 4])
    st_limit = st.sampled_from(["brand_cap", "welcome_bonus", "base_reward"])
    # The customer cap is a count of rewarded records per period, kept in 24 bits.
    st_customer_cap = st.sampled_from([0, 1, 2, 4, 10, UINT24_MAX, UINT24_MAX + 1])
    st_limit_amount = st.sampled_from([0, 5 * COIN, 20 * COIN, 60 * COIN, 150 * COIN, 400 * COIN, UINT96_MAX, UINT96_MAX + 1])
    st_bool = st.booleans()
    st_index = st.integers(0, 2**16)

    # ------------------------------------------------------------------ building batches

    def _next_seq(self) -> int:
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def _record(self, customer: str, kind: int, occurred_at: int, seq: int, event_id: bytes) -> FeedbackRecord:
        return FeedbackRecord(
            event_id=event_id,
            customer=customer,
            seq=seq,
            kind=kind,
            occurred_at=occurred_at,
            content_commitment=keccak(b"stateful-content/" + event_id),
        )

    def _new_batch(self, spec, now: int, expired: bool) -> FeedbackBatch:
        records = []
        for customer_index, kind, when in spec:
            customer = ZERO_ADDRESS if customer_index == 3 else str(self.customers[customer_index])
            if when == "dup" and records:
                seq = records[-1].seq
                event_id = keccak(text=f"stateful/duplicate-of-{seq}/{len(records)}")
            else:
                seq = self._next_seq()
                event_id = keccak(text=f"stateful/brand-1/event-{seq}")
            occurred_at = now + 30 * 86_400 if when == "future" else now - 60
            records.append(self._record(customer, kind, occurred_at, seq, event_id))
        deadline = now - 600 if expired else now + 3600
        return FeedbackBatch(brand_id=BRAND, policy_hash=POLICY_HASH, deadline=deadline, records=tuple(records))

    def _sign(self, batch: FeedbackBatch, variant: str) -> list[bytes]:
        registered = [k for k in self.signer_pool if Account.from_key(k).address.lower() in self.model.registry.signers]
        outsiders = [k for k in self.signer_pool if k not in registered] + [self.stranger_key]
        digest = batch_digest(self.domain, batch)
        other = batch_digest(self.domain, dataclasses.replace(batch, deadline=batch.deadline + 1))
        return signatures_for(variant, digest, other, registered, outsiders, self.model.registry.quorum)

    @staticmethod
    def _model_records(batch: FeedbackBatch) -> list[Record]:
        return [Record(r.event_id, r.customer, r.seq, r.kind, r.occurred_at) for r in batch.records]

    # ------------------------------------------------------------------ submitting

    def _batch_error(self, batch: FeedbackBatch, signatures: list[bytes], now: int) -> str | None:
        """submitBatch's checks, in the contract's order."""
        registry = self.model.registry
        if registry.paused:
            return error("EnforcedPause")
        if batch.deadline < now:
            return re.escape(f"BatchExpired: {batch.deadline}, ") + r"\d+"
        if not registry.brands[batch.brand_id].active:
            return error("BrandNotActive", batch.brand_id)
        digest = batch_digest(self.domain, batch)
        signature_error = quorum_error(digest, signatures, registry.quorum, registry.signers, batch.brand_id)
        if signature_error:
            return signature_error
        outcomes = registry.preview_batch(
            batch.brand_id, self._model_records(batch), now, self.model.redemption.tiers, self.model.coin.mintable
        )
        if self.model.coin.paused and any(o.skip is None for o in outcomes):
            return error("EnforcedPause")  # the coin refuses the mint
        return None

    def _send_batch(self, rule_name: str, batch: FeedbackBatch, signatures: list[bytes]) -> None:
        now = self.clear_of_deadlines()
        expected = self._batch_error(batch, signatures, now)
        tx = self.call(rule_name, expected, self.registry.submitBatch, batch.as_packed(), signatures, sender=self.relayer)
        if tx is not None:
            self._apply_batch(batch, signatures, tx)

    def _apply_batch(self, batch: FeedbackBatch, signatures: list[bytes], tx) -> None:
        registry = self.model.registry
        outcomes = registry.apply_batch(
            batch.brand_id, self._model_records(batch), tx.timestamp, self.model.redemption.tiers, self.model.coin.mintable
        )
        rewarded = [o for o in outcomes if o.skip is None]
        skipped = [o for o in outcomes if o.skip is not None]
        # One outcome per record, in the batch's order (the input carries the records): each is
        # the model's for that record, reward, welcome bonus and skip reason alike.
        assert submitted_batch(self.registry, tx.input) == batch
        assert logged_outcomes(tx) == [
            RecordOutcome(skip_reason=None if o.skip is None else int(o.skip), reward=o.reward, welcome=o.welcome)
            for o in outcomes
        ]
        assert len(registry_logs(tx, self.registry)) == 1  # BatchRecorded: no log per record
        summary = tx.events["BatchRecorded"]
        minted = sum(o.minted for o in rewarded)
        assert (summary["recorded"], summary["skipped"], summary["minted"]) == (len(rewarded), len(skipped), minted)
        for outcome in rewarded:
            self.model.coin.mint(outcome.record.customer, outcome.minted)
        # Caps, read straight from the chain: whoever was just rewarded is within them.
        for customer in {o.record.customer for o in rewarded}:
            assert self.registry.accountOf(customer)[1] <= self.registry.customerCapPerPeriod()
        if rewarded:
            brand = self.registry.brandOf(batch.brand_id)
            assert brand[1] <= brand[0]
        self.accepted_batches.append((batch, signatures))

    # ------------------------------------------------------------------ rules

    def rule_submit_batch(self, records="st_records", signing="st_signing", expired="st_expired"):
        """A new batch: valid, or signed badly (each signature attack), or past its deadline."""
        now = self.clear_of_deadlines()
        batch = self._new_batch(records, now, expired)
        self._send_batch("submit_batch", batch, self._sign(batch, signing))

    @precondition(lambda self: self.accepted_batches)
    @rule(index=st_index)
    def rule_replay_batch(self, index):
        """An accepted batch sent again, byte for byte: nothing is rewarded twice; it reverts
        once its deadline passed or its signers no longer count."""
        batch, signatures = self.accepted_batches[index % len(self.accepted_batches)]
        self._send_batch("replay_batch", batch, signatures)

    @precondition(lambda self: self.model.registry.recorded)
    @rule(index=st_index, customer=st.integers(0, 2), kind=st.sampled_from(KINDS), expired=st_expired)
    def rule_submit_duplicate_event(self, index, customer, kind, expired):
        """A recorded seq again, under another event id, customer and kind, next to a new record."""
        now = self.clear_of_deadlines()
        _, seq = sorted(self.model.registry.recorded)[index % len(self.model.registry.recorded)]
        duplicate = self._record(
            str(self.customers[customer]), kind, now - 60, seq, keccak(text=f"stateful/replayed-seq-{seq}/{index}")
        )
        fresh_seq = self._next_seq()
        fresh = self._record(str(self.customers[customer]), 1, now - 60, fresh_seq, keccak(text=f"stateful/brand-1/event-{fresh_seq}"))
        batch = FeedbackBatch(BRAND, POLICY_HASH, now - 600 if expired else now + 3600, (duplicate, fresh))
        self._send_batch("submit_duplicate_event", batch, self._sign(batch, "quorum"))

    def _signers(self, registered: bool) -> list[str]:
        """Pool addresses that are (or are not) registered signers."""
        return [a for a in self.signer_address.values() if (a.lower() in self.model.registry.signers) is registered]

    def rule_add_signer(self, key="st_pick", operator="st_operator"):
        caller = self.operators[operator]
        signer = self.choose(key, self._signers(False), list(self.signer_address.values()))
        registry = self.model.registry
        expected = self.unauthorized("registry", "DEFAULT_ADMIN_ROLE", caller)
        if expected is None and signer.lower() in registry.signers:
            expected = error("SignerAlreadyRegistered", BRAND, signer)
        if self.call("add_signer", expected, self.registry.addSigner, BRAND, signer, sender=caller):
            registry.signers.add(signer.lower())

    def rule_remove_signer(self, key="st_pick", operator="st_operator"):
        caller = self.operators[operator]
        signer = self.choose(key, self._signers(True), list(self.signer_address.values()))
        registry = self.model.registry
        expected = self.unauthorized("registry", "DEFAULT_ADMIN_ROLE", caller)
        if expected is None and signer.lower() not in registry.signers:
            expected = error("SignerNotRegistered", BRAND, signer)
        if expected is None and registry.quorum > len(registry.signers) - 1:
            expected = error("InvalidQuorum", registry.quorum, len(registry.signers) - 1)
        if self.call("remove_signer", expected, self.registry.removeSigner, BRAND, signer, sender=caller):
            registry.signers.discard(signer.lower())

    def rule_rotate_signer(self, old="st_pick", new="st_pick", operator="st_operator"):
        """Key rotation: the old key's signatures stop counting at once (replays then fail)."""
        caller = self.operators[operator]
        everyone = list(self.signer_address.values())
        old_signer = self.choose(old, self._signers(True), everyone)
        new_signer = self.choose(new, self._signers(False), everyone)
        registry = self.model.registry
        expected = self.unauthorized("registry", "DEFAULT_ADMIN_ROLE", caller)
        if expected is None and old_signer.lower() not in registry.signers:
            expected = error("SignerNotRegistered", BRAND, old_signer)
        if expected is None and new_signer.lower() in registry.signers - {old_signer.lower()}:
            expected = error("SignerAlreadyRegistered", BRAND, new_signer)
        if self.call("rotate_signer", expected, self.registry.rotateSigner, BRAND, old_signer, new_signer, sender=caller):
            registry.signers.discard(old_signer.lower())
            registry.signers.add(new_signer.lower())

    def rule_set_quorum(self, quorum="st_quorum", operator="st_operator"):
        caller = self.operators[operator]
        registry = self.model.registry
        expected = self.unauthorized("registry", "DEFAULT_ADMIN_ROLE", caller)
        if expected is None and (quorum == 0 or quorum > len(registry.signers)):
            expected = error("InvalidQuorum", quorum, len(registry.signers))
        if self.call("set_quorum", expected, self.registry.setQuorum, BRAND, quorum, sender=caller):
            registry.quorum = quorum

    def rule_set_limit(self, limit="st_limit", amount="st_limit_amount", operator="st_operator"):
        """The brand cap, the welcome bonus and a base reward, up to and past what uint96 holds."""
        caller = self.operators[operator]
        registry = self.model.registry
        expected = self.unauthorized("registry", "DEFAULT_ADMIN_ROLE", caller)
        if expected is None and amount > UINT96_MAX:
            expected = error("AmountTooLarge", amount, UINT96_MAX)
        function, args = {
            "brand_cap": (self.registry.setBrandCap, (BRAND, amount)),
            "welcome_bonus": (self.registry.setWelcomeBonus, (amount,)),
            "base_reward": (self.registry.setBaseReward, (4, amount)),  # referrals
        }[limit]
        if self.call("set_limit", expected, function, *args, sender=caller):
            if limit == "brand_cap":
                registry.brands[BRAND].cap = amount
            elif limit == "welcome_bonus":
                registry.welcome_bonus = amount
            else:
                registry.base_rewards[4] = amount

    def rule_set_customer_cap(self, count="st_customer_cap", operator="st_operator"):
        """The per-customer cap, up to and past what its 24 bits hold."""
        caller = self.operators[operator]
        expected = self.unauthorized("registry", "DEFAULT_ADMIN_ROLE", caller)
        if expected is None and count > UINT24_MAX:
            expected = error("AmountTooLarge", count, UINT24_MAX)
        if self.call("set_customer_cap", expected, self.registry.setCustomerCap, count, sender=caller):
            self.model.registry.customer_cap = count

    def rule_set_brand_active(self, active="st_bool", operator="st_operator"):
        caller = self.operators[operator]
        expected = self.unauthorized("registry", "DEFAULT_ADMIN_ROLE", caller)
        if self.call("set_brand_active", expected, self.registry.setBrandActive, BRAND, active, sender=caller):
            self.model.registry.brands[BRAND].active = active

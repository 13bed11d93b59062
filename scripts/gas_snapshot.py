"""Gas snapshot of the ServiceCoin contracts: exact figures, identical on every run.

    brownie run scripts/gas_snapshot.py [--network anvil-hN]         (`make gas`)

Where the gas goes: scripts/gas_breakdown.py.

`main()` writes snapshots/gas.json (committed, like Uniswap v4's snapshots/*.json);
tests/contracts/test_gas_snapshot.py re-measures with the same functions and fails when a
figure moves, so that a change in gas is a decision, not an accident.

Why the figures are exact: every input that reaches the chain is fixed. Keys and addresses
are keccak256 of fixed strings; sequence numbers are fixed per measurement (each measured
batch starts on an untouched 256-seq bitmap word); timestamps in calldata are constants;
the contracts are deployed by a dedicated deployer key at nonce 0, so their addresses are
the same on every chain. Only signatures depend on the chain (its id is in the EIP-712
domain): a signed field that we may choose (the batch's policy hash, a deadline) is picked
as the first of a fixed list of candidates that leaves no zero byte in the signature, so the
calldata costs the same on every chain (a zero byte costs 4 gas, any other 16).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from brownie import accounts, chain, web3
from brownie.network.transaction import TransactionReceipt
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from oracle.kinds import FeedbackKind
from oracle.typed_data import (
    Domain,
    FeedbackBatch,
    FeedbackRecord,
    link_wallet_digest,
    permit_typed_data,
    sign_batch,
    sign_digest,
    sign_permit,
)
from oracle.redeem.relay import REDEEM_GAS
from oracle.redeem.signed_messages import ForwardRequest, domain_of, json_permit, sign_typed, split_signature
from scripts import brownie_compat
from scripts.deploy import Deployment, deploy
from scripts.deploy_config import config_for_network, to_units

brownie_compat.install()

SNAPSHOT_PATH = Path(__file__).resolve().parent.parent / "snapshots" / "gas.json"

BATCH_SIZES = (1, 10, 100, 500)
# A batch is measured only if it fits this budget: the block gas limit of the smallest chain
# the snapshot is made on (the default `development` Anvil, 12M), so that every chain records
# the same sizes.
BLOCK_GAS_BUDGET = 12_000_000
# Priming batches (fresh customers) stay well inside that budget.
PRIME_CHUNK = 100

BRAND = 1
KIND = FeedbackKind.SURVEY_RESPONSE
# Fixed timestamps: far in the past (occurredAt) and far in the future (deadlines), and
# 0x1111111111 has no zero byte in its 5 significant bytes.
OCCURRED_AT = 1_700_000_000
DEADLINE = 0x1111111111
# Caps far above anything measured, so no record is ever skipped (set through the admin setters).
BRAND_CAP_COINS = 10**9
CUSTOMER_CAP_REWARDS = 2**24 - 1
# Time from the start of a cap period at which each measurement starts, so that a measurement
# never straddles a period boundary.
PERIOD_OFFSET = 3600

CASES = ("fresh", "fresh_no_welcome", "returning_same_period", "returning_new_period")
_CASE_INDEX = {name: i for i, name in enumerate(CASES)}
_OPERATIONS_INDEX = len(CASES)
_PRIME, _MEASURE, _OPENER, _OPENER_AFTER_SLEEP = range(4)

NOTES = (
    "Gas used (tx.gas_used, so including the 21,000 base and calldata) on Anvil, shanghai; "
    "Ganache 7.9 gives the same figures. "
    "submit_batch: one FeedbackRecord per customer, all customers distinct, kind "
    "survey_response (5 SVC), one oracle signature (quorum 1); per_event = total // size. "
    "fresh: customers never rewarded (first reward, with the 5 SVC welcome bonus in its "
    "outcome, the coin's holder slot (balance and packed Account) written from zero); "
    "fresh_no_welcome: the same with setWelcomeBonus(0). returning_same_period: every customer was rewarded by an earlier batch in "
    "the same cap period (holder slot already non-zero); returning_new_period: the "
    "same, with chain.sleep(period_length) between the two batches (each Account's period resets). "
    "Each measured batch is not the brand's first in its period and starts on an untouched "
    "256-seq bitmap word (the zero-to-non-zero write of that word, 22,100 gas, is included: the "
    "worst case; a batch continuing a word pays 5,000). The brand cap and the customer cap were "
    "raised with setBrandCap/setCustomerCap so that no record is skipped; every measured batch "
    "rewards all its records. Size 500 is recorded only where it fits a 12,000,000 block gas limit "
    "(the default development chain's). operations: one customer, rewarded with 20 referrals, "
    "redeems item 3 (30 SVC, tier 0, no per-customer limit) after an earlier redemption of it: "
    "coin_permit is its first permit (nonce 0 to 1) for the redemption contract, relayed; redeem "
    "spends that allowance; redeem_with_permit is its second permit; fulfil, dispute, "
    "refund_disputed on the first; refund_pending on the second; reject_dispute and settle "
    "(after the dispute window) on two more; announce_price: first announcement for item 0; "
    "add_item: a fifth item; add_signer, rotate_signer, set_quorum (1 to 2), remove_signer (after "
    "quorum back to 1); redeem_relayed: a gasless redemption of item 3 (the customer's third "
    "permit, first forward request: nonce 0 to 1) relayed through the ServiceCoinForwarder, what "
    "the brand's operations account pays; coin_transfer (transfers opened) of 1 SVC to an address holding coins, "
    "coin_transfer_to_new_holder to one holding none; link_wallet moves the customer's coins and "
    "history to an unused address, relayed by the deployer. Refresh with `make gas` after an "
    "intended change."
)


def transact(method: Any, *args: Any, sender: Any) -> TransactionReceipt:
    """`method(*args, {"from": sender})`, quietly (brownie_compat, installed above, keeps
    brownie from reporting a just-mined large transaction as dropped)."""
    return method(*args, {"from": sender}, silent=True)


def derived_address(label: str) -> str:
    """A fixed address nobody holds a key for: the last 20 bytes of keccak256(label)."""
    return to_checksum_address(keccak(text=f"servicecoin-gas/{label}")[12:])


def derived_key(label: str) -> bytes:
    return keccak(text=f"servicecoin-gas/{label}")


def _zero_free(*parts: bytes) -> bool:
    return all(0 not in part for part in parts)


def _deadlines() -> Iterator[int]:
    """Candidate deadlines: each has five significant bytes, none of them zero."""
    for k in range(0xEE):
        yield DEADLINE + k


def seq_base(case_index: int, size_index: int, part: int) -> int:
    """The first sequence number of a measurement's part: a fixed, word-aligned block of 1024."""
    return ((case_index * 8 + size_index) * 4 + part) * 1024


def snapshot_settings() -> dict[str, Any]:
    from brownie._config import CONFIG

    solc = CONFIG.settings["compiler"]["solc"]
    return {
        "solc": str(solc["version"]),
        "optimizer_runs": int(solc["optimizer"]["runs"]),
        "evm_version": str(CONFIG.settings["compiler"]["evm_version"]),
        "chain": chain_name(),
    }


def chain_name() -> str:
    client = web3.client_version.lower()
    return "anvil" if client.startswith("anvil") else "ganache" if "ganache" in client else client


@dataclass
class GasBench:
    """A deployment made for measuring, with the helpers that drive it deterministically."""

    deployment: Deployment
    deployer: Any
    funder: Any
    signer_key: bytes
    domain: Domain

    @classmethod
    def deploy(cls, funder: Any) -> "GasBench":
        """Deploys with scripts.deploy.deploy() from a dedicated key at nonce 0 (fixed addresses).

        `funder` (e.g. accounts[0]) pays the deployer's and the customers' ether and relays.
        """
        deployer = accounts.add(derived_key("deployer"))
        if web3.eth.get_transaction_count(deployer.address) != 0:
            raise RuntimeError(
                f"the gas deployer {deployer.address} has already sent transactions on this chain: "
                "measure on a fresh chain (or revert it) so that contract addresses are fixed"
            )
        funder.transfer(deployer, 10**19, silent=True)
        signer_key = keccak(text="servicecoin-test-signer-0")  # as tests/contracts/conftest.py
        config = config_for_network("development").with_signers([Account.from_key(signer_key).address])
        deployment = deploy(deployer, config)
        registry = deployment.registry
        transact(registry.setBrandCap, BRAND, to_units(BRAND_CAP_COINS), sender=deployer)
        transact(registry.setCustomerCap, CUSTOMER_CAP_REWARDS, sender=deployer)
        domain = Domain(chain_id=chain.id, verifying_contract=registry.address)
        return cls(deployment, deployer, funder, signer_key, domain)

    # ------------------------------------------------------------ batches

    def record(self, customer: str, seq: int, kind: int = KIND) -> FeedbackRecord:
        return FeedbackRecord(
            event_id=keccak(text=f"servicecoin-gas/event/{seq}"),
            customer=customer,
            seq=seq,
            kind=int(kind),
            occurred_at=OCCURRED_AT,
            content_commitment=keccak(text=f"servicecoin-gas/content/{seq}"),
        )

    def signed_batch(self, records: Sequence[FeedbackRecord]) -> tuple[FeedbackBatch, list[bytes]]:
        """The batch and its signature, with the first policy hash that leaves no zero byte."""
        for n in range(1000):
            policy_hash = keccak(text=f"servicecoin-gas/policy/{n}")
            batch = FeedbackBatch(BRAND, policy_hash, DEADLINE, tuple(records))
            signatures = sign_batch([self.signer_key], self.domain, batch)
            if _zero_free(policy_hash, *signatures):
                return batch, signatures
        raise RuntimeError("no zero-free policy hash among 1000 candidates")

    def submit(self, records: Sequence[FeedbackRecord]) -> TransactionReceipt:
        batch, signatures = self.signed_batch(records)
        tx = transact(self.deployment.registry.submitBatch, batch.as_packed(), signatures, sender=self.funder)
        recorded = tx.events["BatchRecorded"]["recorded"]
        if recorded != len(records):
            raise RuntimeError(f"a measured batch skipped records: {recorded} of {len(records)} rewarded")
        return tx

    def estimate(self, records: Sequence[FeedbackRecord]) -> int | None:
        """Gas a batch would need, or None if the chain cannot run it within its block gas limit."""
        batch, signatures = self.signed_batch(records)
        try:
            return int(
                self.deployment.registry.submitBatch.estimate_gas(
                    batch.as_packed(), signatures, {"from": self.funder}
                )
            )
        except Exception:  # the chain refuses to estimate above its block gas limit
            return None

    def reward(self, customers: Sequence[str], first_seq: int, kind: int = KIND) -> None:
        """Rewards each customer once, in chunks that any chain can take."""
        for start in range(0, len(customers), PRIME_CHUNK):
            chunk = customers[start : start + PRIME_CHUNK]
            self.submit([self.record(c, first_seq + start + i, kind) for i, c in enumerate(chunk)])

    def start_period(self, case_index: int, part: int = _OPENER) -> None:
        """Moves to PERIOD_OFFSET seconds into the next cap period and opens it with a one-record
        batch, so that no measured batch is the brand's first in its period."""
        period = self.deployment.config.period_length
        chain.sleep(period - chain.time() % period + PERIOD_OFFSET)
        chain.mine()
        self.open_period(case_index, part)

    def open_period(self, case_index: int, part: int) -> None:
        seq = seq_base(case_index, 7, part)
        self.submit([self.record(derived_address(f"opener/{case_index}/{part}"), seq)])

    # ------------------------------------------------------------ measurements

    def measure_batches(
        self, case: str, sizes: Sequence[int] = BATCH_SIZES, budget: int = BLOCK_GAS_BUDGET
    ) -> dict[str, dict[str, int]]:
        """{size: {"total", "per_event"}} for one case of CASES; a size that does not fit
        `budget` is left out."""
        return {
            str(size): {"total": tx.gas_used, "per_event": tx.gas_used // size}
            for size, tx in self.run_batches(case, sizes, budget).items()
        }

    def run_batches(
        self, case: str, sizes: Sequence[int] = BATCH_SIZES, budget: int = BLOCK_GAS_BUDGET
    ) -> dict[int, TransactionReceipt]:
        """Submits the measured batch of each size (after its set-up) and returns the receipts."""
        case_index = _CASE_INDEX[case]
        registry = self.deployment.registry
        welcome = registry.welcomeBonus()
        if case == "fresh_no_welcome":
            transact(registry.setWelcomeBonus, 0, sender=self.deployer)
        self.start_period(case_index)

        customers = {
            size: [derived_address(f"{case}/{size}/{i}") for i in range(size)] for size in sizes
        }
        if case.startswith("returning"):
            for size in sizes:
                self.reward(customers[size], seq_base(case_index, BATCH_SIZES.index(size), _PRIME))
            if case == "returning_new_period":
                chain.sleep(self.deployment.config.period_length)
                chain.mine()
                self.open_period(case_index, _OPENER_AFTER_SLEEP)

        receipts: dict[int, TransactionReceipt] = {}
        for size in sizes:
            first = seq_base(case_index, BATCH_SIZES.index(size), _MEASURE)
            records = [self.record(c, first + i) for i, c in enumerate(customers[size])]
            if size > PRIME_CHUNK:
                needed = self.estimate(records)
                if needed is None or needed >= budget:  # Anvil answers its cap when out of gas
                    continue
            receipts[size] = self.submit(records)

        if case == "fresh_no_welcome":
            transact(registry.setWelcomeBonus, welcome, sender=self.deployer)
        return receipts

    def measure_operations(self) -> dict[str, int]:
        """Gas of each single operation, in one fixed scenario (see NOTES)."""
        coin = self.deployment.coin
        registry = self.deployment.registry
        redemption = self.deployment.redemption
        admin, relay = self.deployer, self.funder
        item = 3
        price = redemption.priceOf(item)

        customer_key = derived_key("customer")
        customer = accounts.add(customer_key)
        self.funder.transfer(customer, 10**18, silent=True)
        holder = derived_address("holder")

        self.start_period(_OPERATIONS_INDEX)
        base = seq_base(_OPERATIONS_INDEX, 0, _PRIME)
        self.submit(
            [self.record(customer.address, base + i, FeedbackKind.REFERRAL) for i in range(20)]
            + [self.record(holder, base + 20)]
        )

        def redeem_once() -> int:
            transact(coin.approve, redemption, price, sender=customer)
            tx = transact(redemption.redeem, item, price, sender=customer)
            return tx.events["Redeemed"]["redemptionId"]

        gas: dict[str, int] = {}
        redeem_once()  # warm-up: the customer's and the escrow's first redemption

        v, r, s, deadline = self._permit(customer_key, redemption.address, price)
        tx = transact(coin.permit, customer, redemption, price, deadline, v, r, s, sender=relay)
        gas["coin_permit"] = tx.gas_used
        tx = transact(redemption.redeem, item, price, sender=customer)
        gas["redeem"] = tx.gas_used
        disputed = tx.events["Redeemed"]["redemptionId"]
        v, r, s, deadline = self._permit(customer_key, redemption.address, price)
        tx = transact(redemption.redeemWithPermit, item, price, deadline, v, r, s, sender=customer)
        gas["redeem_with_permit"] = tx.gas_used
        pending = tx.events["Redeemed"]["redemptionId"]

        delivery = keccak(text="servicecoin-gas/delivery")
        gas["fulfil"] = transact(redemption.fulfil, disputed, delivery, sender=admin).gas_used
        gas["dispute"] = transact(redemption.dispute, disputed, sender=customer).gas_used
        gas["refund_disputed"] = transact(redemption.refund, disputed, sender=admin).gas_used
        gas["refund_pending"] = transact(redemption.refund, pending, sender=admin).gas_used

        rejected = redeem_once()
        transact(redemption.fulfil, rejected, delivery, sender=admin)
        transact(redemption.dispute, rejected, sender=customer)
        gas["reject_dispute"] = transact(redemption.rejectDispute, rejected, sender=admin).gas_used
        settled = redeem_once()
        transact(redemption.fulfil, settled, delivery, sender=admin)
        chain.sleep(self.deployment.config.dispute_window + 1)
        chain.mine()
        gas["settle"] = transact(redemption.settle, settled, sender=relay).gas_used

        gas["announce_price"] = transact(redemption.announcePrice, 0, to_units(60), sender=admin).gas_used
        new_item = (to_units(75), 100, 2, 1, 3, 0, 0, True)
        gas["add_item"] = transact(redemption.addItem, BRAND, new_item, sender=admin).gas_used

        first_signer, second_signer = derived_address("signer-1"), derived_address("signer-2")
        gas["add_signer"] = transact(registry.addSigner, BRAND, first_signer, sender=admin).gas_used
        tx = transact(registry.rotateSigner, BRAND, first_signer, second_signer, sender=admin)
        gas["rotate_signer"] = tx.gas_used
        gas["set_quorum"] = transact(registry.setQuorum, BRAND, 2, sender=admin).gas_used
        transact(registry.setQuorum, BRAND, 1, sender=admin)
        gas["remove_signer"] = transact(registry.removeSigner, BRAND, second_signer, sender=admin).gas_used

        gas["redeem_relayed"] = self._relayed_redeem(customer_key, item, price).gas_used

        transact(coin.setTransfersOpen, True, sender=admin)
        gas["coin_transfer"] = transact(coin.transfer, holder, to_units(1), sender=customer).gas_used
        new_holder = derived_address("new-holder")
        tx = transact(coin.transfer, new_holder, to_units(1), sender=customer)
        gas["coin_transfer_to_new_holder"] = tx.gas_used

        wallet = derived_address("wallet")
        signature, deadline = self._link_signature(customer_key, customer.address, wallet)
        # Relayed by the deployer: the link operator (the oracle) where the registry gates links.
        tx = transact(registry.linkWallet, customer, wallet, deadline, signature, sender=admin)
        gas["link_wallet"] = tx.gas_used
        return gas

    def _permit(self, key: bytes, spender: str, value: int) -> tuple[int, bytes, bytes, int]:
        """An EIP-2612 permit (v, r, s, deadline), with the first deadline giving zero-free r and s."""
        coin = self.deployment.coin
        owner = Account.from_key(key).address
        _, name, version, chain_id, verifying, _, _ = coin.eip712Domain()
        domain = Domain(chain_id=chain_id, verifying_contract=verifying, name=name, version=version)
        for deadline in _deadlines():
            typed = permit_typed_data(domain, owner, spender, value, coin.nonces(owner), deadline)
            v, r, s = sign_permit(key, typed)
            if _zero_free(r, s):
                return v, r, s, deadline
        raise RuntimeError("no deadline gives a zero-free permit signature")

    def _relayed_redeem(self, key: bytes, item: int, price: int) -> TransactionReceipt:
        """A gasless redemption as the oracle's relay sends it (oracle/redeem/relay.py), with the
        first deadline giving zero-free permit and request signatures."""
        coin, redemption, forwarder = self.deployment.coin, self.deployment.redemption, self.deployment.forwarder
        owner = Account.from_key(key).address
        for deadline in _deadlines():
            permit = sign_typed(key, json_permit(domain_of(coin.eip712Domain()), owner, redemption.address, price,
                                                 coin.nonces(owner), deadline))
            data = redemption.redeemWithPermit.encode_input(item, price, deadline, *split_signature(permit))
            request = ForwardRequest(owner, redemption.address, REDEEM_GAS, forwarder.nonces(owner), deadline,
                                     bytes.fromhex(data[2:]))
            signature = sign_typed(key, request.typed_data(domain_of(forwarder.eip712Domain())))
            if _zero_free(permit[:64], signature[:64]):
                return transact(forwarder.execute, request.as_call_argument(signature), sender=self.funder)
        raise RuntimeError("no deadline gives zero-free relay signatures")

    def _link_signature(self, key: bytes, source: str, target: str) -> tuple[bytes, int]:
        nonce = self.deployment.registry.linkNonce(source)
        for deadline in _deadlines():
            signature = sign_digest(key, link_wallet_digest(self.domain, source, target, nonce, deadline))
            if _zero_free(signature):
                return signature, deadline
        raise RuntimeError("no deadline gives a zero-free link signature")


def measure(funder: Any) -> dict[str, Any]:
    """The whole snapshot, measured on a deployment of its own (see GasBench.deploy)."""
    bench = GasBench.deploy(funder)
    return {
        "submit_batch": {case: bench.measure_batches(case) for case in CASES},
        "operations": bench.measure_operations(),
        "settings": snapshot_settings(),
        "notes": NOTES,
    }


def render(snapshot: dict[str, Any]) -> str:
    """A readable table of a snapshot."""
    batches = snapshot["submit_batch"]
    sizes = sorted({int(size) for case in batches.values() for size in case})
    lines = ["submitBatch, gas per event (total)"]
    lines.append(f"{'':<24}" + "".join(f"{size:>22}" for size in sizes))
    for case in CASES:
        cells = []
        for size in sizes:
            figure = batches[case].get(str(size))
            cells.append(f"{figure['per_event']:>8,} ({figure['total']:>10,})" if figure else f"{'-':>22}")
        lines.append(f"{case:<24}" + "".join(f"{cell:>22}" for cell in cells))
    lines.append("")
    lines.append("operations, gas")
    for name, used in sorted(snapshot["operations"].items()):
        lines.append(f"  {name:<28}{used:>10,}")
    settings = snapshot["settings"]
    lines.append("")
    lines.append(
        f"solc {settings['solc']}, optimizer runs {settings['optimizer_runs']}, "
        f"evm {settings['evm_version']}, chain {settings['chain']}"
    )
    return "\n".join(lines)


def write_snapshot(snapshot: dict[str, Any], path: Path = SNAPSHOT_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot, indent=2, sort_keys=True) + "\n")


# ---------------------------------------------------------------- where the gas goes

def main() -> dict[str, Any]:
    log = io.StringIO()
    chain.snapshot()  # leave the chain as found, so that a rerun deploys at the same addresses
    try:
        with contextlib.redirect_stdout(log):  # deploy() reports every transaction
            snapshot = measure(accounts[0])
    except BaseException:
        sys.stdout.write(log.getvalue())
        raise
    finally:
        chain.revert()
    write_snapshot(snapshot)
    print(render(snapshot))
    print(f"\nwritten: {SNAPSHOT_PATH}")
    return snapshot

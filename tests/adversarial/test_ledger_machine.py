"""A Hypothesis state machine over everything that moves an order or its money, on a real SQLite store.

Amendments (quantity, add, remove, replace, address, shipping, cancel), appeasements (credit and
discount), fulfilment events (allocate, pick, short pick, pack, dispatch, deliver), returns (create,
receive, verify, refund) and exchanges are sent through the Backend contract to a store file copied
from a small demo (its named scenarios: booked, picking, packed, dispatched, delivered, a declining
card, an Australian tax-inclusive order, …). After every step:

* DOMAIN §5 holds for each order's documents and for each billing account's ledger
  (``backend.ledger.ledger_problems``: captured − refunded − store credit = invoiced − credited,
  refunds ≤ captures per payment method, no credit memo settled beyond its total, nothing negative);
* the store-credit balance is never negative;
* no unit is returned twice: per line, units in open or finished return orders never exceed the units
  delivered, and ``return_initiated + returned ≤ delivered``;
* the audit chain verifies;
* an order's version never goes back, and a step that succeeded moved its order's version forward;
* a refused step (RuleViolations, VersionConflict, PaymentDeclined) changed nothing.

CI runs a fixed, derandomized handful of examples (``CARECLI_STRESS_SCALE=0.2``). The long run:
``CARECLI_STRESS_SCALE=1`` (the local default: 60 examples of 40 steps), or any size with
``CARECLI_MACHINE_EXAMPLES=500 CARECLI_MACHINE_STEPS=80``; ``CARECLI_MACHINE_RANDOM=1`` draws fresh
examples instead of the fixed ones.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import atexit
import inspect

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from carecli.backend.contract import (
    CommitRequest, CreateExchangeRequest, CreateReturnRequest, PaymentDeclined, RefundReturnRequest,
    ReturnStepRequest, RuleViolations, VerifyReturnRequest, VersionConflict,
)
from carecli.backend.gateway import DemoGateway
from carecli.backend.ledger import ledger_problems
from carecli.backend.sqlite import SqliteStore
from carecli.backend.sqlite.load import build_demo
from carecli.demo import DEMO_NOW, SCENARIOS
from carecli.engine.commands import (
    AddLine, AppeasementCredit, AppeasementDiscount, CancelOrder, ChangeAddress, ChangeQuantity,
    ChangeShippingMethod, RemoveLine, ReplaceProduct,
)
from carecli.engine.events import parse_event
from carecli.engine.model import Address
from carecli.engine.money import Money
from carecli.engine.returns import LineVerdict, ReplacementLine, ReturnLineRequest
from tests.conftest import stress_scale

pytestmark = pytest.mark.slow

REFUSALS = (RuleViolations, VersionConflict, PaymentDeclined)
NOW = DEMO_NOW + timedelta(minutes=5)
ORDERS = [SCENARIOS[name] for name in (
    "chicago_jacket", "booked", "picking", "packed", "dispatched", "partly_dispatched", "delivered_in_window",
    "declining_card", "au_inclusive", "appeasement_store_credit", "return_rules_mix", "short_picked",
    "click_and_collect_ready", "with_credit_memo", "collected",
)]
DELIVERED = [ORDERS.index(SCENARIOS[n]) for n in ("delivered_in_window", "collected")]
_SCALE = stress_scale()
EXAMPLES = int(os.environ.get("CARECLI_MACHINE_EXAMPLES", max(8, int(60 * _SCALE))))
STEPS = int(os.environ.get("CARECLI_MACHINE_STEPS", max(30, int(50 * _SCALE))))
DERANDOMIZE = os.environ.get("CARECLI_MACHINE_RANDOM", "") != "1"
_TEMPLATE: dict[str, Path] = {}


def template() -> Path:
    """The demo's first orders (its named scenarios), built once per process."""
    if "path" not in _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="carecli-machine-")) / "demo.db"
        atexit.register(shutil.rmtree, path.parent, True)
        build_demo(path, orders=40, seed=7, parallel=False)
        _TEMPLATE["path"] = path
    return _TEMPLATE["path"]


def key() -> str:
    return f"machine-{uuid.uuid4().hex}"


def _caller() -> str:
    """The rule being run (for Hypothesis' statistics: which steps applied, which were refused)."""
    for f in inspect.stack()[2:6]:
        if f.function in RULES and f.function != "advance_return":
            return f.function
    return "step"


idx = st.integers(min_value=0, max_value=1_000)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="carecli-machine-run-"))
        shutil.copy(template(), self.dir / "store.db")
        self.store = SqliteStore.open(self.dir / "store.db", role="supervisor", read_only=False,
                                      clock=lambda: NOW, gateway=DemoGateway())
        self.skus = sorted(self.store.reference().catalog())[:40]
        self.versions = {ref: self.store.get_order(ref).order.version for ref in ORDERS}
        self.returns: list[str] = []
        self.events = 0

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @initialize(j=idx, exchange=st.booleans())
    def a_return_to_work_on(self, j, exchange):
        """Every run starts with one return (or exchange) open on the delivered order."""
        if exchange:
            self.create_exchange(DELIVERED[0], j, j, 1)
        else:
            self.create_return(DELIVERED[0], j, 1)
        assert self.returns, "the delivered scenario's lines can be returned"

    # -- helpers ------------------------------------------------------------------------------------

    def _order(self, i: int):
        return self.store.get_order(ORDERS[i % len(ORDERS)]).order

    def _line(self, order, j: int):
        return order.lines[j % len(order.lines)] if order.lines else None

    def _snapshot(self, ref: str):
        o = self.store.get_order(ref).order
        return o.version, [d.id for d in o.documents], [(l.line_id, l.quantity, l.delivered, l.returned,
                                                          l.return_initiated) for l in o.lines]

    def _attempt(self, ref: str, call) -> bool:
        """Run one step on ``ref``: success moves its version forward; a refusal changes nothing."""
        before = self._snapshot(ref)
        head = self.store.verify_audit()
        try:
            call()
        except REFUSALS as e:
            event(f"{_caller()}: refused ({type(e).__name__})")
            assert self._snapshot(ref) == before, f"a refused step on {ref} changed the order"
            assert self.store.verify_audit() == head
            return False
        event(f"{_caller()}: applied")
        after = self._snapshot(ref)
        assert after[0] > before[0], f"{ref}: a step that succeeded left the version at {before[0]}"
        return True

    def _commit(self, i: int, *amendments, reason: str = "CUSTOMER_REQUEST") -> None:
        o = self._order(i)
        self._attempt(o.ref, lambda: self.store.commit(CommitRequest(
            order_ref=o.ref, expected_version=o.version, amendments=amendments, reason_code=reason,
            idempotency_key=key(), actor="machine")))

    # -- amendments and appeasements ----------------------------------------------------------------

    @rule(i=idx, j=idx, qty=st.integers(min_value=0, max_value=4))
    def change_quantity(self, i, j, qty):
        line = self._line(self._order(i), j)
        if line is not None:
            self._commit(i, ChangeQuantity(line_id=line.line_id, quantity=qty))

    @rule(i=idx, s=idx, qty=st.integers(min_value=1, max_value=3))
    def add_line(self, i, s, qty):
        self._commit(i, AddLine(sku=self.skus[s % len(self.skus)], quantity=qty))

    @rule(i=idx, j=idx)
    def remove_line(self, i, j):
        line = self._line(self._order(i), j)
        if line is not None:
            self._commit(i, RemoveLine(line_id=line.line_id))

    @rule(i=idx, j=idx, s=idx)
    def replace_product(self, i, j, s):
        line = self._line(self._order(i), j)
        if line is not None:
            self._commit(i, ReplaceProduct(line_id=line.line_id, sku=self.skus[s % len(self.skus)]),
                         reason="WRONG_SIZE")

    @rule(i=idx)
    def change_address(self, i):
        o = self._order(i)
        current = getattr(o.fulfilment, "address", None)
        if current is not None:
            moved = Address(**{**current.model_dump(), "line1": f"{uuid.uuid4().int % 900 + 100} Moved St"})
            self._commit(i, ChangeAddress(address=moved), reason="ADDRESS_CORRECTION")

    @rule(i=idx, method=st.sampled_from(["STANDARD", "EXPRESS"]))
    def change_shipping(self, i, method):
        self._commit(i, ChangeShippingMethod(method=method))

    @rule(i=idx)
    def cancel(self, i):
        self._commit(i, CancelOrder())

    @rule(i=idx, cents=st.integers(min_value=1, max_value=5_000),
          to=st.sampled_from(["STORE_CREDIT", "ORIGINAL_PAYMENT"]))
    def appeasement_credit(self, i, cents, to):
        o = self._order(i)
        self._commit(i, AppeasementCredit(amount=Money(Decimal(cents) / 100, o.currency),
                                          reason_code="SERVICE_RECOVERY", settle_to=to), reason="SERVICE_RECOVERY")

    @rule(i=idx, j=idx, percent=st.sampled_from([5, 10, 15, 50]), whole=st.booleans())
    def appeasement_discount(self, i, j, percent, whole):
        line = None if whole else self._line(self._order(i), j)
        self._commit(i, AppeasementDiscount(reason_code="SERVICE_RECOVERY", percent=Decimal(percent),
                                            line_id=line.line_id if line else None), reason="SERVICE_RECOVERY")

    # -- fulfilment events --------------------------------------------------------------------------

    @rule(i=idx, j=idx, kind=st.sampled_from(["allocated", "picked", "short_picked", "packed", "dispatched",
                                               "delivered"]), units=st.integers(min_value=1, max_value=2))
    def event(self, i, j, kind, units):
        o = self._order(i)
        line = self._line(o, j)
        fields: dict = {}
        if kind == "short_picked":
            if line is None:
                return
            fields = {"line_id": line.line_id, "units": units}
        elif kind == "dispatched":
            fields = {"carrier": "UPS", "tracking": f"1Z{self.events}"}
        self.events += 1
        ev = parse_event({"kind": kind, "event_id": f"M-{self.events}-{uuid.uuid4().hex[:8]}", "order_ref": o.ref,
                          "at": (NOW - timedelta(minutes=1)).isoformat(), **fields})
        before = self._snapshot(o.ref)
        r = self.store.ingest_event(ev)
        event(f"event {kind}: {r.status}")
        after = self._snapshot(o.ref)
        if r.status == "refused":
            assert after == before, f"a refused {kind} event changed {o.ref}"
        else:
            assert after[0] >= before[0]

    @rule(i=idx)
    def next_fulfilment_step(self, i):
        """The event a warehouse would send next for the order's units (so that orders get delivered)."""
        o = self._order(i)
        live = [ln for ln in o.lines if ln.quantity > 0]
        if not live:
            return
        for kind, bucket in (("allocated", "allocated"), ("picked", "picked"), ("packed", "packed"),
                             ("dispatched", "dispatched"), ("delivered", "delivered")):
            if any(getattr(ln, bucket) < ln.quantity for ln in live):
                break
        else:
            return
        fields = {"carrier": "UPS", "tracking": f"1Z{self.events}"} if kind == "dispatched" else {}
        self.events += 1
        before = self._snapshot(o.ref)
        r = self.store.ingest_event(parse_event({
            "kind": kind, "event_id": f"N-{self.events}-{uuid.uuid4().hex[:8]}", "order_ref": o.ref,
            "at": (NOW - timedelta(minutes=1)).isoformat(), **fields}))
        event(f"next step {kind}: {r.status}")
        if r.status == "refused":
            assert self._snapshot(o.ref) == before

    # -- returns and exchanges ----------------------------------------------------------------------

    def _return_lines(self, o, j: int, qty: int):
        line = self._line(o, j)
        if line is None:
            return None
        return (ReturnLineRequest(line_id=line.line_id, quantity=qty, reason_code="CHANGED_MIND",
                                  condition="unopened"),)

    @rule(i=st.one_of(st.sampled_from(DELIVERED), idx), j=idx, qty=st.integers(min_value=1, max_value=2))
    def create_return(self, i, j, qty):
        o = self._order(i)
        lines = self._return_lines(o, j, qty)
        if lines is None:
            return
        done = []
        self._attempt(o.ref, lambda: done.append(self.store.create_return(CreateReturnRequest(
            order_ref=o.ref, expected_version=o.version, lines=lines, idempotency_key=key(), actor="machine"))))
        self.returns += [r.return_order.id for r in done]

    @rule(i=st.one_of(st.sampled_from(DELIVERED), idx), j=idx, s=idx, qty=st.integers(min_value=1, max_value=2))
    def create_exchange(self, i, j, s, qty):
        o = self._order(i)
        lines = self._return_lines(o, j, qty)
        if lines is None:
            return
        done = []
        self._attempt(o.ref, lambda: done.append(self.store.create_exchange(CreateExchangeRequest(
            order_ref=o.ref, expected_version=o.version, lines=lines, idempotency_key=key(), actor="machine",
            replacements=(ReplacementLine(sku=self.skus[s % len(self.skus)], quantity=qty),)))))
        self.returns += [r.return_order.id for r in done]

    def _return_step(self, r: int, call) -> None:
        if not self.returns:
            return
        ro = self.store.get_return(self.returns[r % len(self.returns)])
        before = self._snapshot(ro.order_ref), ro.state
        try:
            call(ro)
            event(f"{_caller()}: applied")
        except REFUSALS as e:
            event(f"{_caller()}: refused ({type(e).__name__})")
            after = self._snapshot(ro.order_ref), self.store.get_return(ro.id).state
            assert after == before, f"a refused step on {ro.id} changed something"

    @rule(r=idx)
    def receive_return(self, r):
        self._return_step(r, lambda ro: self.store.receive_return(ReturnStepRequest(
            return_id=ro.id, idempotency_key=key(), actor="machine")))

    @rule(r=idx, accept=st.booleans())
    def verify_return(self, r, accept):
        self._return_step(r, lambda ro: self.store.verify_return(VerifyReturnRequest(
            return_id=ro.id, idempotency_key=key(), actor="machine",
            verdicts=tuple(LineVerdict(line_id=ln.line_id, accepted=accept, note="" if accept else "worn")
                           for ln in ro.lines))))

    @rule(r=idx, to=st.sampled_from(["ORIGINAL_PAYMENT", "STORE_CREDIT"]))
    def refund_return(self, r, to):
        self._return_step(r, lambda ro: self.store.refund_return(RefundReturnRequest(
            return_id=ro.id, idempotency_key=key(), actor="machine", refund_to=to,
            expected_version=self.store.get_order(ro.order_ref).order.version)))

    @rule(r=idx, accept=st.booleans(), to=st.sampled_from(["ORIGINAL_PAYMENT", "STORE_CREDIT"]))
    def advance_return(self, r, accept, to):
        """The step a return is waiting for (so that returns get received, verified and refunded)."""
        if not self.returns:
            return
        state = self.store.get_return(self.returns[r % len(self.returns)]).state
        if state in ("CREATED", "AWAITING_RECEIPT"):
            self.receive_return(r)
        elif state == "RECEIVED":
            self.verify_return(r, accept)
        elif state == "VERIFIED":
            self.refund_return(r, to)

    # -- invariants ---------------------------------------------------------------------------------

    @invariant()
    def ledgers_balance_and_nothing_goes_back(self):
        accounts = set()
        for ref in ORDERS:
            view = self.store.get_order(ref)
            o = view.order
            assert o.version >= self.versions[ref], f"{ref}: version went back from {self.versions[ref]} to {o.version}"
            self.versions[ref] = o.version
            assert not ledger_problems(o.documents, o.currency), (ref, ledger_problems(o.documents, o.currency))
            in_returns: Counter[int] = Counter()
            for ro in self.store.list_returns(ref):
                for ln in ro.lines:
                    if ln.verdict != "REJECTED":
                        in_returns[ln.line_id] += ln.quantity
            for line in o.lines:
                assert line.return_initiated + line.returned <= line.delivered, (ref, line)
                assert in_returns[line.line_id] <= line.delivered, \
                    f"{ref} line {line.line_id}: {in_returns[line.line_id]} units in returns, {line.delivered} delivered"
            accounts.add(view.account.id)
        for acc in accounts:
            a = self.store.get_account(acc)
            docs = [e.document for e in a.ledger]
            assert not ledger_problems(docs, a.account.currency), (acc, ledger_problems(docs, a.account.currency))
            assert not a.store_credit.is_negative, (acc, a.store_credit)
        assert self.store.verify_audit() is None, self.store.verify_audit()


RULES = {name for name, v in vars(LedgerMachine).items() if callable(v) and not name.startswith("_")}
LedgerMachine.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=STEPS, derandomize=DERANDOMIZE, deadline=None,
    suppress_health_check=list(HealthCheck), print_blob=True, database=None,
)
TestLedgerMachine = LedgerMachine.TestCase

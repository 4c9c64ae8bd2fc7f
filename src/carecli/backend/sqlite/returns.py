"""Returns and refunds over SQLite: the contract's return methods, as functions on a connection.

:class:`~carecli.backend.sqlite.store.SqliteStore` calls these inside its own transactions (``_read``
for reads; ``_write`` — ``BEGIN IMMEDIATE``, read-only refusal, error mapping — for every step), so
a step is all or nothing: the return order row, the order's new version (buckets moved), the ledger
documents, the store-credit balance, the notifications outbox rows, the audit record and the
idempotency entry are written together or not at all. The engine (:mod:`carecli.engine.returns`)
decides; this module only reads what it needs and writes what the engine planned.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Mapping

from pydantic import BaseModel, ValidationError

from ...engine.context import PlanContext
from ...engine.model import BillingAccount, Customer, Order, PickupLocation, Variant
from ...engine.notifications import MessageTemplate
from ...engine.policy import Policy
from ...engine.pricing import PricingError
from ...engine.returns import (
    Exchange, ReturnOrder, ReturnPlan, check_request, eligibility, exchange_draft, exchange_terms,
    replacement_problems, plan_close, plan_create, plan_receive, plan_refund, plan_verify,
)
from ...engine.rules import Violation
from ..contract import (
    CreateExchangeRequest, PaymentDeclined, PaymentGateway, PlaceOrderRequest, CreateReturnRequest, IdempotencyMismatch, NotFound, RefundReturnRequest, ReturnEligibility, ReturnResult,
    ReturnStepRequest, RuleViolations, StoreCorrupt, VerifyReturnRequest, VersionConflict,
)
from .events import _audit_head, write_audit, write_notifications
from .rows import document_columns, order_columns, order_json, order_row, order_total, read_order, read_party


@dataclass(frozen=True)
class Env:
    """What a step needs from the store besides the connection."""

    policy: Policy
    catalog: Mapping[str, Variant]
    locations: Mapping[str, PickupLocation]
    now: datetime
    role: str
    read_only: bool
    gateway: PaymentGateway | None = None
    templates: Mapping[str, MessageTemplate] | None = None


# -- reading ---------------------------------------------------------------------------------------


def _order(c: sqlite3.Connection, ref: str) -> tuple[int, int, int, int, Order]:
    """(row id, version, customer row, account row, order with its documents)."""
    row = order_row(c, ref)
    if row is None:
        raise NotFound(f"There is no order {ref or '(blank)'}.", title="Order not found")
    try:
        order = read_order(c, row[0], row[5])
    except (ValidationError, UnicodeDecodeError) as e:
        raise StoreCorrupt(f"The stored order {ref} is damaged ({str(e).splitlines()[0]}); nothing was changed.") \
            from None
    return row[0], row[1], row[2], row[3], order


def _return(c: sqlite3.Connection, return_id: str) -> tuple[int, str, ReturnOrder]:
    """(row id, order ref, return order) by RO id or RMA (either case)."""
    rid = return_id.strip().upper() if isinstance(return_id, str) else ""
    row = c.execute("SELECT r.id, o.ref, r.json FROM return_orders r JOIN orders o ON o.id = r.order_id "
                    "WHERE r.ro_id = ? OR r.rma = ?", (rid, rid)).fetchone()
    if row is None:
        raise NotFound(f"There is no return {rid or '(blank)'}.", title="Return not found")
    return row[0], row[1], ReturnOrder.model_validate_json(row[2])


def return_eligibility(c: sqlite3.Connection, ref: str, env: Env) -> ReturnEligibility:
    _, version, _, _, order = _order(c, ref)
    return ReturnEligibility(order_ref=order.ref, version=version, lines=eligibility(order, env.policy, env.now),
                             override_roles=env.policy.returns.override_roles)


def list_returns(c: sqlite3.Connection, ref: str) -> list[ReturnOrder]:
    row = c.execute("SELECT id FROM orders WHERE ref = ?", (ref,)).fetchone()
    if row is None:
        raise NotFound(f"There is no order {ref or '(blank)'}.", title="Order not found")
    return [ReturnOrder.model_validate_json(j) for (j,) in
            c.execute("SELECT json FROM return_orders WHERE order_id = ? ORDER BY id", (row[0],))]


def account_returns(c: sqlite3.Connection, account_row: int) -> list[ReturnOrder]:
    return [ReturnOrder.model_validate_json(j) for (j,) in
            c.execute("SELECT json FROM return_orders WHERE account = ? ORDER BY created_at DESC, id DESC LIMIT 200",
                      (account_row,))]


def get_return(c: sqlite3.Connection, return_id: str) -> ReturnOrder:
    return _return(c, return_id)[2]


# -- writing ---------------------------------------------------------------------------------------


def _replay(c: sqlite3.Connection, key: str, req_hash: str) -> ReturnResult | None:
    seen = c.execute("SELECT request_hash, response FROM idempotency WHERE key = ?", (key,)).fetchone()
    if seen is None:
        return None
    if seen[0] != req_hash:
        raise IdempotencyMismatch(
            "This return step was already sent with the same request id but different content; it was not "
            "applied again. Review the return and confirm the step as a new request.")
    return ReturnResult.model_validate_json(seen[1]).model_copy(update={"replayed": True})



@dataclass(frozen=True)
class _Start:
    """What every return step reads first: the order's row, version and parties, and the request hash."""

    req_hash: str
    order_row: int
    version: int
    order: Order
    account_row: int
    customer: Customer
    account: BillingAccount


def _begin(c: sqlite3.Connection, req, ref: str | Callable[[], str], expected_version: int | None
           ) -> ReturnResult | _Start:
    """The preamble of every return step: a replay of the same idempotency key answers with the first
    result (another request under it is refused); else the order (``ref``, or the ref ``ref()`` finds)
    is read and, when the step names the version it was prepared on, a stale version is a conflict."""
    req_hash = req.request_hash()
    seen = _replay(c, req.idempotency_key, req_hash)
    if seen is not None:
        return seen
    if callable(ref):
        ref = ref()
    oid, version, cust, acct_row, order = _order(c, ref)
    if expected_version is not None and version != expected_version:
        raise VersionConflict(version, order_ref=ref, expected_version=expected_version)
    customer, account = read_party(c, cust, acct_row)
    return _Start(req_hash, oid, version, order, acct_row, customer, account)


def _context(c: sqlite3.Connection, env: Env, customer: Customer, account: BillingAccount, req: BaseModel
             ) -> PlanContext:
    from .store import _TxnIds  # the store's id source (counters table), inside this transaction

    seq, prev = _audit_head(c)
    return PlanContext(policy=env.policy, catalog=env.catalog, locations=env.locations, customer=customer,
                       account=account, now=env.now, ids=_TxnIds(c), actor=req.actor,  # type: ignore[attr-defined]
                       role=env.role, read_only=env.read_only, purpose="commit",  # type: ignore[arg-type]
                       note=req.note, idempotency_key=req.idempotency_key,  # type: ignore[attr-defined]
                       audit_seq=seq, audit_prev_hash=prev, templates=env.templates)


def _apply(c: sqlite3.Connection, env: Env, p: ReturnPlan, st: _Start, *, return_row: int | None, key: str,
           ) -> ReturnResult:
    order_row, version, order, account_row, account = st.order_row, st.version, st.order, st.account_row, st.account
    req_hash = st.req_hash
    if p.violations:
        raise RuleViolations(list(p.violations))
    if p.return_order is None or p.audit is None:  # pragma: no cover - the engine's contract
        raise RuleViolations([Violation("return.state", "the return step could not be planned")])
    ret = p.return_order
    new = p.order_after or order
    capture: str | None = None
    if p.charge is not None:  # money first: a decline raises here and nothing is written
        pm = next((m for m in account.payment_methods if m.id == p.charge.payment_method_id), None)
        if pm is None or env.gateway is None:
            raise PaymentDeclined(f"There is no payment method {p.charge.payment_method_id} to charge; "
                                  "nothing was changed.")
        capture = env.gateway.charge(pm, p.charge.amount, f"{key}/{p.charge.invoice_id}")
    if p.order_after is not None:
        total = order_total(new, env.policy, env.locations)
        placed, stage, total_minor, _cur, units, pc, pck = order_columns(new, total, env.locations)
        cur = c.execute("UPDATE orders SET version = ?, stage = ?, total_minor = ?, units = ?, postcode = ?, "
                        "postcode_key = ?, json = ? WHERE id = ? AND version = ?",
                        (new.version, stage, total_minor, units, pc, pck, order_json(new), order_row, version))
        if cur.rowcount != 1:  # pragma: no cover - impossible under BEGIN IMMEDIATE
            raise VersionConflict(version, order_ref=order.ref)
    for d in p.documents:
        doc_id, kind, amount, created, text = document_columns(d)
        gw = capture if (capture and p.charge is not None and kind == "PAYMENT") else None
        c.execute("INSERT INTO documents(doc_id, order_id, account, kind, amount_minor, created_at, gateway_ref, "
                  "json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (doc_id, order_row, account_row, kind, amount, created,
                                                            gw, text))
    if p.store_credit_issued is not None and p.store_credit_issued.is_positive:
        acct = account.model_copy(update={"store_credit": account.store_credit + p.store_credit_issued})
        c.execute("UPDATE accounts SET json = ? WHERE id = ?", (acct.model_dump_json(), account_row))
    write_notifications(c, order_row, p.notifications)
    write_audit(c, p.audit)
    now = env.now.isoformat()
    if return_row is None:
        c.execute("INSERT INTO return_orders(ro_id, rma, order_id, account, state, created_at, updated_at, json) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (ret.id, ret.rma, order_row, account_row, ret.state,
                                                      ret.created_at.isoformat(), now, ret.model_dump_json()))
    else:
        c.execute("UPDATE return_orders SET state = ?, updated_at = ?, json = ? WHERE id = ?",
                  (ret.state, now, ret.model_dump_json(), return_row))
    result = ReturnResult(return_order=ret, order=new, documents=list(p.documents),
                          notifications=list(p.notifications), audit_seq=p.audit.seq)
    c.execute("INSERT INTO idempotency(key, request_hash, order_ref, created_at, response) VALUES (?, ?, ?, ?, ?)",
              (key, req_hash, order.ref, now, result.model_dump_json()))
    return result


def create_return(c: sqlite3.Connection, req: CreateReturnRequest, env: Env) -> ReturnResult:
    st = _begin(c, req, req.order_ref.strip().upper(), req.expected_version)
    if isinstance(st, ReturnResult):
        return st
    ctx = _context(c, env, st.customer, st.account, req)
    (count,) = c.execute("SELECT count(*) FROM return_orders WHERE order_id = ?", (st.order_row,)).fetchone()
    try:
        p = plan_create(st.order, req.lines, req.overrides, ctx, ro_id=ctx.ids("RO"), ordinal=count + 1)
    except PricingError as e:
        raise RuleViolations([Violation(e.rule, e.message)]) from None
    return _apply(c, env, p, st, return_row=None, key=req.idempotency_key)


def create_exchange(c: sqlite3.Connection, req: CreateExchangeRequest, env: Env) -> ReturnResult:
    """The return and the replacement order in one transaction: the return is checked first, then the
    new order is placed (``placing.place_order``: its own audit record, link and confirmation), then
    the return order is written with the new order's ref."""
    from .placing import place_order

    st = _begin(c, req, req.order_ref.strip().upper(), req.expected_version)
    if isinstance(st, ReturnResult):
        return st
    order = st.order
    problems = check_request(order, req.lines, req.overrides, _context(c, env, st.customer, st.account, req))
    problems += replacement_problems(order, req.replacements, env.catalog)
    if problems:
        raise RuleViolations(problems)
    placed = place_order(
        c, PlaceOrderRequest(draft=exchange_draft(order, req.replacements), idempotency_key=f"{req.idempotency_key}/order",
                             actor=req.actor, note=req.note),
        policy=env.policy, catalog=env.catalog, locations=env.locations, role=env.role,  # type: ignore[arg-type]
        read_only=env.read_only, now=env.now, gateway=env.gateway, ids=_ids(c))
    try:
        value, even = exchange_terms(order, req.lines, req.replacements, env.policy, env.locations, env.catalog)
    except PricingError as e:
        raise RuleViolations([Violation(e.rule, e.message)]) from None
    ctx = _context(c, env, st.customer, st.account, req)  # after the placement's audit record
    (count,) = c.execute("SELECT count(*) FROM return_orders WHERE order_id = ?", (st.order_row,)).fetchone()
    ex = Exchange(replacements=req.replacements, order_ref=placed.order.ref, value=value, even=even)
    p = plan_create(order, req.lines, req.overrides, ctx, ro_id=ctx.ids("RO"), ordinal=count + 1, exchange=ex)
    result = _apply(c, env, p, st, return_row=None, key=req.idempotency_key)
    out = result.model_copy(update={"exchange_order": placed.order})
    c.execute("UPDATE idempotency SET response = ? WHERE key = ?", (out.model_dump_json(), req.idempotency_key))
    return out


def _ids(c: sqlite3.Connection):
    from .store import _TxnIds

    return _TxnIds(c)


def _step(c: sqlite3.Connection, req: ReturnStepRequest, env: Env,
          plan_fn: Callable[[Order, ReturnOrder, PlanContext], ReturnPlan], expected_version: int | None = None,
          ) -> ReturnResult:
    found: list[tuple[int, str, ReturnOrder]] = []

    def order_of_return() -> str:
        found.append(_return(c, req.return_id))
        return found[0][1]

    st = _begin(c, req, order_of_return, expected_version)
    if isinstance(st, ReturnResult):
        return st
    rrow, _, ret = found[0]
    p = plan_fn(st.order, ret, _context(c, env, st.customer, st.account, req))
    return _apply(c, env, p, st, return_row=rrow, key=req.idempotency_key)


def receive_return(c: sqlite3.Connection, req: ReturnStepRequest, env: Env) -> ReturnResult:
    return _step(c, req, env, plan_receive)


def verify_return(c: sqlite3.Connection, req: VerifyReturnRequest, env: Env) -> ReturnResult:
    return _step(c, req, env, lambda o, r, ctx: plan_verify(o, r, req.verdicts, ctx))


def refund_return(c: sqlite3.Connection, req: RefundReturnRequest, env: Env) -> ReturnResult:
    return _step(c, req, env, lambda o, r, ctx: plan_refund(o, r, req.refund_to, ctx), req.expected_version)


def close_return(c: sqlite3.Connection, req: ReturnStepRequest, env: Env) -> ReturnResult:
    return _step(c, req, env, plan_close)


__all__ = ["Env", "account_returns", "close_return", "create_exchange", "create_return", "get_return", "list_returns",
           "receive_return", "refund_return", "return_eligibility", "verify_return"]

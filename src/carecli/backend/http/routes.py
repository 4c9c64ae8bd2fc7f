"""The HTTP face of the backend contract, as one declarative table shared by the server and the client.

Each :class:`Route` says how one contract method travels: HTTP method and path, its path and query
parameters (typed, with limits), its JSON body model, its response type, whether it writes (refused
for a read-only user with 403) and which body fields the ``If-Match`` and ``Idempotency-Key``
headers must carry. The server (:mod:`carecli.server.app`) builds its endpoints and the OpenAPI
document from this table; the client (:mod:`carecli.backend.http.client`) builds its requests from it.
Adding a contract method is one entry here plus a one-line method on the client (docs/HTTP.md).

No web framework is imported here: the client must not need the server's extra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter

from ...engine.audit import ChainProblem
from ...engine.events import FulfilmentEvent
from ...engine.model import Customer
from ...engine.returns import ReturnOrder
from ..contract import (
    AccountView, Backend, CommitRequest, CommitResult, Connection, CustomerSummary, EventResult,
    CreateExchangeRequest, CreateReturnRequest, ExceptionItem, NewCustomerRequest, OrderView,
    PlaceOrderRequest, PlaceOrderResult, ReferenceData, RefundReturnRequest, RejectedEvent,
    ReturnEligibility, ReturnResult, ReturnStepRequest, SearchPage, TimelineEntry, VerifyReturnRequest,
)

MAX_BODY_BYTES = 256 * 1024
"""Largest request body the server reads (a commit of 100 amendments with a 4,000-character note
fits many times over)."""
MAX_PAGE = 500
"""Largest search page (``limit``); larger values are clamped, as the embedded store does."""
MAX_QUERY_CHARS = 1000
"""Longest search text; the store reads at most 800 characters of it anyway."""
MAX_PATH_PARAM_CHARS = 200


class Identity(BaseModel):
    """The signed-in user, as ``GET /whoami`` answers."""

    model_config = ConfigDict(frozen=True)

    name: str
    role: Literal["agent", "supervisor"]
    read_only: bool


class Health(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool = True
    service: str = "carecli"


class EventBody(BaseModel):
    """``POST /events``: one fulfilment event (its ``event_id`` makes a resend harmless)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: FulfilmentEvent


class NoteBody(BaseModel):
    """``POST /orders/{ref}/notes``: a contact note; the server writes the signed-in user as actor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    actor: str = ""


REQUIRED: Any = object()


@dataclass(frozen=True)
class Param:
    """A query parameter. ``clamp`` keeps an int inside [ge, le] instead of refusing it."""

    name: str
    kind: type = str
    default: Any = REQUIRED
    ge: int | None = None
    le: int | None = None
    max_chars: int = MAX_QUERY_CHARS
    clamp: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Route:
    name: str  # the contract method (and the OpenAPI operationId)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str  # with {name} path parameters (strings)
    response: Any  # a type for pydantic.TypeAdapter
    call: Callable[[Backend, dict[str, Any]], Any]  # the contract call with the parsed arguments
    summary: str
    query: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None  # the JSON body, passed as args["body"]
    writes: bool = False  # refused (403) for a read-only user, before the store refuses it again
    if_match: str | None = None  # body field the If-Match header must equal (required: 428 without)
    idempotency: str | None = None  # body field the Idempotency-Key header must equal (money moves)
    etag: Callable[[Any], str] | None = None  # response → ETag value (unquoted)
    replay_safe: bool = False  # a write without a key that the server dedupes itself (event ids)
    auth: bool = True
    tags: tuple[str, ...] = ()
    _adapter: TypeAdapter[Any] | None = field(default=None, compare=False, repr=False)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def adapter(self) -> TypeAdapter[Any]:
        if self._adapter is None:
            object.__setattr__(self, "_adapter", TypeAdapter(self.response))
        return self._adapter  # type: ignore[return-value]

    @property
    def moves_money(self) -> bool:
        return self.idempotency is not None


# The table. Keep one entry per contract method; the server and the client read nothing else.
ROUTES: tuple[Route, ...] = (
    Route("health", "GET", "/health", Health, lambda b, a: Health(), "Liveness: answers without a token",
          auth=False, tags=("service",)),
    Route("whoami", "GET", "/whoami", Identity, lambda b, a: a["identity"],
          "The user the bearer token belongs to, with their role and whether they may write",
          tags=("service",)),
    Route("search_orders", "GET", "/orders", SearchPage,
          lambda b, a: b.search_orders(a["q"], stage=a["stage"] or None, limit=a["limit"],
                                       offset=a["offset"]),
          "Search orders by ref, name, email, phone, postcode or sku (empty: most recent)",
          query=(Param("q", str, "", doc="search text"),
                 Param("stage", str, "", max_chars=40, doc="only orders at this stage"),
                 Param("limit", int, 50, ge=1, le=MAX_PAGE, clamp=True, doc="page size"),
                 Param("offset", int, 0, ge=0, le=100_000, clamp=True, doc="rows to skip")),
          tags=("orders",)),
    Route("get_order", "GET", "/orders/{ref}", OrderView, lambda b, a: b.get_order(a["ref"]),
          "An order as it stands, with its customer and account (ETag: its version)",
          etag=lambda v: str(v.order.version), tags=("orders",)),
    Route("get_timeline", "GET", "/orders/{ref}/timeline", list[TimelineEntry],
          lambda b, a: b.get_timeline(a["ref"]),
          "Events, notifications and audit records of an order, oldest first", tags=("orders",)),
    Route("get_account", "GET", "/accounts/{account_id}", AccountView,
          lambda b, a: b.get_account(a["account_id"]),
          "A billing account with its ledger (oldest first) and orders", tags=("accounts",)),
    Route("reference", "GET", "/reference", ReferenceData, lambda b, a: b.reference(),
          "Catalog variants, pickup locations and the policy", tags=("reference",)),
    Route("commit", "POST", "/orders/{ref}/commits", CommitResult, lambda b, a: b.commit(a["body"]),
          "Commit an amendment session as one new order version (money may move)",
          body=CommitRequest, writes=True, if_match="expected_version", idempotency="idempotency_key",
          tags=("orders",)),
    # placing orders, creating customers
    Route("place_order", "POST", "/orders", PlaceOrderResult, lambda b, a: b.place_order(a["body"]),
          "Place a new order (phone order, no-charge replacement, re-order): money may move",
          body=PlaceOrderRequest, writes=True, idempotency="idempotency_key", tags=("orders",)),
    Route("create_customer", "POST", "/customers", Customer, lambda b, a: b.create_customer(a["body"]),
          "Create a customer with a billing account (a known e-mail is refused with that customer)",
          body=NewCustomerRequest, writes=True, tags=("customers",)),
    Route("find_customers", "GET", "/customers", list[CustomerSummary],
          lambda b, a: b.find_customers(a["q"], limit=a["limit"]),
          "Customers by e-mail, phone or name",
          query=(Param("q", str, "", doc="search text"),
                 Param("limit", int, 20, ge=1, le=100, clamp=True, doc="how many")),
          tags=("customers",)),
    # fulfilment events, the exceptions inbox, contact notes
    Route("ingest_event", "POST", "/events", EventResult, lambda b, a: b.ingest_event(a["body"].event),
          "Take in one fulfilment event (the same event id again answers the first result)",
          body=EventBody, writes=True, replay_safe=True, tags=("events",)),
    Route("rejected_events", "GET", "/events/rejected", list[RejectedEvent],
          lambda b, a: b.rejected_events(limit=a["limit"], include_resolved=bool(a["include_resolved"])),
          "Refused events kept for an operator, most recent first",
          query=(Param("limit", int, 100, ge=1, le=MAX_PAGE, clamp=True, doc="how many"),
                 Param("include_resolved", int, 0, ge=0, le=1, clamp=True,
                       doc="1: also those later applied")),
          tags=("events",)),
    Route("list_exceptions", "GET", "/exceptions", list[ExceptionItem],
          lambda b, a: b.list_exceptions(limit=a["limit"]),
          "Orders that need a person, oldest first",
          query=(Param("limit", int, 200, ge=1, le=MAX_PAGE, clamp=True, doc="how many"),),
          tags=("events",)),
    Route("add_contact_note", "POST", "/orders/{ref}/notes", TimelineEntry,
          lambda b, a: b.add_contact_note(a["ref"], a["body"].text, actor=a["body"].actor or "unknown"),
          "A contact note on the order's timeline (audited)", body=NoteBody, writes=True,
          tags=("orders",)),
    # returns, refunds and exchanges
    Route("return_eligibility", "GET", "/orders/{ref}/return-eligibility", ReturnEligibility,
          lambda b, a: b.return_eligibility(a["ref"]),
          "Each line of an order: may it be returned now, and the rule that decided it",
          tags=("returns",)),
    Route("list_returns", "GET", "/orders/{ref}/returns", list[ReturnOrder],
          lambda b, a: b.list_returns(a["ref"]), "The return orders of an order", tags=("returns",)),
    Route("create_return", "POST", "/orders/{ref}/returns", ReturnResult,
          lambda b, a: b.create_return(a["body"]),
          "Open a return order (RMA) on delivered lines", body=CreateReturnRequest, writes=True,
          if_match="expected_version", idempotency="idempotency_key", tags=("returns",)),
    Route("create_exchange", "POST", "/orders/{ref}/exchanges", ReturnResult,
          lambda b, a: b.create_exchange(a["body"]),
          "A return plus replacement lines: the return order and the linked replacement order",
          body=CreateExchangeRequest, writes=True, if_match="expected_version",
          idempotency="idempotency_key", tags=("returns",)),
    Route("get_return", "GET", "/returns/{return_id}", ReturnOrder,
          lambda b, a: b.get_return(a["return_id"]), "One return order", tags=("returns",)),
    Route("receive_return", "POST", "/returns/{return_id}/receive", ReturnResult,
          lambda b, a: b.receive_return(a["body"]), "The parcel arrived at the warehouse",
          body=ReturnStepRequest, writes=True, idempotency="idempotency_key", tags=("returns",)),
    Route("verify_return", "POST", "/returns/{return_id}/verify", ReturnResult,
          lambda b, a: b.verify_return(a["body"]), "Accept or reject each returned line, with why",
          body=VerifyReturnRequest, writes=True, idempotency="idempotency_key", tags=("returns",)),
    Route("refund_return", "POST", "/returns/{return_id}/refund", ReturnResult,
          lambda b, a: b.refund_return(a["body"]),
          "Refund the accepted lines (or settle an exchange): money moves",
          body=RefundReturnRequest, writes=True, if_match="expected_version",
          idempotency="idempotency_key", tags=("returns",)),
    Route("close_return", "POST", "/returns/{return_id}/close", ReturnResult,
          lambda b, a: b.close_return(a["body"]), "Close a refunded return",
          body=ReturnStepRequest, writes=True, idempotency="idempotency_key", tags=("returns",)),
    Route("verify_audit", "GET", "/audit/verify", ChainProblem | None, lambda b, a: b.verify_audit(),
          "Check the audit hash chain: null when intact, else the first broken record",
          tags=("audit",)),
)

BY_NAME: dict[str, Route] = {r.name: r for r in ROUTES}

# Path parameters that must agree with a body field (the commit's ref in the path and in the body).
PATH_BODY_FIELDS: dict[tuple[str, str], str] = {
    ("commit", "ref"): "order_ref",
    ("create_return", "ref"): "order_ref",
    ("create_exchange", "ref"): "order_ref",
    **{(name, "return_id"): "return_id"
       for name in ("receive_return", "verify_return", "refund_return", "close_return")},
}

STATUS: dict[str, int] = {
    "bad_request": 400,
    "unauthorized": 401,
    "payment_declined": 402,
    "forbidden": 403,
    "duplicate_customer": 409,
    "not_found": 404,
    "in_progress": 409,
    "version_conflict": 412,
    "too_large": 413,
    "idempotency_mismatch": 422,
    "rule_violations": 422,
    "precondition_required": 428,
    "rate_limited": 429,
    "backend_error": 500,
    "store_corrupt": 503,
    "store_too_new": 503,
    "unavailable": 503,
    "offline": 503,
}
"""HTTP status of each contract error code (the body is the error's ``to_json()``)."""

__all__ = ["BY_NAME", "Connection", "EventBody", "Health", "NoteBody", "Identity", "MAX_BODY_BYTES", "MAX_PAGE", "MAX_QUERY_CHARS",
           "PATH_BODY_FIELDS", "Param", "ROUTES", "Route", "STATUS"]

"""The backend contract: one protocol, its typed errors and its result types.

Every backend — the embedded SQLite store (:mod:`carecli.backend.sqlite`) and, later, the HTTP client
of a shared server — implements :class:`Backend` with the same meaning, and one contract test suite
(``tests/contract``) runs against each of them.

Results are frozen pydantic models built from the engine's models, so they serialise to JSON and back
exactly (``model_dump_json`` / ``model_validate_json``); an HTTP backend sends them as they are.
Errors are :class:`BackendError` subclasses carrying a ``title`` and a ``message`` an agent can read,
and a stable ``code``; :meth:`BackendError.to_json` / :func:`error_from_json` carry them over a wire.

Rules every implementation keeps (see ``docs/STORE.md`` for how the SQLite store keeps them):

* a commit is all or nothing: the new order version, the settlement documents, the store-credit
  balance, the notifications outbox rows, the audit record and the idempotency entry, in one
  transaction;
* the same idempotency key with the same request returns the first result (``replayed=True``) and
  changes nothing; with a different request it is refused with :class:`IdempotencyMismatch`;
* a stale ``expected_version`` never overwrites: :class:`VersionConflict` carries the current version;
* read-only (a supervisor by default, or a store file the user may only read) is enforced here, by the
  backend: every write raises :class:`Forbidden`, whatever the caller does.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from typing import Any, ClassVar, Literal, Mapping, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ..engine.audit import ChainProblem, canonical_json
from ..engine.commands import Amendment
from ..engine.model import (
    Address,
    BillingAccount,
    Customer,
    Document,
    Order,
    PaymentMethod,
    PickupLocation,
    Variant,
)
from ..engine.money import Money
from ..engine.notifications import MessageTemplate, Notification
from ..engine.placing import NewOrder, OrderLink
from ..engine.plan import Violation
from ..engine.policy import Policy
from ..engine.returns import (
    LineEligibility, LineVerdict, Override, RefundTo, ReplacementLine, ReturnLineRequest, ReturnOrder,
)

# The search screen's types, the connection's (ping, recover) and the errors live in small modules
# of their own, so that the first screen imports neither the engine's commands, plans, returns nor placing; re-exported here.
from .errors import (  # noqa: E402,F401
    ERRORS, BackendError, BadRequest, Forbidden, IdempotencyMismatch, InProgress, NotFound, Offline,
    PaymentDeclined, PreconditionRequired, RateLimited, RuleViolations, StoreCorrupt, StoreTooNew,
    TooLarge, Unauthorized, Unavailable, VersionConflict,
)
from .search_types import MatchKind, OrderSummary, SearchPage  # noqa: E402,F401
from .connection import Connection, RecoveredCommit  # noqa: E402,F401

Role = Literal["agent", "supervisor"]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


class OrderLinkView(_Result):
    """An order placed from another (see "Placing orders" below): ``direction`` "to" — this order was
    placed from ``ref``; "from" — ``ref`` was placed from this order."""

    kind: Literal["replacement", "exchange", "reorder"]
    ref: str
    direction: Literal["from", "to"]


class OrderView(_Result):
    order: Order  # with its version and all its documents
    customer: Customer
    account: BillingAccount
    stage: str
    links: tuple[OrderLinkView, ...] = ()  # orders placed from this one, and the one it was placed from


class LedgerEntry(_Result):
    """One document on a billing account's ledger, with its effect on the customer's balance.

    Sign convention (see :mod:`carecli.backend.ledger`): the balance is what the customer owes the
    merchant. Invoice ``+``, payment (capture) ``−``, credit memo ``−``, refund ``+``, store credit
    issued ``+``. A settled account sits at zero; store credit issued moves what the merchant owes into
    the account's store-credit balance, which is shown separately (``AccountView.store_credit``).
    """

    document: Document
    order_ref: str
    effect: Money
    running_balance: Money


class AccountView(_Result):
    account: BillingAccount
    customer: Customer
    ledger: list[LedgerEntry]  # oldest first
    balance: Money  # the last running balance: zero when every order on the account is settled
    store_credit: Money  # the store-credit balance (what the customer may spend), never negative
    orders: list[OrderSummary]  # most recent first
    returns: list[ReturnOrder] = []  # the account's return orders, most recent first


class TimelineEntry(_Result):
    at: datetime
    kind: Literal["event", "notification", "audit"]
    title: str
    detail: str = ""
    delivery: str = ""  # a notification's delivery state: queued, sent …, failed (n attempts: why) …


class ReferenceData(_Result):
    """Catalog variants, pickup locations and the policy (shipping methods and reason codes in it)."""

    variants: list[Variant]
    locations: list[PickupLocation]
    policy: Policy
    # The customer-message templates by kind the backend renders with (the operator's over the shipped
    # ones); a preview renders with the same ones, so it shows the text that will be queued. Empty: the
    # shipped templates.
    templates: dict[str, MessageTemplate] = Field(default_factory=dict)

    def catalog(self) -> dict[str, Variant]:
        return {v.sku: v for v in self.variants}

    def location_map(self) -> dict[str, PickupLocation]:
        return {loc.id: loc for loc in self.locations}


class CommitRequest(_Result):
    """An amendment session to commit: all its staged amendments become one new order version."""

    order_ref: str = Field(min_length=1, max_length=64)
    expected_version: int = Field(ge=1)
    amendments: tuple[Amendment, ...] = Field(min_length=1, max_length=100)
    reason_code: str = Field("", max_length=40)
    note: str = Field("", max_length=4000)
    idempotency_key: str = Field(min_length=8, max_length=200)
    actor: str = Field(min_length=1, max_length=200)

    def request_hash(self) -> str:
        """SHA-256 of the canonical request without its key: what "the same request" means."""
        body = self.model_dump(mode="json", exclude={"idempotency_key"})
        return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


class CommitResult(_Result):
    order: Order  # the new version, with its documents
    documents: list[Document]  # the documents this commit wrote, in the order written
    notifications: list[Notification]  # the outbox rows this commit queued
    audit_seq: int
    delta: Money  # grand total after − before
    changes: tuple[str, ...] = ()  # one sentence per staged amendment
    replayed: bool = False  # True when this is the stored answer to an earlier, identical request


# -- shared deployments: connection state and commits recovered from the client's journal ------------


# --------------------------------------------------------------------------------------------------
# Fulfilment events, the exceptions inbox and contact notes
# --------------------------------------------------------------------------------------------------


class EventResult(_Result):
    """What became of one fulfilment event (``Backend.ingest_event``).

    ``applied``: taken in (the order moved, or an event that moves nothing was recorded);
    ``duplicate``: this event id was already taken in with the same content — the first result, with
    nothing changed; ``refused``: it does not fit the order (``rule`` and ``reason`` say why) and is
    kept in the rejected-events list. A refused event may be sent again later (e.g. once the event
    before it has arrived); only an applied event id is final.
    """

    event_id: str
    order_ref: str
    kind: str
    status: Literal["applied", "duplicate", "refused"]
    version: int | None = None  # the order's version after the event (None when refused)
    stage: str = ""
    rule: str = ""
    reason: str = ""
    documents: list[Document] = []
    notifications: list[Notification] = []
    audit_seq: int | None = None


class RejectedEvent(_Result):
    """A refused event, kept for an operator: one row per event id and content, however often sent."""

    event_id: str
    order_ref: str
    kind: str
    rule: str
    reason: str
    payload: str  # the event as received (JSON)
    first_seen: datetime
    last_seen: datetime
    attempts: int
    resolved_at: datetime | None = None  # when the same event id was later applied


ExceptionKind = Literal["short_pick", "backorder", "delivery_failed", "payment_declined",
                        "return_verification"]


class ExceptionItem(_Result):
    """One order that needs a person (the exceptions inbox), oldest first."""

    order_ref: str
    kind: ExceptionKind
    since: datetime
    age_seconds: int  # since → the store's clock
    title: str
    detail: str = ""
    customer_name: str = ""
    stage: str = ""
    line_id: int | None = None


# --------------------------------------------------------------------------------------------------
# Returns and refunds (DOMAIN §7): requests and results
# --------------------------------------------------------------------------------------------------


def _request_hash(req: BaseModel) -> str:
    body = req.model_dump(mode="json", exclude={"idempotency_key"})
    return hashlib.sha256((type(req).__name__ + canonical_json(body)).encode("utf-8")).hexdigest()


class ReturnEligibility(_Result):
    """Each line of an order: can it be returned now, and the rule that decided it."""

    order_ref: str
    version: int
    lines: list[LineEligibility]
    override_roles: tuple[str, ...] = ()  # who may override a failed overridable rule (with a reason)


class CreateReturnRequest(_Result):
    """Open a return order on an order; its units become return-initiated (a new order version)."""

    order_ref: str = Field(min_length=1, max_length=64)
    expected_version: int = Field(ge=1)
    lines: tuple[ReturnLineRequest, ...] = Field(min_length=1, max_length=100)
    overrides: tuple[Override, ...] = Field((), max_length=100)
    note: str = Field("", max_length=4000)
    idempotency_key: str = Field(min_length=8, max_length=200)
    actor: str = Field(min_length=1, max_length=200)

    def request_hash(self) -> str:
        return _request_hash(self)


class CreateExchangeRequest(CreateReturnRequest):
    """A return plus replacement lines in one flow: the return order (kind EXCHANGE) and a new order,
    linked to the original, that ships the replacements now at no charge; the difference in price is
    settled when the return is verified (``refund_return``): even → no money moves."""

    replacements: tuple[ReplacementLine, ...] = Field(min_length=1, max_length=100)


class ReturnStepRequest(_Result):
    """Receive or close a return order."""

    return_id: str = Field(min_length=1, max_length=64)
    note: str = Field("", max_length=4000)
    idempotency_key: str = Field(min_length=8, max_length=200)
    actor: str = Field(min_length=1, max_length=200)

    def request_hash(self) -> str:
        return _request_hash(self)


class VerifyReturnRequest(ReturnStepRequest):
    """Every line of a received return accepted or rejected (a rejection says why)."""

    verdicts: tuple[LineVerdict, ...] = Field(min_length=1, max_length=100)


class RefundReturnRequest(ReturnStepRequest):
    """Refund a verified return's accepted lines; the order must still be at ``expected_version`` (the
    version the agent's preview was computed on)."""

    expected_version: int = Field(ge=1)
    refund_to: RefundTo = "ORIGINAL_PAYMENT"


class ReturnResult(_Result):
    return_order: ReturnOrder
    order: Order  # the order after the step (its version moves when its buckets or ledger do)
    documents: list[Document] = []  # the credit memo RETURN and its refund / store credit
    notifications: list[Notification] = []
    audit_seq: int
    exchange_order: Order | None = None  # an exchange's new order, as placed
    replayed: bool = False


# --------------------------------------------------------------------------------------------------
# Errors (the classes are in errors.py)
# --------------------------------------------------------------------------------------------------


def error_from_json(data: Mapping[str, Any]) -> BackendError:
    """Rebuild an error sent with :meth:`BackendError.to_json` (for an HTTP client)."""
    code = str(data.get("code", "backend_error"))
    cls = ERRORS.get(code, BackendError)
    msg, title = str(data.get("message", "")), data.get("title")
    if cls is VersionConflict:
        return VersionConflict(int(data["current_version"]), msg, order_ref=str(data.get("order_ref", "")),
                               expected_version=data.get("expected_version"), title=title)
    if cls is RuleViolations:
        return RuleViolations([Violation(**v) for v in data.get("violations", [])], msg, title=title)
    if cls is StoreTooNew:
        return StoreTooNew(int(data["found_version"]), int(data["supported_version"]), msg, title=title)
    if cls is DuplicateCustomer:
        return DuplicateCustomer(str(data.get("existing_customer_id", "")), msg,
                                 existing_name=str(data.get("existing_name", "")), title=title)
    if cls is RateLimited:
        return RateLimited(float(data.get("retry_after", 1)), msg, title=title)  # float-ok: seconds
    return cls(msg, title=title)


# --------------------------------------------------------------------------------------------------
# Placing orders and creating customers
# --------------------------------------------------------------------------------------------------


class PlaceOrderRequest(_Result):
    """A new order to place: a phone order, a no-charge replacement (``draft.no_charge`` with a
    ``replacement`` link, and a reason code of kind ``replacement``) or a re-order. ``draft.ref`` is
    empty: the backend gives the ref. The same key with the same request returns the first result."""

    draft: NewOrder
    idempotency_key: str = Field(min_length=8, max_length=200)
    actor: str = Field(min_length=1, max_length=200)
    reason_code: str = Field("", max_length=40)
    note: str = Field("", max_length=4000)

    def request_hash(self) -> str:
        body = {"op": "place_order", **self.model_dump(mode="json", exclude={"idempotency_key"})}
        return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


class PlaceOrderResult(_Result):
    order: Order  # version 1, with its documents
    documents: list[Document]  # the invoice, and the capture when something was charged
    notifications: list[Notification]  # the confirmation, one per channel
    audit_seq: int
    total: Money  # the order's grand total (zero for a replacement)
    link: OrderLink | None = None
    replayed: bool = False


class NewCard(_Result):
    """A card the customer gave on the phone, as the payment page returns it: masked, never a number."""

    brand: str = Field(min_length=1, max_length=40)
    last4: str = Field(pattern=r"^\d{4}$")
    expiry: str = Field(pattern=r"^(0[1-9]|1[0-2])/\d{2}$")  # MM/YY


class NewCustomerRequest(_Result):
    """A customer care creates: the market (and the account's currency) follows the address's country."""

    name: str = Field(max_length=200)
    email: str = Field(max_length=300)
    phone: str = Field("", max_length=40)
    address: Address
    sms: bool = False  # the customer agreed to SMS (needs a phone number)
    card: NewCard | None = None


class CustomerSummary(_Result):
    customer_id: str
    name: str
    email: str
    phone: str
    account_id: str
    currency: str
    market: str  # the policy market of the account's currency ("" when none)
    address: Address | None  # as given at creation, else the latest home delivery's; None if neither
    orders: int  # how many orders the customer has
    matched: Literal["email", "phone", "name"]


class DuplicateCustomer(BackendError):
    """A customer with this e-mail exists already; ``existing_customer_id`` is offered instead."""

    code = "duplicate_customer"
    default_title = "Customer exists"

    def __init__(self, existing_customer_id: str, message: str | None = None, *, existing_name: str = "",
                 title: str | None = None) -> None:
        self.existing_customer_id = existing_customer_id
        self.existing_name = existing_name
        who = f"{existing_name} ({existing_customer_id})" if existing_name else existing_customer_id
        super().__init__(message or f"A customer with this e-mail already exists: {who}. Use that customer.",
                         title=title)

    def details(self) -> dict[str, Any]:
        return {"existing_customer_id": self.existing_customer_id, "existing_name": self.existing_name}


ERRORS[DuplicateCustomer.code] = DuplicateCustomer


# --------------------------------------------------------------------------------------------------
# The protocols
# --------------------------------------------------------------------------------------------------


@runtime_checkable
class Backend(Protocol):
    """What the screens (and the server) need from a store of orders. See the module docstring."""

    @property
    def role(self) -> Role: ...

    @property
    def read_only(self) -> bool: ...

    def search_orders(self, query: str, *, stage: str | None = None, limit: int = 50,
                      offset: int = 0) -> SearchPage:
        """Orders matching ``query`` (ref prefix, email, phone, postcode, sku or customer name), ranked:
        exact ref, then exact email/phone, then the rest by kind, recent first. Empty → most recent.
        Malformed text never raises; it yields an empty or sane page."""
        ...

    def get_order(self, ref: str) -> OrderView:
        """The order as it stands (raises :class:`NotFound`)."""
        ...

    def get_account(self, account_id: str) -> AccountView:
        """A billing account with its ledger, oldest first (raises :class:`NotFound`)."""
        ...

    def get_timeline(self, ref: str) -> list[TimelineEntry]:
        """Events, notifications and audit records of an order, oldest first (raises :class:`NotFound`)."""
        ...

    def reference(self) -> ReferenceData: ...

    def commit(self, req: CommitRequest) -> CommitResult:
        """Apply an amendment session, all or nothing. Raises :class:`Forbidden`,
        :class:`IdempotencyMismatch`, :class:`NotFound`, :class:`VersionConflict`,
        :class:`RuleViolations`, :class:`PaymentDeclined` or :class:`Unavailable`."""
        ...

    def verify_audit(self) -> ChainProblem | None: ...

    def close(self) -> None: ...

    # -- returns and refunds (DOMAIN §7) ------------------------------------------------------------
    def return_eligibility(self, ref: str) -> ReturnEligibility:
        """Each line of the order with whether it can be returned now and the deciding rule
        (raises :class:`NotFound`)."""
        ...

    def create_return(self, req: CreateReturnRequest) -> ReturnResult:
        """Open a return (RO-…, with its RMA) in AWAITING_RECEIPT; the order's units become
        return-initiated and its version moves. Raises :class:`Forbidden`, :class:`IdempotencyMismatch`,
        :class:`NotFound`, :class:`VersionConflict` (two agents returning the same line: one wins) or
        :class:`RuleViolations`."""
        ...

    def create_exchange(self, req: CreateExchangeRequest) -> ReturnResult:
        """Open an exchange: the return order (kind EXCHANGE) and the replacement order, linked to the
        original (``OrderView.links`` on both), in one transaction. Raises what ``create_return`` and
        placing an order raise."""
        ...

    def receive_return(self, req: ReturnStepRequest) -> ReturnResult:
        """AWAITING_RECEIPT → RECEIVED (the parcel arrived); the customer is told."""
        ...

    def verify_return(self, req: VerifyReturnRequest) -> ReturnResult:
        """RECEIVED → VERIFIED with a verdict per line; rejected units stop being return-initiated."""
        ...

    def refund_return(self, req: RefundReturnRequest) -> ReturnResult:
        """VERIFIED → REFUNDED: credit memo RETURN, refund to the card or store credit, units returned.
        Raises :class:`VersionConflict` when the order moved since ``expected_version``."""
        ...

    def close_return(self, req: ReturnStepRequest) -> ReturnResult:
        """REFUNDED → CLOSED, or VERIFIED → CLOSED when every line was rejected."""
        ...

    def list_returns(self, order_ref: str) -> list[ReturnOrder]:
        """The order's return orders, oldest first (raises :class:`NotFound` for an unknown order)."""
        ...

    def get_return(self, return_id: str) -> ReturnOrder:
        """A return order by its id (RO-…) or its RMA reference (raises :class:`NotFound`)."""
    # -- placing orders, creating customers -------------------------------------------------------
    def place_order(self, req: PlaceOrderRequest) -> PlaceOrderResult:
        """Place a new order, all or nothing: the order (version 1, BOOKED), its invoice, the capture
        (a decline creates nothing), the confirmation, the audit record, the link to the original and
        the idempotency entry. Raises :class:`Forbidden`, :class:`IdempotencyMismatch`,
        :class:`NotFound` (customer, account or linked order), :class:`RuleViolations`,
        :class:`PaymentDeclined` or :class:`Unavailable`."""
        ...

    def create_customer(self, req: NewCustomerRequest) -> Customer:
        """A new customer with a billing account in the address's market. Raises
        :class:`DuplicateCustomer` (same e-mail), :class:`RuleViolations` (bad details) or
        :class:`Forbidden`."""
        ...

    def find_customers(self, query: str, *, limit: int = 20) -> list[CustomerSummary]:
        """Customers by e-mail (prefix), phone (prefix, with or without the country code) or name
        (words as prefixes). Malformed text never raises."""
        ...

    # -- fulfilment events, exceptions inbox, contact notes ------------------------------------------
    def ingest_event(self, event: Any) -> EventResult:
        """Take in one fulfilment event (an ``engine.events`` model) in one transaction: the new order
        version, documents, notifications, audit record and the event row — or, when it does not fit,
        a ``refused`` result kept in the rejected-events list. The same event id again returns the first
        result (``duplicate``). Raises :class:`Forbidden` on a read-only store."""
        ...

    def rejected_events(self, *, limit: int = 100, include_resolved: bool = False) -> list[RejectedEvent]:
        """Refused events, most recent first."""
        ...

    def list_exceptions(self, *, limit: int = 200) -> list[ExceptionItem]:
        """Orders that need a person, oldest first (see docs/RULES.md, the exceptions inbox)."""
        ...

    def add_contact_note(self, ref: str, text: str, *, actor: str) -> TimelineEntry:
        """A note on the order's timeline (audited; the order's version does not change). Raises
        :class:`Forbidden`, :class:`NotFound`, or :class:`RuleViolations` for an empty or long note."""
        ...

    # -- shared deployments --------------------------------------------------------------------------
    def ping(self) -> Connection:
        """Whether the backend answers now (never raises; cheap: the app polls it while offline)."""
        ...

    def recover(self) -> list[RecoveredCommit]:
        """Resend the commits whose answer never arrived (same key, same bytes) and report each one's
        outcome. An embedded store commits in one local transaction and has none: ``[]``."""
        ...


@runtime_checkable
class PaymentGateway(Protocol):
    def charge(self, payment_method: PaymentMethod, amount: Money, key: str) -> str:
        """Capture ``amount`` on a stored card; return the gateway's capture id.

        ``key`` is an idempotency key: the same key charged twice captures once (a commit retried after
        a crash must not charge the customer twice). Raises :class:`PaymentDeclined`.
        """
        ...


__all__ = [
    "AccountView", "Backend", "BackendError", "BadRequest", "ChainProblem", "CommitRequest",
    "CommitResult", "Connection", "CreateExchangeRequest", "CreateReturnRequest", "CustomerSummary",
    "DuplicateCustomer", "ERRORS", "EventResult", "ExceptionItem", "ExceptionKind", "Forbidden",
    "IdempotencyMismatch", "InProgress", "LedgerEntry", "MatchKind", "NewCard",
    "NewCustomerRequest", "NotFound", "Offline", "OrderLinkView", "OrderSummary", "OrderView",
    "PaymentDeclined", "PaymentGateway", "PlaceOrderRequest", "PlaceOrderResult",
    "PreconditionRequired", "RateLimited", "RecoveredCommit", "ReferenceData",
    "RefundReturnRequest", "RejectedEvent", "ReturnEligibility", "ReturnResult",
    "ReturnStepRequest", "Role", "RuleViolations", "SearchPage", "StoreCorrupt", "StoreTooNew",
    "TimelineEntry", "TooLarge", "Unauthorized", "Unavailable", "VerifyReturnRequest",
    "VersionConflict", "error_from_json",
]

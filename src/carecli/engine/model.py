"""The domain model: immutable pydantic models for customers, billing accounts, the catalog, orders
and the financial documents on the ledger.

Nothing here is stored twice: a line's status and an order's stage are *derived* from the quantity
buckets (see :func:`line_status` and :func:`order_stage`), never kept beside them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Union

from pydantic import Field

from .base import Frozen, Market, Stage  # noqa: F401 - part of the model's names
from .money import Money




# --------------------------------------------------------------------------------------------------
# Parties
# --------------------------------------------------------------------------------------------------


class Address(Frozen):
    name: str
    line1: str
    line2: str = ""
    city: str
    region: str = ""  # state / territory code (IL, NSW); empty where a country has none
    postcode: str
    country: str  # ISO 3166-1 alpha-2
    phone: str = ""

    def one_line(self) -> str:
        parts = [self.line1, self.line2, self.city, f"{self.region} {self.postcode}".strip(), self.country]
        return ", ".join(p for p in parts if p)


class NotificationPreferences(Frozen):
    email: bool = True
    sms: bool = False  # only with a phone number and the customer's consent


class Customer(Frozen):
    id: str
    name: str
    email: str
    phone: str = ""
    preferences: NotificationPreferences = NotificationPreferences()
    billing_account_id: str


class PaymentMethod(Frozen):
    """A stored card, masked: brand, last four digits and expiry only — never a full number."""

    id: str
    brand: str
    last4: str = Field(pattern=r"^\d{4}$")
    expiry: str = Field(pattern=r"^(0[1-9]|1[0-2])/\d{2}$")  # MM/YY

    def label(self) -> str:
        return f"{self.brand} •••• {self.last4}"


class BillingAccount(Frozen):
    id: str
    customer_id: str
    currency: str
    payment_methods: tuple[PaymentMethod, ...] = ()
    store_credit: Money  # balance; the entries behind it are on the ledger


# --------------------------------------------------------------------------------------------------
# Catalog and reference data
# --------------------------------------------------------------------------------------------------


class Variant(Frozen):
    sku: str
    product_id: str
    name: str  # e.g. "Alpine Shell Jacket"
    attributes: dict[str, str] = {}  # size, colour, ...
    prices: dict[str, Money]  # currency -> unit price
    tax_category: str = "standard"
    category: str = "general"  # for return windows
    final_sale: bool = False
    sellable: bool = True
    backorderable: bool = False
    stock: dict[str, int] = {}  # location id -> units on hand

    @property
    def description(self) -> str:
        attrs = " / ".join(self.attributes[k] for k in sorted(self.attributes))
        return f"{self.name} ({attrs})" if attrs else self.name

    @property
    def available(self) -> int:
        return sum(self.stock.values())


class OpeningHours(Frozen):
    day: Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    opens: str  # "09:00"
    closes: str  # "18:00"


class PickupLocation(Frozen):
    id: str
    name: str
    address: Address
    hours: tuple[OpeningHours, ...] = ()
    active: bool = True




# --------------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------------


class Discount(Frozen):
    """A discount on the order (``line_id`` None) or on one line.

    ``percent`` (e.g. ``Decimal("10")`` for 10 %) or ``amount`` (a fixed Money), exactly one.
    ``appeasement`` marks a discount granted by care as an appeasement: it counts towards the
    agent's cumulative appeasement limit on the order.
    """

    id: str
    line_id: int | None = None
    percent: Decimal | None = None  # 0 < p <= 100
    amount: Money | None = None
    reason_code: str = ""
    appeasement: bool = False
    label: str = ""


class HomeDelivery(Frozen):
    kind: Literal["HOME_DELIVERY"] = "HOME_DELIVERY"
    address: Address
    shipping_method: str


class ClickAndCollect(Frozen):
    kind: Literal["CLICK_AND_COLLECT"] = "CLICK_AND_COLLECT"
    location_id: str


Fulfilment = Annotated[Union[HomeDelivery, ClickAndCollect], Field(discriminator="kind")]


class Line(Frozen):
    """An order line and its quantity buckets.

    ``ordered`` only grows (adding units); ``cancelled`` counts the units taken off it (removal,
    reduction, short pick, cancellation), so the live quantity is ``ordered - cancelled``. The
    fulfilment buckets count units of the live quantity that reached each step: allocated ⊇ picked ⊇
    packed ⊇ dispatched ⊇ (ready) ⊇ delivered; returns count delivered units coming back.
    """

    line_id: int
    sku: str
    description: str
    unit_price: Money  # the price at purchase (a replacement takes the catalog's current price)
    tax_category: str = "standard"
    category: str = "general"
    final_sale: bool = False
    ordered: int
    cancelled: int = 0
    allocated: int = 0
    picked: int = 0
    packed: int = 0
    short_picked: int = 0
    backordered: int = 0
    dispatched: int = 0
    ready: int = 0  # click & collect: units at the store, ready for collection
    delivered: int = 0  # delivered or collected
    return_initiated: int = 0
    returned: int = 0
    backorder_expected: date | None = None
    delivered_at: datetime | None = None

    @property
    def quantity(self) -> int:
        return self.ordered - self.cancelled

    @property
    def progressed(self) -> int:
        """Units that can no longer be taken off the line: picked, dispatched or delivered."""
        return max(self.picked, self.packed, self.dispatched, self.ready, self.delivered)


# -- financial documents ---------------------------------------------------------------------------


class DocumentItem(Frozen):
    """One item of a credit memo or invoice. ``kind`` LINE, SHIPPING, TAX or APPEASEMENT.

    Amounts are signed in the document's own sense: positive is what the document is for (credited on
    a memo, charged on an invoice); a negative item is a change the other way that the document nets.
    """

    kind: Literal["LINE", "SHIPPING", "TAX", "APPEASEMENT", "RESTOCKING_FEE", "ADJUSTMENT"]
    line_id: int | None = None
    description: str
    amount: Money


class Invoice(Frozen):
    doc: Literal["INVOICE"] = "INVOICE"
    id: str
    order_ref: str
    type: Literal["ORDER", "SUPPLEMENTARY", "REPLACEMENT"]
    items: tuple[DocumentItem, ...] = ()
    total: Money
    created_at: datetime
    payment_method_id: str | None = None


class CreditMemo(Frozen):
    doc: Literal["CREDIT_MEMO"] = "CREDIT_MEMO"
    id: str
    order_ref: str
    invoice_id: str | None
    type: Literal["AMENDMENT", "CANCELLATION", "APPEASEMENT", "RETURN", "SHORT_PICK"]
    reason_code: str
    items: tuple[DocumentItem, ...]
    total: Money
    created_at: datetime


class Payment(Frozen):
    """A capture on a payment method, for an invoice."""

    doc: Literal["PAYMENT"] = "PAYMENT"
    id: str
    order_ref: str
    invoice_id: str
    payment_method_id: str
    amount: Money
    created_at: datetime


class Refund(Frozen):
    doc: Literal["REFUND"] = "REFUND"
    id: str
    order_ref: str
    credit_memo_id: str
    payment_method_id: str
    amount: Money
    created_at: datetime


class StoreCredit(Frozen):
    """Store credit issued (positive) for a credit memo."""

    doc: Literal["STORE_CREDIT"] = "STORE_CREDIT"
    id: str
    order_ref: str
    credit_memo_id: str
    amount: Money
    created_at: datetime


Document = Annotated[
    Union[Invoice, CreditMemo, Payment, Refund, StoreCredit], Field(discriminator="doc")
]


class Order(Frozen):
    ref: str
    version: int = 1
    customer_id: str
    billing_account_id: str
    market: str
    currency: str
    tax_mode: Literal["EXCLUSIVE", "INCLUSIVE"]
    channel: str = "web"
    placed_at: datetime
    lines: tuple[Line, ...]
    fulfilment: Fulfilment
    discounts: tuple[Discount, ...] = ()
    payment_method_id: str | None = None  # the original payment method
    documents: tuple[Document, ...] = ()

    def line(self, line_id: int) -> Line | None:
        for ln in self.lines:
            if ln.line_id == line_id:
                return ln
        return None


# --------------------------------------------------------------------------------------------------
# Derived status
# --------------------------------------------------------------------------------------------------




_STAGE_RANK = {
    Stage.CREATED: 0, Stage.BOOKED: 1, Stage.AWAITING_PICK: 2, Stage.PICKING: 3, Stage.PACKED: 4,
    Stage.DISPATCHED: 5, Stage.READY_FOR_COLLECTION: 6, Stage.DELIVERED: 7, Stage.COLLECTED: 7,
}


def line_stage(line: Line, collect: bool = False) -> Stage:
    """The step every live unit of the line has reached (the least advanced unit decides)."""
    q = line.quantity
    if q <= 0:
        return Stage.CANCELLED
    if line.delivered >= q:
        return Stage.COLLECTED if collect else Stage.DELIVERED
    if collect and line.ready >= q:
        return Stage.READY_FOR_COLLECTION
    if line.dispatched >= q:
        return Stage.DISPATCHED
    if line.packed >= q:
        return Stage.PACKED
    if line.picked > 0:
        return Stage.PICKING
    if line.allocated >= q:
        return Stage.AWAITING_PICK
    return Stage.BOOKED


def line_exceptions(line: Line) -> tuple[str, ...]:
    out = []
    if line.short_picked:
        out.append("SHORT_PICKED")
    if line.backordered:
        out.append("BACKORDERED")
    return tuple(out)


def line_status(line: Line, collect: bool = False) -> str:
    """Human status of a line: its stage, with exceptions and partial progress named."""
    stage = line_stage(line, collect)
    parts = [stage.value]
    q = line.quantity
    if stage not in (Stage.CANCELLED,) and 0 < line.dispatched < q:
        parts.append(f"{line.dispatched}/{q} DISPATCHED")
    if line.returned:
        parts.append(f"{line.returned} RETURNED")
    elif line.return_initiated:
        parts.append(f"{line.return_initiated} RETURN PENDING")
    parts.extend(line_exceptions(line))
    return " · ".join(parts)


def order_stage(order: Order) -> Stage:
    """The order's stage: CANCELLED when no live unit is left, else its least advanced live line."""
    collect = order.fulfilment.kind == "CLICK_AND_COLLECT"
    live = [line_stage(ln, collect) for ln in order.lines if ln.quantity > 0]
    if not live:
        return Stage.CANCELLED
    return min(live, key=lambda s: _STAGE_RANK[s])


def stage_rank(stage: Stage) -> int:
    return _STAGE_RANK.get(stage, -1)


def order_units(order: Order, bucket: str) -> int:
    return sum(getattr(ln, bucket) for ln in order.lines)

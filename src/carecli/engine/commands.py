"""The amendments an agent can stage, as plain immutable values (the *canonical command* of the audit).

Each is a small pydantic model with a ``kind`` tag, so a session serialises to JSON and back exactly
(``Amendment`` is the discriminated union). Validation here is only of shape; whether an amendment is
allowed on a given order is decided by the rules in :mod:`carecli.engine.amend`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter

from .model import Address, ClickAndCollect, Fulfilment, HomeDelivery
from .money import Money


class _Cmd(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AddLine(_Cmd):
    kind: Literal["add_line"] = "add_line"
    sku: str
    quantity: StrictInt


class ChangeQuantity(_Cmd):
    kind: Literal["change_quantity"] = "change_quantity"
    line_id: StrictInt
    quantity: StrictInt


class RemoveLine(_Cmd):
    kind: Literal["remove_line"] = "remove_line"
    line_id: StrictInt


class ReplaceProduct(_Cmd):
    kind: Literal["replace_product"] = "replace_product"
    line_id: StrictInt
    sku: str


class ChangeAddress(_Cmd):
    kind: Literal["change_address"] = "change_address"
    address: Address


class ChangeShippingMethod(_Cmd):
    kind: Literal["change_shipping_method"] = "change_shipping_method"
    method: str


class ChangePickupLocation(_Cmd):
    kind: Literal["change_pickup_location"] = "change_pickup_location"
    location_id: str


class SwitchFulfilment(_Cmd):
    """Home delivery ↔ click & collect, with the new choice in full."""

    kind: Literal["switch_fulfilment"] = "switch_fulfilment"
    fulfilment: Fulfilment


class CancelOrder(_Cmd):
    kind: Literal["cancel_order"] = "cancel_order"


class AppeasementCredit(_Cmd):
    """A fixed credit; the order's price is unchanged."""

    kind: Literal["appeasement_credit"] = "appeasement_credit"
    amount: Money
    reason_code: str
    settle_to: Literal["STORE_CREDIT", "ORIGINAL_PAYMENT"] = "STORE_CREDIT"


class AppeasementDiscount(_Cmd):
    """A discount on the order (``line_id`` None) or a line: ``percent`` or ``amount``, exactly one."""

    kind: Literal["appeasement_discount"] = "appeasement_discount"
    reason_code: str
    line_id: int | None = None
    percent: Decimal | None = None
    amount: Money | None = None


Amendment = Annotated[
    Union[
        AddLine, ChangeQuantity, RemoveLine, ReplaceProduct, ChangeAddress, ChangeShippingMethod,
        ChangePickupLocation, SwitchFulfilment, CancelOrder, AppeasementCredit, AppeasementDiscount,
    ],
    Field(discriminator="kind"),
]

AMENDMENTS = TypeAdapter(tuple[Amendment, ...])


def describe(cmd: Amendment, order_line_desc: dict[int, str] | None = None) -> str:
    """A short sentence for lists and notifications (no markup; callers sanitise for terminals)."""
    desc = order_line_desc or {}

    def line(i: int) -> str:
        return f"line {i}" + (f" ({desc[i]})" if i in desc else "")

    match cmd:
        case AddLine(sku=sku, quantity=q):
            return f"Add {q} × {sku}"
        case ChangeQuantity(line_id=i, quantity=q):
            return f"Change quantity of {line(i)} to {q}"
        case RemoveLine(line_id=i):
            return f"Remove {line(i)}"
        case ReplaceProduct(line_id=i, sku=sku):
            return f"Replace {line(i)} with {sku}"
        case ChangeAddress(address=a):
            return f"Deliver to {a.name}, {a.one_line()}"
        case ChangeShippingMethod(method=m):
            return f"Ship by {m}"
        case ChangePickupLocation(location_id=loc):
            return f"Collect at store {loc}"
        case SwitchFulfilment(fulfilment=HomeDelivery() as f):
            return f"Switch to home delivery ({f.shipping_method}) to {f.address.one_line()}"
        case SwitchFulfilment(fulfilment=ClickAndCollect() as f):
            return f"Switch to click & collect at store {f.location_id}"
        case CancelOrder():
            return "Cancel the order"
        case AppeasementCredit(amount=m, settle_to=to):
            dest = "store credit" if to == "STORE_CREDIT" else "the original payment"
            return f"Appeasement credit of {m} to {dest}"
        case AppeasementDiscount(percent=p, amount=m, line_id=i):
            what = f"{p}%" if p is not None else str(m)
            return f"Appeasement discount of {what} on " + (line(i) if i is not None else "the order")
    return cmd.kind  # pragma: no cover


__all__ = [
    "AddLine", "ChangeQuantity", "RemoveLine", "ReplaceProduct", "ChangeAddress",
    "ChangeShippingMethod", "ChangePickupLocation", "SwitchFulfilment", "CancelOrder",
    "AppeasementCredit", "AppeasementDiscount", "Amendment", "AMENDMENTS", "describe",
]

"""Snapshots of order creation: finding and creating a customer, the new-order screen of a phone order,
the place dialog, a replacement, a re-order and an order showing its link — at 80×24 and 120×40, in
carecli-dark and (a representative set) Textual's ansi-dark. Same rules as test_snapshots.py: a fresh
copy of the demo store, the demo's fixed clock, the screen in front checked, no toast showing.

Update after an intended change: ``pytest tests/tui/test_snapshots_placing.py --snapshot-update``.
"""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from carecli.backend.contract import PlaceOrderRequest
from carecli.demo import SCENARIOS, SEED_CASE_REF
from carecli.engine.commands import AddLine
from carecli.engine.placing import NewLine, NewOrder, OrderLink
from carecli.screens.customer import CustomerDialog, NewCustomerDialog
from carecli.screens.dialogs import VariantDialog
from carecli.screens.new_order import NewOrderScreen, PlaceDialog

from .conftest import (
    SIZES, View, in_front, open_order, paste, search_loaded, settled, snapshot_view, until, view_cases,
)

CANCELLED_REF = SCENARIOS["cancelled"]
ANSI_VIEWS = ("customer_new", "new_order_phone", "replacement")


async def customer_find(pilot, env):
    await search_loaded(pilot)
    await pilot.press("f2")
    await in_front(pilot, CustomerDialog)
    await paste(pilot, "whitfield")
    await until(pilot, lambda: pilot.app.screen.query_one("#customers", DataTable).row_count > 0,
                "customers named whitfield")
    await settled(pilot)


async def customer_new(pilot, env):
    await search_loaded(pilot)
    await pilot.press("f2")
    await in_front(pilot, CustomerDialog)
    await pilot.press("f2")
    await in_front(pilot, NewCustomerDialog)
    for name, value in {"name": "Ada Quill", "email": "ada.quill@example.com", "phone": "+1 312 555 0142",
                        "line1": "12 Elm St", "city": "Chicago", "region": "IL", "postcode": "60614"}.items():
        pilot.app.screen.query_one(f"#cust-{name}", Input).value = value
    await settled(pilot)


async def _phone_order(pilot) -> NewOrderScreen:
    await search_loaded(pilot)
    await pilot.press("f2")
    await in_front(pilot, CustomerDialog)
    await paste(pilot, "dana.whitfield@")
    await until(pilot, lambda: len(pilot.app.screen.found) == 1, "Dana by e-mail")
    await pilot.press("enter")
    await in_front(pilot, NewOrderScreen)
    screen = pilot.app.screen
    screen.change(AddLine(sku="JKT-ALP-L-NVY", quantity=1))  # as the catalog picker hands it over
    screen.change(AddLine(sku="FLC-HLF-M-GRY", quantity=2))
    await settled(pilot)
    assert screen.draft.lines and screen.placement is not None and screen.placement.ok, screen.placement
    return screen


async def new_order_phone(pilot, env):
    await _phone_order(pilot)


async def new_order_add_line(pilot, env):
    await _phone_order(pilot)
    await pilot.press("a")
    await in_front(pilot, VariantDialog)
    await paste(pilot, "JKT-DWN-M")
    await settled(pilot)
    assert "Stock: " in str(pilot.app.screen.query_one("#message").render())


async def place_dialog(pilot, env):
    await _phone_order(pilot)
    await pilot.press("ctrl+s")
    await in_front(pilot, PlaceDialog)


async def replacement(pilot, env):
    await open_order(pilot, SEED_CASE_REF)
    await pilot.press("n")
    await in_front(pilot, NewOrderScreen)


async def reorder(pilot, env):
    await open_order(pilot, CANCELLED_REF)
    await pilot.press("o")
    await in_front(pilot, NewOrderScreen)


def replace_seed(env) -> None:
    """A replacement of the seed's jacket placed by another agent before the app opens."""
    s = env.open_store()
    view = s.get_order(SEED_CASE_REF)
    line = view.order.lines[0]
    s.place_order(PlaceOrderRequest(
        draft=NewOrder(customer_id=view.customer.id, billing_account_id=view.account.id, market=view.order.market,
                       lines=(NewLine(sku=line.sku, quantity=1),), fulfilment=view.order.fulfilment,
                       no_charge=True, link=OrderLink(kind="replacement", order_ref=SEED_CASE_REF)),
        idempotency_key="snapshot-replacement-0001", actor="lee", reason_code="LOST_IN_TRANSIT"))


async def order_linked(pilot, env):
    await open_order(pilot, SEED_CASE_REF)
    assert pilot.app.screen.session.view.links


VIEWS: dict[str, View] = {
    "customer_find": View(customer_find),
    "customer_new": View(customer_new),
    "new_order_phone": View(new_order_phone),
    "new_order_add_line": View(new_order_add_line),
    "place_dialog": View(place_dialog),
    "replacement": View(replacement),
    "reorder": View(reorder),
    "order_linked": View(order_linked, prepare=replace_seed),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view, theme", view_cases(VIEWS, ANSI_VIEWS))
def test_view(view, theme, size, snap_compare, app_factory, open_store):
    assert snapshot_view(VIEWS[view], theme, size, snap_compare, app_factory, open_store)

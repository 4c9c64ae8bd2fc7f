"""A money figure is shown whole or not at all: a cut figure reads as another figure."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carecli.engine.money import Money
from carecli.widgets.money import fmt, money_text

from .conftest import paste, results_for, search_loaded, screen_text


def test_an_amount_wider_than_its_column_drops_its_currency_code_instead_of_being_cut():
    m = Money(Decimal("123456.78"), "USD")
    assert money_text(m, width=16).plain == "USD 123,456.78"
    assert money_text(m, width=13).plain == "123,456.78"
    assert money_text(Money(Decimal("-1301.75"), "AUD"), width=13).plain == "AUD −1,301.75"
    assert money_text(m).plain == fmt(m)  # no width: as formatted


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_large_total_is_shown_whole_in_the_results(app_factory, store_path, size):
    import sqlite3

    # The summary's total is the orders row's: make one order's a seven-figure amount (the demo's are
    # smaller), as a big B2B order would be.
    with sqlite3.connect(store_path) as c:
        ref, = c.execute("SELECT ref FROM orders WHERE currency = 'USD' ORDER BY ref LIMIT 1").fetchone()
        c.execute("UPDATE orders SET total_minor = 123456789 WHERE ref = ?", (ref,))
    app = app_factory()
    async with app.run_test(size=size) as pilot:
        await search_loaded(pilot)
        await paste(pilot, ref)
        await results_for(pilot, "order ref", [ref], ref)
        total = fmt(app.screen._page.items[0].total)
        assert total == "USD 1,234,567.89"
        width = app.screen.query_one("#results").columns[4].width - 2
        assert width < len(total)  # too wide for the column at either size: shown without its code
        assert " 1,234,567.89 " in screen_text(app)

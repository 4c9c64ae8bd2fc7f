"""The results table's fast cells are DataTable's own cells, segment for segment.

``ResultsTable`` draws one-line Text cells without Rich's general rendering path; here every visible
cell of real result pages is rendered both ways — the fast path and DataTable's own — in each state a
cell can be drawn in (plain, zebra row, cursor row, hover, both), at 80 and 120 columns, in a carecli
theme and an ANSI theme, and the segments (text and style) must be equal.
"""

from __future__ import annotations

import pytest
from rich.style import Style
from rich.text import Text

from carecli.demo import SEED_CASE_REF
from carecli.widgets.results import ResultsTable

from .conftest import paste, results_for, search_loaded


def _cells(table: ResultsTable, row: int, fast: bool) -> list:
    table.fast_cells = fast
    table._cell_render_cache.clear()
    out = []
    base = table.get_component_rich_style("datatable--even-row") if row % 2 else Style()
    for col, column in enumerate(table.ordered_columns):
        width = column.get_render_width(table)
        for cursor, hover in ((False, False), (True, False), (False, True), (True, True)):
            out.append(table._render_cell(row, col, base, width, cursor, hover))
    return out


@pytest.mark.asyncio
@pytest.mark.parametrize("theme", ["carecli-dark", "ansi-dark"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_fast_cells_equal_datatable_cells(app_factory, theme, size):
    app = app_factory(theme=theme)
    async with app.run_test(size=size) as pilot:
        await search_loaded(pilot)
        table = app.screen.query_one("#results", ResultsTable)
        pages = 0
        for query, kind in (("", None), ("whitfield", "customer name")):
            if query:
                await paste(pilot, query)
                await results_for(pilot, kind, [SEED_CASE_REF], query)
            assert table.row_count
            pages += 1
            for row in range(min(table.row_count, 12)):
                fast, slow = _cells(table, row, True), _cells(table, row, False)
                assert fast == slow, (query, row)
        assert pages == 2
        table.fast_cells = True


@pytest.mark.asyncio
async def test_other_cells_fall_back_to_datatable(app_factory):
    """A cell that is not one line of Text (a plain string, a two-line text) is DataTable's own."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        table = app.screen.query_one("#results", ResultsTable)
        table.clear()
        table.add_row("ON-1", "plain [b]markup[/b] string", Text("two\nlines"), Text(""), Text("x" * 80),
                      Text("tab\there"), key="r1")
        fast, slow = _cells(table, 0, True), _cells(table, 0, False)
        assert fast == slow
        assert any(seg.text.strip() for line in fast[4] for seg in line)

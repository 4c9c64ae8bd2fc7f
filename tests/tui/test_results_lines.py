"""The results table's lines: DataTable's own lines, segment for segment, and the table's behaviour.

``ResultsTable`` draws each result row as one line from its cells rendered once (and once per
distinct text and width), with the styles of the render pass applied as DataTable applies them.
Here every visible line is drawn both ways — the table's own and DataTable's — with the cursor and
the mouse's hover on rows, focused and not, scrolled, at 80 and 120 columns, in a carecli theme and
an ANSI theme; and the table is driven with the keys and the mouse an agent uses.
"""

from __future__ import annotations

import pytest
from textual.coordinate import Coordinate

from carecli.demo import SEED_CASE_REF
from carecli.screens.order import OrderScreen
from carecli.widgets.results import ResultsTable

from .conftest import paste, result_refs, results_for, search_loaded, settled, status_text, until


def _lines(table: ResultsTable, fast: bool) -> list[list]:
    """Every line of the table as (text, style) segments, drawn by the table or by DataTable."""
    table.fast_cells = fast
    table._clear_caches()
    table._fast_line_cache.clear()
    table._cell_segments.clear()
    table._pseudo_class_state = table.get_pseudo_class_state()
    table._pass_styles = None
    out = [[(seg.text, seg.style) for seg in table.render_line(y)] for y in range(table.size.height)]
    table.fast_cells = True
    return out


def _assert_same_lines(table: ResultsTable, what: str) -> None:
    fast, slow = _lines(table, True), _lines(table, False)
    assert len(fast) == table.size.height > 3
    for y, (a, b) in enumerate(zip(fast, slow)):
        assert a == b, (what, y)
    # the lines are the rows: a row's ref is on its line (one row per line under the header)
    refs = result_refs(table.app)
    top = int(table.scroll_y)
    for y in range(1, min(len(fast), len(refs) - top + 1)):
        assert refs[top + y - 1] in "".join(t for t, _ in fast[y]), (what, y)


@pytest.mark.asyncio
@pytest.mark.parametrize("theme", ["carecli-dark", "ansi-dark"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_lines_equal_datatable_lines(app_factory, theme, size):
    app = app_factory(theme=theme)
    async with app.run_test(size=size) as pilot:
        await search_loaded(pilot)
        table = app.screen.query_one("#results", ResultsTable)
        _assert_same_lines(table, "first page, search box focused")
        table.focus()
        await pilot.press("down", "down", "down")
        await settled(pilot)
        assert table.cursor_coordinate.row == 3
        table._show_hover_cursor = True
        table.hover_coordinate = Coordinate(5, 1)
        _assert_same_lines(table, "focused, cursor and hover")
        table.move_cursor(row=table.row_count - 1)  # scrolls the last row into view
        await settled(pilot)
        assert table.scroll_y > 0
        _assert_same_lines(table, "scrolled to the last row")
        await paste(pilot, "whitfield")  # the table has the focus: the paste goes to the search box
        app.screen.query_one("#query").focus()
        await paste(pilot, "whitfield")
        await results_for(pilot, "customer name", [SEED_CASE_REF], "whitfield")
        _assert_same_lines(table, "one result")


@pytest.mark.asyncio
async def test_rows_cursor_paging_and_enter_opens(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        screen = app.screen
        table = screen.query_one("#results", ResultsTable)
        page_size = app.settings.ui.page_size
        first = result_refs(app)
        assert len(first) == table.row_count == page_size
        assert first == [s.ref for s in screen._page.items]  # the rows are the page, in its order
        # the cursor keys move the row cursor; the highlighted row is drawn in the cursor's style
        table.focus()
        await pilot.press("down", "down", "up")
        await settled(pilot)
        assert table.cursor_coordinate.row == 1
        cursor_bg = table.get_component_rich_style("datatable--cursor").bgcolor
        line = table.render_line(2)  # the header, then rows 0 and 1
        assert first[1] in line.text and {seg.style.bgcolor for seg in line if seg.text.strip()} == {cursor_bg}
        assert cursor_bg not in {seg.style.bgcolor for seg in table.render_line(1)}
        # PageDown: the next page; PageUp: back to the first (from the search box; in the table
        # PageUp/Down scroll the table, as DataTable's own keys)
        app.screen.query_one("#query").focus()
        await pilot.press("pagedown")
        await until(pilot, lambda: status_text(app).startswith(f"{page_size + 1}–"), "the second page")
        await settled(pilot)
        second = result_refs(app)
        assert second and not set(second) & set(first)
        await pilot.press("pageup")
        await until(pilot, lambda: status_text(app).startswith("1–"), "the first page again")
        await settled(pilot)
        assert result_refs(app) == first
        # Enter on the highlighted row opens that order
        table.focus()
        table.move_cursor(row=2)
        await settled(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, OrderScreen), "the order screen")
        assert app.screen.ref == first[2]


@pytest.mark.asyncio
async def test_click_on_a_row_moves_the_cursor_there(app_factory):
    """The mouse finds the row and column from the metadata on the drawn segments."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        table = app.screen.query_one("#results", ResultsTable)
        refs = result_refs(app)
        await pilot.click("#results", offset=(30, 4))  # the header, then rows 0, 1, 2, 3
        await settled(pilot)
        assert app.focused is table and table.cursor_coordinate.row == 3
        await pilot.click("#results", offset=(118, 6))  # right of the last column: out of bounds, as in
        await settled(pilot)                             # DataTable the cursor stays
        assert table.cursor_coordinate.row == 3
        await pilot.click("#results", offset=(3, 6))  # the ref of row 5
        await settled(pilot)
        assert table.cursor_coordinate.row == 5
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, OrderScreen), "the order screen")
        assert app.screen.ref == refs[5]

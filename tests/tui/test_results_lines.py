"""The results table: what its lines show, and how the keys and the mouse drive it.

``ResultsTable`` is the search screen's own Line API table: a header, one line per order in fixed
columns, a row cursor. Here its lines are read back as text and styles at 80 and 120 columns, in a
carecli theme and an ANSI theme, and the table is driven with the keys and the mouse an agent uses.
"""

from __future__ import annotations

import pytest
from rich.text import Text

from carecli.demo import SEED_CASE_REF
from carecli.screens.order import OrderScreen
from carecli.widgets.results import Column, ResultsTable

from .conftest import paste, result_refs, results_for, search_loaded, settled, status_text, until


def _line_text(table: ResultsTable, y: int) -> str:
    return "".join(seg.text for seg in table.render_line(y))


def _backgrounds(table: ResultsTable, y: int) -> set:
    return {seg.style.bgcolor for seg in table.render_line(y) if seg.style and seg.text.strip()}


@pytest.mark.asyncio
@pytest.mark.parametrize("theme", ["carecli-dark", "ansi-dark"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_lines_are_the_header_and_the_rows_in_their_columns(app_factory, theme, size):
    app = app_factory(theme=theme)
    async with app.run_test(size=size) as pilot:
        await search_loaded(pilot)
        table = app.screen.query_one("#results", ResultsTable)
        width = table.size.width
        header = _line_text(table, 0)
        assert len(header) == width
        starts = [0]
        for c in table.columns:
            starts.append(starts[-1] + c.width)
        for c, x in zip(table.columns, starts):  # each label at its column's start, after the padding
            assert header[x + 1:x + 1 + len(c.label)] == c.label
        assert sum(c.width for c in table.columns) <= width  # every column on screen
        page = app.screen._page
        for y in range(1, table.size.height):
            line = _line_text(table, y)
            assert len(line) == width, y
            s = page.items[y - 1]
            assert line[starts[0] + 1:].startswith(s.ref), y  # the row's ref at the start of its line
            items = line[starts[5]:starts[6]]
            assert items.rstrip().endswith(str(s.items)) and items.endswith(" "), y  # right-aligned
        # in a carecli theme even rows (0, 2, …) have a background of their own, and so has the
        # cursor's row; in an ANSI theme only the focused table's cursor (the terminal's own colours)
        if not theme.startswith("ansi"):
            assert _backgrounds(table, 2) != _backgrounds(table, 3)
            assert _backgrounds(table, 1) not in (_backgrounds(table, 3), _backgrounds(table, 2))
        table.focus()
        await settled(pilot)
        assert _backgrounds(table, 1) not in (_backgrounds(table, 3), _backgrounds(table, 2))


@pytest.mark.asyncio
async def test_a_cell_wider_than_its_column_ends_in_an_ellipsis():
    from textual.app import App, ComposeResult

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield ResultsTable(id="t")

    app = One()
    async with app.run_test(size=(40, 6)) as pilot:
        table = app.query_one(ResultsTable)
        table.set_columns([Column("Name", "name", 12), Column("#", "n", 5)])
        table.set_rows([("a", (Text("Bartholomew Whitfield"), Text("7", justify="right"))),
                        ("b", (Text("Al"), Text("12", justify="right")))])
        await pilot.pause()
        assert _line_text(table, 1)[:17] == " Bartholom…    7 "  # 10 columns inside the padding
        assert _line_text(table, 2)[:17] == " Al           12 "
        assert table.row_count == 2 and table.keys == ["a", "b"] and table.get_row("b")[0].plain == "Al"


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
        assert table.cursor_row == 1 and table.cursor_key == first[1]
        cursor_bg = table.get_component_rich_style("results--cursor").bgcolor
        line = table.render_line(2)  # the header, then rows 0 and 1
        assert first[1] in line.text and {seg.style.bgcolor for seg in line if seg.text.strip()} == {cursor_bg}
        assert cursor_bg not in {seg.style.bgcolor for seg in table.render_line(1)}
        # End: the last row, scrolled into view under the header; Home: back to the top
        await pilot.press("end")
        await settled(pilot)
        assert table.cursor_row == page_size - 1 and table.scroll_y > 0
        assert first[-1] in _line_text(table, table.scrollable_content_region.height - 1)
        assert "Ref" in _line_text(table, 0)  # the header stays
        await pilot.press("home")
        await settled(pilot)
        assert table.cursor_row == 0 and table.scroll_y == 0
        # PageDown: the next page, from the table or the search box; PageUp: back to the first
        await pilot.press("pagedown")
        await until(pilot, lambda: status_text(app).startswith(f"{page_size + 1}–"), "the second page")
        await settled(pilot)
        second = result_refs(app)
        assert second and not set(second) & set(first) and table.cursor_row == 0
        app.screen.query_one("#query").focus()
        await pilot.press("pageup")
        await until(pilot, lambda: status_text(app).startswith("1–"), "the first page again")
        await settled(pilot)
        assert result_refs(app) == first
        # Enter on the highlighted row opens that order
        table.focus()
        await pilot.press("down", "down")
        await settled(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, OrderScreen), "the order screen")
        assert app.screen.ref == first[2]


@pytest.mark.asyncio
async def test_click_on_a_row_moves_the_cursor_there(app_factory):
    """The mouse finds the row from the metadata on the drawn line; a click moves the cursor there,
    a double click opens the order."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        table = app.screen.query_one("#results", ResultsTable)
        refs = result_refs(app)
        await pilot.click("#results", offset=(30, 1))  # row 0, where the cursor is: focuses only
        await settled(pilot)
        assert app.focused is table and table.cursor_row == 0 and not isinstance(app.screen, OrderScreen)
        await pilot.click("#results", offset=(30, 4))  # the header, then rows 0, 1, 2, 3
        await settled(pilot)
        assert table.cursor_row == 3
        await pilot.click("#results", offset=(30, 0))  # the header: the cursor stays
        await settled(pilot)
        assert table.cursor_row == 3
        await pilot.click("#results", offset=(3, 6))  # the ref of row 5
        await settled(pilot)
        assert table.cursor_row == 5
        await pilot.double_click("#results", offset=(3, 7))  # row 6: opens it
        await until(pilot, lambda: isinstance(app.screen, OrderScreen), "the order screen")
        assert app.screen.ref == refs[6]


@pytest.mark.asyncio
async def test_one_result_and_none(app_factory):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await search_loaded(pilot)
        table = app.screen.query_one("#results", ResultsTable)
        await paste(pilot, "whitfield")
        await results_for(pilot, "customer name", [SEED_CASE_REF], "whitfield")
        assert table.keys == [SEED_CASE_REF] and SEED_CASE_REF in _line_text(table, 1)
        assert _line_text(table, 2).strip() == ""  # no stale row below the only result
        await paste(pilot, "zzzzqqqq")
        await until(pilot, lambda: "No orders match" in status_text(app), "no result")
        assert table.row_count == 0 and table.cursor_key is None
        assert _line_text(table, 1).strip() == ""
        table.action_select()  # Enter on an empty table does nothing
        await settled(pilot)
        assert app.screen.query_one("#results") is table


@pytest.mark.asyncio
async def test_a_cells_own_style_is_drawn_under_its_spans_and_long_text_ends_in_an_ellipsis(app_factory):
    """A cell's style (the ref in bold) is drawn, not only the styles of its spans (a stage's words);
    text wider than its column is cut to "…" and padded as Rich would, in both ways of drawing a cell."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        table = app.screen.query_one("#results", ResultsTable)
        ref = app.screen._page.items[0].ref
        ref_segments = [seg for seg in table.render_line(1) if ref in seg.text]
        assert ref_segments and all(seg.style.bold for seg in ref_segments)
        for cell, inner in [(Text("Bartholomew Featherstonehaugh-Smythe", style="italic"), 12),
                            (Text("ÉÈÊ wide 漢字漢字 name", style="bold"), 9), (Text("12", justify="right"), 5),
                            (Text("mid", justify="center"), 8),
                            (Text.assemble(("awaiting", "cyan"), " pick · ", ("short picked", "bold red"),
                                           style="italic"), 14)]:
            drawn = table._draw_cell(cell, inner)
            expected = cell.copy()
            expected.end = ""
            expected.truncate(inner, overflow="ellipsis")
            expected.align(cell.justify or "left", inner)
            assert "".join(seg.text for seg in drawn) == expected.plain
            assert sum(seg.cell_length for seg in drawn) == inner
            if cell.style:
                assert all(seg.style and (seg.style.italic or seg.style.bold) for seg in drawn)
        assert "".join(s.text for s in table._draw_cell(Text("Bartholomew F"), 8)) == "Barthol…"

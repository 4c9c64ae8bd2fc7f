"""The search results: a header and one line per order in fixed-width columns, with a row cursor.

A Line API widget made for this one table, because a new page of results is drawn at every keystroke:
each visible line is one ``Strip`` built from the row's cells once per page (and kept while the cursor,
focus and theme stay), so a page costs a few Rich ``Text.render`` calls per cell and nothing per
frame. Columns have fixed widths (the screen sizes them to the terminal); a cell wider than its column
ends in "…". The header stays at the top while the rows scroll.

Keys: Up/Down (and the screen's j/k) move the cursor, Home/End go to the first and last row, Enter
selects. PgUp/PgDn are left to the screen, where they turn the page of results. A click puts the
cursor on the row clicked; a double click selects it. Cells are ``rich.text.Text`` built
by the screen through ``widgets.safe`` (untrusted text never carries markup or control characters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

PAD = 1  # a space each side of every cell


@dataclass(frozen=True)
class Column:
    label: str
    key: str
    width: int  # with its padding


class ResultsTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Order search results: fixed columns, one line a row, a row cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", show=False, id="results.select", tooltip="Open the order"),
        Binding("up", "cursor_up", "Up", show=False, id="results.up", tooltip="Previous row"),
        Binding("down", "cursor_down", "Down", show=False, id="results.down", tooltip="Next row"),
        Binding("home,ctrl+home", "first", "First", show=False, id="results.first", tooltip="First row"),
        Binding("end,ctrl+end", "last", "Last", show=False, id="results.last", tooltip="Last row"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"results--header", "results--even-row", "results--cursor"}
    DEFAULT_CSS = """
    ResultsTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .results--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .results--header { background-tint: $foreground 5%; }
        }
        & > .results--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .results--header { background: ansi_bright_blue; color: ansi_default; }
        & > .results--even-row { background: $surface-lighten-1 50%; }
        &:dark > .results--even-row { background: $surface-darken-1 40%; }
        & > .results--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Selected(Message):
        """Enter, or a double click, on a row."""

        def __init__(self, table: ResultsTable, key: str) -> None:
            super().__init__()
            self.table, self.key = table, key

        @property
        def control(self) -> ResultsTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns: tuple[Column, ...] = ()
        self._keys: list[str] = []
        self._cells: list[tuple[Text, ...]] = []
        self._strips: dict[tuple[int, bool], Strip] = {}  # (row, cursor) → the line, for this page
        self._header: Strip | None = None
        self._styles: tuple[Style, Style, Style, Style] | None = None
        self._cells_drawn: dict[tuple, list[Segment]] = {}

    # -- content ------------------------------------------------------------------------------------
    def set_columns(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self._changed()

    def set_rows(self, rows: Sequence[tuple[str, tuple[Text, ...]]]) -> None:
        """A new page: ``(key, cells)`` per row, one cell per column. The cursor goes to the first row."""
        self._keys = [k for k, _ in rows]
        self._cells = [c for _, c in rows]
        self.set_reactive(ResultsTable.cursor_row, 0)
        self._changed()
        self.scroll_to(y=0, animate=False, immediate=True)

    def _changed(self) -> None:
        self._restyle()
        self.virtual_size = Size(sum(c.width for c in self.columns), len(self._keys) + 1)
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    @property
    def cursor_key(self) -> str | None:
        return self._keys[self.cursor_row] if self._keys else None

    def get_row(self, key: str) -> tuple[Text, ...]:
        return self._cells[self._keys.index(key)]

    # -- drawing ------------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()

    def _on_focus(self, event: events.Focus) -> None:
        self._restyle()  # the cursor's style follows the focus

    def _on_blur(self, event: events.Blur) -> None:
        self._restyle()

    def _on_resize(self, event: events.Resize) -> None:
        self._restyle()  # the lines are as wide as the widget (a scroll bar coming or going changes it)

    def _restyle(self) -> None:
        self._strips.clear()
        self._header = None
        self._styles = None

    def _styles_now(self) -> tuple[Style, Style, Style, Style]:
        """The widget's style and its header, even-row and cursor styles, looked up once per theme,
        focus and page (not per line)."""
        if self._styles is None:
            get = self.get_component_rich_style
            self._styles = (self.rich_style, get("results--header"), get("results--even-row"),
                            get("results--cursor"))
        return self._styles

    def _cell(self, cell: Text, inner: int) -> list[Segment]:
        """A cell in ``inner`` columns: cut with "…" when wider, aligned by its ``justify``, in its own
        style (under the styles of its spans). Kept per text and width: dates, stages, counts and the
        rows that stay from one page to the next repeat."""
        key = (cell.plain, cell.style, tuple(cell.spans), cell.justify, inner)
        done = self._cells_drawn.get(key)
        if done is None:
            if len(self._cells_drawn) > 2000:
                self._cells_drawn.clear()
            done = self._cells_drawn[key] = self._draw_cell(cell, inner)
        return done

    def _draw_cell(self, cell: Text, inner: int) -> list[Segment]:
        console = self.app.console
        style = console.get_style(cell.style) if cell.style else None
        justify = cell.justify if cell.justify in ("left", "center", "right") else "left"
        if not cell.spans:  # most cells: one piece of text in one style, cut and padded here
            plain = cell.plain
            width = cell_len(plain)
            if width > inner:
                plain, width = set_cell_size(plain, inner - 1) + "…", inner  # as Text.truncate does
            gap = inner - width
            left = 0 if justify == "left" else gap if justify == "right" else gap // 2
            return [Segment(" " * left + plain + " " * (gap - left), style)]
        t = cell.copy()
        t.end = ""
        t.truncate(inner, overflow="ellipsis")
        t.align(justify, inner)
        # Text.render gives the spans' styles only: the text's own style goes under them
        return list(Segment.apply_style(t.render(console), style)) if style else list(t.render(console))

    def _line(self, cells: Sequence[Text], style: Style, post: Style | None) -> Strip:
        """One line: the cells in their columns under ``style`` (the cells' own styles win), then
        ``post`` over all (the cursor's colours win), padded or cut to the widget's width."""
        pad = Segment(" " * PAD)
        segments: list[Segment] = []
        for cell, column in zip(cells, self.columns):
            inner = column.width - 2 * PAD
            if inner > 0:
                segments.append(pad)
                segments += self._cell(cell, inner)
                segments.append(pad)
        width = self.size.width
        used = sum(c.width for c in self.columns)
        if used < width:
            segments.append(Segment(" " * (width - used)))
        # fewer, longer segments (the padding joins the unstyled text beside it): every segment costs
        # again in each later step of the frame
        strip = Strip(list(Segment.apply_style(Segment.simplify(segments), style, post)), max(used, width))
        return strip.crop(0, width) if used > width else strip

    def render_line(self, y: int) -> Strip:
        base, header, even, cursor_style = self._styles_now()
        if y == 0:
            if self._header is None:
                self._header = self._line([Text(c.label) for c in self.columns],
                                          base + header + Style.from_meta({"row": -1}), None)
            return self._header
        row = y - 1 + self.scroll_offset.y
        if not 0 <= row < len(self._keys):
            return Strip.blank(self.size.width, base)
        cursor = row == self.cursor_row
        strip = self._strips.get((row, cursor))
        if strip is None:
            style = (base + even if row % 2 == 0 else base) + Style.from_meta({"row": row})
            strip = self._strips[row, cursor] = self._line(self._cells[row], style,
                                                           cursor_style if cursor else None)
        return strip

    # -- the cursor ---------------------------------------------------------------------------------
    def watch_cursor_row(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        self._scroll_to_cursor()

    def _refresh_row(self, row: int) -> None:
        y = row - self.scroll_offset.y + 1
        if 1 <= y < self.size.height:
            self.refresh_line(y)

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # the header is not scrolled
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def _move(self, row: int) -> None:
        if self._keys:
            self.cursor_row = max(0, min(len(self._keys) - 1, row))

    def action_cursor_up(self) -> None:
        self._move(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor_row + 1)

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self._keys) - 1)

    def action_select(self) -> None:
        if self._keys:
            self.post_message(self.Selected(self, self._keys[self.cursor_row]))

    async def _on_click(self, event: events.Click) -> None:
        row = event.style.meta.get("row")
        if not isinstance(row, int) or not 0 <= row < len(self._keys):
            return
        self.cursor_row = row
        if event.chain >= 2:
            self.action_select()  # a double click opens the row

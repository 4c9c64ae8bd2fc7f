"""The search results table: a DataTable that draws its one-line text cells without Rich's general path.

A new page of results redraws every visible cell (about 35 rows × 6 columns at 120×40). DataTable
renders each cell through ``Styled(Padding(cell))`` and ``Console.render_lines``, which measures,
re-derives console options and walks Rich's generic renderable protocol for every cell: ~0.15 ms a
cell, 30–60 ms a page on the development machine, most of the time between a keystroke and its
results; and it measures every cell of every new row to size columns that here have fixed widths. For the cells the search screen puts in the table — a single line of ``rich.text.Text`` in a
one-line row — :meth:`ResultsTable._render_cell` produces the same segments directly, with the very
Rich primitives that path ends in (``Text.wrap``, ``Text.render``, ``Segment.adjust_line_length``,
``Segment.apply_style``). Anything else (headers, row labels, multi-line or non-Text cells) goes to
DataTable's own code. ``tests/tui/test_results_table.py`` checks the fast cells equal DataTable's own,
segment for segment, in every cursor, hover and zebra state and in every theme.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.widgets import DataTable

_NULL = Style.null()


class ResultsTable(DataTable):
    """A DataTable whose one-line Text cells render on a fast path (same segments, a fraction of the cost)."""

    fast_cells = True  # tests switch it off to compare with DataTable's own rendering

    def _update_dimensions(self, new_rows) -> None:  # type: ignore[override]
        """DataTable measures every cell of every new row to size auto-width columns and auto-height
        rows (300 measurements a page). With fixed-width columns and one-line, unlabelled rows nothing
        measured is used: only the virtual size is set, exactly as DataTable sets it."""
        new_rows = list(new_rows)
        if not self.fast_cells or any(c.auto_width for c in self.columns.values()):
            return super()._update_dimensions(new_rows)
        rows = self.rows
        for key in new_rows:
            row = rows.get(key)
            if row is not None and (row.label is not None or row.auto_height):
                return super()._update_dimensions(new_rows)
        width = sum(c.get_render_width(self) for c in self.columns.values()) + self._row_label_column_width
        self.virtual_size = Size(width, self._total_row_height + (self.header_height if self.show_header else 0))

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False):  # type: ignore[override]
        if not self.fast_cells or row_index < 0 or column_index < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor, self._update_count,
               self._pseudo_class_state)
        cache = self._cell_render_cache
        lines = cache.get(key)
        if lines is not None:
            return lines
        cells = self._get_row_renderables(row_index).cells
        cell = cells[column_index] if column_index < len(cells) else None
        row = self.rows.get(row_key) if row_key is not None else None
        pad = self.cell_padding
        inner = width - 2 * pad
        if (type(cell) is not Text or row is None or row.height != 1 or inner < 1 or "\n" in cell.plain
                or "\t" in cell.plain):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        is_fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        base_style += Style.from_meta({"row": row_index, "column": column_index})
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, is_fixed, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        console = self.app.console
        # What Text.__rich_console__ does inside Padding (width - padding, no wrap: the row is one line)
        wrapped = cell.wrap(console, inner, justify=cell.justify or "default", overflow=cell.overflow or "fold",
                            tab_size=cell.tab_size or console.tab_size or 8, no_wrap=True)
        segments = list(Text("\n").join(wrapped).render(console, end=""))
        # render_lines(pad=True) inside Padding, then Padding's own left and right spaces
        line = [Segment(" " * pad, _NULL), *Segment.adjust_line_length(segments, inner, style=_NULL, pad=True),
                Segment(" " * pad, _NULL)] if pad else Segment.adjust_line_length(segments, inner, style=_NULL)
        # Styled: the pre-style below and the post-style above every segment
        lines = [list(Segment.apply_style(line, base_style + component_style, post_style))]
        cache[key] = lines
        return lines

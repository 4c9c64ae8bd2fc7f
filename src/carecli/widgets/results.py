"""The search results table: a DataTable that draws its lines itself, from pre-built segments.

A new page of results redraws every visible line (about 35 rows × 6 columns at 120×40). DataTable
builds each line through ``_render_line`` → ``_render_line_in_row`` → ``_render_cell`` for every
cell, recomputing the row's, the header's and the widget's styles from the DOM and a cache key per
cell on every line, and renders each cell through ``Styled(Padding(cell))`` and
``Console.render_lines`` (~0.15 ms a cell); it also measures every cell of every new row to size
columns that here have fixed widths.

Here (Line API): :meth:`ResultsTable.render_line` draws a result row as one ``Strip`` from the row's
cells rendered once — and once per distinct text and width, so rows, stages and counts that stay on
screen from one keystroke's results to the next are not rendered again — with the styles of the
render pass (zebra rows, cursor, hover, from the theme's component classes; looked up once per pass)
and the row/column metadata for the mouse applied exactly as DataTable applies them. The cells are
rendered with the very Rich primitives DataTable's generic path ends in (``Text.wrap``,
``Text.render``, ``Segment.adjust_line_length``, ``Segment.apply_style``). The header, and any
table or cell this does not cover (labels, fixed rows or columns, multi-line or non-Text cells), go
to DataTable's own code; cursor keys, paging, selection and events are DataTable's.
``tests/tui/test_results_table.py`` (cells) and ``tests/tui/test_results_lines.py`` (whole lines,
cursor, hover, scrolled, themes, widths) check the segments equal DataTable's own.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._segment_tools import line_crop
from textual.geometry import Size
from textual.strip import Strip
from textual.widgets import DataTable

_NULL = Style.null()


class ResultsTable(DataTable):
    """A DataTable whose one-line Text cells render on a fast path (same segments, a fraction of the cost)."""

    fast_cells = True  # tests switch it off to compare with DataTable's own rendering
    own_lines = True  # whole lines from pre-built cells (below); off: DataTable's lines over the fast cells

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._row_cells_cache: dict = {}
        self._fast_line_cache: dict = {}
        self._cell_segments: dict = {}
        self._pass_styles: dict | None = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._pass_styles = None
        self._fast_line_cache.clear()

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

    # -- whole lines (Line API): one Strip per row from pre-built segments ----------------------------
    #
    # DataTable builds every line through _render_line → _render_line_in_row → _render_cell for each
    # cell, recomputing the row's, the header's and the widget's styles from the DOM and a cache key
    # per cell on every line. For the search results (row cursor, no fixed rows or columns, no row
    # labels, one-line rows) a line here is the row's cells, pre-built once per page as unstyled
    # segments (:meth:`_row_cells`), with the styles of this render pass (looked up once per pass, not
    # per line) applied exactly as DataTable applies them — same segments, same styles, same metadata
    # for the mouse. The header line and anything else go to DataTable's own code.

    def _fast_lines(self) -> bool:
        return (self.fast_cells and self.own_lines and self.cursor_type == "row" and not self.fixed_rows and not self.fixed_columns
                and not (self._labelled_row_exists and self.show_row_labels))

    def render_lines(self, crop):  # type: ignore[override]
        self._pseudo_class_state = self.get_pseudo_class_state()
        self._pass_styles = None  # looked up again, once, by the first line of this pass that needs them
        return super(DataTable, self).render_lines(crop)

    def _styles_of_pass(self) -> dict:
        styles = self._pass_styles
        if styles is None:
            get = self.get_component_styles
            css_fg, css_bg = self.cursor_foreground_priority == "css", self.cursor_background_priority == "css"
            show_cursor, show_hover = self.show_cursor, self._show_hover_cursor
            states = {}
            for hover in (False, True):
                for cursor in (False, True):
                    states[hover, cursor] = self._get_styles_to_render_cell(
                        False, False, False, hover, cursor, show_cursor, show_hover, css_fg, css_bg)
            styles = self._pass_styles = {
                "base": self.rich_style,
                "rows": ((get("datatable--even-row").rich_style, get("datatable--odd-row").rich_style)
                         if self.zebra_stripes else None),
                "states": states,
            }
        return styles

    def _row_cells(self, row_key, row_index: int, widths: tuple[int, ...]) -> list[list[Segment]] | None:
        """The row's cells as segments before the row's styles (what _render_cell styles), built once
        per row, page and column widths; None when a cell is not one line of Text."""
        key = (row_key, widths, self._update_count)
        cache = self._row_cells_cache
        built = cache.get(key, False)
        if built is not False:
            return built
        if len(cache) > 400:
            cache.clear()
        row = self.rows.get(row_key)
        cells = self._get_row_renderables(row_index).cells
        pad = self.cell_padding
        console = self.app.console
        built_cells = self._cell_segments
        if len(built_cells) > 4000:
            built_cells.clear()
        out: list[list[Segment]] | None = []
        if row is None or row.height != 1:
            out = None
        else:
            for column_index, width in enumerate(widths):
                cell = cells[column_index] if column_index < len(cells) else None
                inner = width - 2 * pad
                if type(cell) is not Text or inner < 1:
                    out = None
                    break
                # the same text in the same width is the same segments: rows that stay on screen from
                # one keystroke's results to the next, stages, counts and dates repeat
                cell_key = (cell.plain, cell.style, tuple(cell.spans), cell.justify, cell.overflow, cell.end,
                            cell.tab_size, inner, pad)
                line = built_cells.get(cell_key)
                if line is None:
                    if "\n" in cell.plain or "\t" in cell.plain:
                        out = None
                        break
                    wrapped = cell.wrap(console, inner, justify=cell.justify or "default",
                                        overflow=cell.overflow or "fold",
                                        tab_size=cell.tab_size or console.tab_size or 8, no_wrap=True)
                    segments = list(Text("\n").join(wrapped).render(console, end=""))
                    line = Segment.adjust_line_length(segments, inner, style=_NULL, pad=True)
                    if pad:
                        line = [Segment(" " * pad, _NULL), *line, Segment(" " * pad, _NULL)]
                    built_cells[cell_key] = line
                out.append(line)
        cache[key] = out
        return out

    def render_line(self, y: int) -> Strip:  # type: ignore[override]
        if not self._fast_lines():
            return super().render_line(y)
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if self.show_header:
            if y < self.header_height:
                return self._render_line(y, scroll_x, scroll_x + width, self._styles_of_pass()["base"])
        y += scroll_y
        try:
            row_key, _line = self._get_offsets(y)
        except LookupError:
            return Strip.blank(width, self._styles_of_pass()["base"])
        row_index = self._row_locations.get(row_key)
        columns = self.ordered_columns
        widths = tuple(c.get_render_width(self) for c in columns)
        cells = self._row_cells(row_key, row_index, widths)
        if cells is None:
            return self._render_line(y, scroll_x, scroll_x + width, self._styles_of_pass()["base"])
        cursor = row_index == self.cursor_coordinate.row
        hover = row_index == self.hover_coordinate.row
        styles = self._styles_of_pass()
        base = styles["base"]
        rows = styles["rows"]
        row_style = rows[row_index % 2] if rows is not None else base
        component_style, post_style = styles["states"][hover, cursor]
        key = (row_key, row_index, widths, scroll_x, width, base, row_style, component_style, post_style,
               self._update_count)
        lines = self._fast_line_cache
        strip = lines.get(key)
        if strip is not None:
            return strip
        segments: list[Segment] = []
        extend = segments.extend
        apply_style = Segment.apply_style
        for column_index, line in enumerate(cells):
            cell_style = row_style + Style.from_meta({"row": row_index, "column": column_index})
            extend(apply_style(line, cell_style + component_style, post_style))
        # the row's style extended to the widget's width, as DataTable does for a row cursor
        extend_style = row_style + component_style
        extend_style += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        segments.append(Segment(" " * max(0, width - sum(widths)), extend_style))
        strip = Strip(line_crop(segments, scroll_x, scroll_x + width, width)).adjust_cell_length(width, base).simplify()
        if len(lines) > 400:
            lines.clear()
        lines[key] = strip
        return strip
        base = styles["base"]
        rows = styles["rows"]
        row_style = (rows[row_index % 2] if rows is not None else base)
        component_style, post_style = styles["states"][hover, cursor]
        segments: list[Segment] = []
        extend = segments.extend
        apply_style = Segment.apply_style
        for column_index, line in enumerate(cells):
            cell_style = row_style + Style.from_meta({"row": row_index, "column": column_index})
            extend(apply_style(line, cell_style + component_style, post_style))
        # Extending the row's style out to the widget's width (DataTable's "row" cursor branch)
        extend_style = row_style + styles["states"][hover, cursor][0] if False else row_style + component_style
        extend_style += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        segments.append(Segment(" " * max(0, width - sum(widths)), extend_style))
        strip = Strip(line_crop(segments, scroll_x, scroll_x + width, width)).adjust_cell_length(width, base).simplify()
        strip._carecli_base = base  # type: ignore[attr-defined]
        if len(lines) > 400:
            lines.clear()
        lines[key] = strip
        return strip

"""Local echo: a character typed at the end of the search box is written to the terminal at once.

Why. A key's echo through Textual takes 3.8–5 ms inside the app before the terminal gets it: the
Input inserts the character (restrict check, value watchers, the search query's start: 0.5–2.3 ms),
then a frame re-renders every widget of the search bar (1.5–2.5 ms) and is written. A minimal Textual
app's own Input echoes in 5.8–6.4 ms through tmux, where a raw program echoing its input takes 1.5 ms:
Textual's path alone is above the 5 ms target. So the common case skips it, as terminals over slow
links do: the cells the key changes are written straight to the terminal as the key arrives, before
the value's watchers run, and the normal frame follows and draws the same cells.

The common case (anything else takes the normal path only, and its frame draws the key as before):
one printable ASCII character (0x20–0x7E) that the Input accepts (its own ``restrict``/``max_length``
check has passed: :func:`echo_sequence` runs from the value's validator) appended at the end of the
value, the cursor at the end with no selection, the text not scrolled and still fitting with the
cursor cell; a plain Input (no password, highlighter, suggester, validators or suggestion showing);
the widget focused on the screen in front, with nothing over the cells written, no layout, scroll or
repaint pending (so the terminal shows the widget as it is), no text selected on the screen; a real
terminal in full-screen mode (not a test's headless driver, not inline mode, no batched update).

How it stays exact. Nothing here knows a colour or a layout: the cells come from Textual's own
rendering of the widget in the state the key leads to (the value with the character, the cursor after
it): the widget's ``render_line`` and its styles pipeline (padding, border, tint, opacity, the app's
line filters), through a fresh ``StylesCache`` so that the widget's own cache is not touched, cropped
to the cells that change (the character and the cursor cell; after an empty value, the rest of the
row, where the placeholder was), and turned into escape sequences by ``Strip.render`` with the app's
console, as the compositor does. The bytes go through the app driver's ``write`` (the writer thread
Textual's frames use, so the order of writes is kept) and end with the cursor move Textual ends each
frame with. The frame that follows draws the same cells; if anything were missed it corrects it
within one frame.

What is written is checked before it goes: cursor moves (``CSI row;col H``), SGR sequences and the
typed character followed by spaces, nothing else (a style carrying a link, for one, would add an OSC
sequence: the key then takes the normal path). The character is the agent's own key: no text from the
store ever goes this way. No synchronized-output markers: Textual wraps a frame in them so that a
terminal does not show it half drawn; these few cells are one write.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Callable

from rich.control import Control
from textual._styles_cache import StylesCache
from textual.geometry import Offset, Region
from textual.widgets.input import Selection

if TYPE_CHECKING:
    from textual.widgets import Input

# The only bytes ever written: cursor moves, SGR, printable ASCII.
_ALLOWED = re.compile(r"(?:\x1b\[[0-9]+;[0-9]+H|\x1b\[[0-9;]*m|[ -~])*")
_SEQUENCES = re.compile(r"\x1b\[[0-9;]*[Hm]")

_now = time.perf_counter
_HANDOVER_S = 0.002  # float-ok: seconds; at most this long for the writer thread to take the echo
_NAP_S = 0.00005  # float-ok: seconds


def is_echo_char(character: str | None) -> bool:
    """One printable ASCII character (one cell wide, no escape, no control)."""
    return character is not None and len(character) == 1 and " " <= character <= "~"


def terminal_writer(widget: Input) -> Callable[[str], None] | None:
    """A function that writes to the app's terminal through its driver, or None when the app does not
    draw on a real terminal in full-screen mode (a test's headless driver, inline mode, a batch)."""
    app = widget.app
    driver = app._driver
    if (driver is None or driver.is_headless or driver.is_inline or not app._running or app._closed
            or app._batch_count):
        return None
    queue = getattr(getattr(driver, "_writer_thread", None), "_queue", None)

    def write(sequence: str) -> None:
        driver.write(sequence)
        # The writer thread needs the interpreter to write, and the key's own work (the insert, the
        # query's start, the frame) would otherwise hold it for up to the switch interval (5 ms): let
        # the writer take it until it has our bytes (it holds the interpreter until the write to the
        # terminal, where it lets go). Bounded: frames queued before ours go first.
        if queue is not None:
            deadline = _now() + _HANDOVER_S
            while queue.qsize() and _now() < deadline:
                time.sleep(_NAP_S)

    return write


def shows_as_is(widget: Input) -> bool:
    """No layout, scroll or repaint is pending that would change what the terminal shows of the
    widget: the cells on the terminal are the widget as it is now."""
    screen = widget.screen
    return not (screen._layout_required or screen._scroll_required or screen._repaint_required
                or screen._recompose_required or widget._repaint_required or widget._layout_required
                or widget in screen._dirty_widgets)


def _on_top(widget: Input, cells: Region) -> bool:
    """The widget is what the screen shows on every one of ``cells`` (nothing drawn over it there)."""
    rows = widget.screen._compositor.layers_visible  # per row, the visible widgets, top-most first
    if not 0 <= cells.y < len(rows):
        return False
    for other, cropped, _region in rows[cells.y]:
        if cropped.overlaps(cells) and other.visible:
            return other is widget and cropped.contains_region(cells)
    return False


def echo_sequence(widget: Input, new_value: str, *, shown: bool | None = None) -> str | None:
    """The bytes that draw ``new_value`` (the value and one character more) on the terminal as the next
    frame will, or None when this change must take the normal path. Called before the value is set.

    ``shown``: whether the terminal showed the widget as it was (:func:`shows_as_is`) when the key
    arrived, before the Input's handling made its cursor visible again (which changes only the cell the
    character is written to); default: checked now."""
    value = widget.value
    if len(new_value) != len(value) + 1 or not new_value.startswith(value):
        return None
    character = new_value[-1]
    if not is_echo_char(character) or not (value.isascii() and value.isprintable()):
        return None
    if (widget.password or widget.highlighter is not None or widget.suggester is not None
            or widget.validators or widget._suggestion or widget.disabled or not widget.has_focus):
        return None
    if not widget.selection.is_empty or widget.cursor_position != len(value):
        return None
    if widget.scroll_offset != (0, 0) or len(new_value) + 1 > widget.scrollable_content_region.width:
        return None
    app = widget.app
    screen = widget.screen
    if screen is not app.screen or not screen.is_current or screen.selections or screen.size != app.size:
        return None
    if not (shows_as_is(widget) if shown is None else shown):
        return None  # the terminal may not show the widget as it is now

    region = widget.region
    content = widget.content_region
    row = content.y - region.y
    x0 = content.x - region.x + len(value)  # the character's column in the widget
    # The cells that change: the character and the cursor cell; after an empty value the placeholder
    # goes too (the rest of the row).
    width = 2 if value else content.right - region.x - x0
    if width < 2:
        return None
    cells = Region(region.x + x0, content.y, width, 1)
    if not _on_top(widget, cells):
        return None  # something is drawn over the box there (a toast, a tooltip)

    # The widget's own rendering of the state the key leads to: the new value, the cursor after it.
    saved = widget._reactive_value, widget._reactive_selection  # type: ignore[attr-defined]
    widget._reactive_value = new_value  # type: ignore[attr-defined]
    widget._reactive_selection = Selection.cursor(len(new_value))  # type: ignore[attr-defined]
    try:
        strips = StylesCache().render_widget(widget, Region(x0, row, width, 1))
        cursor = screen.outer_size.clamp_offset(
            Offset(content.x + widget._cursor_offset, content.y))  # where the frame leaves the cursor
    finally:
        widget._reactive_value, widget._reactive_selection = saved  # type: ignore[attr-defined]
    if len(strips) != 1 or strips[0].cell_length != width:
        return None
    sequence = (Control.move_to(cells.x, cells.y).segment.text + strips[0].render(app.console)
                + Control.move_to(*cursor).segment.text)
    if not _ALLOWED.fullmatch(sequence) or _SEQUENCES.sub("", sequence) != character + " " * (width - 1):
        return None
    return sequence

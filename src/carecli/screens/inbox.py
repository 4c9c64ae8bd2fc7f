"""The exceptions inbox: orders that need a person, oldest first, with their age.

Short picks, backorders at or near their date, failed deliveries, declined extra charges (and, once
returns are built, returns waiting for verification) come from the backend's ``list_exceptions``.
Enter opens the order; the remedy keys open the order with the remedy started in an amend session —
substitute a variant (the replace-product dialog), cancel the line with its refund, offer an
appeasement — or write a contact note on the order's timeline. Read-only hides the remedy keys
(dynamic actions), and the backend refuses writes anyway.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalGroup
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Static

from ..backend.contract import BackendError, ExceptionItem, TimelineEntry
from ..widgets.badges import offline_badge, read_only_badge, stage_text
from ..widgets.safe import INPUT_RESTRICT, text
from .dialogs import base as _dialog_base
from .dialogs.base import CareDialog
from .frames import InstantFrames
from ..widgets.footer import CareFooter

REMEDIES = {"substitute", "cancel_line", "appease", "note"}
KIND_LABEL = {"short_pick": "Short pick", "backorder": "Backorder", "delivery_failed": "Delivery failed",
              "payment_declined": "Charge declined", "return_verification": "Return to verify"}


def age_text(seconds: int) -> str:
    """3d 4h, 5h 12m, 12m, now; from 100 days on the days alone (107d), so it fits its column."""
    d, rest = divmod(max(0, seconds), 86400)
    h, rest = divmod(rest, 3600)
    m = rest // 60
    if d >= 100:
        return f"{d}d"
    if d:
        return f"{d}d {h}h"
    if h:
        return f"{h}h {m}m"
    return f"{m}m" if m else "now"


class NoteDialog(CareDialog[str]):
    """A contact note for the order's timeline: what was said or agreed. Enter saves."""

    AUTO_FOCUS = "#note"
    # The dialogs' shared sheet (a relative CSS_PATH would be read beside this module).
    CSS_PATH = str(Path(_dialog_base.__file__).with_name("dialogs.tcss"))

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(text(f"Contact note on {self.ref}", "bold"), classes="dialog-title")
            yield Input(placeholder="what was said or agreed (Enter saves, Esc cancels)", id="note",
                        restrict=INPUT_RESTRICT, max_length=2000)
            yield Static("", id="message", classes="message")
        yield CareFooter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value:
            self.say("Write what was said or agreed first.", "error")
            return
        self.dismiss(value)


class InboxScreen(InstantFrames, Screen[None]):
    CSS_PATH = "inbox.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="inbox.back", tooltip="Back to search"),
        Binding("r", "substitute", "Substitute", id="inbox.substitute",
                tooltip="Open the order and swap the line's product for another variant"),
        Binding("x", "cancel_line", "Cancel line", id="inbox.cancel_line",
                tooltip="Open the order with the line's unshipped units cancelled (refund in the preview)"),
        Binding("g", "appease", "Goodwill", id="inbox.appease", tooltip="Open the order and offer an appeasement"),
        Binding("n", "note", "Note", id="inbox.note", tooltip="Write a contact note on the order's timeline"),
        Binding("ctrl+r", "reload", "Reload", id="inbox.reload", tooltip="Read the inbox again"),
        Binding("j", "cursor_down", "Down", show=False, id="inbox.j", tooltip="Next row"),
        Binding("k", "cursor_up", "Up", show=False, id="inbox.k", tooltip="Previous row"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[ExceptionItem] = []
        self.loaded = False
        self._narrow = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="inbox-header"):
            yield Label(text("Exceptions inbox", "bold"), id="inbox-title")
            if self.app.read_only:
                yield read_only_badge()
            yield offline_badge()
        yield DataTable(id="inbox", cursor_type="row", zebra_stripes=True)
        yield Static("", id="inbox-detail")
        yield Label("", id="inbox-status")
        yield CareFooter()

    def _columns(self) -> None:
        table = self.query_one("#inbox", DataTable)
        self._narrow = self.app.size.width < 106
        wide = (("Age", "age", 8), ("Order", "ref", 10), ("Why", "kind", 16), ("Customer", "customer", 22),
                ("Stage", "stage", 16), ("What", "what", 36))
        narrow = (("Age", "age", 7), ("Order", "ref", 9), ("Why", "kind", 15), ("Customer", "customer", 16),
                  ("What", "what", 21))
        table.clear(columns=True)
        for label, key, width in (narrow if self._narrow else wide):
            table.add_column(label, key=key, width=width)

    def on_mount(self) -> None:
        self._columns()
        self.load()

    def on_resize(self) -> None:
        if (self.app.size.width < 106) != self._narrow:
            self._columns()
            self._show(self.items)

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.load()  # back from an order: what was handled has left the inbox

    # -- reading ------------------------------------------------------------------------------------
    def load(self) -> None:
        backend = self.app.backend
        self.app.call_backend(lambda: backend.list_exceptions(), self._show, group="inbox")

    def _show(self, items: list[ExceptionItem]) -> None:
        self.items = list(items)
        self.loaded = True
        table = self.query_one("#inbox", DataTable)
        row = table.cursor_row
        table.clear()
        for i, it in enumerate(self.items):
            cells = [text(age_text(it.age_seconds), justify="right"), text(it.order_ref, "bold"),
                     text(KIND_LABEL.get(it.kind, it.kind)), text(it.customer_name)]
            if not self._narrow:
                cells.append(stage_text(it.stage))
            cells.append(text(it.detail))
            table.add_row(*cells, key=str(i))
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        n = len(self.items)
        msg = (f"{n} order{'s' if n != 1 else ''} need a person · oldest first · Enter opens" if n
               else "Nothing needs a person right now.")
        self.query_one("#inbox-status", Label).update(text(msg, "dim"))
        self._detail()
        self.refresh_bindings()

    def _current(self) -> ExceptionItem | None:
        table = self.query_one("#inbox", DataTable)
        if not table.row_count or not self.items:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.items[int(str(key))]

    def _detail(self) -> None:
        it = self._current()
        out = Text()
        if it is not None:
            out.append_text(text(f"{it.order_ref} · {it.title}", "bold"))
            out.append(f" · since {it.since:%Y-%m-%d %H:%M} UTC", "dim")
            out.append("\n")
            out.append_text(text(it.detail, one_line=False))
        self.query_one("#inbox-detail", Static).update(out)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        it = self._current()
        if it is not None:
            self._open(it, None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in REMEDIES:
            if self.app.read_only:
                return False  # hidden: the backend refuses writes anyway
            it = self._current() if self.is_mounted else None
            if it is None:
                return None
            if action in ("substitute", "cancel_line") and it.line_id is None:
                return None  # shown dimmed: this exception is not about one line
        return True

    # -- actions ------------------------------------------------------------------------------------
    def _open(self, it: ExceptionItem, then: str | None) -> None:
        from .order import OrderScreen

        self.app.push_screen(OrderScreen(it.order_ref, then=then, line_id=it.line_id))

    def action_substitute(self) -> None:
        it = self._current()
        if it is not None and it.line_id is not None:
            self._open(it, "replace")

    def action_cancel_line(self) -> None:
        it = self._current()
        if it is not None and it.line_id is not None:
            self._open(it, "cancel_line")

    def action_appease(self) -> None:
        it = self._current()
        if it is not None:
            self._open(it, "appease")

    def action_note(self) -> None:
        it = self._current()
        if it is None:
            return
        ref, backend, actor = it.order_ref, self.app.backend, self.app.actor

        def save(note: str | None) -> None:
            if not note:
                return
            self.app.call_backend(lambda: backend.add_contact_note(ref, note, actor=actor), self._noted,
                                  group="inbox-note", on_error=self._note_failed)

        self.app.push_screen(NoteDialog(ref), save)

    def _noted(self, entry: TimelineEntry) -> None:
        self.app.notify("The note is on the order's timeline.", title="Note saved", timeout=4)
        self.load()

    def _note_failed(self, error: BackendError) -> None:
        self.app.show_error(error)

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_cursor_down(self) -> None:
        self.query_one("#inbox", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#inbox", DataTable).action_cursor_up()

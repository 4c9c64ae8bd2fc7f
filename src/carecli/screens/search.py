"""Order search: the first screen. Search as you type; results paged in a table; Enter opens.

The typed character never waits for a query. Each change of the text, stage or page asks for a
search; the query runs in a thread worker at once when none is running, and otherwise the newest
request waits for the running one and then runs (the requests in between are never run: at most one
query runs and one waits). A result is drawn only if no newer request was made since it was asked
for; after a keystroke, on the frame after the one that drew the key, so the echo never waits for the
table.
"""

from __future__ import annotations

import logging

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Label

from ..backend.errors import BackendError
from ..backend.search_types import SearchPage
from ..engine.stage import Stage
from ..widgets.badges import offline_badge, read_only_badge, stage_text
from ..widgets.money import money_text
from ..widgets.query_input import QueryInput
from ..widgets.results import Column, ResultsTable
from ..widgets.safe import INPUT_RESTRICT, text
from ..widgets.stage_filter import StageFilter
from .frames import InstantFrames
from ..widgets.footer import CareFooter

log = logging.getLogger("carecli")

STAGES = [s.value for s in Stage]
KIND_WORDS = {"ref": "order ref", "email": "email", "phone": "phone", "postcode": "postcode",
              "sku": "sku", "name": "customer name", "recent": "most recent"}


class SearchScreen(InstantFrames, Screen[None]):
    AUTO_FOCUS = "#query"
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="search.focus", tooltip="Type to search orders"),
        Binding("f3", "focus_stage", "Stage", id="search.stage", tooltip="Filter by stage"),
        Binding("pagedown,ctrl+n", "next_page", "Next page", id="search.next", tooltip="Next page of results"),
        Binding("pageup,ctrl+p", "prev_page", "Prev page", id="search.prev", show=False,
                tooltip="Previous page of results"),
        Binding("f4", "account", "Account", id="search.account",
                tooltip="Billing account of the highlighted order"),
        Binding("f5", "inbox", "Inbox", id="search.inbox", show=False,
                tooltip="Orders that need a person (exceptions inbox)"),
        Binding("ctrl+y", "copy_ref", "Copy ref", id="search.copy", show=False,
                tooltip="Copy the highlighted order ref (works over SSH)"),
        Binding("f2", "new_order", "New order", id="search.new_order", show=False,
                tooltip="Place a new order: find or create the customer first"),
        Binding("j", "cursor_down", "Down", show=False, id="search.j", tooltip="Next row"),
        Binding("k", "cursor_up", "Up", show=False, id="search.k", tooltip="Previous row"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._offset = 0
        self._page: SearchPage | None = None
        self._debounce: Timer | None = None
        self._asked = 0  # bumped by every request for results; only the newest one is drawn
        self._in_flight = False  # a query is in its worker
        self._queued = False  # a newer request waits for it
        self._typed = False  # the newest request came from a key in the search box
        self._narrow = False
        self._total_width = 13

    def compose(self) -> ComposeResult:
        with Horizontal(id="search-bar"):
            yield Label(text("Orders", "bold"), id="screen-title")
            yield QueryInput(placeholder="ref, name, email, phone, postcode or sku", id="query",
                        restrict=INPUT_RESTRICT, max_length=200)
            yield StageFilter([(s.replace("_", " ").title(), s) for s in STAGES], prompt="Any stage",
                              id="stage")
            if self.app.read_only:
                yield read_only_badge()
            yield offline_badge()
        yield ResultsTable(id="results")
        yield Label("", id="status")
        yield CareFooter()

    def _columns(self) -> None:
        """Columns sized to the terminal: at 80 columns every column stays on screen."""
        table = self.query_one("#results", ResultsTable)
        self._narrow = self.app.size.width < 106
        # Total fits "USD 99,999.99" at 80 columns and "USD 999,999.99" when wide; a larger amount
        # drops its currency code rather than being cut (widgets/money.money_text).
        wide = (("Ref", "ref", 10), ("Placed", "placed", 16), ("Customer", "customer", 22),
                ("Stage", "stage", 22), ("Total", "total", 15), ("Items", "items", 5))
        narrow = (("Ref", "ref", 9), ("Placed", "placed", 10), ("Customer", "customer", 15),
                  ("Stage", "stage", 13), ("Total", "total", 13), ("#", "items", 3))
        # The customer column takes what the terminal has beyond 80 (narrow) or 106 columns (wide):
        # at those widths every column, its padding (a space each side) and the scrollbar fit.
        spare = self.app.size.width - (80 if self._narrow else 106)
        table.set_columns([Column(label, key, width + 2 + (max(0, spare) if key == "customer" else 0))
                           for label, key, width in (narrow if self._narrow else wide)])
        self._total_width = (narrow if self._narrow else wide)[4][2]

    def on_resize(self) -> None:
        narrow = self._narrow
        self._columns()
        if self._page is not None and self._narrow != narrow:
            self._show(self._page)  # the dates' format follows the width

    def on_mount(self) -> None:
        self._columns()
        box = self.query_one("#query", QueryInput)
        box.typed = self._text_changed
        box.local_echo = self.app.settings.ui.local_echo
        first = self.app.take_first_page()
        if first is not None and first.offset == 0 and first.limit == self.app.settings.ui.page_size:
            self._show(first)  # read while the app started: in the first frame
        else:
            self._run()

    # -- searching ----------------------------------------------------------------------------------
    def _text_changed(self, _text: str) -> None:
        """The search text changed (QueryInput.typed: called before the key's echo is drawn)."""
        self._offset = 0
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        delay = self.app.settings.ui.search_debounce_ms / 1000  # float-ok: seconds for a timer
        if delay:
            self._debounce = self.set_timer(delay, lambda: self._run(typed=True))
        else:
            self._run(typed=True)

    def on_stage_filter_changed(self, event: StageFilter.Changed) -> None:
        self._offset = 0
        self._run()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        table = self.query_one("#results", ResultsTable)
        if table.row_count == 1:
            self._open(table.keys[0])
        elif table.row_count:
            table.focus()

    def _run(self, typed: bool = False) -> None:
        """Ask for the results of what is on screen now (text, stage, page); ``typed``: after a key in
        the search box, whose echo is drawn before the results."""
        self._asked += 1
        self._typed = typed
        if self._in_flight:
            self._queued = True  # run when the running query is done; only the newest request runs
            return
        self._start()

    def _start(self) -> None:
        query = self.query_one("#query", Input).value
        stage = self.query_one("#stage", StageFilter).value
        limit, offset = self.app.settings.ui.page_size, self._offset
        backend, generation, typed = self.app.backend, self._asked, self._typed
        self._in_flight, self._queued = True, False

        def search() -> tuple[int, bool, SearchPage | None, Exception | None]:
            # Every outcome comes back to _done (which starts the waiting request), errors included.
            try:
                page = backend.search_orders(query, stage=stage, limit=limit, offset=offset)
                return generation, typed, page, None
            except Exception as e:  # noqa: BLE001 - shown by _done as a titled message, never a traceback
                return generation, typed, None, e

        self.app.call_backend(search, self._done, group="search")

    def _done(self, outcome: tuple[int, bool, SearchPage | None, Exception | None]) -> None:
        generation, typed, page, error = outcome
        self._in_flight = False
        if self._queued:
            self._start()
        if generation != self._asked:
            return  # a newer request was made since: this result is stale
        if error is not None:
            if isinstance(error, BackendError):
                self.app.show_error(error)
            else:
                log.error("search failed", exc_info=error)
                self.app.show_unexpected(error)
            self.app.started()  # the first screen is as complete as it will be
            return
        if page is None:
            return
        if typed:
            # On the next frame: the keystroke's own frame (the echo) is not held up by the table.
            self.call_after_refresh(self._show_if_current, generation, page)
        else:
            self._show(page)  # the first page, a stage or a page key: nothing to draw before it

    def _show_if_current(self, generation: int, page: SearchPage) -> None:
        if generation == self._asked:
            self._show(page)

    def _show(self, page: SearchPage) -> None:
        self._page = page
        when = "%Y-%m-%d" if self._narrow else "%Y-%m-%d %H:%M"
        self.query_one("#results", ResultsTable).set_rows([
            (s.ref, (text(s.ref, "bold"), text(s.placed_at.strftime(when)), text(s.customer_name),
                     stage_text(s.stage), money_text(s.total, width=self._total_width),
                     text(str(s.items), justify="right")))
            for s in page.items])
        n = len(page.items)
        how = ", ".join(KIND_WORDS.get(k, k) for k in page.kinds) or "most recent"
        if n == 0:
            msg = "No orders match. Try a ref (ON-100001), a surname, an email, a phone or a postcode."
        else:
            first = page.offset + 1
            more = " · PgDn for more" if page.has_more else ""
            back = " · PgUp back" if page.offset else ""
            msg = f"{first}–{page.offset + n} · by {how}{more}{back} · Enter opens"
        # the status line's size is fixed by CSS (one line, the full width): no layout of the screen
        self.query_one("#status", Label).update(text(msg, "dim"), layout=False)
        self.app.started()  # the first results are in: what the start left for later may run now

    # -- actions ------------------------------------------------------------------------------------
    def on_results_table_selected(self, event: ResultsTable.Selected) -> None:
        self._open(event.key)

    def _open(self, ref: str) -> None:
        from .order import OrderScreen

        self.app.push_screen(OrderScreen(ref))

    def _highlighted_ref(self) -> str | None:
        return self.query_one("#results", ResultsTable).cursor_key

    def action_focus_search(self) -> None:
        self.query_one("#query", Input).focus()

    def action_focus_stage(self) -> None:
        self.query_one("#stage", StageFilter).focus()

    def action_choose_stage(self) -> None:
        """The list of stages, under the filter (its module is imported now, not with this screen)."""
        from textual.geometry import Offset

        from .stage_picker import StagePicker

        stage_filter = self.query_one("#stage", StageFilter)
        region = stage_filter.region
        at = Offset(max(0, min(region.x, self.size.width - 28)), region.bottom)

        def chosen(value: str | None | bool) -> None:
            if value is not False:
                stage_filter.value = value  # type: ignore[assignment]
            stage_filter.focus()

        self.app.push_screen(StagePicker(stage_filter.options, stage_filter.value, stage_filter.prompt, at),
                             chosen)

    def action_next_page(self) -> None:
        if self._page and self._page.has_more:
            self._offset += self.app.settings.ui.page_size
            self._run()

    def action_prev_page(self) -> None:
        if self._offset:
            self._offset = max(0, self._offset - self.app.settings.ui.page_size)
            self._run()

    def action_cursor_down(self) -> None:
        self.query_one("#results", ResultsTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#results", ResultsTable).action_cursor_up()

    def action_account(self) -> None:
        ref = self._highlighted_ref()
        if ref:
            from .account import open_account_for_order

            open_account_for_order(self.app, ref)

    def action_inbox(self) -> None:
        from .inbox import InboxScreen

        self.app.push_screen(InboxScreen())

    def action_copy_ref(self) -> None:
        ref = self._highlighted_ref()
        if ref:
            self.app.copy_ref(ref)

    def action_new_order(self) -> None:
        from .customer import CustomerDialog
        from .new_order import open_new_order

        def chosen(c) -> None:
            if c is not None:
                open_new_order(self.app, c.customer_id, c.account_id, c.address, c.market)

        self.app.push_screen(CustomerDialog(), chosen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_order":
            return not self.app.read_only  # hidden for read-only users; the backend refuses anyway
        # j/k move the table only while it has focus; in the search box they are letters.
        if action in ("cursor_down", "cursor_up"):
            return isinstance(self.focused, ResultsTable)
        return True

"""The order: header, lines (and what each may still have changed), fulfilment, money, timeline — and
the amend session: stage changes through dialogs, watch the live preview, commit as one change.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static, TabbedContent, TabPane, Tabs

from ..backend.contract import (
    BackendError, CommitResult, OrderView, PaymentDeclined, RuleViolations, TimelineEntry, VersionConflict,
)
from ..engine.amend import line_locks, order_locks
from ..engine.commands import Amendment, CancelOrder, ChangeQuantity, RemoveLine, describe
from ..engine.model import ClickAndCollect, HomeDelivery, Line, line_status
from ..engine.pricing import PricingError
from ..widgets.badges import offline_badge, read_only_badge, stage_text
from ..widgets.money import money_text
from ..widgets.safe import text
from ..widgets.waterfall import document_lines, preview, totals_table
from .returns import ReturnsPane
from .session import AmendSession
from .frames import InstantFrames
from ..widgets.footer import CareFooter

# The tabs, in order; the keys 1 … 6 show them. Every letter a tab's name starts with is already an
# amendment's or a return's key, and Alt+digit does not reach the app in xterm-style terminals (Textual
# reads ESC 1 as the macOS Option character "¡"), so plain digits: nothing else on this screen takes them.
TABS = (("tab-lines", "Lines"), ("tab-fulfilment", "Fulfilment"), ("tab-money", "Money"), ("tab-amend", "Amend"),
        ("tab-timeline", "Timeline"), ("tab-returns", "Returns"))
AMEND_ACTIONS = {"quantity", "replace", "add_line", "remove", "address", "shipping", "pickup", "switch",
                 "cancel", "appease", "undo", "commit"}


class OrderScreen(InstantFrames, Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="order.back", tooltip="Back to search"),
        Binding("q", "quantity", "Qty", id="order.quantity", tooltip="Change the highlighted line's quantity"),
        Binding("r", "replace", "Replace", id="order.replace", tooltip="Swap the highlighted line's product (size, colour)"),
        Binding("a", "add_line", "Add", id="order.add", tooltip="Add a line from the catalog"),
        Binding("x", "remove", "Remove", id="order.remove", tooltip="Remove the highlighted line"),
        Binding("d", "address", "Address", id="order.address", tooltip="Change the delivery address"),
        Binding("s", "shipping", "Ship", id="order.shipping", tooltip="Change the shipping method"),
        Binding("l", "pickup", "Store", id="order.pickup", tooltip="Change the click & collect store"),
        Binding("w", "switch", "Deliver/Collect", id="order.switch", show=False,
                tooltip="Switch between home delivery and click & collect"),
        Binding("c", "cancel", "Cancel order", id="order.cancel", show=False, tooltip="Cancel the whole order"),
        Binding("g", "appease", "Goodwill", id="order.appease", tooltip="Appeasement: a credit or a discount"),
        Binding("u", "undo", "Undo", id="order.undo", tooltip="Take back the highlighted (or last) staged change"),
        Binding("ctrl+s,f10", "commit", "Commit", id="order.commit", tooltip="Commit the staged changes as one change"),
        Binding("b", "account", "Account", id="order.account", tooltip="Open the customer's billing account"),
        Binding("ctrl+r", "reload", "Reload", id="order.reload", show=False, tooltip="Read the order again"),
        Binding("ctrl+y", "copy_ref", "Copy ref", id="order.copy", show=False,
                tooltip="Copy the order ref (works over SSH)"),
        Binding("n", "replacement", "Replacement", id="order.replacement", show=False,
                tooltip="A no-charge replacement order for chosen lines (e.g. lost in transit)"),
        Binding("o", "reorder", "Re-order", id="order.reorder", show=False,
                tooltip="Place this cancelled order again, re-priced at today's prices"),
        Binding("down", "into_tab", "Into tab", id="order.into_tab", show=False,
                tooltip="From the tab row: into the tab shown (its table, or its text to scroll)"),
        *[Binding(str(n), f"show_tab('{pane}')", label, id=f"order.tab_{pane.removeprefix('tab-')}",
                  show=False, tooltip=f"Show the {label} tab")
          for n, (pane, label) in enumerate(TABS, 1)],
    ]

    def __init__(self, ref: str, *, then: str | None = None, line_id: int | None = None) -> None:
        super().__init__()
        self.ref = ref
        self.session: AmendSession | None = None
        self._narrow = False
        self._then, self._then_line = then, line_id  # a remedy to start once read (the exceptions inbox)

    # -- layout -------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="order-header"):
            yield Label(text(f"Order {self.ref}", "bold"), id="order-title")
            if self.app.read_only:
                yield read_only_badge()
            yield offline_badge()
        with TabbedContent(id="order-tabs", initial="tab-lines"):
            with TabPane("Lines", id="tab-lines"):
                yield DataTable(id="lines", cursor_type="row", zebra_stripes=True)
                yield Static("", id="line-why")
            with TabPane("Fulfilment", id="tab-fulfilment"):
                yield VerticalScroll(Static("", id="fulfilment"))
            with TabPane("Money", id="tab-money"):
                yield VerticalScroll(Static("", id="money"))
            with TabPane("Amend", id="tab-amend"):
                yield DataTable(id="staged", cursor_type="row")
                yield VerticalScroll(Static("", id="preview"), id="preview-scroll")
            with TabPane("Timeline", id="tab-timeline"):
                yield DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
            with TabPane("Returns", id="tab-returns"):
                yield ReturnsPane(self.ref)
        yield CareFooter()

    def _line_columns(self) -> None:
        """Columns sized to the terminal: at 80 columns every column stays on screen."""
        lines = self.query_one("#lines", DataTable)
        self._narrow = self.app.size.width < 104
        wide = (("#", "id", 3), ("Item", "item", 34), ("Unit", "unit", 12), ("Qty", "qty", 4),
                ("Status", "status", 24), ("Total", "total", 12))
        narrow = (("#", "id", 2), ("Item", "item", 23), ("Unit", "unit", 10), ("Qty", "qty", 3),
                  ("Status", "status", 14), ("Total", "total", 10))
        lines.clear(columns=True)
        for label, key, width in (narrow if self._narrow else wide):
            lines.add_column(label, key=key, width=width)

    def on_resize(self) -> None:
        if self.session is not None and (self.app.size.width < 104) != self._narrow:
            self._line_columns()
            self._render_lines()

    def on_mount(self) -> None:
        self._line_columns()
        staged = self.query_one("#staged", DataTable)
        staged.add_column("#", key="n", width=3)
        staged.add_column("Staged change", key="what")
        tl = self.query_one("#timeline", DataTable)
        tl.add_column("When (UTC)", key="at", width=16)
        tl.add_column("What", key="kind", width=12)
        tl.add_column("", key="title", width=60)
        self.load()

    # -- reading ------------------------------------------------------------------------------------
    def load(self) -> None:
        backend, ref = self.app.backend, self.ref

        def read():
            return backend.get_order(ref), self.app.reference(), backend.get_timeline(ref)

        self.app.call_backend(read, self._loaded, group="order-load", on_error=self._load_failed)

    def _load_failed(self, error: BackendError) -> None:
        self.app.show_error(error)
        if self.session is None:
            self.app.pop_screen()

    def _loaded(self, result: tuple[OrderView, object, list[TimelineEntry]]) -> None:
        view, reference, timeline = result
        if self.session is None:
            self.session = AmendSession(view=view, reference=reference, role=self.app.role)  # type: ignore[arg-type]
        else:
            problems = self.session.rebase(view, self.app.clock())
            if problems:
                self.app.notify("\n".join(v.message for v in problems), title="Staged changes no longer fit",
                                severity="warning", timeout=10)
        self._render_all(timeline)
        self.query_one(ReturnsPane).reload()
        self.refresh_bindings()  # the amend keys were dimmed until the order was read
        if self._then and not self.app.read_only:
            then, self._then = self._then, None
            self._start_remedy(then, self._then_line)

    def _start_remedy(self, then: str, line_id: int | None) -> None:
        """Start a remedy chosen in the exceptions inbox: the line highlighted, its dialog open (or, to
        cancel the line, its unshipped units staged so the preview shows the refund)."""
        table = self.query_one("#lines", DataTable)
        if line_id is not None and self.session is not None:
            ids = [ln.line_id for ln in self.session.view.order.lines]
            if line_id in ids:
                table.move_cursor(row=ids.index(line_id))
        if then == "replace":
            self.action_replace()
        elif then == "appease":
            self.action_appease()
        elif then == "cancel_line":
            ln = self._line()
            if ln is None or ln.quantity <= 0:
                return
            keep = ln.progressed
            live = [x for x in self.session.view.order.lines if x.quantity > 0] if self.session else []
            if keep == 0 and len(live) == 1:
                self.action_cancel()  # the last live line: cancelling it is cancelling the order (confirmed)
            else:
                self.stage(RemoveLine(line_id=ln.line_id) if keep == 0
                           else ChangeQuantity(line_id=ln.line_id, quantity=keep))

    def _render_all(self, timeline: list[TimelineEntry] | None = None) -> None:
        s = self.session
        if s is None:
            return
        o, c = s.view.order, s.view.customer
        title = Text()
        title.append(o.ref, "bold")
        title.append("  ")
        title.append_text(stage_text(s.view.stage))
        title.append("  ")
        title.append_text(text(c.name, "bold"))
        title.append(f"  {o.market} {o.currency} · v{o.version}", "dim")
        for link in s.view.links:
            words = {("replacement", "from"): "replaced by", ("replacement", "to"): "replaces",
                     ("reorder", "from"): "re-ordered as", ("reorder", "to"): "re-order of",
                     ("exchange", "from"): "exchanged for", ("exchange", "to"): "exchange for"}
            title.append(f" · {words.get((link.kind, link.direction), link.kind)} ", "dim")
            title.append(link.ref, "bold")
        self.query_one("#order-title", Label).update(title)
        self._render_lines()
        self._render_fulfilment()
        self._render_money()
        self._render_session()
        if timeline is not None:
            self._render_timeline(timeline)

    def _render_lines(self) -> None:
        s = self.session
        assert s is not None
        table = self.query_one("#lines", DataTable)
        row = table.cursor_row
        table.clear()
        collect = s.view.order.fulfilment.kind == "CLICK_AND_COLLECT"
        priced = s.totals()
        totals = None if isinstance(priced, PricingError) else priced
        for ln in s.view.order.lines:
            lp = totals.line(ln.line_id) if totals else None
            style = "dim" if ln.quantity <= 0 else ""
            table.add_row(text(str(ln.line_id), style), text(ln.description, style), money_text(ln.unit_price),
                          text(str(ln.quantity), style, justify="right"),
                          stage_text(line_status(ln, collect)), money_text(lp.total if lp else None),
                          key=str(ln.line_id))
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self._render_line_why()

    def _render_line_why(self) -> None:
        ln = self._line()
        s = self.session
        why = self.query_one("#line-why", Static)
        if ln is None or s is None:
            why.update("")
            return
        locks = line_locks(s.view.order, ln.line_id)
        out = Text()
        out.append(f"Line {ln.line_id}: ", "bold")
        out.append_text(text(ln.description))
        buckets = [f"{name} {getattr(ln, name)}" for name in ("allocated", "picked", "packed", "dispatched",
                                                               "delivered", "cancelled", "returned")
                   if getattr(ln, name)]
        if buckets:
            out.append("  (" + ", ".join(buckets) + ")", "dim")
        if locks["quantity"]:
            out.append("\n")
            out.append_text(text(locks["quantity"], "dim"))
        elif self.app.read_only:
            out.append("\nread-only: nothing can be changed here", "dim")
        else:
            out.append(f"\nq quantity (down to {locks['min_quantity']})", "green")
            for key, action in (("r", "replace"), ("x", "remove")):
                reason = locks[action]
                if reason:
                    out.append(f"\n{key} {action}: locked — ", "yellow")
                    out.append_text(text(reason, "yellow"))
                else:
                    out.append(f" · {key} {action}", "green")
        why.update(out)

    def _render_fulfilment(self) -> None:
        s = self.session
        assert s is not None
        o, ref = s.view.order, s.reference
        f = o.fulfilment
        out = Text()
        if isinstance(f, HomeDelivery):
            m = ref.policy.shipping_method(f.shipping_method)
            out.append("Home delivery", "bold")
            out.append("  ")
            out.append_text(text(m.name if m else f.shipping_method))
            out.append("\n")
            out.append_text(text(f.address.name))
            out.append("\n")
            out.append_text(text(f.address.one_line()))
            if f.address.phone:
                out.append("\n")
                out.append_text(text(f.address.phone, "dim"))
        elif isinstance(f, ClickAndCollect):
            loc = ref.location_map().get(f.location_id)
            out.append("Click & collect", "bold")
            out.append("\n")
            out.append_text(text(loc.name if loc else f.location_id))
            if loc:
                out.append("\n")
                out.append_text(text(loc.address.one_line()))
                for h in loc.hours:
                    out.append("\n  ")
                    out.append_text(text(f"{h.day} {h.opens}–{h.closes}", "dim"))
        out.append("\n\n")
        for name, why in order_locks(o).items():
            label = name.replace("_", " ")
            if why is None:
                out.append(f"✓ {label}\n", "green")
            else:
                out.append(f"✗ {label}: ", "yellow")
                out.append_text(text(why, "dim"))
                out.append("\n")
        self.query_one("#fulfilment", Static).update(out)

    def _render_money(self) -> None:
        s = self.session
        assert s is not None
        o = s.view.order
        parts: list = []
        priced = s.totals()
        if isinstance(priced, PricingError):
            parts.append(text(f"This order cannot be priced: {priced.message}", "red"))
        else:
            parts.append(totals_table(priced, o))
        parts.append(Text("\nDocuments", "bold underline"))
        parts.extend(document_lines(o.documents, s.view.account) or [Text("none", "dim")])
        self.query_one("#money", Static).update(Group(*parts))

    def _render_session(self) -> None:
        s = self.session
        assert s is not None
        table = self.query_one("#staged", DataTable)
        table.clear()
        descs = {ln.line_id: ln.description for ln in s.view.order.lines}
        changes = s.preview.changes if s.preview else ()
        for i, a in enumerate(s.staged):
            what = changes[i] if i < len(changes) else describe(a, descs)
            table.add_row(text(str(i + 1)), text(what), key=str(i))
        tabs = self.query_one("#order-tabs", TabbedContent)
        tabs.get_tab("tab-amend").label = f"Amend ({len(s.staged)})" if s.staged else "Amend"
        body = self.query_one("#preview", Static)
        if s.preview is None:
            body.update(Text("Nothing staged. Stage changes with the keys below (F1 lists them); they are "
                             "previewed here together and committed as one change with Ctrl+S.", "dim"))
        else:
            body.update(preview(s.preview, s.view.account))

    def _render_timeline(self, entries: list[TimelineEntry]) -> None:
        table = self.query_one("#timeline", DataTable)
        table.clear()
        for i, e in enumerate(entries):
            kind = text(e.kind)
            if e.kind == "notification" and e.delivery:  # a message: its delivery state up front
                word = e.delivery.split(" ")[0].rstrip(":")
                kind = text(f"✉ {'gave up' if word == 'gave' else word}",
                            "bold red" if word in ("failed", "gave", "uncertain") else "")
            table.add_row(text(e.at.strftime("%Y-%m-%d %H:%M")), kind,
                          text(e.title + (f" — {e.detail}" if e.detail else "")
                               + (f" · {e.delivery}" if e.delivery else "")), key=str(i))

    # -- helpers ------------------------------------------------------------------------------------
    def _line(self) -> Line | None:
        if self.session is None:
            return None
        table = self.query_one("#lines", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.session.view.order.line(int(str(key)))

    def action_show_tab(self, pane: str) -> None:
        """1 … 6: show the tab and put the focus in it (its table, or its text to scroll)."""
        tabs = self.query_one("#order-tabs", TabbedContent)
        if pane not in {p for p, _ in TABS}:
            return
        tabs.active = pane
        if pane == "tab-returns":
            self.query_one("#ret-lines", DataTable).focus()
            return
        target = tabs.get_pane(pane).query("DataTable, VerticalScroll").first()
        target.focus()

    def _on_tab_row(self) -> bool:
        """The focus is on the order's tab row (the TabbedContent's tabs)."""
        f = self.focused
        return isinstance(f, Tabs) and getattr(f.parent, "id", None) == "order-tabs"

    def action_into_tab(self) -> None:
        if self._on_tab_row():
            self.action_show_tab(self.query_one("#order-tabs", TabbedContent).active)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-returns":  # its keys work from its tables
            self.query_one("#ret-lines", DataTable).focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "lines":
            self._render_line_why()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "into_tab":  # Down works (and shows in F1) only on the tab row
            return self._on_tab_row()
        if action in ("replacement", "reorder"):
            if self.app.read_only:
                return False
            if self.session is None:
                return None
            cancelled = self.session.view.stage == "CANCELLED"
            return (cancelled if action == "reorder" else not cancelled) or None
        if action in AMEND_ACTIONS:
            if self.app.read_only:
                return False  # hidden: supervisors read; the backend refuses writes anyway
            if self.session is None:
                return None  # shown dimmed until the order is loaded
            if action in ("undo", "commit") and not self.session.staged:
                return None
        return True

    def stage(self, amendment: Amendment | None) -> None:
        """Stage a dialog's result; a refused amendment is not kept and its reason is shown."""
        if amendment is None or self.session is None:
            return
        problems = self.session.stage(amendment, self.app.clock())
        if problems:
            self.app.notify("\n".join(v.message for v in problems), title="Not allowed", severity="warning",
                            timeout=10)
            return
        self._render_session()
        self.query_one("#order-tabs", TabbedContent).active = "tab-amend"
        staged = self.query_one("#staged", DataTable)
        staged.move_cursor(row=staged.row_count - 1)  # u takes back the newest unless another is chosen
        self.refresh_bindings()

    # -- amendment actions (each opens a dialog that returns an Amendment or None) --------------------
    def _dialogs(self):
        from . import dialogs

        return dialogs

    def action_quantity(self) -> None:
        ln = self._line()
        if ln is None or self.session is None:
            return
        locks = line_locks(self.session.view.order, ln.line_id)
        if locks["quantity"]:
            self.app.notify(locks["quantity"], title="Not allowed", severity="warning")
            return
        mx = self.session.reference.policy.amendments.max_quantity
        self.app.push_screen(self._dialogs().QuantityDialog(ln, int(locks["min_quantity"] or 1), mx), self.stage)

    def action_replace(self) -> None:
        ln = self._line()
        if ln is None or self.session is None:
            return
        why = line_locks(self.session.view.order, ln.line_id)["replace"]
        if why:
            self.app.notify(why, title="Not allowed", severity="warning")
            return
        self.app.push_screen(self._dialogs().VariantDialog(self.session.view.order, self.session.reference, ln),
                             self.stage)

    def action_add_line(self) -> None:
        if self._order_lock("add_line"):
            return
        assert self.session is not None
        self.app.push_screen(self._dialogs().VariantDialog(self.session.view.order, self.session.reference, None),
                             self.stage)

    def action_remove(self) -> None:
        ln = self._line()
        if ln is not None:
            self.stage(RemoveLine(line_id=ln.line_id))

    def action_address(self) -> None:
        if self._order_lock("address_minor") or self.session is None:
            return
        self.app.push_screen(self._dialogs().AddressDialog(self.session.view.order, self.session.reference),
                             self.stage)

    def action_shipping(self) -> None:
        if self._order_lock("shipping_method") or self.session is None:
            return
        self.app.push_screen(self._dialogs().ShippingDialog(self.session.view.order, self.session.reference),
                             self.stage)

    def action_pickup(self) -> None:
        if self._order_lock("pickup_location") or self.session is None:
            return
        self.app.push_screen(self._dialogs().PickupDialog(self.session.view.order, self.session.reference),
                             self.stage)

    def action_switch(self) -> None:
        if self._order_lock("switch_fulfilment") or self.session is None:
            return
        self.app.push_screen(self._dialogs().SwitchDialog(self.session.view.order, self.session.reference),
                             self.stage)

    def action_cancel(self) -> None:
        if self._order_lock("cancel_order") or self.session is None:
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.stage(CancelOrder())

        self.app.push_screen(self._dialogs().ConfirmDialog(
            f"Cancel order {self.session.view.order.ref}?",
            "Every line is cancelled and the money goes back as the preview will show. Nothing happens "
            "until you commit."), confirmed)

    def action_appease(self) -> None:
        if self.session is None:
            return
        # The order as staged so far, so "already granted" counts appeasements staged in this session too.
        working = self.session.preview.order_after if self.session.preview else self.session.view.order
        self.app.push_screen(self._dialogs().AppeasementDialog(working, self.session.reference,
                                                                 self.session.role), self.stage)

    def _order_lock(self, name: str) -> bool:
        if self.session is None:
            return True
        why = order_locks(self.session.view.order)[name]
        if why:
            self.app.notify(why, title="Not allowed", severity="warning")
            return True
        return False

    def action_undo(self) -> None:
        s = self.session
        if s is None or not s.staged:
            return
        table = self.query_one("#staged", DataTable)
        on_amend = self.query_one("#order-tabs", TabbedContent).active == "tab-amend"
        index = table.cursor_row if on_amend and table.row_count else len(s.staged) - 1
        problems = s.unstage(index, self.app.clock())
        if problems:
            self.app.notify("\n".join(v.message for v in problems), title="Cannot take that back alone",
                            severity="warning", timeout=10)
        self._render_session()
        self.refresh_bindings()

    # -- commit ---------------------------------------------------------------------------------------
    def action_commit(self) -> None:
        s = self.session
        if s is None or not s.staged or s.preview is None:
            return
        if getattr(self.app, "offline", False):
            self.app.notify("The server does not answer, so nothing can be committed now. Your staged "
                            "changes are kept: commit again when the OFFLINE badge is gone.",
                            title="Offline", severity="warning", timeout=10)
            return
        reasons = list(s.reference.policy.reasons_for(s.reason_kind))
        self.app.push_screen(self._dialogs().CommitDialog(reasons, list(s.preview.changes), s.preview.delta),
                             self._commit_with)

    def _commit_with(self, answer: tuple[str, str] | None) -> None:
        s = self.session
        if answer is None or s is None:
            return
        reason, note = answer
        request = s.request(reason, note, self.app.actor)
        backend = self.app.backend
        self.app.call_backend(lambda: backend.commit(request), self._committed, group="commit",
                              on_error=self._commit_failed)

    def _committed(self, result: CommitResult) -> None:
        docs = ", ".join(f"{d.id}" for d in result.documents) or "no money moved"
        self.app.notify(f"Order {result.order.ref} is now version {result.order.version}: {docs}. "
                        f"{len(result.notifications)} message(s) queued for the customer.",
                        title="Committed", severity="information", timeout=8)
        if self.session is not None:
            self.session.staged.clear()
            self.session.preview = None
        self.load()

    def _commit_failed(self, error: BackendError) -> None:
        if isinstance(error, VersionConflict):
            self.app.push_screen(self._dialogs().ConflictDialog(self.ref, error))
            self.load()  # rebases the staged changes on the new version; the agent must commit again
            return
        if isinstance(error, RuleViolations):
            self.app.notify("\n".join(v.message for v in error.violations), title=error.title, severity="error",
                            timeout=12)
            return
        if isinstance(error, PaymentDeclined):
            self.app.notify(error.message, title=error.title, severity="error", timeout=12)
            return
        self.app.show_error(error)

    # -- navigation -----------------------------------------------------------------------------------
    def action_back(self) -> None:
        if self.session and self.session.staged:
            def leave(ok: bool | None) -> None:
                if ok:
                    self.app.pop_screen()

            self.app.push_screen(self._dialogs().ConfirmDialog(
                "Leave without committing?", f"{len(self.session.staged)} staged change(s) will be dropped."),
                leave)
            return
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.load()

    def action_account(self) -> None:
        if self.session:
            from .account import AccountScreen

            self.app.push_screen(AccountScreen(self.session.view.account.id, order_ref=self.ref))

    def action_copy_ref(self) -> None:
        self.app.copy_ref(self.ref)

    # -- new orders from this one (screens/new_order.py) ----------------------------------------------
    def action_replacement(self) -> None:
        if self.session is not None and self.check_action("replacement", ()):
            from .new_order import open_linked_order

            open_linked_order(self.app, self.session.view, "replacement")

    def action_reorder(self) -> None:
        if self.session is not None and self.check_action("reorder", ()):
            from .new_order import open_linked_order

            open_linked_order(self.app, self.session.view, "reorder")

"""The order's Returns tab: which delivered lines can come back (and the rule that decided it), a draft
return with its refund preview, and the order's return orders moved through their steps.

Keys (active while the tab has the focus): Enter on a line puts it on the draft return (quantity,
reason, condition, comment; an override reason where policy lets the role override the failed rule),
``n`` creates the return, and on a return order ``e`` receives it, ``v`` verifies it line by line,
``f`` refunds it (card or store credit, with every figure first) — labelled Settle on an exchange,
whose difference in price it settles — ``z`` closes it. Read-only hides them.

The refund preview is the engine's own :func:`carecli.engine.returns.refund_breakdown`, the function
the store runs when it refunds; every write goes through the backend contract in a worker. The tab's
dialogs are in ``screens/dialogs/returns.py``; the tables and words both show, in
``screens/returns_tables.py``.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, Static

from ..backend.contract import (
    BackendError, CreateExchangeRequest, CreateReturnRequest, RefundReturnRequest, ReturnEligibility, ReturnResult,
    ReturnStepRequest, RuleViolations, VerifyReturnRequest, VersionConflict,
)
from ..engine.pricing import PricingError
from ..engine.returns import LineEligibility, Override, ReturnLineRequest, ReturnOrder, preview_lines, refund_breakdown
from ..widgets import safe
from ..widgets.money import fmt
from .dialogs.returns import ExchangeDialog, RefundDialog, ReturnLineDialog, SettleExchangeDialog, VerifyDialog
from .returns_tables import (
    breakdown_table, card_label, new_key, returns_text, settled_money, settlement_words, shipping_note,
)

WRITE_ACTIONS = {"create", "exchange", "receive", "verify", "refund", "settle", "close_return"}


# --------------------------------------------------------------------------------------------------
# The tab
# --------------------------------------------------------------------------------------------------


class ReturnsPane(VerticalScroll):
    """The Returns tab of an order (see the module docstring)."""

    HELP_SECTION = "Returns tab"  # F1's heading over this tab's keys
    # Not a Tab stop of its own: Tab goes from the tab row to the lines, the return orders, and back.
    # Its tables bring what they explain (the rule, the refund preview, the return's detail) into view.
    can_focus = False

    DEFAULT_CSS = """
    ReturnsPane { height: 1fr; padding: 0 1; }
    ReturnsPane DataTable { height: auto; max-height: 8; }
    ReturnsPane .ret-heading { color: $text-muted; text-style: bold; margin-top: 1; }
    ReturnsPane #ret-why, ReturnsPane #ret-preview, ReturnsPane #ret-detail { height: auto; }
    """
    BINDINGS = [
        Binding("n", "create", "New return", id="returns.create", tooltip="Create the draft return (RO, RMA)"),
        Binding("t", "exchange", "Exchange", id="returns.exchange",
                tooltip="Exchange the draft lines for other products (a new, linked order)"),
        Binding("e", "receive", "Received", id="returns.receive", tooltip="Mark the highlighted return received"),
        Binding("v", "verify", "Verify", id="returns.verify", tooltip="Accept or reject each line of the return"),
        # One key, labelled for what it does on the highlighted return: a return is refunded, an exchange
        # settled (the difference charged, refunded or nothing). check_action shows one face and hides the
        # other; they share their id, so remapping `returns.refund` moves the key with both faces.
        Binding("f", "refund", "Refund", id="returns.refund", tooltip="Refund the verified return (preview first)"),
        Binding("f", "settle", "Settle", id="returns.refund",
                tooltip="Settle the verified exchange: the difference charged, refunded or nothing (preview first)"),
        Binding("z", "close_return", "Close", id="returns.close", tooltip="Close the refunded return"),
    ]

    def __init__(self, ref: str) -> None:
        super().__init__(id="returns-pane")
        self.ref = ref
        self.eligibility: ReturnEligibility | None = None
        self.returns: list[ReturnOrder] = []
        self.draft: dict[int, ReturnLineRequest] = {}
        self.overrides: dict[int, Override] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="ret-links")
        yield Label("Delivered lines — Enter puts one on the draft return", classes="ret-heading")
        yield DataTable(id="ret-lines", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ret-why")
        yield Static("", id="ret-preview")
        yield Label("Return orders", classes="ret-heading")
        yield DataTable(id="ret-list", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ret-detail")

    def on_mount(self) -> None:
        lines = self.query_one("#ret-lines", DataTable)
        for label, key, width in (("#", "id", 2), ("Item", "item", 26), ("Dlv", "dlv", 3), ("Can", "can", 3),
                                  ("Rule", "rule", 22), ("Draft", "draft", 5)):
            lines.add_column(label, key=key, width=width)
        lst = self.query_one("#ret-list", DataTable)
        for label, key, width in (("Return", "id", 9), ("RMA", "rma", 13), ("State", "state", 16),
                                  ("Units", "units", 5), ("Refund", "refund", 14)):
            lst.add_column(label, key=key, width=width)

    # -- data -----------------------------------------------------------------------------------------
    @property
    def session(self):
        return getattr(self.screen, "session", None)

    def reload(self) -> None:
        backend, ref = self.app.backend, self.ref  # type: ignore[attr-defined]
        self.app.call_backend(lambda: (backend.return_eligibility(ref), backend.list_returns(ref)),  # type: ignore[attr-defined]
                              self._loaded, group="returns-load")

    def _loaded(self, result: tuple[ReturnEligibility, list[ReturnOrder]]) -> None:
        self.eligibility, self.returns = result
        by_id = {e.line_id: e for e in self.eligibility.lines}
        for lid in list(self.draft):  # what no longer fits drops off the draft
            e = by_id.get(lid)
            if e is None or self.draft[lid].quantity > e.available:
                self.draft.pop(lid)
                self.overrides.pop(lid, None)
        self.render_all()
        self.screen.refresh_bindings()

    def render_all(self) -> None:
        self._render_links()
        self._render_lines()
        self._render_preview()
        self._render_list()

    def _render_links(self) -> None:
        s = self.session
        links = getattr(s.view, "links", ()) if s is not None else ()
        box = self.query_one("#ret-links", Static)
        box.display = bool(links)
        out = Text()
        for lk in links:
            out.append(f"{lk.kind.capitalize()} ", "bold")
            out.append(f"{'→ new order' if lk.direction == 'from' else 'of order'} {lk.ref}  ")
        box.update(out)

    def _render_lines(self) -> None:
        table = self.query_one("#ret-lines", DataTable)
        row = table.cursor_row
        table.clear()
        if self.eligibility is None:
            return
        for e in self.eligibility.lines:
            style = "green" if e.returnable else ("yellow" if e.overridable else "dim")
            d = self.draft.get(e.line_id)
            table.add_row(safe.text(str(e.line_id)), safe.text(e.description), Text(str(e.delivered), justify="right"),
                          Text(str(e.available), justify="right"), Text(e.rule.removeprefix("return."), style),
                          Text(str(d.quantity) if d else "", "bold", justify="right"), key=str(e.line_id))
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self._render_why()

    def _current_line(self) -> LineEligibility | None:
        table = self.query_one("#ret-lines", DataTable)
        if self.eligibility is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((e for e in self.eligibility.lines if str(e.line_id) == key), None)

    def _render_why(self) -> None:
        e = self._current_line()
        out = Text()
        if e is not None:
            out.append(f"{e.rule}: ", "bold")
            out.append_text(safe.text(e.message))
            if not e.returnable and e.overridable:
                roles = ", ".join(self.eligibility.override_roles) if self.eligibility else ""
                out.append(f"\n(overridable with a reason by: {roles or 'nobody'})", "dim")
        self.query_one("#ret-why", Static).update(out)

    def _render_preview(self) -> None:
        s = self.session
        box = self.query_one("#ret-preview", Static)
        if not self.draft or s is None:
            box.update(Text("No draft return." if not self.app.read_only else "Read-only: returns are shown, "  # type: ignore[attr-defined]
                            "not changed.", "dim"))
            return
        order, policy = s.view.order, s.reference.policy
        try:
            b = refund_breakdown(order, preview_lines(order, list(self.draft.values()), policy), policy,
                                 s.reference.location_map())
        except PricingError as e:
            box.update(safe.text(f"No refund preview: {e.message}", "red"))
            return
        head = Text("Draft return — refund if every line is accepted (n creates it)", "bold")
        box.update(Group(head, breakdown_table(b, card_label(order, s.view.account)), shipping_note(b)))

    def _render_list(self) -> None:
        table = self.query_one("#ret-list", DataTable)
        row = table.cursor_row
        table.clear()
        for r in self.returns:
            cell = settled_money(r)
            cell.justify = "right"
            table.add_row(Text(r.id), Text(r.rma), Text(r.state), Text(str(r.units), justify="right"), cell,
                          key=r.id)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self._render_detail()

    def _current_return(self) -> ReturnOrder | None:
        table = self.query_one("#ret-list", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.returns if r.id == key), None)

    def _render_detail(self) -> None:
        r = self._current_return()
        out = Text()
        if r is None:
            out.append("No return orders on this order yet.", "dim")
        else:
            out.append(f"{r.id} · {r.rma} · {r.state}" + (f" · exchange → {r.exchange_order_ref}"
                                                           if r.kind == "EXCHANGE" else "") + "\n", "bold")
            for rl in r.lines:
                out.append_text(safe.text(f"  line {rl.line_id}: {rl.quantity} × {rl.description} · {rl.reason_code}"
                                          f" · {rl.condition}" + (f" · “{rl.comment}”" if rl.comment else "")))
                if rl.verdict != "PENDING":
                    out.append(f" · {rl.verdict.lower()}", "green" if rl.verdict == "ACCEPTED" else "yellow")
                    if rl.verdict_note:
                        out.append_text(safe.text(f" ({rl.verdict_note})", "dim"))
                out.append("\n")
            for o in r.overrides:
                out.append_text(safe.text(f"  override {o.rule} on line {o.line_id} by {o.actor}: {o.reason}\n", "dim"))
            if r.kind == "EXCHANGE" and r.state in ("REFUNDED", "CLOSED"):
                out.append(f"  settled: {settlement_words(r)}\n")
            nxt = {"AWAITING_RECEIPT": "e when the parcel arrives", "RECEIVED": "v to verify each line",
                   "VERIFIED": "f to refund (or z to close if every line was rejected)", "REFUNDED": "z to close"}
            if r.kind == "EXCHANGE":
                nxt["VERIFIED"] = "f to settle the exchange"
            if r.state in nxt and not self.app.read_only:  # type: ignore[attr-defined]
                out.append(f"  next: {nxt[r.state]}", "dim")
        self.query_one("#ret-detail", Static).update(out)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "ret-lines":
            self._render_why()
        else:
            self._render_detail()
        self.screen.refresh_bindings()
        if event.data_table.has_focus:
            self.call_after_refresh(self.reveal, event.data_table)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, DataTable):
            self.call_after_refresh(self.reveal, event.widget)

    def reveal(self, table: DataTable) -> None:
        """Scroll so the focused table and the text under it that explains its row are in view, the
        table's top first: the pane itself takes no focus, so the keys cannot scroll it."""
        below = {"ret-lines": ("#ret-why", "#ret-preview"), "ret-list": ("#ret-detail",)}.get(table.id or "", ())
        region = table.virtual_region_with_margin
        for selector in below:
            region = region.union(self.query_one(selector).virtual_region_with_margin)
        self.scroll_to_region(region, animate=False, immediate=True)

    # -- draft ----------------------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#ret-lines")
    def _line_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.app.read_only or self.session is None:  # type: ignore[attr-defined]
            return
        e = self._current_line()
        if e is None:
            return
        roles = self.eligibility.override_roles if self.eligibility else ()
        may_override = e.overridable and self.app.role in roles  # type: ignore[attr-defined]
        if not e.returnable and not may_override:
            extra = f" Only {', '.join(roles)} may override it." if e.overridable else ""
            self.app.notify(e.message + extra, title=f"Not returnable ({e.rule})", severity="warning", timeout=8)
            return
        if e.available <= 0:
            self.app.notify(e.message, title=f"Not returnable ({e.rule})", severity="warning", timeout=8)
            return

        def done(answer) -> None:
            if answer is None:
                return
            req, override = answer
            if req is None:
                self.draft.pop(e.line_id, None)
                self.overrides.pop(e.line_id, None)
            else:
                self.draft[e.line_id] = req
                if override is not None:
                    self.overrides[e.line_id] = override
            self._render_lines()
            self._render_preview()
            self.screen.refresh_bindings()

        self.app.push_screen(ReturnLineDialog(e, self.session.reference.policy, self.draft.get(e.line_id),
                                              not e.returnable), done)

    # -- actions --------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in WRITE_ACTIONS:
            return True
        if self.app.read_only:  # type: ignore[attr-defined]
            return False  # hidden; the backend refuses writes anyway
        if action in ("create", "exchange"):
            return True if self.draft else None
        r = self._current_return()
        if action in ("refund", "settle") and (action == "settle") != (r is not None and r.kind == "EXCHANGE"):
            return False  # the other face of f: Refund on a return (or none), Settle on an exchange
        want = {"receive": ("AWAITING_RECEIPT",), "verify": ("RECEIVED",), "refund": ("VERIFIED",),
                "settle": ("VERIFIED",), "close_return": ("REFUNDED", "VERIFIED")}[action]
        return True if r is not None and r.state in want else None

    def _call(self, fn, what: str) -> None:
        def ok(result: ReturnResult) -> None:
            r = result.return_order
            done = what
            money = f"; {fmt(r.refund_total)} refunded" if action_refund and r.refund_total is not None else ""
            if r.kind == "EXCHANGE" and what == "Exchange created":
                money = f"; the replacement ships as order {r.exchange_order_ref}"
            elif r.kind == "EXCHANGE" and action_refund:
                done, money = "Exchange settled", "; " + settlement_words(r)
            self.app.notify(f"{done}: {r.id} ({r.rma}) is {r.state}{money}.", title="Return", timeout=6)
            self.screen.load()  # type: ignore[attr-defined]

        action_refund = what == "Refunded"
        self.app.call_backend(fn, ok, group="returns-write", on_error=self._failed)  # type: ignore[attr-defined]

    def _failed(self, error: BackendError) -> None:
        if isinstance(error, RuleViolations):
            self.app.notify("\n".join(v.message for v in error.violations), title=error.title, severity="error",
                            timeout=12)
        elif isinstance(error, VersionConflict):
            self.app.notify(error.message + " The order was read again; check the figures and confirm again.",
                            title=error.title, severity="warning", timeout=12)
            self.screen.load()  # type: ignore[attr-defined]
        else:
            self.app.show_error(error)  # type: ignore[attr-defined]

    def action_create(self) -> None:
        s = self.session
        if not self.draft or s is None:
            return
        order = s.view.order
        req = CreateReturnRequest(order_ref=order.ref, expected_version=order.version,
                                  lines=tuple(self.draft[k] for k in sorted(self.draft)),
                                  overrides=tuple(self.overrides[k] for k in sorted(self.overrides)),
                                  idempotency_key=new_key(), actor=self.app.actor)  # type: ignore[attr-defined]
        backend = self.app.backend  # type: ignore[attr-defined]
        units = sum(r.quantity for r in req.lines)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.draft.clear()
                self.overrides.clear()
                self._call(lambda: backend.create_return(req), "Created")

        from .dialogs import ConfirmDialog

        self.app.push_screen(ConfirmDialog(
            f"Create a return of {units} unit(s) on {order.ref}?",
            "The customer is sent the RMA to write on the parcel. The refund is decided when the parcel has "
            "arrived and each line is verified."), confirmed)

    def action_exchange(self) -> None:
        s = self.session
        if not self.draft or s is None:
            return
        order = s.view.order
        draft = [self.draft[k] for k in sorted(self.draft)]
        backend = self.app.backend  # type: ignore[attr-defined]

        def chosen(reps) -> None:
            if not reps:
                return
            req = CreateExchangeRequest(order_ref=order.ref, expected_version=order.version, lines=tuple(draft),
                                        overrides=tuple(self.overrides[k] for k in sorted(self.overrides)),
                                        replacements=reps, idempotency_key=new_key(),
                                        actor=self.app.actor)  # type: ignore[attr-defined]
            self.draft.clear()
            self.overrides.clear()
            self._call(lambda: backend.create_exchange(req), "Exchange created")

        self.app.push_screen(ExchangeDialog(order, draft, s.reference, s.view.account), chosen)

    def _step(self, make, what: str) -> None:
        r = self._current_return()
        if r is None:
            return
        backend = self.app.backend  # type: ignore[attr-defined]
        req = make(r)
        self._call(lambda: getattr(backend, {"Received": "receive_return", "Closed": "close_return"}[what])(req),
                   what)

    def action_receive(self) -> None:
        self._step(lambda r: ReturnStepRequest(return_id=r.id, idempotency_key=new_key(),
                                               actor=self.app.actor), "Received")  # type: ignore[attr-defined]

    def action_close_return(self) -> None:
        self._step(lambda r: ReturnStepRequest(return_id=r.id, idempotency_key=new_key(),
                                               actor=self.app.actor), "Closed")  # type: ignore[attr-defined]

    def action_verify(self) -> None:
        r = self._current_return()
        if r is None:
            return
        backend = self.app.backend  # type: ignore[attr-defined]

        def done(verdicts) -> None:
            if verdicts:
                req = VerifyReturnRequest(return_id=r.id, verdicts=verdicts, idempotency_key=new_key(),
                                          actor=self.app.actor)  # type: ignore[attr-defined]
                self._call(lambda: backend.verify_return(req), "Verified")

        self.app.push_screen(VerifyDialog(r), done)

    def action_settle(self) -> None:
        self.action_refund()  # the settle dialog is the refund step of an exchange

    def action_refund(self) -> None:
        r, s = self._current_return(), self.session
        if r is None or s is None:
            return
        backend = self.app.backend  # type: ignore[attr-defined]
        order = s.view.order

        def done(to: str | None) -> None:
            if to:
                req = RefundReturnRequest(return_id=r.id, expected_version=order.version, refund_to=to,
                                          idempotency_key=new_key(), actor=self.app.actor)  # type: ignore[attr-defined]
                self._call(lambda: backend.refund_return(req), "Refunded")

        dialog = SettleExchangeDialog if r.kind == "EXCHANGE" else RefundDialog
        self.app.push_screen(dialog(order, s.view.account, r, s.reference.policy, s.reference.location_map(),
                                    s.context(self.app.clock())), done)  # type: ignore[attr-defined]


__all__ = ["ReturnsPane"]

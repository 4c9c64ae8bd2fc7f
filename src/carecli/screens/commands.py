"""Command palette (Ctrl+P): commands for the screen in front.

Everywhere: open an order by ref (type the ref), switch theme, start a new order. On an order: a
replacement order, or a re-order of a cancelled order. On an order: go to its billing account,
copy its ref (OSC 52, so it reaches the agent's clipboard over SSH), reload.
"""

from __future__ import annotations

import re
from functools import partial

from textual.command import Hit, Hits, Provider

_REF = re.compile(r"^(?:ON-)?\d{3,}$", re.IGNORECASE)


class CareCommands(Provider):
    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        screen = app.screen
        out: list[tuple[str, object, str]] = []
        for name in ("carecli-dark", "carecli-light", "carecli-contrast", "ansi-dark", "ansi-light"):
            out.append((f"Theme: {name}", partial(setattr, app, "theme", name), "Switch the colour theme"))
        if not app.read_only and hasattr(app, "backend"):
            out.append(("New order", self._new_order, "Find or create the customer, then place a phone order"))
            check = getattr(screen, "check_action", None)
            if hasattr(screen, "action_replacement") and check and check("replacement", ()):
                out.append((f"Replacement order for {screen.ref}", screen.action_replacement,
                            "A no-charge replacement for chosen lines"))
            if hasattr(screen, "action_reorder") and check and check("reorder", ()):
                out.append((f"Re-order {screen.ref}", screen.action_reorder,
                            "Place this cancelled order again at today's prices"))
        ref = getattr(screen, "ref", None)
        if ref:
            out.append((f"Copy order ref {ref}", partial(app.copy_ref, ref), "Copy to your clipboard (OSC 52)"))
            if hasattr(screen, "action_account"):
                out.append((f"Billing account of {ref}", screen.action_account, "Open the customer's account"))
            if hasattr(screen, "action_reload"):
                out.append((f"Reload {ref}", screen.action_reload, "Read the order again"))
        return out

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        q = query.strip().upper()
        if _REF.match(q):
            ref = q if q.startswith("ON-") else f"ON-{q}"
            yield Hit(100, f"Open order {ref}", partial(self._open, ref), help="Open the order by its ref")
        for label, callback, help_text in self._commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), callback, help=help_text)  # type: ignore[arg-type]

    async def discover(self) -> Hits:
        for label, callback, help_text in self._commands():
            yield Hit(1, label, callback, help=help_text)  # type: ignore[arg-type]

    def _new_order(self) -> None:
        from .customer import CustomerDialog
        from .new_order import open_new_order

        def chosen(c) -> None:
            if c is not None:
                open_new_order(self.app, c.customer_id, c.account_id, c.address, c.market)

        self.app.push_screen(CustomerDialog(), chosen)

    def _open(self, ref: str) -> None:
        from .order import OrderScreen

        self.app.push_screen(OrderScreen(ref))

"""F1: the keys of the screen in front, with what each does and its id (for remapping in settings)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def _key_label(app, key: str) -> str:
    return ", ".join(app.get_key_display(Binding(k.strip(), "")) for k in key.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help.close", tooltip="Close help")]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.target = screen

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 1), header_style="bold", expand=True)
        table.add_column("Key", no_wrap=True)
        table.add_column("What it does")
        table.add_column("Id (remap in settings)", style="dim", no_wrap=True)
        rows = [*getattr(self.target, "BINDINGS", []), *self.app.BINDINGS]
        for b in rows:
            if not isinstance(b, Binding):
                continue
            table.add_row(Text(_key_label(self.app, b.key)), Text(b.tooltip or b.description), Text(b.id or ""))
        title = Text(f"Keys — {type(self.target).__name__.removesuffix('Screen')}", "bold")
        foot = Text("\nCtrl+P opens the command palette: open an order by ref, go to the billing account, "
                    "switch theme, copy the order ref.\nRemap a key in config.toml: [keymap] \"order.commit\" "
                    "= \"ctrl+s\".  Escape closes.", "dim")
        with VerticalScroll(id="help-box"):
            yield Static(title)
            yield Static(table)
            yield Static(foot)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)

"""F1: the keys of the screen in front, with what each does and its id (for remapping in settings).

The list is the screen's *active* bindings — the ones the footer draws from: the focused widget's own
keys first (the Returns tab's, when it is in front), then the screen's, then the app's. A key remapped
in settings shows as remapped, a key another binding shadows shows what it does now, and an action
hidden from this agent (read-only) is left out; one that does not apply just now (Commit with nothing
staged) is listed dimmed, "(not now)", as the footer dims it. A dialog lists its own keys, then the
app-wide keys that work while it is open (Help, Quit, Theme), as a screen does.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def _key_label(app, key: str) -> str:
    return ", ".join(app.get_key_display(Binding(k.strip(), "")) for k in key.split(","))


@dataclass(frozen=True)
class HelpEntry:
    section: str  # "Returns tab", "Order", "Everywhere"
    keys: tuple[str, ...]  # as the footer shows them ("^s", "f10")
    what: str  # the tooltip (or the footer's word when there is none)
    id: str  # the binding id, for [keymap] in settings ("" for Textual's own)
    action: str
    description: str  # the footer's word
    enabled: bool = True  # False: shown dimmed, as the footer does (e.g. Commit with nothing staged)


def _section(node) -> str:
    if isinstance(node, App):
        return "Everywhere"
    if isinstance(node, Screen):
        name = type(node).__name__
        return name.removesuffix("Screen").removesuffix("Dialog") or name
    return getattr(node, "HELP_SECTION", "") or type(node).__name__


def _app_keys_behind(screen: Screen) -> list[tuple[str, Binding]]:
    """The app's keys that still work while ``screen`` — a dialog — is in front: its *priority* bindings
    (Quit, Theme, the palette), which Textual checks from the app down before the dialog sees the key.
    The others stop at the dialog (which has its own F1). Remapped keys as they are in force."""
    app = screen.app
    for node, bindings in screen._binding_chain:  # the focused widget up to the app, keymap applied
        if node is app:
            return [(key, b) for key, b in bindings if b.priority]
    return []


def help_entries(screen: Screen) -> list[HelpEntry]:
    """The keys that work on ``screen`` now, innermost first, one entry per binding (its keys together).

    Textual's own keys of a widget (cursor movement, editing) are listed only when the footer shows them;
    ours all have an id. On a dialog the app-wide keys that work there come last, under "Everywhere",
    with the dialog's own keys that call the app (its F1), as on a screen.
    """
    app = screen.app
    behind = _app_keys_behind(screen) if screen.is_modal else []
    taken = {key for key, _ in behind}  # a priority key never reaches the dialog
    found: list[tuple[str, object, str, Binding, bool]] = [
        (key, active.node, _section(active.node), active.binding, active.enabled)
        for key, active in screen.active_bindings.items() if key not in taken]
    if screen.is_modal:
        found = [(key, node, "Everywhere" if b.action.startswith("app.") else section, b, enabled)
                 for key, node, section, b, enabled in found]
        for key, b in behind:
            state = app.check_action(b.action, ())
            if state is not False:  # False: hidden, as the footer hides it
                found.append((key, app, "Everywhere", b, bool(state)))
        found.sort(key=lambda f: f[2] == "Everywhere")  # stable: the dialog's keys first
    grouped: dict[tuple[int, str], tuple[str, Binding, list[str], bool]] = {}
    for key, node, section, b, enabled in found:
        if b.system or not (b.id or b.show):
            continue
        group = (id(node), b.id or b.action)
        if group not in grouped:
            grouped[group] = (section, b, [], enabled)
        grouped[group][2].append(_key_label(app, key))  # the key in force (remapped in settings or not)
    return [HelpEntry(section=section, keys=tuple(keys), what=b.tooltip or b.description, id=b.id or "",
                      action=b.action, description=b.description, enabled=enabled)
            for section, b, keys, enabled in grouped.values()]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help.close", tooltip="Close help")]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.target = screen
        self.entries: list[HelpEntry] = []

    def keys_table(self) -> Table:
        table = Table(box=None, padding=(0, 1), header_style="bold", expand=True)
        table.add_column("Key", no_wrap=True)
        table.add_column("What it does")
        table.add_column("Id (remap in settings)", style="dim", no_wrap=True)
        section = None
        for e in self.entries:
            if e.section != section:
                section = e.section
                table.add_row(Text(section, "bold underline"), Text(""), Text(""))
            what = Text(e.what) if e.enabled else Text.assemble((e.what, "dim"), (" (not now)", "dim italic"))
            table.add_row(Text(", ".join(e.keys), "" if e.enabled else "dim"), what, Text(e.id))
        return table

    def compose(self) -> ComposeResult:
        self.entries = help_entries(self.target)
        title = Text(f"Keys — {_section(self.target)}", "bold")
        foot = Text("\nCtrl+P opens the command palette: open an order by ref, go to the billing account, "
                    "switch theme, copy the order ref.\nRemap a key in config.toml: [keymap] \"order.commit\" "
                    "= \"ctrl+s\".  Escape closes.", "dim")
        with VerticalScroll(id="help-box"):
            yield Static(title)
            yield Static(self.keys_table(), id="help-keys")
            yield Static(foot)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)

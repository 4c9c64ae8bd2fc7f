"""The key bar at the bottom of every screen and dialog: one line, drawn by one widget.

It shows what Textual's ``Footer`` shows, in the same styles (the theme's ``$footer-*`` colours): each
key the screen in front shows (``Binding.show``; one per action), dimmed when its action is disabled
now, and the command palette's key on the right behind a thin rule. A key can be clicked, and the
pointer over a key shows its tooltip, as in Textual's footer (F1's help lists them all).

Why not Textual's ``Footer``: it is a container that mounts a widget per key and builds them again
whenever the screen's bindings change (a focus moving, a dialog closing). On the first screen that
rebuild came after the first layout, so the first frame waited for a second layout, a style sheet
applied to each key and their first renders (about 25 ms of the launch; every screen change paid a
rebuild). Here a change of bindings only repaints the line.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widget import Widget

from .safe import clean

PALETTE_RULE = "▏"  # Textual's `vkey` border on the left of the palette's key


class CareFooter(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer-key--key", "footer-key--description", "footer-key--rule"}
    DEFAULT_CSS = """
    CareFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer-key--rule {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        # each key's columns [start, end), its key, whether it may run now, its tooltip
        self._spans: list[tuple[int, int, str, bool, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen) -> None:
        self.refresh()

    def keys(self) -> tuple[list[tuple[Binding, bool, str]], tuple[Binding, bool, str] | None]:
        """The keys on the bar, left to right, each with whether its action may run now and its tooltip
        (one per action, as Textual's footer shows them); and the command palette's key, or None."""
        active = self.screen.active_bindings
        seen: set[str] = set()
        left: list[tuple[Binding, bool, str]] = []
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                left.append((binding, enabled, tooltip or binding.tooltip))
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.app.ENABLE_COMMAND_PALETTE else None
        if palette is None:
            return left, None
        _node, binding, enabled, tooltip = palette
        return left, (binding, enabled, tooltip or binding.tooltip or binding.description)

    def render(self) -> Text:
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        dim = Style(dim=True)
        left, palette = self.keys()
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, str, bool, str]] = []
        for binding, enabled, tooltip in left:
            start = line.cell_len
            extra = Style() if enabled else dim
            line.append(f" {clean(self.app.get_key_display(binding))} ", key_style + extra)
            line.append(f"{clean(binding.description)} ", description_style + extra)
            spans.append((start, line.cell_len, binding.key, enabled, tooltip))
        if palette is not None:  # on the right, behind a thin rule; the keys on the left give way
            binding, enabled, tooltip = palette
            extra = Style() if enabled else dim
            right = Text(no_wrap=True, end="")
            right.append(PALETTE_RULE, self.get_component_rich_style("footer-key--rule"))
            right.append(clean(self.app.get_key_display(binding)), key_style + extra)
            right.append(f" {clean(binding.description)}", description_style + extra)
            right.append(" ")  # Textual's padding after the palette's key: the bar's own colours
            room = max(0, self.size.width - right.cell_len)
            line.truncate(room, pad=True)
            spans = [span for span in spans if span[1] <= room]
            spans.append((room + 1, room + right.cell_len, binding.key, enabled, tooltip))
            line.append_text(right)
        self._spans = spans
        return line

    def _span_at(self, x: int) -> tuple[int, int, str, bool, str] | None:
        return next((span for span in self._spans if span[0] <= x < span[1]), None)

    def on_click(self, event: events.Click) -> None:
        span = self._span_at(event.x)
        if span is not None:
            if span[3]:
                self.app.simulate_key(span[2])
            else:
                self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        span = self._span_at(event.x)
        self.tooltip = (span[4] or None) if span is not None else None

    def on_leave(self, _event: events.Leave) -> None:
        self.tooltip = None

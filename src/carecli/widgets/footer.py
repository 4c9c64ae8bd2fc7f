"""The key bar at the bottom of every screen: Textual's ``Footer``, with its keys made in their final
style at once.

Textual's ``FooterKey`` starts compact (``compact = reactive(True)``) and is then bound to the footer's
``compact`` (False): each key mounted adds the ``-compact`` class and removes it again, and each of
the two changes re-applies the style sheet to the key. The footer is rebuilt whenever the screen's
bindings change (a focus moving, a dialog closing), so this cost the first screen about a tenth of
its start, and every later rebuild as much. Here each key bound to the footer's ``compact`` is given
that value before it is mounted, so neither change happens; what is drawn is the same (the command
palette's key, which Textual does not bind, stays compact as it was).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class CareFooter(Footer):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and "compact" in (widget._reactive_connect or {}):
                widget.set_reactive(FooterKey.compact, self.compact)  # the value the binding would give
            yield widget

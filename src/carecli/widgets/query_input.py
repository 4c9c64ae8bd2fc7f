"""The search box: an Input whose keystrokes repaint only itself, and that says at once what was typed.

Textual's ``Input`` sets its ``virtual_size`` on every change of value (the text's width, for its own
horizontal scrolling), and ``virtual_size`` is declared ``layout=True`` on ``Widget``: each typed
character re-arranged the whole screen (every widget's region re-computed) before the character was
drawn. An Input neither shows scroll bars nor sizes itself from its content, so nothing outside it
depends on that value: here it only repaints the box. The Input keeps scrolling its own text as before
(``scroll_x`` is checked against ``virtual_size`` on the widget itself).

``typed``, when set, is called with the new text as soon as it changes, inside the key's handling: the
search screen starts its query there, so that the query runs while the key's echo is drawn (the
``Changed`` message reaches the screen only after that frame).
"""

from __future__ import annotations

from typing import Callable

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class QueryInput(Input):
    """An Input whose changes of text width repaint it without a screen layout."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    typed: Callable[[str], None] | None = None

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        if self.typed is not None:
            self.typed(value)

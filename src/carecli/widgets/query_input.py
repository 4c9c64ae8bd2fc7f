"""The search box: an Input whose keystrokes repaint only itself, that says at once what was typed, and
whose typed characters reach the terminal before the app's own work on them.

Textual's ``Input`` sets its ``virtual_size`` on every change of value (the text's width, for its own
horizontal scrolling), and ``virtual_size`` is declared ``layout=True`` on ``Widget``: each typed
character re-arranged the whole screen (every widget's region re-computed) before the character was
drawn. An Input neither shows scroll bars nor sizes itself from its content, so nothing outside it
depends on that value: here it only repaints the box. The Input keeps scrolling its own text as before
(``scroll_x`` is checked against ``virtual_size`` on the widget itself).

``typed``, when set, is called with the new text as soon as it changes, inside the key's handling: the
search screen starts its query there, so that the query runs while the key's echo is drawn (the
``Changed`` message reaches the screen only after that frame).

``local_echo`` (on by default; the setting ``ui.local_echo``): a printable ASCII key typed at the end
of the text is written to the terminal as it arrives, before the value's watchers (and so the query)
run; the frame that follows draws the same cells. ``widgets/echo.py`` says when and how.
"""

from __future__ import annotations

import logging
from typing import Callable

from textual import events
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input

from . import echo

log = logging.getLogger("carecli")


class QueryInput(Input):
    """An Input whose changes of text width repaint it without a screen layout, with local echo."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    typed: Callable[[str], None] | None = None
    local_echo: bool = True
    _echo_expected: str | None = None  # the value a key being handled would make (local echo)
    _echo_shown = False  # the terminal showed the box as it was when that key arrived

    def _on_key(self, event: events.Key) -> None:
        # Runs before Input._on_key (Textual calls each class's handler along the MRO), which inserts
        # the character: the echo itself waits for the Input's own restrict/max_length check to pass
        # (validate_value) or the key to be refused (restricted); either ends the expectation.
        self._echo_expected = None
        if self.local_echo and event.is_printable and echo.is_echo_char(event.character):
            self._echo_expected = self.value + event.character  # type: ignore[operator]
            self._echo_shown = echo.shows_as_is(self)

    def validate_value(self, value: str) -> str:
        """Called by Textual with the accepted new value before it is stored and its watchers run."""
        expected, self._echo_expected = self._echo_expected, None
        if expected is not None and value == expected:
            try:
                write = self._echo_writer()
                if write is not None:
                    sequence = echo.echo_sequence(self, value, shown=self._echo_shown)
                    if sequence is not None:
                        write(sequence)
            except Exception:  # noqa: BLE001 - the key still goes the normal path; logged, never shown
                log.exception("local echo failed: turned off in this search box")
                self.local_echo = False
        return value

    def restricted(self) -> None:
        self._echo_expected = None  # the key is refused: nothing to echo
        super().restricted()

    def _echo_writer(self) -> Callable[[str], None] | None:
        """Where the echo goes: the terminal's writer, or None (no real terminal: the normal path)."""
        return echo.terminal_writer(self)

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        if self.typed is not None:
            self.typed(value)

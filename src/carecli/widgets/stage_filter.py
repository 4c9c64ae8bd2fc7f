"""The search's stage filter: one line with the stage chosen ("Any stage"), opened into a list.

Textual's ``Select`` would do the same, but it builds its overlay and option list (and their style
sheets) with the first screen, for a list that is opened now and then: that cost the launch about
50 ms of CPU, a tenth of its start. This widget draws one line; the list is a small dialog
(:class:`carecli.screens.stage_picker.StagePicker`) that the search screen imports when the agent
opens it (Enter, Space or Down on the filter, or a click). Delete or Backspace goes back to any stage.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class StageFilter(Widget, can_focus=True):
    """``value``: the stage chosen, or None for any stage. ``options``: (label, value) in list order."""

    DEFAULT_CSS = """
    StageFilter {
        width: 24;
        height: 3;
        padding: 0 1;
        border: tall $border-blurred;
        background: $surface;
        color: $foreground;
    }
    StageFilter:focus {
        border: tall $border;
        background-tint: $foreground 5%;
    }
    """
    BINDINGS = [
        Binding("enter,space,down", "screen.choose_stage", "Choose stage", id="stage.open", show=False,
                tooltip="Open the list of stages to show"),
        Binding("delete,backspace", "clear", "Any stage", id="stage.clear", show=False,
                tooltip="Show orders of every stage"),
    ]

    value: reactive[str | None] = reactive(None, layout=False, init=False)  # no Changed at mount

    class Changed(Message):
        """The stage chosen changed (None: any stage)."""

        def __init__(self, stage_filter: StageFilter, value: str | None) -> None:
            super().__init__()
            self.stage_filter = stage_filter
            self.value = value

    def __init__(self, options: Sequence[tuple[str, str]], *, prompt: str = "Any stage",
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.options = list(options)
        self.prompt = prompt

    def label(self) -> str:
        return next((label for label, v in self.options if v == self.value), self.prompt)

    def render(self) -> Text:
        width = max(1, self.content_size.width - 2)
        label = self.label()[:width]
        return Text.assemble((label, "" if self.value else "dim"), " " * (width - len(label)), (" ▼", "dim"))

    def watch_value(self, value: str | None) -> None:
        self.post_message(self.Changed(self, value))

    def action_clear(self) -> None:
        self.value = None

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.focus()
        self.run_action("screen.choose_stage")

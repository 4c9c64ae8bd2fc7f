"""The list of stages opened from the search screen's stage filter (:mod:`carecli.widgets.stage_filter`).

Imported when the agent opens the filter, not with the first screen. The list opens under the filter,
on the stage chosen; Enter chooses, Escape leaves the filter as it was.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Offset
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from .frames import InstantFrames

ANY = "-any-"  # the option id of "any stage"


class StagePicker(InstantFrames, ModalScreen["str | None | bool"]):
    """Dismisses with the stage chosen, None for any stage, or False when closed without a choice."""

    DEFAULT_CSS = """
    StagePicker {
        align: left top;
        background: $background 30%;
    }
    StagePicker > OptionList {
        width: 28;
        height: auto;
        max-height: 14;
        border: tall $border;
        background: $surface;
    }
    """
    BINDINGS = [
        Binding("escape", "close", "Cancel", id="stages.cancel", tooltip="Close the list; the filter stays"),
        Binding("f1", "app.help", "Help", id="stages.help", show=False, tooltip="The keys of this list"),
    ]

    def __init__(self, options: list[tuple[str, str]], current: str | None, prompt: str,
                 at: Offset) -> None:
        super().__init__()
        self.options = options
        self.current = current
        self.prompt = prompt
        self.at = at

    def compose(self) -> ComposeResult:
        yield OptionList(Option(self.prompt, id=ANY), *(Option(label, id=value) for label, value in self.options),
                         id="stages")

    def on_mount(self) -> None:
        stages = self.query_one("#stages", OptionList)
        stages.styles.offset = (self.at.x, self.at.y)
        stages.highlighted = next((i + 1 for i, (_, v) in enumerate(self.options) if v == self.current), 0)
        stages.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = event.option.id
        self.dismiss(None if chosen == ANY else chosen)

    def action_close(self) -> None:
        self.dismiss(False)

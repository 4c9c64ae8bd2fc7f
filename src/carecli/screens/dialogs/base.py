"""Shared pieces of the dialogs: the base class with its style sheet, and small form helpers."""


from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import HorizontalGroup
from textual.screen import ModalScreen
from textual.validation import ValidationResult
from textual.widgets import (
    Input, Label, Select, Static,
)

from ...widgets import safe
from ..frames import InstantFrames

R = TypeVar("R")

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# What an agent may type or paste into a free-text field: no control, escape or bidi characters. An
# ``Input`` shows its value as it is, so a pasted ESC sequence would otherwise reach the terminal.
PRINTABLE = safe.INPUT_RESTRICT




# --------------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------------


class CareDialog(InstantFrames, ModalScreen[R]):
    """Base of every dialog: the shared style sheet, Escape to close, and a message line helper."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [
        Binding("escape", "close", "Cancel", id="dialog.cancel",
                tooltip="Close this dialog; nothing is staged or changed"),
        # A dialog is modal: the app's own F1 does not reach past it, so each dialog has its own.
        Binding("f1", "app.help", "Help", id="dialog.help", show=False, tooltip="The keys of this dialog"),
    ]

    def action_close(self) -> None:
        self.dismiss(None)

    def say(self, message: str | Text, kind: str = "info", *, target: str = "#message") -> None:
        """Show ``message`` (always as literal text) on a message line; ``kind`` info, error or ok."""
        line = self.query_one(target, Static)
        line.update(message if isinstance(message, Text) else safe.text(message, one_line=False))
        line.set_class(kind == "error", "-error")
        line.set_class(kind == "ok", "-ok")


def _title(*parts: str | Text) -> Text:
    """A dialog title: constant parts bold, untrusted parts (given as Text) kept literal."""
    out = Text(style="bold")
    for p in parts:
        out.append_text(p if isinstance(p, Text) else Text(p))
    return out


def _field(label: str, widget: Input | Select, *, row_id: str | None = None) -> HorizontalGroup:
    """A one-row form field: a fixed-width label (a constant) and its input."""
    return HorizontalGroup(Label(label, classes="field-label"), widget, classes="field", id=row_id)


def _first_problem(result: ValidationResult | None) -> str | None:
    if result is None or result.is_valid:
        return None
    return next(iter(result.failure_descriptions), "not valid")


def _int(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None

"""Shared pieces of the dialogs: the base class with its style sheet, and small form helpers."""


from __future__ import annotations

from typing import Sequence, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup
from textual.screen import ModalScreen
from textual.validation import ValidationResult
from textual.widgets import (
    Button, Input, Label, Select, Static,
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
        Binding("f1", "app.help", "Help", id="dialog.help", show=False,
                tooltip="The keys of this dialog, then the app's"),
    ]

    def action_close(self) -> None:
        self.dismiss(None)

    def say(self, message: str | Text, kind: str = "info", *, target: str = "#message") -> None:
        """Show ``message`` (always as literal text) on a message line; ``kind`` info, error or ok."""
        line = self.query_one(target, Static)
        line.update(message if isinstance(message, Text) else safe.text(message, one_line=False))
        line.set_class(kind == "error", "-error")
        line.set_class(kind == "ok", "-ok")


class ReasonNoteDialog(CareDialog["tuple[str, str]"]):
    """The last step before a change is written (a commit, an order placed): a reason code, an optional
    note for the audit record, and Confirm / Back. Subclasses compose their summary first and then
    ``yield from self.reason_and_note(prompt)``; the dialog answers ``(reason code, note)`` or None.

    ``reason_required`` refuses Confirm without a reason, saying ``reason_missing``."""

    AUTO_FOCUS = "#reason"
    NOTE_MAX = 4000
    confirm_label = "Confirm"
    reason_required = True
    reason_missing = "Choose a reason code first (Enter on the list opens it)."
    reasons: Sequence = ()

    def reason_and_note(self, prompt: str) -> ComposeResult:
        yield _field("Reason", Select([(safe.text(f"{r.label} ({r.code})"), r.code) for r in self.reasons],
                                      prompt=prompt, id="reason", compact=True))
        yield _field("Note", Input(placeholder="optional, for the audit record", id="note", compact=True,
                                   max_length=self.NOTE_MAX, restrict=PRINTABLE))
        yield Static("", id="message", classes="message")
        with HorizontalGroup(classes="buttons"):
            yield Button(self.confirm_label, id="confirm", variant="primary")
            yield Button("Back", id="back")

    @on(Input.Submitted, "#note")
    def _note_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_submit()
        else:
            self.dismiss(None)

    @on(Select.Changed, "#reason")
    def _reason_changed(self) -> None:
        self.say("")

    def action_submit(self) -> None:
        reason = self.query_one("#reason", Select).selection
        if reason is None and self.reason_required:
            self.say(self.reason_missing, "error")
            self.query_one("#reason", Select).focus()
            self.app.bell()
            return
        note = self.query_one("#note", Input).value.strip()[: self.NOTE_MAX]
        self.dismiss((str(reason) if reason is not None else "", note))


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

"""Dialogs of the amend session as a whole: confirm, commit (reason and note), version conflict."""


from __future__ import annotations


from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup, VerticalGroup, VerticalScroll
from textual.widgets import (
    Button, Label, Static,
)

from ...backend.contract import VersionConflict
from ...engine.money import Money
from ...engine.policy import ReasonCode
from ...widgets import safe
from ...widgets.footer import CareFooter
from ...widgets.money import fmt

from .base import CareDialog, PRINTABLE, R, ReasonNoteDialog, _DAYS, _field, _first_problem, _int, _title  # noqa: F401


# --------------------------------------------------------------------------------------------------
# 7. Confirm
# --------------------------------------------------------------------------------------------------


class ConfirmDialog(CareDialog[bool]):
    """Yes or no. Enter/Y confirms (True); Escape/N declines (False)."""

    AUTO_FOCUS = "#yes"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Yes, go ahead"),
        Binding("n", "answer(False)", "No", id="confirm.no", tooltip="No, leave things as they are"),
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog narrow", id="dialog"):
            yield Label(safe.text(self.title_text, "bold"), classes="dialog-title")
            yield Static(safe.text(self.body, one_line=False), id="body")
            with HorizontalGroup(classes="buttons"):
                yield Button("Yes (Y)", id="yes", variant="primary")
                yield Button("No (N)", id="no")
        yield CareFooter()

    def action_close(self) -> None:
        self.dismiss(False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(bool(yes))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")


# --------------------------------------------------------------------------------------------------
# 9. Commit
# --------------------------------------------------------------------------------------------------


def money_effect(delta: Money) -> str:
    """The delta in words: who pays whom."""
    if delta.is_negative:
        return f"The customer gets {fmt(-delta)} back."
    if delta.is_positive:
        return f"The customer is charged {fmt(delta)} more."
    return "No money moves."


class CommitDialog(ReasonNoteDialog):
    """The last step: the staged changes, the money in words, a reason (required) and a note."""

    confirm_label = "Commit"
    reason_missing = "Choose a reason code first: a commit needs one (Enter on the list opens it)."
    BINDINGS = [
        Binding("ctrl+s", "submit", "Commit", id="dialog.submit",
                tooltip="Commit the staged changes with this reason and note"),
    ]

    def __init__(self, reasons: list[ReasonCode], changes: list[str], delta: Money) -> None:
        super().__init__()
        seen: set[str] = set()
        self.reasons = [r for r in reasons if not (r.code in seen or seen.add(r.code))]
        self.changes = list(changes)
        self.delta = delta

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title(f"Commit {len(self.changes)} change(s)"), classes="dialog-title")
            body = Text()
            for i, change in enumerate(self.changes, 1):
                if i > 1:
                    body.append("\n")
                body.append(f"{i}. ", "dim")
                body.append_text(safe.text(change))
            with VerticalScroll(id="changes"):
                yield Static(body)
            yield Static(Text(money_effect(self.delta), "bold"), id="effect")
            yield from self.reason_and_note("choose a reason (required)")
        yield CareFooter()

    def on_mount(self) -> None:
        if not self.reasons:
            self.say("No reason code is set up for this kind of change; ask for the policy to be fixed.", "error")


# --------------------------------------------------------------------------------------------------
# 10. Version conflict
# --------------------------------------------------------------------------------------------------


def conflict_text(ref: str, error: VersionConflict) -> str:
    before = error.expected_version
    versions = (f"version {before} → {error.current_version}" if before is not None
                else f"now at version {error.current_version}")
    return (f"Order {ref} was changed by someone else ({versions}). Your staged changes are kept and the "
            "preview is being recomputed on the new version. Check the preview, then commit again.")


class ConflictDialog(CareDialog[None]):
    """Someone else changed the order between preview and commit: say so, and what happens next."""

    AUTO_FOCUS = "#ok"

    def __init__(self, ref: str, error: VersionConflict) -> None:
        super().__init__()
        self.ref = ref
        self.error = error

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog narrow", id="dialog"):
            yield Label(_title("The order changed"), classes="dialog-title")
            yield Static(safe.text(conflict_text(self.ref, self.error), one_line=False), id="body")
            with HorizontalGroup(classes="buttons"):
                yield Button("OK", id="ok", variant="primary")
        yield CareFooter()

    @on(Button.Pressed, "#ok")
    def _ok(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)


__all__ = ["CommitDialog", "ConfirmDialog", "ConflictDialog", "conflict_text", "money_effect"]

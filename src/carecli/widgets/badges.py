"""Status badges: the order/line stage and the READ-ONLY and OFFLINE marks, as styled text (never markup)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Label

# Stages read at a glance: progress in calm colours, exceptions and the end states stand out.
_STAGE_STYLE = {
    "CREATED": "dim", "BOOKED": "", "AWAITING_PICK": "cyan", "PICKING": "bold cyan", "PACKED": "bold cyan",
    "DISPATCHED": "blue", "READY_FOR_COLLECTION": "bold magenta", "DELIVERED": "green", "COLLECTED": "green",
    "CANCELLED": "dim strike", "SHORT_PICKED": "bold red", "BACKORDERED": "bold yellow",
}


def stage_text(stage: str) -> Text:
    """A stage such as ``AWAITING_PICK · BACKORDERED`` with each part styled."""
    out = Text()
    for i, part in enumerate(str(stage).split(" · ")):
        if i:
            out.append(" · ", "dim")
        word = part.strip()
        out.append(word.replace("_", " ").lower(), _STAGE_STYLE.get(word, ""))
    return out


def read_only_badge() -> Label:
    return Label(Text(" READ-ONLY ", "bold reverse"), id="read-only-badge", classes="badge")


def offline_badge() -> Label:
    """Shown while the backend does not answer (the app has the ``-offline`` class); hidden otherwise."""
    return Label(Text(" OFFLINE ", "bold reverse"), classes="badge offline-badge")

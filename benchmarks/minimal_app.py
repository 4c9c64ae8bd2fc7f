"""The floor for launch benchmarks: the smallest Textual app that paints a word."""

from textual.app import App, ComposeResult
from textual.widgets import Label


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Label("READY")


if __name__ == "__main__":
    Minimal().run()

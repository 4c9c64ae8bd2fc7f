"""The floors for the app benchmarks: the smallest Textual app that paints a word (launch), and with
``--input`` the same app with a focused text input (typed-character echo)."""

import sys

from textual.app import App, ComposeResult
from textual.widgets import Input, Label


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        if "--input" in sys.argv:
            yield Input()
        yield Label("READY")


if __name__ == "__main__":
    Minimal().run()

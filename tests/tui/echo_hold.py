"""carecli as shipped, for tests/tui/test_local_echo_terminal.py, with its frames held back on demand.

While the file named by ``$CARECLI_TEST_HOLD`` exists, every frame the app composes is counted (in
``$CARECLI_TEST_HOLD.frames``) but not written: the terminal then shows only what local echo writes.
When the file goes, the whole screen is drawn again (and ``$CARECLI_TEST_HOLD.released`` counts it).
The cursor does not blink (a blink is a frame, and would make the picture depend on when it is
taken), as in the Pilot tests' ``SteadyCareApp``.

    python tests/tui/echo_hold.py [carecli's arguments]
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from textual.app import App
from textual.widgets import Input

HOLD = Path(os.environ["CARECLI_TEST_HOLD"])
FRAMES = Path(f"{HOLD}.frames")
RELEASED = Path(f"{HOLD}.released")

held = 0
app_seen: list[App] = []
_display = App._display


def display(self: App, screen, renderable) -> None:
    global held
    if not app_seen:
        app_seen.append(self)
    if renderable is not None and HOLD.exists():
        held += 1
        FRAMES.write_text(str(held))
        return
    _display(self, screen, renderable)


def redraw_when_released() -> None:
    holding, released = False, 0
    while True:
        time.sleep(0.02)
        if HOLD.exists():
            holding = True
        elif holding and app_seen:
            holding = False
            app = app_seen[0]
            app.call_from_thread(lambda: app.screen.refresh())
            released += 1
            RELEASED.write_text(str(released))


App._display = display  # type: ignore[method-assign]
Input._toggle_cursor = lambda self: None  # type: ignore[method-assign]
threading.Thread(target=redraw_when_released, daemon=True).start()

if __name__ == "__main__":
    from carecli.cli import main

    sys.exit(main())

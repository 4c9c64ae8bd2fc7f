"""Local echo through a real terminal: ``carecli`` in a private tmux server (120×40, xterm-256color).

The app runs through ``echo_hold.py``, which can hold its frames back: while it does, the terminal shows
only what local echo wrote. That picture of the search bar (cells with their colours, as
``capture-pane -e`` prints them, and where the cursor is) must be the one the frames draw when they are
let through. Then the same keys go to a second app with local echo off (``ui.local_echo = false``):
after each step both show the same search bar — after a backspace that follows echoed keys, and after
typing past the end of the box (the keys that no longer fit are not echoed: the frames scroll the text
as before). A supervisor's search bar (with the READ-ONLY badge, so a narrower box) is echoed exactly too.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

from benchmarks.tmuxprobe import Tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

LAUNCHER = Path(__file__).with_name("echo_hold.py")
BAR = 3  # the search bar: the first three rows


class Run:
    """One app in the tmux server, with its hold file."""

    def __init__(self, t: Tmux, store: Path, tmp: Path, *, role: str = "agent", echo: bool = True) -> None:
        self.t = t
        self.hold = tmp / f"hold-{role}-{echo}"
        home = tmp / "home"
        env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
               "XDG_DATA_HOME": str(home / ".local"), "XDG_CACHE_HOME": str(home / ".cache"),
               "TERM": "xterm-256color", "CARECLI_TEST_HOLD": str(self.hold), "CARECLI_ROLE": role,
               "CARECLI_UI__LOCAL_ECHO": "true" if echo else "false"}
        self.name = t.start([sys.executable, str(LAUNCHER), "--store", str(store)], env=env)
        self.wait(lambda s: "Enter opens" in s, "the first page of results")
        self.settle()

    # -- reading the screen --------------------------------------------------------------------------
    def screen(self, escapes: bool = False) -> str:
        return self.t.screen(self.name, escapes=escapes)

    def bar(self) -> tuple[list[str], tuple[int, int]]:
        """The search bar's rows with their colours, and the terminal's cursor."""
        rows = self.screen(escapes=True).splitlines()[:BAR]
        x, y = self.t.cmd(f"display-message -p -t ={self.name}: '#{{cursor_x}} #{{cursor_y}}'")[0].split()
        return rows, (int(x), int(y))

    def box_text(self) -> str:
        """The text inside the search box (between its side borders, without its padding)."""
        row = self.screen().splitlines()[1]
        return row[row.index("▊") + 1:row.index("▎")].strip()

    def box_width(self) -> int:
        """Cells for text in the box: inside the borders, less the padding (2 each side)."""
        row = self.screen().splitlines()[1]
        return row.index("▎") - row.index("▊") - 1 - 4

    def wait(self, ok, what: str, timeout: float = 30.0) -> None:  # float-ok: seconds
        deadline = time.monotonic() + timeout
        while not ok(screen := self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{screen}")
            time.sleep(0.02)

    def settle(self) -> None:
        """Until the screen (with its colours) has not changed for a few polls."""
        last, same, deadline = None, 0, time.monotonic() + 30
        while same < 4:
            now = self.screen(escapes=True)
            same = same + 1 if now == last else 0
            last = now
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never settled:\n{self.screen()}")
            time.sleep(0.05)

    # -- frames held back ------------------------------------------------------------------------------
    def frames(self) -> int:
        path = Path(f"{self.hold}.frames")
        return int(path.read_text() or 0) if path.exists() else 0

    def frames_settled(self, before: int) -> None:
        """Until the app composed a frame since ``before`` and then no more for a while (the key's frame
        and the results' frame held: the box is drawn, as far as the app knows)."""
        deadline = time.monotonic() + 30
        while self.frames() == before:
            if time.monotonic() > deadline:
                raise AssertionError("no frame was composed after the key")
            time.sleep(0.01)
        last, same = self.frames(), 0
        while same < 6:
            time.sleep(0.02)
            now = self.frames()
            same = same + 1 if now == last else 0
            last = now

    def hold_frames(self) -> None:
        self.hold.write_text("hold")
        self.settle()

    def release_frames(self) -> None:
        released = Path(f"{self.hold}.released")
        before = int(released.read_text()) if released.exists() else 0
        self.hold.unlink()
        deadline = time.monotonic() + 30
        while not released.exists() or int(released.read_text() or 0) == before:
            if time.monotonic() > deadline:
                raise AssertionError("the held frames were not drawn again")
            time.sleep(0.02)
        self.settle()

    # -- keys ----------------------------------------------------------------------------------------
    def type(self, text: str, *, held: bool = False) -> None:
        for ch in text:
            before = self.frames()
            self.t.cmd(f"send-keys -t ={self.name}: -l {ch!r}")
            if held:
                self.frames_settled(before)
            else:
                self.settle()
        self.settle()

    def key(self, key: str) -> None:
        self.t.cmd(f"send-keys -t ={self.name}: {key}")
        self.settle()

    def paste(self, text: str) -> None:
        """A bracketed paste, as a terminal sends it (one Paste event in the app)."""
        self.t.cmd(f"set-buffer -- {text!r}")
        self.t.cmd(f"paste-buffer -p -t ={self.name}:")
        self.wait(lambda s: text[:20] in s, "the pasted text")
        self.settle()


@pytest.fixture()
def tmux():
    t = Tmux(120, 40)
    try:
        yield t
    finally:
        t.close()


def echo_only_then_frames(run: Run, text: str) -> tuple[list[str], tuple[int, int]]:
    """Type ``text`` with the frames held: the bar as echoed must be the bar the frames then draw."""
    run.hold_frames()
    run.type(text, held=True)
    echoed = run.bar()
    assert run.box_text().startswith(text), f"the echo does not show {text!r}: {run.screen()}"
    run.release_frames()
    drawn = run.bar()
    assert echoed == drawn, f"echoed:\n{echoed}\ndrawn by the frames:\n{drawn}"
    return drawn


def test_typed_keys_show_exactly_as_the_frames_draw_them(tmux, store_path, tmp_path):
    echo = Run(tmux, store_path, tmp_path)
    plain = Run(tmux, store_path, tmp_path, echo=False)
    assert echo.bar() == plain.bar()  # the same app, the same first screen

    # typed with frames held: the echo alone shows the word, as the frames then draw it
    drawn = echo_only_then_frames(echo, "whit")
    plain.type("whit")
    assert plain.bar() == drawn

    # a backspace after echoed keys (the normal path)
    echo.key("BSpace")
    plain.key("BSpace")
    assert echo.box_text() == "whi"
    assert echo.bar() == plain.bar()

    # past the end of the box: the keys that still fit are echoed, the others wait for the frames
    for run in (echo, plain):
        run.key("C-u")
        run.wait(lambda s: "by most recent" in s, "the box cleared")
    width = echo.box_width()
    start = "x" * (width - 5)
    for run in (echo, plain):
        run.paste(start)
    echo.hold_frames()
    echo.type("abcdefgh", held=True)
    assert echo.box_text() == start + "abcd"  # lengths width-4 … width-1 fit with the cursor cell
    echo.release_frames()
    plain.type("abcdefgh")
    assert echo.box_text().endswith("abcdefgh") and not echo.box_text().startswith(start)  # scrolled
    assert echo.bar() == plain.bar()


def test_a_supervisors_search_bar_is_echoed_exactly(tmux, store_path, tmp_path):
    run = Run(tmux, store_path, tmp_path, role="supervisor")
    assert "READ-ONLY" in run.screen().splitlines()[1]
    echo_only_then_frames(run, "dana w")

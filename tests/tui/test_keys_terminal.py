"""The order's tab keys and F1 through a real terminal: ``carecli`` in a private tmux server (120×40,
xterm-256color), keys sent as a terminal sends them. A Pilot presses keys by name, so it cannot show that
a key reaches the app at all (Alt+digit, for one, arrives in Textual as the Option character ``¡``).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

from benchmarks.tmuxprobe import Tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

RETURNABLE = "ON-100005"


def wait_for(t: Tmux, name: str, marker: str, what: str, timeout: float = 30.0) -> str:  # float-ok: seconds
    deadline = time.monotonic() + timeout
    while True:
        screen = t.screen(name)
        if marker in screen:
            return screen
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} ({marker!r}); the screen:\n{screen}")
        time.sleep(0.05)


def wait_gone(t: Tmux, name: str, marker: str, what: str, timeout: float = 30.0) -> None:  # float-ok: seconds
    deadline = time.monotonic() + timeout
    while marker in (screen := t.screen(name)):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the screen:\n{screen}")
        time.sleep(0.05)


def test_the_digit_keys_show_the_order_tabs_and_f1_lists_the_tab_in_front_in_a_real_terminal(store_path, tmp_path):
    carecli = Path(sys.executable).with_name("carecli")
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local"),
           "XDG_CACHE_HOME": str(home / ".cache"), "TERM": "xterm-256color"}
    t = Tmux(120, 40)
    try:
        name = t.start([str(carecli), "--store", str(store_path)], env=env)
        wait_for(t, name, "ON-1", "the first page of results")
        t.cmd(f"send-keys -t ={name}: -l {RETURNABLE}")
        wait_for(t, name, "by order ref", "the order found by its ref")
        t.cmd(f"send-keys -t ={name}: Enter")
        wait_for(t, name, "Fulfilment", "the order screen")
        t.cmd(f"send-keys -t ={name}: 6")
        wait_for(t, name, "Delivered lines — Enter puts one on the draft return", "the Returns tab")
        t.cmd(f"send-keys -t ={name}: F1")
        shown = wait_for(t, name, "Returns tab", "F1 with the Returns tab's keys")
        assert "returns.create" in shown and "Create the draft return" in shown, shown
        t.cmd(f"send-keys -t ={name}: Escape")
        # (the next key waits for the help to close: ESC and a digit close together are one key, Alt+digit)
        wait_gone(t, name, "Keys — Order", "the help to close")
        t.cmd(f"send-keys -t ={name}: 3")
        wait_for(t, name, "Documents", "the Money tab")
        t.cmd(f"send-keys -t ={name}: 1")
        shown = wait_for(t, name, "Qty", "the Lines tab")
        assert "Delivered lines —" not in shown
        t.cmd(f"send-keys -t ={name}: F1")
        shown = wait_for(t, name, "Keys — Order", "F1 on the Lines tab")
        assert "returns.create" not in shown
    finally:
        t.close()

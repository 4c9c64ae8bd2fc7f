"""Fixtures for the app-level TUI tests (snapshots and pilot flows) over a real demo store.

* The demo store (300 orders, seed 7) is built once per session and copied to a fresh file for each
  test, so a test that commits never disturbs another.
* Everything is deterministic: the store and the app run on the demo's fixed clock (``DEMO_NOW``),
  the actor is ``kim``, animations are off, and no text input blinks (:class:`SteadyCareApp`).
"""

from __future__ import annotations

import io
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

import pytest
from rich.console import Console
from textual import events
from textual.widgets import Input

import carecli.app
from carecli.app import CareApp
from carecli.backend.sqlite import SqliteStore, build_demo
from carecli.config import Settings
from carecli.demo import DEMO_NOW

DEMO_ORDERS = 300
DEMO_SEED = 7
ACTOR = "kim"


def fixed_clock():
    return DEMO_NOW


class SteadyCareApp(CareApp):
    """The app as shipped, with one test-only change: a focused text input never blinks.

    Textual's ``Input`` blinks its cursor on a 0.5 s timer, and a snapshot taken a few hundred
    milliseconds later or earlier would otherwise differ. Turning ``cursor_blink`` off when an input
    gets the focus keeps the cursor drawn (``_restart_blink`` has just made it visible) and stops the
    timer.
    """

    # A relative CSS_PATH is read beside the module that defines the class: keep the app's own.
    CSS_PATH = str(Path(carecli.app.__file__).with_name(str(CareApp.CSS_PATH)))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, Input) and event.widget.cursor_blink:
            event.widget.cursor_blink = False
            event.widget._cursor_visible = True  # pausing the blink hides it; a steady cursor shows


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo store, built once per test session (the build leaves no -wal file behind)."""
    path = tmp_path_factory.mktemp("demo-store") / "demo.db"
    build_demo(path, orders=DEMO_ORDERS, seed=DEMO_SEED)
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture()
def store_path(demo_db, tmp_path) -> Path:
    """A fresh copy of the demo store for this test."""
    path = tmp_path / "store.db"
    shutil.copy(demo_db, path)
    return path


@pytest.fixture()
def open_store(store_path):
    """``open_store(role=..., read_only=..., gateway=..., path=...)``: a ``SqliteStore`` on the fixed
    clock (the test's copy by default), closed at the end of the test."""
    opened: list[SqliteStore] = []

    def factory(*, role: str = "agent", read_only: bool | None = None, gateway=None,
                path: Path | None = None) -> SqliteStore:
        s = SqliteStore.open(path or store_path, role=role, read_only=read_only, clock=fixed_clock,
                             gateway=gateway)
        opened.append(s)
        return s

    yield factory
    for s in opened:
        s.close()


@pytest.fixture()
def app_factory(open_store) -> Callable[..., CareApp]:
    """``app_factory(theme="carecli-dark", role="agent", read_only=None)``: the app over the test's
    store copy, on the fixed clock, acting as ``kim``."""

    def factory(theme: str = "carecli-dark", role: str = "agent", read_only: bool | None = None,
                *, path: Path | None = None) -> CareApp:
        backend = open_store(role=role, read_only=read_only, path=path)
        settings = Settings(actor=ACTOR, theme=theme, role=role, read_only=read_only)
        app = SteadyCareApp(backend, settings, clock=fixed_clock)
        app.animation_level = "none"
        return app

    return factory


# -- driving the app (shared by test_snapshots.py and test_flows.py) ---------------------------------


async def until(pilot, condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    """Let the app run until ``condition()`` holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; in front: {pilot.app.screen!r}")
        await pilot.pause(0.02)


async def settled(pilot) -> None:
    """Every backend worker done and its result painted."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def in_front(pilot, kind: type, what: str = "") -> None:
    """Wait until a screen of ``kind`` is in front (and the workers are done)."""
    await until(pilot, lambda: isinstance(pilot.app.screen, kind), what or kind.__name__)
    await settled(pilot)


async def paste(pilot, value: str) -> None:
    """What a terminal's bracketed paste delivers: one Paste event, to the focused widget."""
    pilot.app.post_message(events.Paste(value))
    await pilot.pause()


def status_text(app) -> str:
    """The search screen's status line."""
    from textual.widgets import Label

    return str(app.screen.query_one("#status", Label).render())


def result_refs(app) -> list[str]:
    """The refs in the search results, top to bottom."""
    from carecli.widgets.results import ResultsTable

    return app.screen.query_one("#results", ResultsTable).keys


async def search_loaded(pilot) -> None:
    """The search screen in front with its first page (the most recent orders)."""
    from carecli.screens.search import SearchScreen

    await until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen)
                and status_text(pilot.app).startswith("1–"), "the first page of search results")
    await settled(pilot)


async def results_for(pilot, kind: str, refs: list[str], query: str = "") -> None:
    """After typing or pasting a query: wait for the page read as ``kind`` that lists ``refs``."""
    await pilot.pause(pilot.app.settings.ui.search_debounce_ms / 1000 + 0.05)  # the last key's query starts
    await until(pilot, lambda: f"by {kind}" in status_text(pilot.app) and result_refs(pilot.app) == refs,
                f"the results for {query or kind!r}")
    await settled(pilot)


def screen_text(app) -> str:
    """Everything painted on the terminal (every screen shown, toasts included), as plain text."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, force_terminal=True,
                      color_system="truecolor")
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


# -- the snapshot harness (shared by test_snapshots.py and test_snapshots_placing.py) ------------------

#: Every snapshot at the smallest supported terminal and a roomy one.
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@dataclass(frozen=True)
class View:
    """One picture: how to drive the app to it, as whom, and what to write to the store beforehand."""

    drive: Callable[..., Awaitable[None]]
    role: str = "agent"
    prepare: Callable[..., None] | None = None  # writes to the store copy before the app opens


@dataclass(frozen=True)
class Env:
    open_store: Callable


def view_cases(views, ansi_views) -> list:
    """(view, theme) parameters: every view in carecli-dark, ``ansi_views`` also in Textual's ansi-dark."""
    cases = [(v, "carecli-dark") for v in views] + [(v, "ansi-dark") for v in ansi_views]
    return [pytest.param(v, t, id=f"{v}-{t}") for v, t in cases]


def snapshot_view(spec: View, theme: str, size, snap_compare, app_factory, open_store) -> bool:
    """Prepare the store, open the app, drive it to the view and compare the picture. A toast showing
    fails the view: a picture of an error would otherwise be recorded as a success."""
    env = Env(open_store)
    if spec.prepare is not None:
        spec.prepare(env)
    app = app_factory(theme=theme, role=spec.role)

    async def run_before(pilot) -> None:
        await spec.drive(pilot, env)
        assert not pilot.app._notifications, [n.message for n in pilot.app._notifications]

    return snap_compare(app, terminal_size=size, run_before=run_before)


async def open_order(pilot, ref: str):
    """Open the order as Enter on its search result does, and wait until it is read (the flow tests go
    there through the search box; pushing the screen saves a search per picture)."""
    from carecli.screens.order import OrderScreen

    screen = OrderScreen(ref)
    pilot.app.push_screen(screen)
    await until(pilot, lambda: screen.session is not None and screen.is_current, f"order {ref}")
    await settled(pilot)
    return screen

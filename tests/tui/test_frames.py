"""A change after a quiet spell is drawn at once, without waiting for the frame clock's tick.

The screen's frame timer is replaced by one that never ticks within the test; what reaches the
terminal is read from the updates the app hands to its driver (``App._display``, called for real and
recorded). A key typed into a screen with :class:`InstantFrames` is on the terminal at once; the same
key in a plain Textual screen waits for the timer (and here, never comes).
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Input

from carecli.screens.frames import InstantFrames


class Plain(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Input(id="box")


class Instant(InstantFrames, Plain):
    pass


class Recorder(App[None]):
    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self._first = screen
        self.drawn: list[str] = []

    def on_mount(self) -> None:
        self.push_screen(self._first)

    def _display(self, screen, renderable) -> None:
        if renderable is not None:
            self.drawn.append(renderable.render_segments(self.console))
        super()._display(screen, renderable)


async def _typed_and_drawn(screen: Screen) -> bool:
    app = Recorder(screen)
    async with app.run_test(size=(40, 5)) as pilot:
        await pilot.pause()
        screen._update_timer.stop()  # the frame clock: replaced by one that does not tick in the test
        screen._Screen__update_timer = screen.set_interval(3600, screen._on_timer_update, pause=True)
        screen.query_one("#box").cursor_blink = False
        app.drawn.clear()
        await pilot.press("q")  # the key, and every message it causes, handled (no frame forced)
        assert screen.query_one("#box", Input).value == "q"
        return any("q" in frame for frame in app.drawn)


@pytest.mark.asyncio
async def test_a_key_after_a_pause_is_drawn_without_the_timer():
    assert await _typed_and_drawn(Instant())


@pytest.mark.asyncio
async def test_a_plain_screen_waits_for_the_timer():
    """The control: without InstantFrames the same key is not drawn until the frame clock ticks."""
    assert not await _typed_and_drawn(Plain())


async def _renders_in_batch(screen: Screen, monkeypatch) -> tuple[int, list[str]]:
    """How many screen renders were made while the app batched its updates (its start, which pushes
    ``screen``), and the frames that reached the terminal."""
    from textual._compositor import Compositor

    app = Recorder(screen)
    in_batch: list[int] = []
    original = Compositor.render_update

    def render_update(self, *args, **kwargs):
        in_batch.append(app._batch_count)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Compositor, "render_update", render_update)
    async with app.run_test(size=(40, 5)) as pilot:
        await pilot.pause()
        screen.query_one("#box", Input).value = "drawn"
        await pilot.pause()
    return sum(1 for n in in_batch if n), app.drawn


@pytest.mark.asyncio
async def test_nothing_is_rendered_during_a_batch_and_the_screen_is_drawn_after_it(monkeypatch):
    rendered_in_batch, drawn = await _renders_in_batch(Instant(), monkeypatch)
    assert rendered_in_batch == 0
    assert any("drawn" in frame for frame in drawn)


@pytest.mark.asyncio
async def test_a_plain_screen_renders_a_frame_during_the_start_that_is_thrown_away(monkeypatch):
    """The control: Textual renders the first screen while the app's start is batched."""
    rendered_in_batch, _drawn = await _renders_in_batch(Plain(), monkeypatch)
    assert rendered_in_batch >= 1

"""Local echo in the search box (widgets/echo.py): what it writes is what the next frame draws.

A Pilot app has no terminal (its driver is headless, and local echo stays off there: a test below
checks that), so these tests take the bytes the echo would hand to the driver through the one seam
``QueryInput._echo_writer``, and read them, and the frames, through a small terminal (``vt.py``) that
decodes cursor moves and SGR into cells. The frame is the compositor's full render of the screen
after the key was handled (what a real terminal shows once the frame is drawn).
"""

from __future__ import annotations

import re

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.validation import Length
from textual.widgets import Input, Static

from carecli.widgets import echo
from carecli.widgets.query_input import QueryInput

from .conftest import paste, search_loaded, settled
from .vt import Terminal

ALLOWED = re.compile(r"(?:\x1b\[[0-9]+;[0-9]+H|\x1b\[[0-9;]*m|[ -~])*")


@pytest.fixture()
def writes(monkeypatch) -> list[str]:
    """What local echo writes (instead of the headless driver, which has no terminal)."""
    written: list[str] = []
    monkeypatch.setattr(QueryInput, "_echo_writer", lambda self: written.append)
    return written


def frame(app) -> str:
    """The whole screen as the compositor renders it now, as bytes for the terminal."""
    return app.screen._compositor.render_update(full=True, screen_stack=app._background_screens) \
        .render_segments(app.console)


def terminal_cursor(app) -> tuple[int, int]:
    """Where Textual leaves the terminal's cursor after a frame (App._display)."""
    x, y = app.screen.outer_size.clamp_offset(app.cursor_position)
    return x, y


async def type_and_compare(pilot, box: Input, keys: str, writes: list[str]) -> int:
    """Type ``keys`` one at a time; for each key echoed, check the terminal after the echo shows, on
    the box's whole region, exactly what it shows after the frame that follows. How many were echoed."""
    app = pilot.app
    width, height = app.size
    term = Terminal(width, height).feed(frame(app))
    echoed = 0
    for key in keys:
        writes.clear()
        before = term.copy()
        await pilot.press("space" if key == " " else key)
        await settled(pilot)
        after = Terminal(width, height).feed(frame(app))
        assert len(writes) <= 1
        if writes:
            echoed += 1
            assert ALLOWED.fullmatch(writes[0]), repr(writes[0])
            term.feed(writes[0])
            r = box.region
            assert term.region(*r) == after.region(*r), f"key {key!r}: the echo differs from the frame"
            assert term.region(*r) != before.region(*r), f"key {key!r}: the echo changed nothing"
            assert (term.x, term.y) == terminal_cursor(app), f"key {key!r}: the cursor is left elsewhere"
        term = after
    return echoed


SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]
THEMES = ["carecli-dark", "ansi-dark"]


@pytest.mark.asyncio
@pytest.mark.parametrize("theme, size", [
    *[pytest.param(t, s.values[0], id=f"{t}-{s.id}") for t in THEMES for s in SIZES],
    *[pytest.param(t, (120, 40), id=f"{t}-120x40")
      for t in ("carecli-light", "carecli-contrast", "ansi-light")],
])
async def test_each_typed_character_is_echoed_as_the_next_frame_draws_it(app_factory, writes, theme, size):
    app = app_factory(theme=theme)
    async with app.run_test(size=size) as pilot:
        await search_loaded(pilot)
        box = app.screen.query_one("#query", QueryInput)
        assert box.placeholder  # the first key also clears the placeholder
        typed = "Whit field-7"
        assert await type_and_compare(pilot, box, typed, writes) == len(typed)
        assert box.value == typed


@pytest.mark.asyncio
@pytest.mark.parametrize("theme", THEMES)
async def test_up_to_the_last_cell_of_the_box_then_the_normal_path(app_factory, writes, theme):
    """The text and the cursor cell fit: echoed (the last one ends on the box's last cell); one more
    would scroll the text: the normal path only, and the frame scrolls it as before."""
    app = app_factory(theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await search_loaded(pilot)
        box = app.screen.query_one("#query", QueryInput)
        inner = box.scrollable_content_region.width
        await paste(pilot, "x" * (inner - 4))
        await settled(pilot)
        assert await type_and_compare(pilot, box, "abcde", writes) == 3  # lengths inner-3 … inner-1
        assert box.value.endswith("abcde") and box.scroll_offset.x > 0


# -- every other case takes the normal path only: nothing written ------------------------------------


async def _not_at_end(pilot, box):
    await pilot.press("a", "b", "left")
    return "c", "acb"


async def _selection(pilot, box):
    await pilot.press("a", "b", "shift+home")
    return "c", "c"


async def _non_ascii(pilot, box):
    return "é", "é"


async def _dialog_over_it(pilot, box):
    await pilot.press("f1")
    await settled(pilot)
    assert pilot.app.screen is not box.screen
    return None, "q"  # a key reaching the box all the same (posted to it below)


async def _setting_off(pilot, box):
    box.local_echo = False  # as `ui.local_echo = false` leaves it (screens/search.py)
    return "q", "q"


@pytest.mark.asyncio
@pytest.mark.parametrize("case", [_not_at_end, _selection, _non_ascii, _dialog_over_it, _setting_off],
                         ids=lambda f: f.__name__.strip("_"))
async def test_other_keys_take_the_normal_path(app_factory, writes, case):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        box = app.screen.query_one("#query", QueryInput)
        key, value = await case(pilot, box)
        await settled(pilot)
        writes.clear()
        if key is None:
            box.post_message(events.Key(value, value))
        else:
            await pilot.press(key)
        await settled(pilot)
        assert box.value == value  # the key did reach the box
        assert writes == []


@pytest.mark.asyncio
async def test_a_paste_takes_the_normal_path(app_factory, writes):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        box = app.screen.query_one("#query", QueryInput)
        await paste(pilot, "w")
        await settled(pilot)
        assert box.value == "w" and writes == []


@pytest.mark.asyncio
async def test_the_setting_turns_it_off(app_factory, writes):
    app = app_factory()
    app.settings.ui.local_echo = False
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        await pilot.press("w")
        await settled(pilot)
        assert app.screen.query_one("#query", QueryInput).value == "w" and writes == []


@pytest.mark.asyncio
async def test_a_failing_echo_loses_no_key(app_factory, writes, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("broken echo")

    monkeypatch.setattr(echo, "echo_sequence", broken)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        await pilot.press("w", "h")
        await settled(pilot)
        box = app.screen.query_one("#query", QueryInput)
        assert box.value == "wh" and writes == []
        assert not box.local_echo  # off after the first failure, logged once
        assert [r.message for r in caplog.records if "local echo" in r.message] == [
            "local echo failed: turned off in this search box"]


@pytest.mark.asyncio
async def test_a_headless_driver_gets_nothing(app_factory):
    """Without the seam above: a test's headless driver is no terminal, and nothing is written to it."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        written: list[str] = []
        app._driver.write = written.append
        await pilot.press("w", "h")
        await settled(pilot)
        assert app.screen.query_one("#query", QueryInput).value == "wh"
        assert written == []


# -- the box on its own, in a plain app ----------------------------------------------------------------


class BoxApp(App[None]):
    CSS = """
    #box { width: 30; }
    #cover { layer: above; offset: 12 1; width: 10; height: 1; }
    Screen { layers: below above; }
    """

    def __init__(self, box: QueryInput, cover: bool = False) -> None:
        super().__init__()
        self.box, self.cover = box, cover

    def compose(self) -> ComposeResult:
        with Vertical():
            yield self.box
        if self.cover:
            yield Static("over it", id="cover")

    def on_mount(self) -> None:
        self.box.cursor_blink = False
        self.box.focus()


async def _typed(app: BoxApp, keys: str, writes: list[str]) -> list[str]:
    async with app.run_test(size=(40, 6)) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        assert app.box.value == "".join(k for k in keys if k != "1" or app.box.restrict is None)
    return list(writes)


@pytest.mark.asyncio
async def test_a_plain_box_echoes(writes):
    assert len(await _typed(BoxApp(QueryInput(id="box")), "abc", writes)) == 3


@pytest.mark.asyncio
@pytest.mark.parametrize("box", [
    lambda: QueryInput(id="box", password=True),
    lambda: QueryInput(id="box", suggester=SuggestFromList(["abcdef"])),
    lambda: QueryInput(id="box", validators=[Length(minimum=5)]),
    lambda: QueryInput(id="box", highlighter=__import__("rich.highlighter").highlighter.ReprHighlighter()),
], ids=["password", "suggester", "validators", "highlighter"])
async def test_a_box_that_draws_more_than_the_text_is_not_echoed(writes, box):
    assert await _typed(BoxApp(box()), "abc", writes) == []


@pytest.mark.asyncio
async def test_a_refused_key_is_not_echoed(writes):
    """The echo waits for the Input's own restrict check: a refused key writes nothing."""
    written = await _typed(BoxApp(QueryInput(id="box", restrict="[a-z]*")), "a1b", writes)
    assert [re.sub(r"\x1b\[[0-9;]*[Hm]", "", w).rstrip() for w in written] == ["a", "b"]
    box = QueryInput(id="box", restrict="[a-z]*")
    await _typed(BoxApp(box), "a1", writes)
    assert box._echo_expected is None  # the refused key leaves no expectation behind


@pytest.mark.asyncio
async def test_cells_under_another_widget_are_not_written(writes):
    """A widget drawn over the box (here from column 12 on the text's row) keeps its cells: the first key
    would clear the placeholder under it, so it takes the normal path; later keys (cells before column
    12) are echoed."""
    written = await _typed(BoxApp(QueryInput(id="box", placeholder="find"), cover=True), "abc", writes)
    assert len(written) == 2
    assert await _typed(BoxApp(QueryInput(id="box", placeholder="find")), "abc", []) == []  # seam unset


@pytest.mark.asyncio
async def test_nothing_is_echoed_while_the_box_waits_for_a_repaint(writes):
    app = BoxApp(QueryInput(id="box"))
    async with app.run_test(size=(40, 6)) as pilot:
        await pilot.pause()
        assert echo.echo_sequence(app.box, "x") is not None
        app.box.refresh()  # drawn on the next frame: the terminal may not show the box as it is
        assert echo.echo_sequence(app.box, "x") is None
        await pilot.pause()
        assert echo.echo_sequence(app.box, "x") is not None
        assert echo.echo_sequence(app.box, "xy") is None  # more than one character
        assert echo.echo_sequence(app.box, "\x1b") is None  # not printable ASCII


class _Driver:
    """Stands in for a driver's two flags and its ``write`` (an inline or headless terminal driver cannot
    be started inside a test's event loop)."""

    def __init__(self, headless: bool, inline: bool) -> None:
        self.is_headless, self.is_inline = headless, inline
        self.written: list[str] = []

    def write(self, data: str) -> None:
        self.written.append(data)


@pytest.mark.asyncio
async def test_only_a_full_screen_terminal_gets_the_echo():
    app = BoxApp(QueryInput(id="box"))
    async with app.run_test(size=(40, 6)) as pilot:
        await pilot.pause()
        real = app._driver
        try:
            app._driver = terminal = _Driver(headless=False, inline=False)
            write = echo.terminal_writer(app.box)
            assert write is not None
            write("\x1b[2;4Hx")
            assert terminal.written == ["\x1b[2;4Hx"]
            app._driver = _Driver(headless=False, inline=True)
            assert echo.terminal_writer(app.box) is None
            app._driver = _Driver(headless=True, inline=False)
            assert echo.terminal_writer(app.box) is None
        finally:
            app._driver = real

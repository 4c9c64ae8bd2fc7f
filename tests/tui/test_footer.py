"""The key bar (``widgets/footer.py``): one widget that draws the keys of the screen in front.

What Textual's ``Footer`` showed, it shows: a key per action with its description, the disabled ones
dimmed, the command palette's key on the right; a click on a key runs it, the pointer over a key
shows its tooltip. What it no longer does:
mount a widget per key and build them again at every change of bindings (a control app with
Textual's own footer shows that it does).
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from carecli.widgets.footer import PALETTE_RULE, CareFooter

from .conftest import search_loaded


def bar(app: App) -> str:
    footer = app.screen.query_one(CareFooter)
    return "".join(segment.text for segment in footer.render_line(0))


class Keys(App[None]):
    """Three keys; the third's action is disabled while ``locked``."""

    BINDINGS = [Binding("f2", "ring", "Ring", tooltip="Ring the bell"), Binding("f3", "ring", "Ring again"),
                Binding("f5", "lockable", "Lockable", tooltip="Only when unlocked")]

    def __init__(self) -> None:
        super().__init__()
        self.locked = False
        self.rung = 0

    def compose(self) -> ComposeResult:
        yield CareFooter()

    def action_ring(self) -> None:
        self.rung += 1

    def action_lockable(self) -> None:
        self.rung += 10

    def check_action(self, action: str, parameters) -> bool | None:
        return None if action == "lockable" and self.locked else True

    async def lock(self, pilot) -> None:
        """Disable the third key's action, and let the bar catch up."""
        self.locked = True
        self.refresh_bindings()
        await pilot.pause()


@pytest.mark.asyncio
async def test_the_bar_shows_one_key_per_action_and_the_palette_on_the_right():
    app = Keys()
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        line = bar(app)
        assert len(line) == 60
        assert line.startswith(" f2 Ring  f5 Lockable ")  # f3 runs the same action as f2: not shown twice
        assert line.endswith(f"{PALETTE_RULE}^p palette ")


@pytest.mark.asyncio
async def test_a_disabled_action_is_dimmed_and_the_bar_follows_the_bindings_without_mounting():
    app = Keys()
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        footer = app.query_one(CareFooter)

        def dim_texts() -> list[str]:
            return [s.text for s in footer.render_line(0) if s.style is not None and s.style.dim]

        assert dim_texts() == []
        await app.lock(pilot)
        assert "".join(dim_texts()) == " f5 Lockable "
        assert not footer.children  # a repaint, not a rebuild


@pytest.mark.asyncio
async def test_a_click_on_a_key_runs_it_and_a_disabled_one_does_not():
    app = Keys()
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        await pilot.click(CareFooter, offset=(2, 0))  # on " f2 Ring "
        assert app.rung == 1
        await app.lock(pilot)
        await pilot.click(CareFooter, offset=(12, 0))  # on " f5 Lockable ", now disabled
        assert app.rung == 1


@pytest.mark.asyncio
async def test_the_pointer_over_a_key_shows_its_tooltip():
    app = Keys()
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        footer = app.query_one(CareFooter)
        await pilot.hover(CareFooter, offset=(2, 0))  # over " f2 Ring "
        assert footer.tooltip == "Ring the bell"
        await pilot.hover(CareFooter, offset=(12, 0))  # over " f5 Lockable "
        assert footer.tooltip == "Only when unlocked"
        await pilot.hover(CareFooter, offset=(30, 0))  # between the keys and the palette's
        assert footer.tooltip is None


@pytest.mark.asyncio
@pytest.mark.parametrize("width", [80, 120])
async def test_the_search_screen_bar_at_80_and_120_columns(app_factory, width):
    app = app_factory()
    async with app.run_test(size=(width, 24)) as pilot:
        await search_loaded(pilot)
        line = bar(app)
        assert len(line) == width
        assert line.startswith(" / Search  f3 Stage  ^n Next page  f4 Account  ^q Quit  f1 Help ")
        assert line.endswith(f"{PALETTE_RULE}^p palette ")


@pytest.mark.asyncio
async def test_control_textuals_footer_mounts_a_widget_per_key():
    class Plain(App[None]):
        BINDINGS = [Binding("f2", "bell", "Ring"), Binding("f3", "bell", "Ring again", id="two")]

        def compose(self) -> ComposeResult:
            yield Footer()

    async with Plain().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert pilot.app.query(FooterKey)  # what CareFooter draws itself

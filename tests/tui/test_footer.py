"""The key bar: its keys are mounted in their final style, without the two style re-applications per
key that Textual's Footer makes (a control app with Textual's own Footer shows them)."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from .conftest import search_loaded


def _count_style_updates(monkeypatch) -> list:
    calls: list = []
    original = FooterKey.update_node_styles

    def counting(self, animate: bool = True) -> None:
        calls.append(self)
        original(self, animate)

    monkeypatch.setattr(FooterKey, "update_node_styles", counting)
    return calls


@pytest.mark.asyncio
async def test_the_footer_keys_are_mounted_without_restyling(app_factory, monkeypatch):
    calls = _count_style_updates(monkeypatch)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        keys = [k for k in app.screen.query(FooterKey) if not k.has_class("-command-palette")]
        assert len(keys) >= 3 and {k.description for k in keys} >= {"Search", "Stage", "Quit"}
        assert all(k.compact is False and not k.has_class("-compact") for k in keys)
        assert not [k for k in calls if k in keys]  # none of them restyled
        # the command palette's key is not bound to the footer's compact, in Textual as here
        palette = app.screen.query_one(".-command-palette", FooterKey)
        assert palette.compact is True and palette.has_class("-compact")


@pytest.mark.asyncio
async def test_control_textuals_footer_restyles_each_key_it_mounts(monkeypatch):
    calls = _count_style_updates(monkeypatch)

    class Plain(App[None]):
        BINDINGS = [Binding("f2", "bell", "Ring"), Binding("f3", "bell", "Ring again", id="two")]

        def compose(self) -> ComposeResult:
            yield Footer()

    async with Plain().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert calls  # what CareFooter avoids

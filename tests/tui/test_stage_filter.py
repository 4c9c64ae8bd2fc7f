"""The search screen's stage filter: F3 focuses it, Enter opens the list of stages under it, a choice
narrows the results to that stage (and the store's own filter agrees), Escape leaves it as it was,
Delete goes back to every stage. The list is imported only when it is first opened."""

from __future__ import annotations

import sys

import pytest
from textual.widgets import OptionList, Select

from carecli.screens.search import SearchScreen
from carecli.widgets.stage_filter import StageFilter

from .conftest import result_refs, search_loaded, settled, status_text


def stages_shown(app) -> set[str]:
    screen = app.screen
    assert isinstance(screen, SearchScreen) and screen._page is not None
    return {s.stage.split(" · ")[0] for s in screen._page.items}


@pytest.mark.asyncio
async def test_choosing_a_stage_narrows_the_results_and_delete_clears_it(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        everything = result_refs(app)
        assert not app.screen.query(Select) and not app.screen.query(OptionList)  # nothing built for the list
        assert len(stages_shown(app)) > 1  # the demo's most recent orders are of several stages
        await pilot.press("f3")
        stage_filter = app.screen.query_one("#stage", StageFilter)
        assert app.focused is stage_filter and stage_filter.value is None
        await pilot.press("enter")
        await settled(pilot)
        picker = app.screen
        assert type(picker).__name__ == "StagePicker"
        # the list opens under the filter, on "Any stage"; the third entry is the second stage (Booked)
        stages = picker.query_one("#stages")
        assert stages.region.y == stage_filter.region.bottom and stages.highlighted == 0
        await pilot.press("down", "down", "enter")
        await settled(pilot)
        assert isinstance(app.screen, SearchScreen) and app.focused is stage_filter
        assert stage_filter.value == "BOOKED" and "Booked" in str(stage_filter.render())
        assert stages_shown(app) == {"BOOKED"}
        expected = [s.ref for s in app.backend.search_orders("", stage="BOOKED", limit=50).items]
        assert result_refs(app) == expected[:len(result_refs(app))] and result_refs(app)
        # opened again: on the stage chosen; Escape leaves it as it was
        await pilot.press("enter")
        await settled(pilot)
        assert app.screen.query_one("#stages").highlighted == 2
        await pilot.press("escape")
        await settled(pilot)
        assert stage_filter.value == "BOOKED" and stages_shown(app) == {"BOOKED"}
        # Delete: every stage again, the first page as before
        await pilot.press("delete")
        await settled(pilot)
        assert stage_filter.value is None and "Any stage" in str(stage_filter.render())
        assert result_refs(app) == everything
        assert "Enter opens" in status_text(app)


def test_the_list_of_stages_is_not_imported_with_the_search_screen():
    import subprocess

    out = subprocess.run([sys.executable, "-c", "import sys, carecli.screens.search\n"
                          "print('carecli.screens.stage_picker' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]

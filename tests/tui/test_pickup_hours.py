"""Opening hours of pickup stores are free text in the store data (``OpeningHours.opens``/``closes``
are strings; only the day is checked). Nothing parses them and no screen takes them as input: they
are only shown, by the pickup-store dialog (:func:`hours_text`) and by the order's Fulfilment tab.
These tests give both odd and hostile values — markup, terminal escape sequences, words, empty and
very long text, a day with two spans — and check they are shown literally, cleaned, and break nothing.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from carecli.demo import SCENARIOS
from carecli.engine.commands import ChangePickupLocation
from carecli.engine.model import OpeningHours, PickupLocation
from carecli.screens.dialogs import PickupDialog, hours_text
from carecli.screens.order import OrderScreen
from tests.engine.factory import LOCATIONS, collect, line, order

from .conftest import screen_text, settled, until
from .test_dialogs import REFERENCE, painted_segments, run
from .test_dialogs import screen_text as dialog_text

OSC52 = "\x1b]52;c;SGVsbG8=\x07"
ODD = (
    OpeningHours(day="Mon", opens="[bold]late[/bold]", closes=f"{OSC52}midnight"),
    OpeningHours(day="Tue", opens="9am", closes="[@click=app.quit]"),
    OpeningHours(day="Wed", opens="", closes=""),
    OpeningHours(day="Thu", opens="09:00", closes="12:00"),
    OpeningHours(day="Thu", opens="13:00", closes="18:00"),  # a lunch break: two spans on one day
    OpeningHours(day="Fri", opens="24h\x07\x1b[2J", closes="\u202eesolc"),
)


def test_hours_text_shows_free_text_as_it_is_and_every_span_of_a_day():
    shown = hours_text(ODD)
    assert shown.startswith(f"Mon [bold]late[/bold]–{OSC52}midnight · Tue 9am–[@click=app.quit] · Wed – · ")
    assert "Thu 09:00–12:00, 13:00–18:00" in shown  # not only the last span
    assert shown.endswith("Sat–Sun closed")
    long = hours_text((OpeningHours(day="Sun", opens="9" * 500, closes="x"),))
    assert long == "Mon–Sat closed · Sun " + "9" * 500 + "–x"
    # the split days group with their equals only
    two = (OpeningHours(day="Mon", opens="9", closes="12"), OpeningHours(day="Mon", opens="13", closes="17"),
           OpeningHours(day="Tue", opens="9", closes="12"), OpeningHours(day="Tue", opens="13", closes="17"),
           OpeningHours(day="Wed", opens="9", closes="17"))
    assert hours_text(two) == "Mon–Tue 9–12, 13–17 · Wed 9–17 · Thu–Sun closed"


@pytest.mark.asyncio
async def test_the_pickup_dialog_shows_odd_hours_literally_and_still_chooses():
    from carecli.backend.contract import ReferenceData

    odd = PickupLocation(id="ST-ODD", name="Odd Hours Store", address=LOCATIONS["ST-CHI"].address, hours=ODD)
    ref = ReferenceData(variants=REFERENCE.variants, locations=[LOCATIONS["ST-CHI"], odd], policy=REFERENCE.policy)
    o = order(line(1, "HAT"), fulfilment=collect("ST-CHI"))

    async def go(app, pilot):
        text = dialog_text(app)
        assert "Odd Hours Store" in text
        flat = " ".join(text.split())
        assert "Mon [bold]late[/bold]–midnight" in flat and "Tue 9am–[@click=app.quit]" in flat
        assert "Thu 09:00–12:00, 13:00–18:00" in flat
        painted = painted_segments(app)
        assert "\x1b" not in painted and "\x07" not in painted and "52;c;SGVsbG8" not in painted
        assert "\u202e" not in painted
        await pilot.press("down", "enter")  # the odd store can still be chosen
        await pilot.pause()

    assert await run(PickupDialog(o, ref), check=go) == ChangePickupLocation(location_id="ST-ODD")


@pytest.mark.asyncio
async def test_the_fulfilment_tab_shows_odd_store_hours_literally(store_path, app_factory):
    """Every store in the test's copy of the demo store gets the odd hours; the click & collect order
    ready at its store shows them on its Fulfilment tab."""
    with sqlite3.connect(store_path) as c:
        for loc_id, raw in c.execute("SELECT location_id, json FROM locations").fetchall():
            data = json.loads(raw)
            data["hours"] = [h.model_dump() for h in ODD]
            c.execute("UPDATE locations SET json = ? WHERE location_id = ?", (json.dumps(data), loc_id))
    c.close()
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = OrderScreen(SCENARIOS["click_and_collect_ready"])
        app.push_screen(screen)
        await until(pilot, lambda: screen.session is not None and screen.is_current, "the order")
        await pilot.press("2")
        await settled(pilot)
        text = screen_text(app)
        assert "Click & collect" in text
        assert "Mon [bold]late[/bold]–midnight" in text and "Tue 9am–[@click=app.quit]" in text
        assert "Thu 09:00–12:00" in text and "Thu 13:00–18:00" in text
        update = app.screen._compositor.render_update(full=True)
        painted = "".join(s.text for s in update.__rich_console__(app.console, app.console.options)
                          if not s.control)
        assert "\x1b" not in painted and "\x07" not in painted and "\u202e" not in painted
        assert app.is_running

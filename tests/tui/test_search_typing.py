"""Search as you type: at most one query runs, the newest request waits for it, and only the newest
result is drawn.

The store is the real one; its ``search_orders`` is wrapped to record each query and, while a gate is
closed, to hold the query that has started (as a slow query on a big store would).
"""

from __future__ import annotations

import threading

import pytest

from carecli.demo import SEED_CASE_REF
from carecli.screens.search import SearchScreen

from .conftest import result_refs, search_loaded, settled, status_text, until


@pytest.mark.asyncio
async def test_keys_typed_during_a_query_run_once_and_only_the_newest_is_drawn(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        store = app.backend
        real = store.search_orders
        ran: list[str] = []
        started = threading.Event()
        gate = threading.Event()

        def held(query, **kw):
            ran.append(query)
            started.set()
            gate.wait(10)
            return real(query, **kw)

        store.search_orders = held
        shown: list[str] = []
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        show = screen._show
        screen._show = lambda page: (shown.append(",".join(i.customer_name for i in page.items[:1])),
                                     show(page))
        try:
            await pilot.press("w")
            await until(pilot, started.is_set, "the first query to start")
            for ch in "hitfield":  # typed while the query for "w" is held
                await pilot.press(ch)
            await pilot.pause(0.1)
            assert ran == ["w"], "a second query started while one was running"
            gate.set()
            await until(pilot, lambda: len(ran) == 2 and "by customer name" in status_text(app)
                        and SEED_CASE_REF in result_refs(app), "the results for the whole word")
            await settled(pilot)
        finally:
            gate.set()
            store.search_orders = real
        assert ran == ["w", "whitfield"]  # "wh", "whi", … were never run
        assert len(shown) == 1 and shown[0].endswith("Whitfield")  # the stale page for "w" never drawn

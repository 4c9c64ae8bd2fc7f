"""The first page of results is read while the app starts, and shown in the first frame.

From an embedded store ``tui.run`` reads it at once, before the app runs (``tui.at_once``); from a
server, ``tui.prefetch`` runs the query in a thread of its own. The search screen takes the page when
it mounts if it has come by then, and otherwise (not there yet, or the query failed) asks for it as
for any other page. A store that counts its searches (a real store, subclassed) shows which way the
page came.
"""

from __future__ import annotations

import pytest

from carecli.backend.errors import Unavailable
from carecli.backend.sqlite import SqliteStore
from carecli.config import Settings
from carecli.tui import at_once, prefetch

from .conftest import ACTOR, SteadyCareApp, fixed_clock, result_refs, search_loaded


class CountingStore(SqliteStore):
    searches = 0

    def search_orders(self, *args, **kwargs):
        type(self).searches += 1
        return super().search_orders(*args, **kwargs)


def _app(store_path, first_page):
    store = CountingStore.open(store_path, role="agent", clock=fixed_clock)
    return store, SteadyCareApp(store, Settings(actor=ACTOR), clock=fixed_clock, first_page=first_page)


@pytest.mark.asyncio
async def test_a_prefetched_page_is_shown_without_asking_again(store_path):
    CountingStore.searches = 0
    store, app = _app(store_path, None)
    try:
        app._first_page = future = prefetch(lambda: store.search_orders("", limit=app.settings.ui.page_size))
        future.result(timeout=10)  # it has come before the screen mounts
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.screen.query_one("#results").row_count == app.settings.ui.page_size  # at mount
            await search_loaded(pilot)
            assert CountingStore.searches == 1  # the prefetch only
            assert result_refs(app) == [s.ref for s in future.result().items]
    finally:
        store.close()


@pytest.mark.asyncio
async def test_a_failed_prefetch_is_asked_again_by_the_screen(store_path):
    CountingStore.searches = 0

    def fails():
        raise Unavailable("the store is busy")

    future = prefetch(fails)
    with pytest.raises(Unavailable):
        future.result(timeout=10)
    store, app = _app(store_path, future)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await search_loaded(pilot)
            assert CountingStore.searches == 1  # the screen's own query
            assert len(result_refs(app)) == app.settings.ui.page_size
    finally:
        store.close()


@pytest.mark.asyncio
async def test_the_start_is_frozen_out_of_the_collectors_view_only_when_asked(store_path):
    """``freeze_start`` (what ``tui.run`` passes) moves what the start built out of the garbage
    collector's view after the first frame; an app made without it (every other test's) does not."""
    import gc

    gc.unfreeze()
    try:
        for freeze in (False, True):
            store = SqliteStore.open(store_path, role="agent", clock=fixed_clock)
            app = SteadyCareApp(store, Settings(actor=ACTOR), clock=fixed_clock, freeze_start=freeze)
            try:
                async with app.run_test(size=(80, 24)) as pilot:
                    await search_loaded(pilot)
                    assert (gc.get_freeze_count() > 0) is freeze
            finally:
                store.close()
    finally:
        gc.unfreeze()


@pytest.mark.asyncio
async def test_a_page_still_being_read_when_the_screen_mounts_is_waited_for(store_path):
    """The query is still running when the screen mounts (held here by an event until the mount has
    begun): the mount waits for it rather than drawing an empty table and asking again."""
    import threading

    CountingStore.searches = 0
    mounting = threading.Event()
    store, app = _app(store_path, None)

    def slow_first_page():
        mounting.wait(10)
        return store.search_orders("", limit=app.settings.ui.page_size)

    app._first_page = prefetch(slow_first_page)
    original = app.take_first_page

    def take():
        mounting.set()  # the query may go on now; the screen is mounting
        return original()

    app.take_first_page = take
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.screen.query_one("#results").row_count == app.settings.ui.page_size  # at mount
            await search_loaded(pilot)
            assert CountingStore.searches == 1  # the start's query only
    finally:
        store.close()


@pytest.mark.asyncio
async def test_a_page_that_does_not_come_in_time_is_asked_for_again(store_path):
    from concurrent.futures import Future

    CountingStore.searches = 0
    store, app = _app(store_path, Future())  # never done
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await search_loaded(pilot)
            assert CountingStore.searches == 1  # the screen's own query, after the wait
    finally:
        store.close()


def test_at_once_holds_the_result_or_the_error():
    assert at_once(lambda: 42).result(timeout=0) == 42

    def fails():
        raise Unavailable("the store is busy")

    future = at_once(fails)
    assert future.done() and isinstance(future.exception(timeout=0), Unavailable)


def test_an_embedded_store_s_first_page_is_there_before_the_app_runs(tmp_path, monkeypatch, search_threads):
    import carecli.tui as tui
    from carecli.app import CareApp

    monkeypatch.setattr(tui, "FIRST_START_ORDERS", 60)  # more than a page
    searched_in = search_threads(SqliteStore)  # each search: made on the main thread?
    seen: list = []

    def run(self):  # instead of running: what the app was given
        future = self._first_page
        seen.append((future.done(), len(future.result(timeout=0).items) if future.done() else None))

    monkeypatch.setattr(CareApp, "run", run)
    assert tui.run({"store": str(tmp_path / "s.db")}) == 0
    assert seen == [(True, Settings().ui.page_size)]
    assert searched_in == [True]  # read before the app ran, on the main thread, once

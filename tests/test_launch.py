"""Starting carecli: the first start builds the demo store; settings reach the backend."""

from __future__ import annotations

import carecli.tui as tui
from carecli.config import Settings, locations


def test_first_start_builds_the_demo_store_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tui, "FIRST_START_ORDERS", 40)
    settings = Settings(store=tmp_path / "data" / "store.db")
    warnings: list[str] = []
    store = tui.open_backend(settings, warnings)
    try:
        assert (tmp_path / "data" / "store.db").exists() and warnings == []
        assert store.search_orders("ON-100001").items[0].ref == "ON-100001"
        assert store.read_only is False and store.role == "agent"
    finally:
        store.close()
    assert "building the demo store" in capsys.readouterr().err
    again = tui.open_backend(settings, warnings)  # an existing store is opened, not rebuilt
    again.close()
    assert "building" not in capsys.readouterr().err


def test_a_supervisor_gets_a_read_only_store(tmp_path, monkeypatch):
    monkeypatch.setattr(tui, "FIRST_START_ORDERS", 25)
    store = tui.open_backend(Settings(store=tmp_path / "s.db", role="supervisor"), [])
    try:
        assert store.read_only is True
    finally:
        store.close()


def test_default_store_lives_in_the_user_data_dir():
    assert Settings().store_path(locations()) == locations().data_dir / "store.db"


def test_the_app_renders_with_the_operators_templates_and_refuses_a_bad_one_before_building(tmp_path,
                                                                                           monkeypatch):
    import pytest

    from carecli.engine.notifications import TemplateError

    monkeypatch.setattr(tui, "FIRST_START_ORDERS", 25)
    folder = locations().templates_dir
    folder.mkdir(parents=True)
    (folder / "order_amended.subject").write_text("Changed: $order_ref")
    store = tui.open_backend(Settings(store=tmp_path / "s.db"), [])
    try:  # the store renders with them, and serves them to the screens for the preview
        assert store.reference().templates["ORDER_AMENDED"].subject == "Changed: $order_ref"
    finally:
        store.close()
    (folder / "order_amended.txt").write_text("Hi $nope")
    with pytest.raises(TemplateError, match=r"order_amended\.txt.*\$nope"):
        tui.open_backend(Settings(store=tmp_path / "other.db"), [])
    assert not (tmp_path / "other.db").exists()  # refused before the demo store is built
    assert tui.run({"store": str(tmp_path / "other.db")}) == 2


def _headless_run(monkeypatch, seen: list):
    """``CareApp.run`` replaced by a headless run (no terminal in a test) that ends once the app has
    read the operator's files after its first frame; the app is kept in ``seen``."""
    import asyncio
    import threading

    from carecli.app import CareApp

    checked = threading.Event()
    check = CareApp._check_files

    def checking(self):
        check(self)
        checked.set()

    def run(self):
        async def go():
            async with self.run_test(size=(100, 30)) as pilot:
                seen.append(self)
                for _ in range(200):
                    await pilot.pause(0.05)
                    if checked.is_set():
                        await pilot.pause(0.05)  # the exit it may have asked for
                        return
                raise AssertionError("the files were never checked")
        asyncio.run(go())

    monkeypatch.setattr(CareApp, "_check_files", checking)
    monkeypatch.setattr(CareApp, "run", run)


def test_a_bad_policy_file_stops_the_app_after_its_first_frame_naming_file_and_key(tmp_path, monkeypatch,
                                                                                    capsys):
    """An existing store opens without reading the policy (the first screen comes first); the app reads
    it right after, and a file that cannot be used ends the app with its message and exit code 2."""
    monkeypatch.setattr(tui, "FIRST_START_ORDERS", 25)
    tui.open_backend(Settings(store=tmp_path / "s.db"), []).close()  # the store exists
    policy = locations().policy_file
    policy.parent.mkdir(parents=True, exist_ok=True)
    policy.write_text('[returns]\nwindow_days = "thirty"\n')
    store = tui.open_backend(Settings(store=tmp_path / "s.db"), [])  # opens: the policy is not read yet
    check = tui.files_check(store)
    assert check is not None
    message = check()
    store.close()
    assert message is not None and str(policy) in message and "key returns.window_days" in message
    seen: list = []
    _headless_run(monkeypatch, seen)
    assert tui.run({"store": str(tmp_path / "s.db")}) == 2
    assert seen and seen[0].stopped_because == message
    err = capsys.readouterr().err
    assert "carecli: Policy:" in err and "key returns.window_days" in err


def test_good_files_are_read_after_the_first_frame_and_the_app_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(tui, "FIRST_START_ORDERS", 25)
    folder = locations().templates_dir
    folder.mkdir(parents=True)
    (folder / "order_amended.subject").write_text("Changed: $order_ref")
    tui.open_backend(Settings(store=tmp_path / "s.db"), []).close()
    seen: list = []
    _headless_run(monkeypatch, seen)
    assert tui.run({"store": str(tmp_path / "s.db")}) == 0
    app = seen[0]
    assert app.stopped_because == "" and app.return_code in (0, None)
    assert app.backend._templates_dir is None  # read by the check, not later
    assert app.backend.templates["ORDER_AMENDED"].subject == "Changed: $order_ref"


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path):
    """``carecli config | head -1``: the pipe closes before carecli writes; it stops quietly."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_DATA_HOME": str(tmp_path / "d")}
    p = subprocess.Popen([sys.executable, "-m", "carecli.cli", "config"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    p.stdout.close()  # the reader is gone before anything is written
    err = p.stderr.read().decode()
    p.stderr.close()
    assert p.wait(timeout=30) == 1
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_the_start_s_later_work_runs_even_if_the_first_results_never_come(tmp_path, monkeypatch):
    """The first results start what the launch left for later (the files check, the collector's
    return); a first query that hangs does not keep it from running."""
    import asyncio
    import threading

    from carecli.app import CareApp

    monkeypatch.setattr(tui, "FIRST_START_ORDERS", 25)
    monkeypatch.setattr(CareApp, "STARTED_AT_THE_LATEST_S", 0.3)
    monkeypatch.setattr(CareApp, "FILES_CHECK_DELAY_S", 0.01)
    store = tui.open_backend(Settings(store=tmp_path / "s.db"), [])
    release = threading.Event()
    search = store.search_orders

    def hanging(*args, **kwargs):
        release.wait(10)
        return search(*args, **kwargs)

    store.search_orders = hanging  # type: ignore[method-assign]
    checked = threading.Event()

    def check() -> None:
        checked.set()
        return None

    app = CareApp(store, Settings(store=tmp_path / "s.db"), files_check=check)

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(100):
                await pilot.pause(0.05)
                if checked.is_set():
                    break
            release.set()
            assert checked.is_set(), "the files were not checked without first results"
            assert "Enter opens" not in str(app.screen.query_one("#status").render())  # no results came

    try:
        asyncio.run(go())
    finally:
        release.set()
        store.close()

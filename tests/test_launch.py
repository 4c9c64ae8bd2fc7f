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

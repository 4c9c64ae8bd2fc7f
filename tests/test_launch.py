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

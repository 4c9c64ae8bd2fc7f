"""Settings precedence and bad input: defaults < file < environment < flags; a bad key is named and
keeps its default; the app still opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from carecli.config import Locations, Settings, describe_locations, load_settings


@pytest.fixture
def where(tmp_path) -> Locations:
    return Locations(config_dir=tmp_path / "cfg", data_dir=tmp_path / "data", log_dir=tmp_path / "log")


def write(where: Locations, text: str) -> Path:
    where.config_dir.mkdir(parents=True, exist_ok=True)
    where.config_file.write_text(text)
    return where.config_file


def test_defaults_without_any_file(where):
    s, warnings = load_settings(env={}, where=where)
    assert s.role == "agent" and s.theme == "carecli-dark" and warnings == []
    assert s.store_path(where) == where.data_dir / "store.db"
    assert s.effective_read_only is False


def test_file_then_environment_then_flags(where):
    write(where, 'role = "supervisor"\ntheme = "carecli-light"\nstore = "/srv/file.db"\n[ui]\npage_size = 20\n')
    s, _ = load_settings(env={}, where=where)
    assert (s.role, s.theme, str(s.store), s.ui.page_size) == ("supervisor", "carecli-light", "/srv/file.db", 20)
    assert s.effective_read_only is True  # supervisors are read-only by default
    s, _ = load_settings(env={"CARECLI_THEME": "ansi-dark", "CARECLI_UI__PAGE_SIZE": "100"}, where=where)
    assert s.theme == "ansi-dark" and s.ui.page_size == 100 and s.role == "supervisor"
    s, _ = load_settings({"theme": "carecli-contrast", "read_only": False}, env={"CARECLI_THEME": "ansi-dark"},
                         where=where)
    assert s.theme == "carecli-contrast" and s.effective_read_only is False


def test_a_bad_key_is_named_and_keeps_its_default(where):
    path = write(where, 'role = "boss"\ntheme = "carecli-light"\n[ui]\npage_size = 5\n')
    s, warnings = load_settings(env={}, where=where)
    assert s.role == "agent" and s.theme == "carecli-light" and s.ui.page_size == 50
    assert any(str(path) in w and "key role" in w for w in warnings)
    assert any("key ui.page_size" in w for w in warnings)


def test_a_bad_environment_value_names_the_variable(where):
    s, warnings = load_settings(env={"CARECLI_UI__PAGE_SIZE": "lots"}, where=where)
    assert s.ui.page_size == 50
    assert any("CARECLI_UI__PAGE_SIZE" in w for w in warnings)


@pytest.mark.parametrize("text", ["role = \n", "\x00\x01binary", "[ui\n"])
def test_a_malformed_file_is_ignored_with_a_warning(where, text):
    path = write(where, text)
    s, warnings = load_settings(env={}, where=where)
    assert s == Settings(actor=s.actor) and len(warnings) == 1 and str(path) in warnings[0]


def test_a_huge_file_is_refused_without_reading_it_all(where):
    path = write(where, "# " + "x" * 1_100_000)
    _, warnings = load_settings(env={}, where=where)
    assert warnings and "larger than 1 MB" in warnings[0] and str(path) in warnings[0]


def test_sqlite_backend_url_names_the_store(where):
    s, _ = load_settings({"backend": "sqlite:////srv/care.db"}, env={}, where=where)
    assert s.store_path(where) == Path("/srv/care.db")


def test_describe_locations_prints_every_path(where):
    s, _ = load_settings(env={}, where=where)
    out = describe_locations(s, where)
    for p in (where.config_file, where.policy_file, where.data_dir / "store.db", where.log_dir,
              where.config_dir / "templates", where.data_dir / "outbox"):
        assert str(p) in out


def test_themes_ship_and_a_bad_theme_file_is_named(tmp_path):
    from carecli.themes import builtin_themes, user_themes

    assert {t.name for t in builtin_themes()} == {"carecli-dark", "carecli-light", "carecli-contrast"}
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nprimary = "not-a-colour"\n')
    odd = tmp_path / "odd.toml"
    odd.write_text('name = "y"\nprimary = "#fff"\nsparkle = true\n')
    themes, warnings = user_themes([bad, odd])
    assert themes == [] and len(warnings) == 2
    assert "bad.toml" in warnings[0] and "key primary" in warnings[0]
    assert "odd.toml" in warnings[1] and "key sparkle" in warnings[1]


def test_sqlite_backend_url_with_three_slashes(where):
    s, _ = load_settings({"backend": "sqlite:///srv/care.db"}, env={}, where=where)
    assert s.store_path(where) == Path("/srv/care.db")

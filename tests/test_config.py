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


def test_values_are_converted_the_way_a_person_means_them(where):
    env = {"CARECLI_READ_ONLY": "yes", "CARECLI_HTTP__CONNECT_TIMEOUT": "1.5", "CARECLI_UI__PAGE_SIZE": " 20 ",
           "CARECLI_DELIVERY__SMTP_STARTTLS": "off", "CARECLI_STORE": ""}
    s, warnings = load_settings(env=env, where=where)
    assert warnings == []
    assert s.read_only is True and s.http.connect_timeout == 1.5 and s.ui.page_size == 20  # float-ok: seconds
    assert s.delivery.smtp_starttls is False
    assert s.store is None  # an empty variable is "not set", not the current folder


@pytest.mark.parametrize("text,key,reason", [
    ('read_only = "maybe"\n', "read_only", "expected true or false, got 'maybe'"),
    ("[http]\nconnect_timeout = 0\n", "http.connect_timeout", "must be more than 0"),
    ("[http]\nretries = 11\n", "http.retries", "must be at most 10, got 11"),
    ('[http]\nretries = "three"\n', "http.retries", "expected a whole number, got 'three'"),
    ("[http]\nread_timeout = nan\n", "http.read_timeout", "expected a finite number"),
    ("[ui]\ncolour = 3\n", "ui.colour", "not a setting (the settings here: local_echo, page_size, search_debounce_ms)"),
    ("theme = 3\n", "theme", "expected a text, got 3"),
    ('keymap = "ctrl+s"\n', "keymap", "expected a table of names to texts"),
    ('ui = "big"\n', "ui", "expected a table of settings"),
    ('backend = "ftp://x"\n', "backend", "expected sqlite:///path/to/store.db or https://host:port"),
    ('backend = "https://x:99999"\n', "backend", "the port is not a number from 1 to 65535"),
])
def test_each_kind_of_bad_value_is_named_with_its_key_and_what_was_expected(where, text, key, reason):
    path = write(where, text)
    s, warnings = load_settings(env={}, where=where)
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"settings file {path}: key {key}: ") and reason in warnings[0]
    assert warnings[0].endswith("; using the default")
    assert s == Settings(actor=s.actor)  # every key kept its default


def test_made_in_code_a_bad_value_raises_naming_the_key():
    from carecli.config import SettingsError, UISettings

    with pytest.raises(SettingsError) as e:
        Settings(role="boss")
    assert e.value.key == "role" and "'agent', 'supervisor'" in e.value.reason
    with pytest.raises(SettingsError) as e:
        Settings(ui=UISettings(page_size=5))
    assert e.value.key == "ui.page_size" and "at least 10" in str(e.value)
    assert Settings(backend="https://care.example:8443/").server_url == "https://care.example:8443"

"""carecli users / serve / login and the app's start against a server, through the real entry point."""

from __future__ import annotations

import keyring
import pytest

from carecli.backend.sqlite import SqliteStore
from carecli.cli import main
from carecli.config import load_settings

from .test_credentials import MemoryKeyring, NoKeyring


def test_users_add_list_revoke(store_copy, capsys):
    assert main(["users", "add", "kim", "--role", "agent", "--store", str(store_copy)]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("cc_") and len(token) > 40
    with SqliteStore.open(store_copy, read_only=True) as s:
        assert s.user_for_token(token).name == "kim"
        raw = store_copy.read_bytes()
    assert token.encode() not in raw  # only its hash is stored
    assert main(["users", "add", "kim", "--role", "agent", "--store", str(store_copy)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["users", "add", "lee", "--role", "supervisor", "--store", str(store_copy)]) == 0
    capsys.readouterr()
    assert main(["users", "list", "--store", str(store_copy)]) == 0
    out = capsys.readouterr().out
    assert "kim" in out and "may write" in out and "lee" in out and "read-only" in out
    assert "cc_" not in out
    assert main(["users", "revoke", "kim", "--store", str(store_copy)]) == 0
    with SqliteStore.open(store_copy, read_only=True) as s:
        assert s.user_for_token(token) is None
    capsys.readouterr()
    assert main(["users", "revoke", "nobody", "--store", str(store_copy)]) == 2
    assert "no user 'nobody'" in capsys.readouterr().err
    assert main(["users", "add", "bad name", "--role", "agent", "--store", str(store_copy)]) == 2


def test_serve_refuses_half_a_tls_pair_and_a_missing_store(tmp_path, capsys):
    assert main(["serve", "--store", str(tmp_path / "x.db"), "--tls-cert", "a.pem"]) == 2
    assert "go together" in capsys.readouterr().err
    assert main(["serve", "--store", str(tmp_path / "missing.db")]) == 2
    assert "No store" in capsys.readouterr().err


def test_backend_setting_is_checked(tmp_path):
    s, warnings = load_settings({"backend": "ftp://care"}, env={})
    assert s.backend == "" and any("key backend" in w and "https://host:port" in w for w in warnings)
    s, warnings = load_settings({"backend": "https://care.example:8443/"}, env={})
    assert s.server_url == "https://care.example:8443" and not warnings
    s, warnings = load_settings({}, env={"CARECLI_BACKEND": "https://care.example:99999"})
    assert s.backend == "" and any("CARECLI_BACKEND" in w for w in warnings)


def test_app_start_without_a_token_says_what_to_do(capsys):
    before = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    try:
        assert main(["--backend", "https://care.example:8443"]) == 2
    finally:
        keyring.set_keyring(before)
    err = capsys.readouterr().err
    assert "carecli login" in err and "CARECLI_TOKEN" in err and "Traceback" not in err


def test_app_start_with_a_refused_token_says_so(served, capsys, monkeypatch):
    monkeypatch.setenv("CARECLI_TOKEN", "cc_wrong")
    assert main(["--backend", served.url]) == 2
    err = capsys.readouterr().err
    assert "Token refused" in err and "cc_wrong" not in err


def test_open_http_backend_signs_in_and_login_stores_the_token(served, monkeypatch):
    from carecli.config import Settings
    from carecli.tui import open_http_backend

    ring = MemoryKeyring()
    before = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        import io

        monkeypatch.setattr("sys.stdin", io.StringIO(served.tokens["supervisor"] + "\n"))
        assert main(["login", "--backend", served.url]) == 0
        warnings: list[str] = []
        b = open_http_backend(Settings(backend=served.url), warnings, env={})
        try:
            assert b.role == "supervisor" and b.read_only and b.whoami().name == "sam.super"
            assert b.ping().online
        finally:
            b.close()
    finally:
        keyring.set_keyring(before)


def test_dead_server_at_start_opens_offline_with_a_warning():
    import socket

    from carecli.config import Settings
    from carecli.tui import open_http_backend

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    warnings: list[str] = []
    b = open_http_backend(Settings(backend=url), warnings, env={"CARECLI_TOKEN": "cc_anything"})
    try:
        assert any("cannot be reached" in w and "offline" in w for w in warnings)
        assert not b.ping().online and b.role == "agent"
        assert all("cc_anything" not in w for w in warnings)
    finally:
        b.close()


def test_users_add_and_revoke_are_audited_in_the_chain(store_copy, capsys, monkeypatch):
    """One audit record per add (and re-issue) and per revoke, actor = --by or the login name, never the
    token; the chain stays valid; a refused add or a revoke of a revoked user writes none."""
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "ops.jo")
    with SqliteStore.open(store_copy, read_only=True) as s:
        before = s.audit_count()
    assert main(["users", "add", "kim", "--role", "agent", "--store", str(store_copy)]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["users", "add", "kim", "--role", "agent", "--store", str(store_copy)]) == 2  # refused
    assert main(["users", "add", "lee", "--role", "supervisor", "--may-write", "--by", "Pat Lead",
                 "--store", str(store_copy)]) == 0
    assert main(["users", "revoke", "kim", "--by", "sec.team", "--store", str(store_copy)]) == 0
    assert main(["users", "revoke", "kim", "--store", str(store_copy)]) == 0  # already revoked: no change
    assert main(["users", "add", "kim", "--role", "agent", "--store", str(store_copy)]) == 0  # re-issued
    assert main(["users", "add", "max", "--role", "agent", "--by", " ", "--store", str(store_copy)]) == 2
    capsys.readouterr()
    with SqliteStore.open(store_copy, read_only=True) as s:
        records = list(s.audit_records())[before:]
        assert s.verify_audit() is None
    assert [(r.actor, r.role, r.order_ref, r.command[0]) for r in records] == [
        ("ops.jo", "admin", "", {"kind": "user_add", "user": "kim", "role": "agent", "may_write": True,
                                 "reissued": False}),
        ("Pat Lead", "admin", "", {"kind": "user_add", "user": "lee", "role": "supervisor", "may_write": True,
                                   "reissued": False}),
        ("sec.team", "admin", "", {"kind": "user_revoke", "user": "kim", "role": "agent"}),
        ("ops.jo", "admin", "", {"kind": "user_add", "user": "kim", "role": "agent", "may_write": True,
                                 "reissued": True}),
    ]
    assert all(token not in r.model_dump_json() for r in records)
    assert main(["audit", "verify", "--store", str(store_copy)]) == 0
    assert f"audit chain ok ({before + 4} records)" in capsys.readouterr().out


def test_the_app_against_a_server_shows_its_first_page(served, monkeypatch, search_threads):
    """``carecli --backend URL`` through the real entry point, up to the first results (the app runs
    headless here). A server's first page is read in a thread while the app starts, not before it."""
    import asyncio

    from carecli.app import CareApp
    from carecli.backend.http import HttpBackend

    monkeypatch.setenv("CARECLI_TOKEN", served.tokens["supervisor"])
    searched_in = search_threads(HttpBackend)  # each search: made on the main thread?
    seen: list[str] = []

    def run(self):
        async def first_results() -> None:
            async with self.run_test(size=(120, 40)) as pilot:
                for _ in range(100):
                    await pilot.pause(0.05)
                    status = str(self.screen.query_one("#status").render())
                    if "Enter opens" in status:
                        seen.append(status)
                        return

        asyncio.run(first_results())

    monkeypatch.setattr(CareApp, "run", run)
    assert main(["--backend", served.url]) == 0
    assert searched_in and not any(searched_in)  # never on the main thread: the first page in a thread
    assert len(seen) == 1 and seen[0].startswith("1–") and "by most recent" in seen[0]

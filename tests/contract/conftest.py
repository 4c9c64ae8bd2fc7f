"""The contract suite's backends. Every test in tests/contract runs against each of them.

Each backend is given a fresh copy of one small demo store (the first 20 orders are the demo's named
scenarios). ``backend_factory(role=..., read_only=...)`` opens another view of the *same* data, so a
test can try a write as a supervisor and then check, as an agent, that nothing changed.

``http``: a real carecli server (uvicorn, in a thread, on a free loopback port) on the test's own copy
of the store, with an agent, a read-only supervisor and a supervisor allowed to write; the factory
hands out HTTP clients signed in with the matching token. A server per test costs a few tens of
milliseconds (the app opened, uvicorn started; the users are in the template); one shared server whose store could be swapped would
need a test-only hook in the server, which production code does not have.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator

import pytest

from carecli.backend.contract import Backend
from carecli.backend.gateway import DemoGateway

DEMO_ORDERS = 300


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    from carecli.backend.sqlite.load import build_demo

    path = tmp_path_factory.mktemp("contract") / "demo.db"
    build_demo(path, orders=DEMO_ORDERS, seed=7, parallel=False)
    return path


@pytest.fixture(scope="session")
def http_template(demo_template, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The demo store with the users of the HTTP server (added once, not per test)."""
    from tests.http.serving import add_users

    path = tmp_path_factory.mktemp("contract-http") / "demo.db"
    shutil.copy(demo_template, path)
    return path, add_users(path)


@pytest.fixture(scope="session")
def clock():
    from carecli.demo import DEMO_NOW

    now = DEMO_NOW + timedelta(minutes=5)
    return lambda: now


@pytest.fixture(params=["sqlite", "http"])
def backend_factory(request, demo_template, tmp_path, clock) -> Iterator[Callable[..., Backend]]:
    opened: list = []
    gateway = DemoGateway()
    if request.param == "sqlite":
        from carecli.backend.sqlite import SqliteStore

        path = tmp_path / "store.db"
        shutil.copy(demo_template, path)

        def make(role: str = "agent", read_only: bool | None = None) -> Backend:
            b = SqliteStore.open(path, role=role, read_only=read_only, clock=clock, gateway=gateway)
            opened.append(b)
            return b
    elif request.param == "http":
        from carecli.backend.http import Journal
        from tests.http.serving import serve_store

        template, tokens = request.getfixturevalue("http_template")
        path = tmp_path / "store.db"
        shutil.copy(template, path)
        served = serve_store(path, clock=clock, gateway=gateway, tokens=tokens)
        journal = Journal(tmp_path / "journal.db")

        def make(role: str = "agent", read_only: bool | None = None) -> Backend:
            who = "agent" if role == "agent" else ("supervisor-rw" if read_only is False else "supervisor")
            b = served.client(who, read_only=read_only if read_only else None, journal=journal)
            opened.append(b)
            return b
    else:  # pragma: no cover
        raise AssertionError(request.param)
    make.gateway = gateway  # type: ignore[attr-defined]
    yield make
    for b in opened:
        b.close()
    if request.param == "http":
        served.stop(wait=False)  # it winds down in its own thread (~0.2 s) while the next test starts
        journal.close()


@pytest.fixture
def backend(backend_factory) -> Backend:
    return backend_factory()

"""Fixtures of the HTTP tests: a small demo store, copied per test, served by a real server on loopback."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from carecli.backend.gateway import DemoGateway

from .serving import Served, serve_store


@pytest.fixture(scope="session")
def http_template(tmp_path_factory) -> Path:
    from carecli.backend.sqlite.load import build_demo

    path = tmp_path_factory.mktemp("http") / "demo.db"
    build_demo(path, orders=60, seed=7, parallel=False)
    return path


@pytest.fixture(scope="session")
def clock():
    from carecli.demo import DEMO_NOW

    now = DEMO_NOW + timedelta(minutes=5)
    return lambda: now


@pytest.fixture
def store_copy(http_template, tmp_path) -> Path:
    path = tmp_path / "store.db"
    shutil.copy(http_template, path)
    return path


@pytest.fixture
def gateway() -> DemoGateway:
    return DemoGateway()


@pytest.fixture
def served(store_copy, clock, gateway) -> Served:
    s = serve_store(store_copy, clock=clock, gateway=gateway)
    yield s
    s.stop()

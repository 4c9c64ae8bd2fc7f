from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.backend import business


@pytest.fixture(scope="session")
def small_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("small") / "store.db"
    business.build(path)
    return path


@pytest.fixture
def store_path(small_template, tmp_path) -> Path:
    """A fresh copy of the small hand-made store (tests/backend/business.py)."""
    path = tmp_path / "store.db"
    shutil.copy(small_template, path)
    return path


@pytest.fixture
def store(store_path):
    from carecli.backend.sqlite import SqliteStore

    s = SqliteStore.open(store_path, clock=lambda: business.NOW)
    yield s
    s.close()

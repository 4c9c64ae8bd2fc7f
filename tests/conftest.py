"""Shared test set-up: no developer's own settings, keyring or data dir may leak into a test."""

from __future__ import annotations

import os
import threading

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for key in list(os.environ):
        if key.startswith("CARECLI_") and key != "CARECLI_STRESS_SCALE":
            monkeypatch.delenv(key, raising=False)
    yield


def stress_scale() -> float:
    """Size factor for stress suites: 1.0 locally by default, smaller in CI (CARECLI_STRESS_SCALE)."""
    try:
        return max(0.01, float(os.environ.get("CARECLI_STRESS_SCALE", "1")))  # float-ok: a size factor
    except ValueError:
        return 1.0


@pytest.fixture
def search_threads(monkeypatch):
    """``search_threads(Backend)``: from then on, each ``Backend.search_orders`` call appends to the
    returned list whether it ran on the main thread."""

    def watch(backend_class) -> list[bool]:
        on_main: list[bool] = []
        search = backend_class.search_orders

        def searching(self, *args, **kwargs):
            on_main.append(threading.current_thread() is threading.main_thread())
            return search(self, *args, **kwargs)

        monkeypatch.setattr(backend_class, "search_orders", searching)
        return on_main

    return watch

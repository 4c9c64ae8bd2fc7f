"""The adversarial suite reuses the TUI suite's demo store and app fixtures."""

from tests.tui.conftest import app_factory, demo_db, open_store, store_path  # noqa: F401

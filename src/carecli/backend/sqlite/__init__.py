"""The embedded SQLite store: :class:`SqliteStore` (the backend contract) and the demo builder."""

from .store import SqliteStore

__all__ = ["SqliteStore", "build_demo", "load_business"]


def __getattr__(name: str):  # the loader pulls in the demo generator: load it only when asked
    if name in ("build_demo", "load_business", "BuildStats"):
        from . import load
        return getattr(load, name)
    raise AttributeError(name)

"""A real carecli server on loopback for the tests: in-process, in a thread, on a free port."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carecli.backend.http import HttpBackend, Journal
from carecli.backend.sqlite import SqliteStore
from carecli.server.app import Limits, create_app
from carecli.server.runner import ThreadedServer

USERS = {"agent": ("ana.agent", "agent", None), "supervisor": ("sam.super", "supervisor", None),
         "supervisor-rw": ("sue.super", "supervisor", True)}


@dataclass
class Served:
    server: ThreadedServer
    tokens: dict[str, str]  # agent, supervisor (read-only), supervisor-rw
    path: Path

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, who: str = "agent", *, read_only: bool | None = None, journal: Journal | None = None,
               **kw: Any) -> HttpBackend:
        role = "supervisor" if who.startswith("supervisor") else "agent"
        b = HttpBackend(self.url, self.tokens[who], read_only=read_only, role=role, journal=journal,
                        backoff=kw.pop("backoff", 0.01), **kw)
        b.whoami()
        return b

    def stop(self, wait: bool = True) -> None:
        self.server.stop(wait)


def add_users(path: Path, clock=None) -> dict[str, str]:
    with SqliteStore.open(path, clock=clock) as s:
        return {k: s.add_user(name, role, can_write=w) for k, (name, role, w) in USERS.items()}


def serve_store(path: Path, *, clock=None, gateway=None, tokens: dict[str, str] | None = None,
                limits: Limits = Limits(rate_per_s=10_000, burst=10_000)) -> Served:
    """Serve ``path``; ``tokens``: the users are already in it (added once to a template)."""
    tokens = tokens or add_users(path, clock)
    app = create_app(path, clock=clock, gateway=gateway, limits=limits)
    return Served(ThreadedServer(app).start(), tokens, path)

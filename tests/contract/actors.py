"""Who the backend records as having acted."""

from __future__ import annotations


def recorded_actor(backend, sent: str) -> str:
    """The actor the backend records: the one sent, or over HTTP the signed-in user (the server never
    takes the client's word for who acted)."""
    whoami = getattr(backend, "whoami", None)
    return whoami().name if whoami else sent

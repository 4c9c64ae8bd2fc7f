"""Running the server: in the foreground (``carecli serve``) or in a background thread (tests, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


def _config(app: Any, *, log_level: str = "warning", ssl_certfile: str | None = None,
            ssl_keyfile: str | None = None, host: str = "127.0.0.1", port: int = 0) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="on",
                          ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, timeout_keep_alive=30,
                          h11_max_incomplete_event_size=64 * 1024, server_header=False)


def serve(app: Any, *, host: str, port: int, ssl_certfile: str | None = None,
          ssl_keyfile: str | None = None, log_level: str = "info") -> None:
    """Serve ``app`` until Ctrl+C / SIGTERM."""
    uvicorn.Server(_config(app, host=host, port=port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                           log_level=log_level)).run()


class ThreadedServer:
    """A uvicorn server on a free loopback port, in a daemon thread. Use as a context manager."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                 ssl_certfile: str | None = None, ssl_keyfile: str | None = None) -> None:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
        # without it Nagle's algorithm and delayed ACKs add ~40 ms to every answer.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host, self.port = host, self.sock.getsockname()[1]
        self.scheme = "https" if ssl_certfile else "http"
        self.server = uvicorn.Server(_config(app, log_level=log_level, ssl_certfile=ssl_certfile,
                                             ssl_keyfile=ssl_keyfile, host=host, port=self.port))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name=f"carecli-server-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self) -> "ThreadedServer":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.005)
        return self

    def stop(self, wait: bool = True) -> None:
        """Ask the server to stop; with ``wait``, until it has (uvicorn takes ~0.2 s to wind down)."""
        self.server.should_exit = True
        if wait:
            self.thread.join(timeout=10)
            self.sock.close()

    def __enter__(self) -> "ThreadedServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

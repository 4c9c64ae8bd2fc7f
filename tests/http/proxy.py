"""A loopback TCP proxy in front of a real server, which can misbehave on purpose.

``drop_answers``: how many times to forward a request whose line matches ``match`` to the server,
read the server's whole answer, and close the client's connection without passing the answer on (the
"dropped response": the server did the work, the client never heard). ``fail_5xx``: how many matching
requests are answered 503 by the proxy itself, without reaching the server. Each connection carries
one request (the proxy sends ``Connection: close`` upstream by rewriting nothing: the tests' clients
open a connection per retry anyway after a drop).
"""

from __future__ import annotations

import re
import socket
import threading


class Proxy:
    def __init__(self, upstream_port: int, *, match: bytes = b"", drop_answers: int = 0,
                 fail_5xx: int = 0) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.match, self.drop_answers, self.fail_5xx = match, drop_answers, fail_5xx
        self.seen: list[bytes] = []  # request lines of every request that came through
        self.dropped = 0
        self._lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop = True
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        m = re.search(rb"(?i)content-length:\s*(\d+)", head)
        need = int(m.group(1)) if m else 0
        while len(body) < need:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            while True:
                req = self._read_request(conn)
                if not req:
                    return
                line = req.split(b"\r\n", 1)[0]
                with self._lock:
                    self.seen.append(line)
                    hit = self.match in line
                    fail = hit and self.fail_5xx > 0
                    drop = hit and not fail and self.drop_answers > 0
                    if fail:
                        self.fail_5xx -= 1
                    if drop:
                        self.drop_answers -= 1
                if fail:
                    body = b'{"code":"unavailable","title":"Busy","message":"proxy says try again"}'
                    conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                    continue
                # one upstream connection per request, closed after the answer
                req = re.sub(rb"(?i)\r\nconnection:[^\r]*", b"", req, count=1)
                head, _, body = req.partition(b"\r\n\r\n")
                req = head + b"\r\nConnection: close\r\n\r\n" + body
                with socket.create_connection(self.upstream) as up:
                    up.sendall(req)
                    answer = b""
                    while True:
                        chunk = up.recv(65536)
                        if not chunk:
                            break
                        answer += chunk
                if drop:
                    with self._lock:
                        self.dropped += 1
                    conn.shutdown(socket.SHUT_RDWR)
                    return  # the server did the work; the client never hears
                conn.sendall(answer)
                return  # the answer was sent with the server's Connection: close

"""The HTTP server under load: commits per second and latency with 50 concurrent clients on loopback.

Starts ``carecli serve`` as its own process on a fresh demo store (so the clients and the server do
not share one interpreter), gives each client its own user and token (the per-token rate limit is set
out of the way), and gives each client an order of its own to amend (so the figure is the server's and
the store's, not version conflicts). Each client then alternates the quantity of one line (one
invoice + payment, then one credit memo per pair of commits).

Printed side by side, measured in the same run against the same server with the same clients:

* commits: POST /orders/{ref}/commits — commits/s, p50, p95;
* floor: GET /health — a bare HTTP round trip through the same stack (no token, no store).

    .venv/bin/python benchmarks/bench_http.py [--clients 50] [--commits 20] [--orders 2000]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from carecli.backend.contract import CommitRequest  # noqa: E402
from carecli.backend.sqlite import SqliteStore  # noqa: E402
from carecli.backend.sqlite.load import build_demo  # noqa: E402
from carecli.engine.commands import ChangeQuantity  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:  # float-ok: milliseconds
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run_clients(n: int, work) -> tuple[float, list[float]]:  # float-ok: seconds, milliseconds
    """Run ``work(i, latencies)`` in n threads started together; (wall seconds, latencies in ms)."""
    lat: list[list[float]] = [[] for _ in range(n)]  # float-ok
    go = threading.Barrier(n + 1)

    def body(i: int) -> None:
        go.wait()
        work(i, lat[i])

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, [x for xs in lat for x in xs]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--commits", type=int, default=20, help="commits per client")
    ap.add_argument("--orders", type=int, default=2000)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="carecli-bench-http-"))
    store = tmp / "store.db"
    print(f"building a {args.orders:,}-order demo store in {tmp} …", file=sys.stderr)
    build_demo(store, orders=args.orders, seed=7)
    with SqliteStore.open(store) as s:
        tokens = [s.add_user(f"bench{i:03d}", "agent") for i in range(args.clients)]
        candidates = [o.ref for o in s.search_orders("", stage="BOOKED", limit=500).items]
        candidates += [o.ref for o in s.search_orders("", stage="AWAITING_PICK", limit=500).items]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    server = subprocess.Popen([sys.executable, "-m", "carecli.cli", "serve", "--store", str(store), "--port",
                               str(port), "--rate", "1000000", "--burst", "1000000"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("the server did not start", file=sys.stderr)
                return 1
            time.sleep(0.05)
        clients = [httpx.Client(base_url=url, headers={"Authorization": f"Bearer {t}"},
                                limits=httpx.Limits(max_connections=1), timeout=60) for t in tokens]

        # each client gets an order whose line 1 quantity it may change (found by trying, not timed)
        state: list[tuple[str, int, int]] = []  # (ref, version, quantity of line 1)
        pool = iter(candidates)

        def post(c: httpx.Client, ref: str, version: int, qty: int) -> httpx.Response:
            req = CommitRequest(order_ref=ref, expected_version=version,
                                amendments=(ChangeQuantity(line_id=1, quantity=qty),),
                                reason_code="CUSTOMER_REQUEST", idempotency_key="bench-" + uuid.uuid4().hex,
                                actor="bench")
            return c.post(f"/orders/{ref}/commits", content=req.model_dump_json(),
                          headers={"If-Match": f'"{version}"', "Idempotency-Key": req.idempotency_key,
                                   "Content-Type": "application/json"})

        for c in clients:
            for ref in pool:
                v = c.get(f"/orders/{ref}").json()["order"]
                q = v["lines"][0]["ordered"] - v["lines"][0].get("cancelled", 0)
                r = post(c, ref, v["version"], q + 1)
                if r.status_code == 200:
                    state.append((ref, v["version"] + 1, q + 1))
                    break
            else:
                print("not enough amendable orders for the clients; use --orders", file=sys.stderr)
                return 1

        def health(i: int, lat: list[float]) -> None:  # float-ok
            c = clients[i]
            for _ in range(args.commits):
                t = time.perf_counter()
                c.get("/health")
                lat.append((time.perf_counter() - t) * 1000)

        failures: list[str] = []

        def commits(i: int, lat: list[float]) -> None:  # float-ok
            c = clients[i]
            ref, version, qty = state[i]
            for k in range(args.commits):
                new = qty - 1 if k % 2 == 0 else qty
                t = time.perf_counter()
                r = post(c, ref, version, new)
                lat.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:120]}")
                    return
                version += 1

        run_clients(args.clients, health)  # warm-up of connections
        h_wall, h_lat = run_clients(args.clients, health)
        c_wall, c_lat = run_clients(args.clients, commits)
        if failures:
            print(f"{len(failures)} commit(s) failed, e.g. {failures[0]}", file=sys.stderr)
            return 1
        for c in clients:
            c.close()
    finally:
        server.terminate()
        server.wait(10)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.clients} concurrent clients on loopback, {args.commits} requests each")
    print(f"{'':<28}{'per second':>12}{'p50':>10}{'p95':>10}")
    print(f"{'commit (POST …/commits)':<28}{len(c_lat) / c_wall:>12,.0f}{statistics.median(c_lat):>8.1f}ms"
          f"{pct(c_lat, 0.95):>8.1f}ms")
    print(f"{'floor: bare round trip /health':<28}{len(h_lat) / h_wall:>12,.0f}"
          f"{statistics.median(h_lat):>8.1f}ms{pct(h_lat, 0.95):>8.1f}ms")
    print(f"commit p95 / round-trip p95: {pct(c_lat, 0.95) / pct(h_lat, 0.95):.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CPU of one new page of search results on screen: the rows put in the table and every visible line
drawn, at 120×40, in the app's own thread (CPU time, so that other work on the host does not count).

The references in the same run are the same page drawn with DataTable's lines over the table's
fast cells (the previous version) and by DataTable's own code alone (the table's own lines and
cells switched off).

    .venv/bin/python benchmarks/bench_results_page.py [--store /path/to/store.db] [--pages 80]

Without --store a 2,000-order demo store is built in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from textual.geometry import Region

from carecli.app import CareApp
from carecli.backend.sqlite import SqliteStore, build_demo
from carecli.config import Settings
from carecli.widgets.results import ResultsTable

QUERIES = ("", "whit", "smith", "a", "jo", "ma")


def pct(xs: list[float], q: float) -> float:  # float-ok: statistics of timings
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def measure(store: SqliteStore, pages: int) -> dict[str, list[float]]:
    app = CareApp(store, Settings(actor="bench", role="supervisor"))
    modes = ("own", "cells", "datatable")
    out: dict[str, list[float]] = {m: [] for m in modes}
    async with app.run_test(size=(120, 40)) as pilot:
        while "Enter opens" not in str(app.screen.query_one("#status").render()):
            await pilot.pause(0.05)
        screen = app.screen
        table = screen.query_one("#results", ResultsTable)
        found = [store.search_orders(q, limit=app.settings.ui.page_size) for q in QUERIES]
        found = [p for p in found if p.items]
        for i in range(3 * pages):
            mode = modes[i % 3]  # in turn, so that all see the same host
            table.fast_cells, table.own_lines = mode != "datatable", mode == "own"
            page = found[(i // 3) % len(found)]
            t0 = time.thread_time()
            screen._show(page)
            table.render_lines(Region(0, 0, table.size.width, table.size.height))
            elapsed = time.thread_time() - t0
            if i >= 3 * len(found):  # the first round of each page warms every mode
                out[mode].append(elapsed * 1000)
            await pilot.pause()
        table.fast_cells = table.own_lines = True
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store")
    ap.add_argument("--pages", type=int, default=80)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.store) if args.store else Path(tmp) / "demo.db"
        if not args.store:
            build_demo(path, orders=2000, seed=7)
        store = SqliteStore.open(path, role="supervisor")
        try:
            out = asyncio.run(measure(store, args.pages))
        finally:
            store.close()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}; 120×40, "
          f"{len(out['own'])} pages each way")
    for mode, name in (("own", "results table (own lines)"), ("cells", "DataTable lines, fast cells"),
                       ("datatable", "DataTable's own")):
        xs = out[mode]
        print(f"new page of results, CPU   {name:28} median {statistics.median(xs):6.1f} ms   "
              f"p95 {pct(xs, .95):6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

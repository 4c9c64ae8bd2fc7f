"""CPU of one new page of search results on screen: the rows put in the table and every visible line
drawn, at 120×40, in the app's own thread (CPU time, so that other work on the host does not count).

The reference in the same run is the same page put in a plain Textual ``DataTable`` of the same
columns, on the same screen, and its visible lines drawn.

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
from textual.widgets import DataTable

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
    out: dict[str, list[float]] = {"results": [], "datatable": []}
    async with app.run_test(size=(120, 40)) as pilot:
        while "Enter opens" not in str(app.screen.query_one("#status").render()):
            await pilot.pause(0.05)
        screen = app.screen
        table = screen.query_one("#results", ResultsTable)
        region = Region(0, 0, table.size.width, table.size.height)
        plain = DataTable(cursor_type="row", zebra_stripes=True)
        plain.styles.height = "1fr"
        plain.display = False
        await screen.mount(plain, after=table)
        for c in table.columns:
            plain.add_column(c.label, key=c.key, width=c.width - 2)
        found = [store.search_orders(q, limit=app.settings.ui.page_size) for q in QUERIES]
        found = [p for p in found if p.items]
        for i in range(2 * pages):
            page = found[(i // 2) % len(found)]
            if i % 2 == 0:  # the results table, as the screen fills it
                t0 = time.thread_time()
                screen._show(page)
                table.render_lines(region)
                elapsed = time.thread_time() - t0
                mode = "results"
            else:  # the same rows, built the same way, in a DataTable in the table's place
                table.display, plain.display = False, True
                await pilot.pause()
                rows = [cells for _key, cells in _rows(screen, page)]
                t0 = time.thread_time()
                plain.clear()
                for n, cells in enumerate(rows):
                    plain.add_row(*cells, key=str(n))
                plain.render_lines(region)
                elapsed = time.thread_time() - t0
                table.display, plain.display = True, False
                mode = "datatable"
            if i >= 2 * len(found):  # the first round of each page warms both
                out[mode].append(elapsed * 1000)
            await pilot.pause()
    return out


def _rows(screen, page):
    """The cells the search screen builds for a page (it hands them to its table)."""
    captured: list = []
    table = screen.query_one("#results", ResultsTable)
    real = table.set_rows
    table.set_rows = captured.extend  # type: ignore[method-assign]
    try:
        screen._show(page)
    finally:
        table.set_rows = real  # type: ignore[method-assign]
    return captured


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
          f"{len(out['results'])} pages each way")
    for mode, name in (("results", "results table"), ("datatable", "Textual DataTable, same rows")):
        xs = out[mode]
        print(f"new page of results, CPU   {name:26} median {statistics.median(xs):6.1f} ms   "
              f"p95 {pct(xs, .95):6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

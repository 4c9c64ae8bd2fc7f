"""The app through a real terminal (tmux, 120×40) on a demo store, next to a minimal Textual app.

Measures, each printed next to its floor or target:
- launch → search screen with its first results, against a minimal Textual app's first paint (three
  launch pairs per run, the minimal app first; the ratio of the medians, and how the pairs spread);
- idle memory (RSS of the app process) after the first results;
- typed character echo in the search box (key sent → the character on screen), next to the same keys
  typed into a minimal app's Input;
- results refreshed while typing (key sent → the result rows change);
- cursor movement in a long result list (Down sent → the highlight drawn on the next row, scrolling
  the page once the cursor reaches the bottom), next to the minimal app's echo (a key → a repaint).

    .venv/bin/python benchmarks/bench_tui.py --store /path/to/1M.db [--runs 5] [--launches 3]

Targets (issue 4): launch ≤ 1.5× the minimal app; echo ≤ 5 ms median; refresh ≤ 30 ms median and
≤ 50 ms p95; idle memory ≤ 60 MiB. Cursor movement: no target in an issue; compared with the floor.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tmuxprobe import Tmux, rss_mib  # noqa: E402

BIN = Path(sys.executable).parent
SETTLE_S = 0.3  # float-ok: after a program is killed, before the next is timed (it may still be exiting)
HERE = Path(__file__).resolve().parent


def pct(xs: list[float], q: float) -> float:  # float-ok: statistics of timings
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--query", default="whitfield,smith",
                    help="texts typed one key at a time (comma-separated; the box is cleared between them)")
    ap.add_argument("--launches", type=int, default=3,
                    help="launch pairs (minimal app, then carecli) per run: the launch is the noisiest figure")
    ap.add_argument("--cursor-moves", type=int, default=45, help="Down keys per run in the result list")
    ap.add_argument("--role", default="supervisor", choices=("agent", "supervisor"),
                    help="supervisor (default) opens the store read-only, so a shared bench store is never written")
    args = ap.parse_args()
    env = {"CARECLI_STORE": str(Path(args.store).resolve()), "CARECLI_ACTOR": "bench",
           "CARECLI_ROLE": args.role,
           **({"CARECLI_UI__SEARCH_DEBOUNCE_MS": os.environ["CARECLI_UI__SEARCH_DEBOUNCE_MS"]}
              if "CARECLI_UI__SEARCH_DEBOUNCE_MS" in os.environ else {}),
           "XDG_CONFIG_HOME": "/nonexistent-carecli-bench"}
    # As installed from a wheel: carecli's modules compiled to bytecode. An editable install in an
    # environment with PYTHONDONTWRITEBYTECODE would otherwise compile every changed module at every
    # launch (Textual's own modules were compiled when pip installed them).
    import carecli
    compileall.compile_dir(Path(carecli.__file__).parent, quiet=1)
    tm = Tmux(120, 40)
    try:
        floor, launch, mem = [], [], []
        echo, refresh, echo_floor, cursor = [], [], [], []
        for run in range(args.runs + 1):
            if run:  # the echo floor: the same keys into a minimal app's focused Input
                name = tm.start([str(BIN / "python"), str(HERE / "minimal_app.py"), "--input"])
                tm.wait_for(name, "READY")
                time.sleep(0.5)
                for ch in args.query.replace(",", ""):
                    time.sleep(0.15)
                    before = tm.screen(name)
                    k0 = time.perf_counter()
                    tm.keys(name, ch, literal=True)
                    tm.wait_change(name, before)
                    echo_floor.append(time.perf_counter() - k0)
                tm.kill(name)
                time.sleep(SETTLE_S)
            for k in range(args.launches):  # launches in pairs, the floor first; the last app stays
                name = tm.start([str(BIN / "python"), str(HERE / "minimal_app.py")])
                t0 = time.perf_counter()
                tm.wait_for(name, "READY")
                f = time.perf_counter() - t0
                tm.kill(name)
                time.sleep(SETTLE_S)
                name = tm.start([str(BIN / "carecli")], env=env)
                t0 = time.perf_counter()
                tm.wait_for(name, "Enter opens", timeout=60)
                t = time.perf_counter() - t0
                if run:  # the first run warms the page cache
                    floor.append(f)
                    launch.append(t)
                if k < args.launches - 1:
                    tm.kill(name)
                    time.sleep(SETTLE_S)
            if run:
                time.sleep(1.0)
                mem.append(rss_mib(tm.pid(name)))
                for query in args.query.split(","):
                    for ch in query:
                        time.sleep(0.15)
                        before = tm.screen(name)
                        rows_before = before.splitlines()[4:10]
                        k0 = time.perf_counter()
                        tm.keys(name, ch, literal=True)
                        tm.wait_change(name, before)
                        echo.append(time.perf_counter() - k0)
                        try:
                            while tm.screen(name).splitlines()[4:10] == rows_before:
                                if time.perf_counter() - k0 > 2:
                                    raise TimeoutError
                                time.sleep(0.001)
                            refresh.append(time.perf_counter() - k0)
                        except TimeoutError:
                            pass  # same rows for this prefix: nothing to time
                    tm.keys(name, "C-u")
                    tm.wait_for(name, "by most recent")  # the first page of the most recent orders again
                time.sleep(0.5)
                before = tm.screen(name, escapes=True)
                tm.keys(name, "Enter")  # from the search box to the results (more than one row)
                tm.wait_change(name, before, escapes=True)
                for _ in range(args.cursor_moves):
                    time.sleep(0.05)
                    before = tm.screen(name, escapes=True)
                    k0 = time.perf_counter()
                    tm.keys(name, "Down")
                    try:
                        tm.wait_change(name, before, timeout=2, escapes=True)
                    except TimeoutError:
                        break  # the last row of the page: the cursor stays
                    cursor.append(time.perf_counter() - k0)
            tm.kill(name)
            time.sleep(SETTLE_S)
        ms = lambda xs: [x * 1000 for x in xs]  # noqa: E731
        print(f"machine: {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}, "
              f"store {args.store} ({Path(args.store).stat().st_size / 1e6:,.0f} MB)")
        fl, la = statistics.median(ms(floor)), statistics.median(ms(launch))
        print(f"launch → first results   median {la:7.1f} ms   floor (minimal Textual app) {fl:7.1f} ms   "
              f"ratio {la / fl:4.2f} (target ≤ 1.5)   n={len(launch)}")
        pairs = sorted(t / f for t, f in zip(launch, floor))
        print(f"  launch pairs: ratio min {pairs[0]:4.2f}, median {statistics.median(pairs):4.2f}, "
              f"max {pairs[-1]:4.2f}; over 1.5 in {sum(r > 1.5 for r in pairs)} of {len(pairs)}")
        print(f"idle memory              median {statistics.median(mem):7.1f} MiB (target ≤ 60)")
        e = ms(echo)
        ef = ms(echo_floor)
        print(f"typed character echo     median {statistics.median(e):7.1f} ms   p95 {pct(e, .95):6.1f} ms "
              f"(target median ≤ 5)   n={len(e)}   floor (minimal app's Input) median "
              f"{statistics.median(ef):5.1f} ms")
        r = ms(refresh)
        if r:
            print(f"results while typing     median {statistics.median(r):7.1f} ms   p95 {pct(r, .95):6.1f} ms "
                  f"(target median ≤ 30, p95 ≤ 50)   n={len(r)}")
        c = ms(cursor)
        if c:
            print(f"cursor movement (Down)   median {statistics.median(c):7.1f} ms   p95 {pct(c, .95):6.1f} ms   "
                  f"n={len(c)}   floor (minimal app's Input echo) median {statistics.median(ef):5.1f} ms")
    finally:
        tm.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

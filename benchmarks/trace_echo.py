"""Where a typed character's time goes inside the app, with and without local echo (a trace, not a
benchmark with a floor: bench_tui.py times the echo from outside).

The app runs in tmux (120×40) with timestamps taken inside it: the key read by the terminal driver,
the echo computed (``widgets/echo.echo_sequence``) and handed to the driver's writer thread, the echo
written to the terminal by that thread, and the key's frame written. Runs alternate with
``ui.local_echo`` on and off; each types the same words one key at a time, and tmux's view of the
echo (key sent → character on screen) is printed beside the trace.

    .venv/bin/python benchmarks/trace_echo.py --store PATH [--runs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def inside(out: str) -> int:
    """Run carecli with the timestamps taken; one JSON line per key to ``out``."""
    from textual import events
    from textual.driver import Driver
    from textual.drivers import _writer_thread

    from carecli.widgets import echo

    now = time.perf_counter
    key: dict = {}  # the key being traced: its name, arrival, and the times (ms after it) of each step
    lock = threading.Lock()

    def done() -> None:
        if key:
            with open(out, "a") as f:
                f.write(json.dumps(key) + "\n")
        key.clear()

    def since() -> float:
        return (now() - key["t0"]) * 1000

    process = Driver.process_message

    def process_message(self, message):
        if isinstance(message, events.Key):
            with lock:
                done()
                key.update(key_name=message.key, t0=now())
        process(self, message)

    sequence = echo.echo_sequence

    def echo_sequence(*args, **kwargs):
        t = now()
        result = sequence(*args, **kwargs)
        if result is not None and key:
            key.update(echo=result, compute=(now() - t) * 1000, computed=since())
        return result

    from carecli.widgets.query_input import QueryInput

    writer = QueryInput._echo_writer

    def timed_writer(self):
        write = writer(self)
        if write is None:
            return None

        def timed(sequence: str) -> None:
            t = now()
            write(sequence)
            if key:
                key.update(handover=(now() - t) * 1000)

        return timed

    QueryInput._echo_writer = timed_writer  # type: ignore[method-assign]

    class File:  # the writer thread's file: when the echo and the key's first frame reach the terminal
        def __init__(self, f) -> None:
            self.f, self.written = f, []

        def write(self, text: str) -> None:
            self.f.write(text)
            self.written.append(text)

        def flush(self) -> None:
            self.f.flush()
            with lock:
                if key:
                    if key.get("echo") in self.written:
                        key.setdefault("echo_written", since())
                    if any(len(t) > 200 for t in self.written):
                        key.setdefault("frame_written", since())
            self.written = []

        def fileno(self) -> int:
            return self.f.fileno()

    init = _writer_thread.WriterThread.__init__
    _writer_thread.WriterThread.__init__ = lambda self, f: init(self, File(f))  # type: ignore[method-assign]
    Driver.process_message = process_message  # type: ignore[method-assign]
    echo.echo_sequence = echo_sequence

    from carecli.cli import main

    try:
        return main()
    finally:
        with lock:
            done()


def outside(args) -> int:
    sys.path.insert(0, str(HERE))
    from tmuxprobe import Tmux

    words = args.query.split(",")
    env = {"CARECLI_STORE": str(Path(args.store).resolve()), "CARECLI_ACTOR": "bench",
           "CARECLI_ROLE": "supervisor", "XDG_CONFIG_HOME": "/nonexistent-carecli-bench"}
    tm = Tmux(120, 40)
    seen: dict[bool, list[float]] = {True: [], False: []}
    traced: dict[bool, list[dict]] = {True: [], False: []}
    try:
        for _ in range(args.runs):
            for local_echo in (True, False):
                out = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
                name = tm.start([str(BIN / "python"), __file__, "--inside", out],
                                env={**env, "CARECLI_UI__LOCAL_ECHO": str(local_echo).lower()})
                tm.wait_for(name, "Enter opens", timeout=60)
                time.sleep(1.0)
                for word in words:
                    for ch in word:
                        time.sleep(0.15)
                        before = tm.screen(name)
                        k0 = time.perf_counter()
                        tm.keys(name, ch, literal=True)
                        tm.wait_change(name, before)
                        seen[local_echo].append((time.perf_counter() - k0) * 1000)
                    tm.keys(name, "C-u")
                    tm.wait_for(name, "by most recent")
                time.sleep(0.3)
                tm.kill(name)
                time.sleep(0.3)
                with open(out) as f:
                    rows = [json.loads(line) for line in f]
                os.unlink(out)
                traced[local_echo].extend(r for r in rows if len(r["key_name"]) == 1)  # not C-u
    finally:
        tm.close()

    def med(xs: list[float]) -> str:
        return f"{statistics.median(xs):6.2f} ms" if xs else "     —   "

    print(f"load average {os.getloadavg()[0]:.1f}; {args.runs} run(s) each; keys of {args.query!r}")
    for local_echo in (True, False):
        rows = traced[local_echo]

        def step(name: str) -> str:
            return med([r[name] for r in rows if name in r])

        print(f"local echo {'on ' if local_echo else 'off'}: key → echo computed {step('computed')} "
              f"(computing it {step('compute')}), echo written {step('echo_written')} "
              f"(handing it over {step('handover')}), "
              f"first frame written {step('frame_written')}; "
              f"tmux: key sent → on screen {med(seen[local_echo])} (n={len(seen[local_echo])})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--inside":
        out_path = sys.argv.pop(2)
        sys.argv.pop(1)
        sys.exit(inside(out_path))
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--query", default="whitfield,smith")
    sys.exit(outside(ap.parse_args()))

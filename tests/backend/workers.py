"""Worker processes for the concurrency and crash tests (module-level so 'spawn' can import them)."""

from __future__ import annotations

import os
import random
import sys
import time
import traceback

from carecli.backend.contract import BackendError, VersionConflict
from carecli.backend.sqlite import SqliteStore
from carecli.engine.commands import ChangeQuantity
from tests.backend import business
from tests.backend.helpers import request

TARGETS = (business.DANA_REF, "ON-100005", "ON-100010")  # BOOKED orders with approving cards


def _amend(store: SqliteStore, ref: str, rng: random.Random, actor: str, key: str) -> tuple[str, int]:
    """Read the order, stage a quantity change on line 1 (up or down, 1..9), commit; retry conflicts
    as a client would (re-read, recompute, confirm again). Returns (outcome, conflicts)."""
    conflicts = 0
    while True:
        v = store.get_order(ref).order
        q = v.lines[0].quantity
        new = q + 1 if (q < 2 or (q < 9 and rng.random() < 0.5)) else q - 1
        try:
            store.commit(request(ref, v.version, ChangeQuantity(line_id=1, quantity=new), actor=actor,
                                 key=f"stress-{key}/{conflicts}"))
            return "ok", conflicts
        except VersionConflict:
            conflicts += 1


def committer(path: str, worker: int, n: int, queue, ready=None, go=None) -> None:
    """One of several processes committing to one store at once: each opens the store, says it is
    ready, and starts only when all are (``go``), so that they race whatever their start-up times."""
    rng = random.Random(worker)
    done = conflicts = 0
    errors: list[str] = []
    try:
        with SqliteStore.open(path, clock=lambda: business.NOW) as store:
            if ready is not None and go is not None:
                ready.release()
                go.wait(120)
            for i in range(n):
                ref = TARGETS[rng.randrange(len(TARGETS))]
                try:
                    _, c = _amend(store, ref, rng, f"agent.{worker}", f"w{worker}-{i}")
                    done += 1
                    conflicts += c
                except BackendError as e:  # "database is locked" would arrive here as Unavailable
                    errors.append(f"{type(e).__name__}: {e.message}")
    except BaseException:  # noqa: BLE001
        errors.append(traceback.format_exc())
    queue.put((worker, done, conflicts, errors))


def crasher(path: str, seed: int) -> None:
    """Commit forever (until SIGKILLed), printing each commit's key once it has returned."""
    rng = random.Random(seed)
    with SqliteStore.open(path, clock=lambda: business.NOW) as store:
        i = 0
        while True:
            ref = TARGETS[rng.randrange(len(TARGETS))]
            _amend(store, ref, rng, "agent.crash", f"s{seed}-{i}")
            i += 1
            sys.stdout.write(f"{i}\n")
            sys.stdout.flush()


if __name__ == "__main__":  # python -m tests.backend.workers PATH SEED
    crasher(sys.argv[1], int(sys.argv[2]))
    os._exit(0)  # pragma: no cover
    time.sleep(0)  # pragma: no cover

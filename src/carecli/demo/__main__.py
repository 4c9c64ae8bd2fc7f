"""``python -m carecli.demo [ORDERS] [SEED] [--stages]``: generate the demo business and time it.

Prints the orders, customers and the time taken: the generator's own cost, without the inserts a
store adds. ``--stages`` also counts the orders per stage (which costs time of its own, so the
figure printed then is not the generator's alone).
"""

from __future__ import annotations

import sys
import time
from collections import Counter

from ..engine.model import order_stage
from . import generate


def main(argv: list[str]) -> int:
    stages_wanted = "--stages" in argv
    args = [a for a in argv if a != "--stages"]
    try:
        orders = int(args[0].replace("_", "")) if args else 100_000
        seed = int(args[1]) if len(args) > 1 else 7
    except ValueError:
        print("usage: python -m carecli.demo [ORDERS] [SEED] [--stages]", file=sys.stderr)
        return 2
    wall, cpu = time.perf_counter(), time.process_time()
    customers = n = 0
    stages: Counter[str] = Counter()
    for _, os_ in generate(orders, seed):
        customers += 1
        n += len(os_)
        if stages_wanted:
            for o in os_:
                stages[order_stage(o).value] += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{n:,} orders, {customers:,} customers in {wall:.1f} s ({cpu:.1f} s CPU, "
          f"{cpu / max(n, 1) * 1e6:.0f} µs per order)")
    for stage, k in stages.most_common():
        print(f"  {stage:<22} {k:>9,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

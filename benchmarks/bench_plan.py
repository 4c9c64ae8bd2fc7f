"""plan() speed: orders of 1, 20, 200 and 2,000 lines with five staged amendments.

Prints the median and p95 of plan() per size, next to a floor measured in the same run: one call of
price() on the same order (plan() must price the order before and after, so ~2× the floor is the least
it can cost). Target (issue 2): median ≤ 5 ms for 200 lines.

    .venv/bin/python benchmarks/bench_plan.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from carecli.engine.commands import (  # noqa: E402
    AppeasementDiscount, ChangeQuantity, ChangeShippingMethod, RemoveLine, ReplaceProduct,
)
from carecli.engine.money import Money  # noqa: E402
from carecli.engine.plan import plan  # noqa: E402
from carecli.engine.pricing import price  # noqa: E402
from tests.engine.factory import LOCATIONS, POLICY, ctx, line, order  # noqa: E402

SKUS = ["JKT-M", "HAT", "TEE", "SOCK", "JKT-S"]


def build(n: int):
    return order(*(line(i, SKUS[i % len(SKUS)], 1 + i % 3, allocated=0) for i in range(1, n + 1)))


def amendments(n: int):
    if n == 1:
        return [ChangeQuantity(line_id=1, quantity=3), ChangeShippingMethod(method="EXPRESS"),
                AppeasementDiscount(reason_code="LATE_DELIVERY", percent=Decimal("5"))]
    return [
        ChangeQuantity(line_id=min(3, n), quantity=5),
        ReplaceProduct(line_id=1, sku="JKT-L"),
        RemoveLine(line_id=n),
        ChangeShippingMethod(method="EXPRESS"),
        AppeasementDiscount(reason_code="LATE_DELIVERY", amount=Money("5.00", "USD")),
    ]


def timeit(fn, repeat: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)  # float-ok: timing
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}")
    print(f"{'lines':>6} {'amend':>5} {'plan p50':>10} {'plan p95':>10} {'floor price() p50':>18} {'ratio':>6}")
    c = ctx()
    for n in (1, 20, 200, 2000):
        o = build(n)
        cmds = amendments(n)
        p = plan(o, cmds, c)
        assert p.ok, p.violations
        rep = max(10, args.repeat // (1 if n <= 200 else 10))
        t_plan = timeit(lambda: plan(o, cmds, c), rep)
        t_floor = timeit(lambda: price(o, POLICY, LOCATIONS), rep)
        p50, p95 = statistics.median(t_plan), statistics.quantiles(t_plan, n=20)[18]
        f50 = statistics.median(t_floor)
        print(f"{n:>6} {len(cmds):>5} {p50:>8.2f}ms {p95:>8.2f}ms {f50:>16.2f}ms {p50 / f50:>6.1f}")
    print("target: 200 lines, 5 amendments, median ≤ 5 ms")


if __name__ == "__main__":
    main()

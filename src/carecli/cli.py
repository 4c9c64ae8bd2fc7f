"""The ``carecli`` command: the app by default, and sub-commands for the store.

    carecli [--store PATH] [--role agent|supervisor] [--read-only] [--theme NAME] [--config FILE]
    carecli demo [--orders N] [--store PATH] [--seed S] [--force]
    carecli audit verify [--store PATH]
    carecli config

The store is ``--store PATH``, else ``$CARECLI_STORE``, else ``store.db`` in the user data dir
(``platformdirs.user_data_dir("carecli")``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Sequence, TextIO


def default_store_path() -> Path:
    """The store the settings name (file < ``CARECLI_STORE`` environment), else the user data dir's."""
    from .config import load_settings, locations

    settings, _ = load_settings()
    return settings.store_path(locations())


class ProgressBar:
    """A one-line progress bar on a terminal; a line per phase when stderr is not one."""

    def __init__(self, out: TextIO | None = None, width: int = 32) -> None:
        self.out, self.width = out or sys.stderr, width
        self.tty = self.out.isatty()
        self.phase = ""
        self.t0 = time.perf_counter()
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if phase != self.phase:
            if self.tty and self.phase:
                self.out.write("\n")
            self.phase = phase
            self.last = 0.0
            if not self.tty:
                self.out.write(f"{phase}…\n")
                self.out.flush()
        if not self.tty or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        frac = done / total if total else 1.0
        fill = int(frac * self.width)
        bar = "█" * fill + "░" * (self.width - fill)
        self.out.write(f"\r{phase:<9} {bar} {frac:6.1%}  {done:>10,}/{total:,}  {now - self.t0:6.1f} s")
        self.out.flush()

    def close(self) -> None:
        if self.tty and self.phase:
            self.out.write("\n")
            self.out.flush()


def _cmd_demo(args: argparse.Namespace) -> int:
    from .backend.contract import BackendError
    from .backend.sqlite.load import build_demo
    from .backend.sqlite.store import SqliteStore

    path = Path(args.store).expanduser() if args.store else default_store_path()
    if args.orders < 1:
        print("carecli demo: --orders must be at least 1", file=sys.stderr)
        return 2
    if path.exists() and not args.force:
        try:
            with SqliteStore.open(path, read_only=True) as s:
                is_demo = "demo_seed" in s.meta()
        except BackendError:
            is_demo = False
        if not is_demo:
            print(f"carecli demo: {path} exists and is not a demo store; it was left alone. "
                  "Use --force to replace it.", file=sys.stderr)
            return 1
    bar = ProgressBar()
    try:
        stats = build_demo(path, orders=args.orders, seed=args.seed, progress=bar)
    except KeyboardInterrupt:
        bar.close()
        print("carecli demo: interrupted; the existing store (if any) was not touched.", file=sys.stderr)
        return 130
    except OSError as e:
        bar.close()
        print(f"carecli demo: cannot write {path}: {e.strerror or e}", file=sys.stderr)
        return 1
    bar.close()
    print(f"demo store built: {stats.orders:,} orders, {stats.customers:,} customers, "
          f"{stats.bytes / 1_000_000:,.1f} MB in {stats.seconds:,.1f} s")
    print(f"  {path}")
    print("  " + ", ".join(f"{k} {v:,.1f} s" for k, v in stats.phases.items() if k != "setup"))
    case = stats.meta.get("seed_case_ref")
    if case:
        print(f"  try the seed case: order {case}")
    return 0


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from .backend.contract import BackendError
    from .backend.sqlite.store import SqliteStore

    path = Path(args.store).expanduser() if args.store else default_store_path()
    try:
        with SqliteStore.open(path, read_only=True, create=False) as s:
            problem = s.verify_audit()
            n = s.audit_count()
    except BackendError as e:
        print(f"carecli audit verify: {e.title}: {e.message}", file=sys.stderr)
        return 2
    if problem is None:
        print(f"audit chain ok ({n} records)")
        return 0
    print(f"audit chain BROKEN at record {problem.seq}: {problem.problem}")
    return 1


def _cmd_config(args: argparse.Namespace) -> int:
    from .config import describe_locations, load_settings

    settings, warnings = load_settings({"store": args.store} if args.store else {})
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(describe_locations(settings))
    print(f"{'role':<14} {settings.role}{' (read-only)' if settings.effective_read_only else ''}")
    print(f"{'theme':<14} {settings.theme}")
    print("precedence     defaults < settings file < CARECLI_* environment < command-line flags")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="carecli", description="Amend orders after checkout, from the terminal. "
                                "With no command, opens the app (building the demo store on first start).")
    p.add_argument("--store", help="store file (default: settings, $CARECLI_STORE, or the user data dir)")
    p.add_argument("--role", choices=("agent", "supervisor"), help="who is at the keyboard")
    p.add_argument("--read-only", action="store_true", default=None, help="change nothing (supervisors by default)")
    p.add_argument("--theme", help="carecli-dark, carecli-light, carecli-contrast, ansi-dark, ansi-light")
    p.add_argument("--config", help="settings file (default: config.toml in the user config dir)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    cfg = sub.add_parser("config", help="print where settings, policy, store and logs live")
    cfg.set_defaults(func=_cmd_config)

    demo = sub.add_parser("demo", help="build the deterministic demo store",
                          description="Build (or rebuild) the demo store: a realistic business to try "
                                      "carecli on. Deterministic for a given --seed and --orders.")
    demo.add_argument("--orders", type=int, default=10_000, help="number of orders (default 10,000)")
    demo.add_argument("--store", help="store file (default $CARECLI_STORE or the user data dir)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--force", action="store_true", help="replace a store that is not a demo store")
    demo.set_defaults(func=_cmd_demo)

    audit = sub.add_parser("audit", help="audit trail commands")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = asub.add_parser("verify", help="check the audit hash chain")
    verify.add_argument("--store", help="store file (default $CARECLI_STORE or the user data dir)")
    verify.set_defaults(func=_cmd_audit_verify)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        from .tui import run

        flags = {"store": args.store, "role": args.role, "read_only": args.read_only, "theme": args.theme,
                 "config": args.config}
        return run(flags)
    return int(func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``carecli`` command: the app by default, and sub-commands for the store.

    carecli [--store PATH] [--role agent|supervisor] [--read-only] [--theme NAME] [--config FILE]
    carecli demo [--orders N] [--store PATH] [--seed S] [--force]
    carecli audit verify [--store PATH]
    carecli event KIND --order REF [fields…]   |   carecli event --file F.jsonl (or - for stdin)
    carecli events rejected [--all]
    carecli deliver [--watch] [--status] [--requeue-uncertain]
    carecli config
    carecli serve [--host H] [--port P] [--store PATH] [--tls-cert PEM --tls-key PEM]
    carecli users add NAME --role agent|supervisor [--may-write] [--by WHO] | users list | users revoke NAME [--by WHO]
    carecli login --backend https://host:port

The store is ``--store PATH``, else ``$CARECLI_STORE``, else ``store.db`` in the user data dir
(``platformdirs.user_data_dir("carecli")``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence, TextIO

if TYPE_CHECKING:  # imported by build_parser: the app alone (`carecli`) needs no argument parser
    import argparse


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


def _cmd_event(args: argparse.Namespace) -> int:
    from .cli_events import cmd_event

    return cmd_event(args)


def _cmd_events_rejected(args: argparse.Namespace) -> int:
    from .cli_events import cmd_events_rejected

    return cmd_events_rejected(args)


def _cmd_deliver(args: argparse.Namespace) -> int:
    from .cli_events import cmd_deliver

    return cmd_deliver(args)


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


def _store_arg(args: argparse.Namespace) -> Path:
    return Path(args.store).expanduser() if args.store else default_store_path()


def _cmd_serve(args: argparse.Namespace) -> int:
    import logging

    from .backend.contract import BackendError

    try:
        from .server.app import Limits, create_app
        from .server.runner import serve
    except ImportError as e:
        print(f"carecli serve: the server is not installed ({e.name} is missing). Install it with "
              "`pip install 'carecli[server]'`.", file=sys.stderr)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        print("carecli serve: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    for f in (args.tls_cert, args.tls_key):
        if f and not Path(f).expanduser().is_file():
            print(f"carecli serve: {f}: no such file", file=sys.stderr)
            return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    path = _store_arg(args)
    from .backend.templates import TemplateError, load_templates
    from .config import locations

    try:
        templates = load_templates(locations().templates_dir)  # the customer messages it will queue
    except TemplateError as e:
        print(f"carecli serve: message templates: {e}", file=sys.stderr)
        return 2
    try:
        app = create_app(path, limits=Limits(rate_per_s=args.rate, burst=args.burst), templates=templates)
    except BackendError as e:
        print(f"carecli serve: {e.title}: {e.message}", file=sys.stderr)
        return 2
    users = app.state.stores.users().list_users()
    if not any(u.active for u in users):
        print(f"carecli serve: no users yet; add one with `carecli users add NAME --role agent --store {path}` "
              "(every request but /health needs a token)", file=sys.stderr)
    with_tls = bool(args.tls_cert)
    if not with_tls and args.host not in ("127.0.0.1", "localhost", "::1"):
        print("carecli serve: warning: no --tls-cert/--tls-key: tokens and customer data cross the network "
              "unencrypted; put the server behind TLS", file=sys.stderr)
    print(f"carecli serve: {path} on {'https' if with_tls else 'http'}://{args.host}:{args.port}", file=sys.stderr)
    serve(app, host=args.host, port=args.port, ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key)
    return 0


def _cmd_users(args: argparse.Namespace) -> int:
    from .backend.contract import BackendError
    from .backend.sqlite.store import SqliteStore

    path = _store_arg(args)
    try:
        with SqliteStore.open(path, read_only=args.users_command == "list", create=False) as s:
            if args.users_command == "add":
                token = s.add_user(args.name, args.role, can_write=True if args.may_write else None, by=args.by)
                print(f"user {args.name} ({args.role}) added. Their token, shown only this once:")
                print(token)
                print("Give it to them privately; they run `carecli login --backend URL` and paste it "
                      "(or set CARECLI_TOKEN).", file=sys.stderr)
            elif args.users_command == "list":
                users = s.list_users()
                if not users:
                    print("no users yet: carecli users add NAME --role agent")
                for u in users:
                    state = f"revoked {u.revoked_at}" if u.revoked_at else "active"
                    print(f"{u.name:<24} {u.role:<10} {'read-only' if u.read_only else 'may write':<10} "
                          f"since {u.created_at}  {state}")
            else:
                u = s.revoke_user(args.name, by=args.by)
                print(f"user {u.name}: token revoked ({u.revoked_at}); `users add {u.name}` issues a new one")
    except BackendError as e:
        print(f"carecli users {args.users_command}: {e.title}: {e.message}", file=sys.stderr)
        return 2
    return 0


def _cmd_login(args: argparse.Namespace) -> int:
    import getpass

    from .config import Settings
    from .credentials import CredentialsError, set_token

    try:
        url = Settings(backend=args.backend).server_url
    except ValueError as e:
        print(f"carecli login: --backend: {str(e).splitlines()[-1].strip()}", file=sys.stderr)
        return 2
    if not url:
        print("carecli login: --backend must be the server's https://host:port", file=sys.stderr)
        return 2
    token = getpass.getpass(f"token for {url}: ") if sys.stdin.isatty() else sys.stdin.readline()
    token = token.strip()
    if not token:
        print("carecli login: no token given; nothing stored", file=sys.stderr)
        return 2
    try:
        set_token(url, token)
    except CredentialsError as e:
        print(f"carecli login: {e.message}", file=sys.stderr)
        return 2
    print(f"token for {url} stored in the keyring")
    return 0


def build_parser() -> argparse.ArgumentParser:
    import argparse

    p = argparse.ArgumentParser(prog="carecli", description="Amend orders after checkout, from the terminal. "
                                "With no command, opens the app (building the demo store on first start).")
    p.add_argument("--store", help="store file (default: settings, $CARECLI_STORE, or the user data dir)")
    p.add_argument("--backend", help="sqlite:///path or https://host:port of a carecli server")
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

    from .cli_events import add_parsers

    add_parsers(sub, _cmd_event, _cmd_events_rejected, _cmd_deliver)
    srv = sub.add_parser("serve", help="serve a store over HTTP to many hosts (needs carecli[server])",
                         description="Serve the store to carecli apps on other hosts. Users and their "
                                     "tokens: `carecli users`. See docs/HTTP.md.")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=8443, help="port (default 8443)")
    srv.add_argument("--store", help="store file (default $CARECLI_STORE or the user data dir)")
    srv.add_argument("--tls-cert", help="PEM certificate (chain) for https")
    srv.add_argument("--tls-key", help="PEM private key for https")
    srv.add_argument("--rate", type=float, default=20.0, help="requests per second per user (default 20)")
    srv.add_argument("--burst", type=int, default=60, help="requests a user may make at once (default 60)")
    srv.set_defaults(func=_cmd_serve)

    users = sub.add_parser("users", help="users of `carecli serve` and their tokens")
    usub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = usub.add_parser("add", help="add a user and print their token (once)")
    add.add_argument("name")
    add.add_argument("--role", choices=("agent", "supervisor"), required=True)
    add.add_argument("--may-write", action="store_true",
                     help="a supervisor who may change orders (supervisors are read-only by default)")
    lst = usub.add_parser("list", help="list users (never their tokens)")
    rev = usub.add_parser("revoke", help="revoke a user's token at once")
    rev.add_argument("name")
    for sp in (add, lst, rev):
        sp.add_argument("--store", help="store file (default $CARECLI_STORE or the user data dir)")
        sp.set_defaults(func=_cmd_users, by=None)
    for sp in (add, rev):
        sp.add_argument("--by", help="who makes the change, for the audit log (default: your login name)")

    login = sub.add_parser("login", help="store your token for a server in the system keyring")
    login.add_argument("--backend", required=True, help="the server, https://host:port")
    login.set_defaults(func=_cmd_login)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    if not (sys.argv[1:] if argv is None else argv):
        # `carecli` as typed most often: the app, with no flags. Building the parser of every
        # sub-command (and importing argparse) would cost the launch about 15 ms for nothing.
        from .tui import run

        return run({})
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except BrokenPipeError:  # `carecli config | head -1`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit would fail again
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    func = getattr(args, "func", None)
    if func is None:
        from .tui import run

        flags = {"store": args.store, "backend": args.backend, "role": args.role, "read_only": args.read_only, "theme": args.theme,
                 "config": args.config}
        return run(flags)
    return int(func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

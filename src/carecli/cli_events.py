"""The fulfilment sub-commands: ``carecli event``, ``carecli events rejected``, ``carecli deliver``.

No Textual here: these run on warehouse hosts and in cron jobs. Imports beyond argparse happen inside
the commands, so ``carecli --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO

EVENT_KINDS = ("allocated", "picking-started", "picked", "short-picked", "backordered", "packed", "dispatched",
               "ready-for-collection", "collected", "delivered", "delivery-failed")


def add_parsers(sub: Any, event: Callable, rejected: Callable, deliver: Callable) -> None:
    store_help = "store file (default $CARECLI_STORE or the user data dir)"
    ev = sub.add_parser(
        "event", help="take in one fulfilment event, or a batch of JSON lines",
        description="Take in a fulfilment event as the warehouse, a store or a carrier would send it. "
                    "One event: carecli event KIND --order REF [fields]. A batch: --file F.jsonl (or - "
                    "for stdin), one JSON event per line, e.g. {\"kind\": \"dispatched\", \"event_id\": "
                    "\"WMS-1\", \"order_ref\": \"ON-100001\", \"at\": \"2026-11-27T15:00:00Z\", "
                    "\"carrier\": \"UPS\", \"tracking\": \"1Z…\"}. Prints ok / duplicate / refused per "
                    "event; exits 1 when any event was refused or malformed.")
    ev.add_argument("kind", nargs="?", choices=EVENT_KINDS, metavar="KIND", help=", ".join(EVENT_KINDS))
    ev.add_argument("--order", help="order ref, e.g. ON-100001")
    ev.add_argument("--id", dest="event_id", help="the event's id (default: a new one; give the sender's id so "
                                                  "that sending it twice changes nothing)")
    ev.add_argument("--at", help="when it happened, ISO 8601 with a zone (default: now)")
    ev.add_argument("--line", action="append", default=[], metavar="LINE[:QTY]",
                    help="a line and how many units (repeat; default every unit that can take the step). "
                         "For short-picked and backordered: the line, with --units")
    ev.add_argument("--units", type=int, help="short-picked / backordered: how many units")
    ev.add_argument("--expected", help="backordered: the expected date (YYYY-MM-DD)")
    ev.add_argument("--carrier", help="dispatched (and delivery-failed): the carrier")
    ev.add_argument("--tracking", help="dispatched (and delivery-failed): the tracking number")
    ev.add_argument("--reason", help="delivery-failed: why")
    ev.add_argument("--file", help="a file of JSON lines (- for stdin) instead of one event")
    ev.add_argument("--store", help=store_help)
    ev.set_defaults(func=event)

    evs = sub.add_parser("events", help="fulfilment events: the rejected list")
    esub = evs.add_subparsers(dest="events_command", metavar="ACTION", required=True)
    rj = esub.add_parser("rejected", help="list refused events, most recent first")
    rj.add_argument("--all", action="store_true", help="also those later taken in")
    rj.add_argument("--limit", type=int, default=100)
    rj.add_argument("--json", action="store_true", help="one JSON object per line")
    rj.add_argument("--store", help=store_help)
    rj.set_defaults(func=rejected)

    dv = sub.add_parser("deliver", help="send the notifications outbox (.eml files or SMTP)",
                        description="Send pending customer messages: one pass, or --watch to keep going. "
                                    "Settings: [delivery] in config.toml (see docs/NOTIFICATIONS.md).")
    dv.add_argument("--watch", action="store_true",
                    help="keep delivering; Ctrl+C or SIGTERM stops it after the messages in hand")
    dv.add_argument("--status", action="store_true", help="show the outbox: counts, failed and uncertain messages")
    dv.add_argument("--requeue-uncertain", action="store_true",
                    help="send again messages whose delivery is uncertain or was given up (an operator's call)")
    dv.add_argument("--store", help=store_help)
    dv.set_defaults(func=deliver)


def _store_path(args: argparse.Namespace) -> Path:
    from .cli import default_store_path

    return Path(args.store).expanduser() if getattr(args, "store", None) else default_store_path()


def _open(args: argparse.Namespace, *, read_only: bool = False, templates: Any = None) -> Any:
    from .backend.sqlite.store import SqliteStore
    from .config import load_settings, locations

    settings, warnings = load_settings()
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    from .backend.contract import BackendError
    from .engine.policy import PolicyError, load_policy

    try:
        policy = load_policy(settings.policy_path(locations()))
    except PolicyError as e:
        raise BackendError(str(e), title="Policy file refused") from None
    return SqliteStore.open(_store_path(args), read_only=read_only, create=False, policy=policy,
                            templates=templates)


def _one_event(args: argparse.Namespace) -> dict[str, Any]:
    kind = args.kind.replace("-", "_")
    if not args.order:
        raise ValueError("--order REF is required")
    data: dict[str, Any] = {
        "kind": kind, "order_ref": args.order,
        "event_id": args.event_id or f"cli-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}",
        "at": args.at or datetime.now(timezone.utc).isoformat(),
    }
    if kind in ("short_picked", "backordered"):
        if len(args.line) != 1 or ":" in args.line[0]:
            raise ValueError(f"{args.kind} needs one --line LINE and --units K")
        data["line_id"] = _int(args.line[0], "--line")
        data["units"] = args.units
        if kind == "backordered":
            data["expected"] = args.expected
    else:
        lines = []
        for spec in args.line:
            lid, sep, qty = spec.partition(":")
            if not sep:
                raise ValueError(f"--line {spec}: write LINE:QTY, e.g. --line 1:2")
            lines.append({"line_id": _int(lid, "--line"), "quantity": _int(qty, "--line quantity")})
        if lines:
            data["lines"] = lines
    for name in ("carrier", "tracking", "reason"):
        if getattr(args, name):
            data[name] = getattr(args, name)
    return {k: v for k, v in data.items() if v is not None}


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a whole number") from None


def _lines(args: argparse.Namespace, stdin: TextIO) -> Iterable[tuple[int, str]]:
    if args.file == "-":
        yield from enumerate(stdin, start=1)
        return
    with open(Path(args.file).expanduser(), encoding="utf-8") as f:
        yield from enumerate(f, start=1)


def _report(prefix: str, r: Any, out: TextIO) -> bool:
    if r.status == "refused":
        print(f"{prefix}refused {r.event_id} ({r.order_ref}): {r.rule}: {r.reason}", file=out)
        return False
    docs = f", {', '.join(d.id for d in r.documents)}" if r.documents else ""
    msgs = f", {len(r.notifications)} message(s)" if r.notifications else ""
    word = "ok" if r.status == "applied" else "duplicate"
    print(f"{prefix}{word} {r.event_id} ({r.order_ref} v{r.version} {r.stage}{docs}{msgs})", file=out)
    return True


def cmd_event(args: argparse.Namespace, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    from .backend.contract import BackendError
    from .backend.templates import TemplateError, load_templates
    from .config import locations
    from .engine.events import EventInputError, parse_event

    stdin, out = stdin or sys.stdin, out or sys.stdout
    if bool(args.file) == bool(args.kind):
        print("carecli event: give an event KIND, or --file F.jsonl (- for stdin)", file=sys.stderr)
        return 2
    try:
        templates = load_templates(locations().templates_dir)
    except TemplateError as e:
        print(f"carecli event: {e}; no event was taken in", file=sys.stderr)
        return 2
    try:
        store = _open(args, templates=templates)
    except BackendError as e:
        print(f"carecli event: {e.title}: {e.message}", file=sys.stderr)
        return 2
    bad = 0
    try:
        with store:
            if args.kind:
                try:
                    ev = parse_event(_one_event(args))
                except (ValueError, EventInputError) as e:
                    print(f"carecli event: {e}", file=sys.stderr)
                    return 2
                return 0 if _report("", store.ingest_event(ev), out) else 1
            try:
                for n, text in _lines(args, stdin):
                    if not text.strip():
                        continue
                    try:
                        ev = parse_event(text)
                    except EventInputError as e:
                        print(f"line {n}: malformed: {e}", file=out)
                        bad += 1
                        continue
                    if not _report(f"line {n}: ", store.ingest_event(ev), out):
                        bad += 1
            except OSError as e:
                print(f"carecli event: cannot read {args.file}: {e.strerror or e}", file=sys.stderr)
                return 2
            except UnicodeDecodeError as e:
                print(f"carecli event: {args.file} is not UTF-8 text ({e.reason})", file=sys.stderr)
                return 2
    except BackendError as e:
        print(f"carecli event: {e.title}: {e.message}", file=sys.stderr)
        return 2
    return 1 if bad else 0


def cmd_events_rejected(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from .backend.contract import BackendError

    out = out or sys.stdout
    try:
        with _open(args, read_only=True) as store:
            rows = store.rejected_events(limit=args.limit, include_resolved=args.all)
    except BackendError as e:
        print(f"carecli events rejected: {e.title}: {e.message}", file=sys.stderr)
        return 2
    if args.json:
        for r in rows:
            print(r.model_dump_json(), file=out)
        return 0
    if not rows:
        print("no rejected events", file=out)
        return 0
    for r in rows:
        tail = f" · taken in {r.resolved_at:%Y-%m-%d %H:%M}" if r.resolved_at else ""
        times = f" · {r.attempts}×" if r.attempts > 1 else ""
        print(f"{r.last_seen:%Y-%m-%d %H:%M}  {r.event_id}  {r.kind}  {r.order_ref}  {r.rule}: {r.reason}"
              f"{times}{tail}", file=out)
    return 0


def make_sender(settings: Any, where: Any) -> Any:
    from .delivery import FileSender, SetupError, SmtpSender, smtp_password, smtp_tls_context

    d = settings.delivery
    folder = d.outbox_dir or where.outbox_dir
    files = FileSender(folder, d.from_address)
    if d.transport == "eml":
        return files
    if not d.smtp_host:
        raise SetupError("delivery.transport is smtp but delivery.smtp_host is not set")
    tls = smtp_tls_context(d.smtp_ca_bundle) if (d.smtp_starttls or d.smtp_ssl) else None
    password = smtp_password(d.smtp_user, d.timeout_seconds) if d.smtp_user else ""
    return SmtpSender(d.smtp_host, d.smtp_port, files, d.from_address, starttls=d.smtp_starttls,
                      use_ssl=d.smtp_ssl, user=d.smtp_user, password=password, timeout=d.timeout_seconds,
                      ssl_context=tls)


def cmd_deliver(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from .backend.contract import BackendError
    from .backend.sqlite.outbox import Backoff
    from .config import load_settings, locations
    from .delivery import SetupError, deliver_pass

    out = out or sys.stdout
    settings, _ = load_settings()
    where = locations()
    try:
        store = _open(args, read_only=args.status)
    except BackendError as e:
        print(f"carecli deliver: {e.title}: {e.message}", file=sys.stderr)
        return 2
    with store:
        try:
            if args.status:
                return _print_status(store.outbox_status(), out)
            if args.requeue_uncertain:
                print(f"{store.requeue_uncertain()} message(s) queued again", file=out)
            d = settings.delivery
            sender = make_sender(settings, where)
            backoff = Backoff(d.retry_base_seconds, 2.0, d.retry_max_seconds, d.max_attempts)
            domain = d.from_address.rpartition("@")[2].strip(" >") or "carecli.invalid"
            stop = _stop_on_signals() if args.watch else threading.Event()
            while True:
                try:
                    res = deliver_pass(store, sender, backoff=backoff, domain=domain, stop=stop.is_set)
                except BackendError as e:
                    if not args.watch:
                        raise
                    print(f"carecli deliver: {e.title}: {e.message}; trying again in "
                          f"{d.watch_interval_seconds:g} s", file=sys.stderr)
                    if stop.wait(d.watch_interval_seconds):
                        break
                    continue
                for line in res.lines:
                    print(line, file=out)
                if not args.watch:
                    print(f"{res.sent} sent, {res.failed} failed (will retry), {res.dead} given up", file=out)
                    return 1 if (res.failed or res.dead) else 0
                out.flush()
                if stop.is_set() or stop.wait(d.watch_interval_seconds):
                    break
            print("carecli deliver: stopped", file=sys.stderr)
            return 0
        except SetupError as e:
            print(f"carecli deliver: {e}", file=sys.stderr)
            return 2
        except BackendError as e:
            print(f"carecli deliver: {e.title}: {e.message}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("carecli deliver: stopped", file=sys.stderr)
            return 130
        finally:
            _restore_signals()


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM: ``deliver --watch`` finishes the messages it has claimed (none
    is left half-sent, which would make it uncertain) and exits cleanly. Only the main thread can take
    signals; elsewhere Ctrl+C stays a KeyboardInterrupt."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            _PREVIOUS[sig] = signal.signal(sig, lambda *_: stop.set())
    return stop


_PREVIOUS: dict[int, Any] = {}


def _restore_signals() -> None:
    while _PREVIOUS:
        sig, handler = _PREVIOUS.popitem()
        signal.signal(sig, handler)


def _print_status(st: Any, out: TextIO) -> int:
    c = st.counts
    print("  ".join(f"{k} {c.get(k, 0)}" for k in ("pending", "claimed", "sent", "failed", "dead", "uncertain")),
          file=out)
    for p in st.problems:
        nxt = f"; next try {p.next_attempt_at[:16].replace('T', ' ')}" if p.next_attempt_at and p.state == "failed" else ""
        print(f"{p.state:<9} {p.notification_id}  attempts {p.attempts}{nxt}  {p.last_error}", file=out)
    return 1 if (c.get("dead") or c.get("uncertain")) else 0


__all__ = ["add_parsers", "cmd_event", "cmd_events_rejected", "cmd_deliver", "EVENT_KINDS"]

"""The deliverer: .eml files, SMTP to a real loopback server (aiosmtpd), retries with back-off, and no
message sent twice when the deliverer is killed mid-run (a subprocess, SIGKILL)."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from carecli.backend.sqlite import SqliteStore
from carecli.backend.sqlite.outbox import Backoff
from carecli.delivery import FileSender, SetupError, SmtpSender, deliver_pass, smtp_password

from .conftest import NOW

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


def n_messages(path: Path) -> int:
    with SqliteStore.open(path, read_only=True) as s:
        return s.outbox_status().counts["pending"]


def test_eml_files_are_multipart_plain_and_html_with_a_stable_message_id(outbox_store_path, tmp_path):
    total = n_messages(outbox_store_path)
    assert total == 7  # 5 events, two customers with SMS too
    with SqliteStore.open(outbox_store_path, clock=Clock()) as s:
        res = deliver_pass(s, FileSender(tmp_path / "out"))
        assert (res.sent, res.failed) == (7, 0)
        assert s.outbox_status().counts == {"pending": 0, "claimed": 0, "sent": 7, "failed": 0, "dead": 0,
                                            "uncertain": 0}
        again = deliver_pass(s, FileSender(tmp_path / "out"))
        assert again.sent == 0  # nothing is sent twice
        timeline = s.get_timeline("ON-100015")
    emls = sorted((tmp_path / "out" / "email").glob("*.eml"))
    smss = sorted((tmp_path / "out" / "sms").glob("*.txt"))
    assert (len(emls), len(smss)) == (5, 2)
    msg = email.message_from_bytes(next(p for p in emls if "ON-100015" in p.name).read_bytes(),
                                   policy=email.policy.default)
    assert msg["Subject"] == "Your order ON-100015 is on its way"
    assert msg["Message-ID"].startswith("<") and msg["X-Carecli-Notification"] == "ON-100015/event/D-0/email"
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()
    assert "tracking number AP1" in plain and "<b>AP1</b>" in html
    assert any(t.kind == "notification" and t.delivery == "sent 2026-11-27 15:05" for t in timeline)


def test_smtp_to_a_loopback_server_with_one_failure_then_success(outbox_store_path, tmp_path):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Handler:
        def __init__(self) -> None:
            self.calls = 0
            self.received: list[email.message.EmailMessage] = []

        async def handle_DATA(self, server, session, envelope):
            self.calls += 1
            if self.calls == 1:
                return "451 4.3.0 Mailbox temporarily unavailable"
            self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    def auth(server, session, envelope, mechanism, data):
        return AuthResult(success=(data.login, data.password) == (b"care", b"s3cret"))

    handler = Handler()
    port = _free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port, authenticator=auth, auth_require_tls=False)
    ctl.start()
    try:
        clock = Clock()
        with SqliteStore.open(outbox_store_path, clock=clock) as s:
            files = FileSender(tmp_path / "out")
            sender = SmtpSender("127.0.0.1", port, files, starttls=False, user="care", password="s3cret", timeout=10)
            backoff = Backoff(base_seconds=60, max_attempts=5)
            first = deliver_pass(s, sender, backoff=backoff)
            assert (first.sent, first.failed) == (6, 1)
            st = s.outbox_status()
            assert st.counts["failed"] == 1
            failed = st.problems[0]
            assert failed.attempts == 1 and "451" in failed.last_error
            assert failed.next_attempt_at.startswith("2026-11-27T15:06")  # now + 60 s
            order_ref = failed.order_ref
            assert any("failed (1 attempt: " in t.delivery and "451" in t.delivery
                       for t in s.get_timeline(order_ref) if t.kind == "notification")
            assert deliver_pass(s, sender, backoff=backoff).sent == 0  # not due yet
            clock.now = NOW + timedelta(seconds=61)
            second = deliver_pass(s, sender, backoff=backoff)
            assert (second.sent, second.failed) == (1, 0)
            assert s.outbox_status().counts["sent"] == 7
    finally:
        ctl.stop()
    ids = [m["Message-ID"] for m in handler.received]
    assert len(ids) == 5 and len(set(ids)) == 5  # every e-mail once (the 2 SMS went to files)
    assert len(list((tmp_path / "out" / "sms").glob("*.txt"))) == 2


def test_backoff_doubles_up_to_its_cap_and_gives_up_after_the_last_attempt(outbox_store_path, tmp_path):
    b = Backoff(base_seconds=60, factor=2, cap_seconds=300, max_attempts=3)
    assert [b.delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 300, 300]
    port = _free_port()  # nothing listens there: every attempt fails
    clock = Clock()
    with SqliteStore.open(outbox_store_path, clock=clock) as s:
        sender = SmtpSender("127.0.0.1", port, FileSender(tmp_path / "out"), starttls=False, timeout=5)
        for step in (0, 61, 121 + 61, 241 + 121 + 61):
            clock.now = NOW + timedelta(seconds=step)
            deliver_pass(s, sender, backoff=b)
        st = s.outbox_status()
    assert st.counts["dead"] == 5 and st.counts["sent"] == 2  # the SMS files were written
    assert all("connection refused" in p.last_error for p in st.problems)


def _run_worker(store: Path, outbox: Path, pause_at: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.delivery.worker", str(store), str(outbox), str(pause_at),
                             *extra], cwd=ROOT, stdout=subprocess.PIPE, text=True)


def _kill_when_paused(proc: subprocess.Popen) -> int:
    line = proc.stdout.readline()
    assert line.startswith("PAUSED"), line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return int(line.split()[1])


def test_a_deliverer_killed_between_writing_and_recording_never_writes_a_message_twice(outbox_store_path, tmp_path):
    out = tmp_path / "out"
    proc = _run_worker(outbox_store_path, out, 3)
    paused_row = _kill_when_paused(proc)
    files = {p.name: p.stat().st_ino for p in out.rglob("*.*") if not p.name.startswith(".")}
    assert len(files) == 3  # two recorded as sent, the third written but not recorded
    with SqliteStore.open(outbox_store_path) as s:
        st = s.outbox_status()
        assert (st.counts["sent"], st.counts["claimed"]) == (2, 2)  # the batch of two held the 3rd and 4th
        res = deliver_pass(s, FileSender(out))
        assert res.sent == 5  # the 3rd is recognised by its file, the 4th is written, then the rest
        assert s.outbox_status().counts["sent"] == 7
    after = {p.name: p.stat().st_ino for p in out.rglob("*.*") if not p.name.startswith(".")}
    assert len(after) == 7
    assert all(after[name] == ino for name, ino in files.items())  # nothing written again
    assert any(f"-{paused_row:09d}-" in name for name in files)


def test_an_smtp_deliverer_killed_mid_send_does_not_send_again_the_message_becomes_uncertain(outbox_store_path,
                                                                                           tmp_path):
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self) -> None:
            self.ids: list[str] = []
            self.lock = threading.Lock()

        async def handle_DATA(self, server, session, envelope):
            with self.lock:
                self.ids.append(email.message_from_bytes(envelope.content)["Message-ID"])
            return "250 OK"

    handler = Handler()
    port = _free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        out = tmp_path / "out"
        proc = _run_worker(outbox_store_path, out, 2, str(port))
        _kill_when_paused(proc)
        with SqliteStore.open(outbox_store_path) as s:
            sender = SmtpSender("127.0.0.1", port, FileSender(out), starttls=False, timeout=10)
            deliver_pass(s, sender)
            st = s.outbox_status()
            assert st.counts["uncertain"] == 1 and st.counts["sent"] == 6
            uncertain = next(p for p in st.problems if p.state == "uncertain")
            assert "may or may not" in uncertain.last_error
            assert deliver_pass(s, sender).sent == 0  # never automatically again
            assert s.requeue_uncertain() == 1  # an operator's decision
            assert deliver_pass(s, sender).sent == 1
    finally:
        ctl.stop()
    # the receiver sees the re-queued one twice, with one Message-ID: it can drop the copy
    assert len(handler.ids) == 6 and len(set(handler.ids)) == 5


def test_the_smtp_password_comes_from_the_keyring_or_a_clear_message():
    import keyring
    from keyring.backends import fail

    old = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(SetupError, match="no usable keyring here .*keyring set carecli-smtp care"):
            smtp_password("care", timeout=5, env={})
    finally:
        keyring.set_keyring(old)
    assert smtp_password("care", timeout=5, env={"CARECLI_SMTP_PASSWORD": "pw"}) == "pw"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_server_without_starttls_is_refused_when_starttls_is_required(outbox_store_path, tmp_path):
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    port = _free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        with SqliteStore.open(outbox_store_path, clock=Clock()) as s:
            sender = SmtpSender("127.0.0.1", port, FileSender(tmp_path / "out"), starttls=True, timeout=10)
            res = deliver_pass(s, sender)
            assert res.failed == 5 and res.sent == 2  # the e-mails wait; the SMS files are written
            errors = {p.last_error for p in s.outbox_status().problems}
        assert len(errors) == 1 and "does not offer STARTTLS" in errors.pop()
    finally:
        ctl.stop()

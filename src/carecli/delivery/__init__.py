"""Sending the notifications outbox: ``carecli deliver``.

* :class:`FileSender` writes each e-mail as an ``.eml`` file (``email.message.EmailMessage``, plain text
  and HTML alternatives, a Message-ID derived from the notification id) and each SMS as a ``.txt`` file,
  atomically (temporary file, fsync, rename): a file that exists is a message that was sent.
* :class:`SmtpSender` sends e-mail through an SMTP server (STARTTLS or TLS, login with a password from
  the keyring), SMS still as files.
* :func:`deliver_pass` claims due rows from the store, sends them and records each outcome; failures
  retry with exponential back-off. See :mod:`carecli.backend.sqlite.outbox` for the claim protocol and
  docs/NOTIFICATIONS.md for the once-only guarantee.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Callable

from ..backend.sqlite.outbox import Backoff, Claim


class DeliveryError(Exception):
    """A message that could not be sent this time (it will be retried)."""


class SetupError(Exception):
    """The deliverer cannot start (no SMTP host, no password, unusable outbox folder)."""


def this_claimer() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claimer_alive(claimer: str) -> bool:
    """Whether the deliverer that holds a claim still runs (only knowable on this host)."""
    host, _, pid = claimer.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another host: only the lease can free its claims
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(cl: Claim) -> str:
    n = cl.notification
    stamp = n.created_at.strftime("%Y%m%dT%H%M%SZ")
    ext = "txt" if n.channel == "sms" else "eml"
    return f"{stamp}-{_SAFE.sub('_', n.order_ref)[:40]}-{cl.row_id:09d}-{n.channel}.{ext}"


def build_email(cl: Claim, from_address: str) -> EmailMessage:
    n = cl.notification
    msg = EmailMessage()
    msg["From"] = from_address
    msg["To"] = n.to
    msg["Subject"] = n.subject
    msg["Date"] = format_datetime(n.created_at)
    msg["Message-ID"] = cl.message_id
    msg["X-Carecli-Notification"] = n.id
    msg.set_content(n.body)
    if n.html:
        msg.add_alternative(n.html, subtype="html")
    return msg


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


@dataclass
class FileSender:
    """E-mail as .eml files (``transport = "eml"``) and SMS as .txt files, under ``folder``."""

    folder: Path
    from_address: str = "Customer Care <care@example.com>"
    transport: str = "eml"

    def __post_init__(self) -> None:
        try:
            (self.folder / "email").mkdir(parents=True, exist_ok=True)
            (self.folder / "sms").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SetupError(f"the outbox folder {self.folder} cannot be created: {e.strerror or e}") from None

    def path(self, cl: Claim) -> Path:
        return self.folder / ("sms" if cl.notification.channel == "sms" else "email") / file_name(cl)

    def send(self, cl: Claim) -> str:
        """Write the file unless it is there already (then it was sent before a crash). Returns its path."""
        path = self.path(cl)
        if path.exists():
            return str(path)
        n = cl.notification
        if n.channel == "sms":
            data = f"To: {n.to}\nMessage-ID: {cl.message_id}\n\n{n.body}\n".encode("utf-8")
        else:
            data = bytes(build_email(cl, self.from_address))
        try:
            _write_atomic(path, data)
        except OSError as e:
            raise DeliveryError(f"cannot write {path}: {e.strerror or e}") from None
        return str(path)

    def close(self) -> None:
        pass


def smtp_tls_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """The TLS context the SMTP connection verifies the server with: the system's CAs, or only the CA(s)
    in ``ca_bundle`` (a PEM file) when set. Hostname checking stays on. Raises SetupError."""
    if ca_bundle is None:
        return ssl.create_default_context()
    path = Path(ca_bundle).expanduser()
    try:
        return ssl.create_default_context(cafile=str(path))
    except FileNotFoundError:
        raise SetupError(f"delivery.smtp_ca_bundle: there is no file {path}") from None
    except (ssl.SSLError, OSError, ValueError) as e:
        raise SetupError(f"delivery.smtp_ca_bundle: {path} is not a PEM file of CA certificates ({e})") from None


def smtp_password(user: str, timeout: float, env: dict[str, str] | None = None) -> str:
    """The SMTP password: ``$CARECLI_SMTP_PASSWORD``, else the keyring (service ``carecli-smtp``), asked
    with a timeout (a locked or absent keyring daemon must not hang the deliverer)."""
    env = dict(os.environ) if env is None else env
    if env.get("CARECLI_SMTP_PASSWORD"):
        return env["CARECLI_SMTP_PASSWORD"]
    box: dict[str, Any] = {}

    def ask() -> None:
        try:
            import keyring

            box["value"] = keyring.get_password("carecli-smtp", user)
        except Exception as e:  # noqa: BLE001 - every keyring failure becomes one clear message
            box["error"] = e

    t = threading.Thread(target=ask, daemon=True)
    t.start()
    t.join(timeout)
    how = (f"store it with `keyring set carecli-smtp {user}`, or set CARECLI_SMTP_PASSWORD for automation")
    if t.is_alive():
        raise SetupError(f"the keyring did not answer within {timeout:g} s (locked, or no keyring daemon); {how}")
    if "error" in box:
        raise SetupError(f"no usable keyring here ({type(box['error']).__name__}: {box['error']}); {how}")
    if not box.get("value"):
        raise SetupError(f"the keyring has no password for SMTP user {user!r} (service carecli-smtp); {how}")
    return str(box["value"])


@dataclass
class SmtpSender:
    """E-mail through an SMTP server; SMS as files (there is no SMS gateway here)."""

    host: str
    port: int
    files: FileSender
    from_address: str = "Customer Care <care@example.com>"
    starttls: bool = True
    use_ssl: bool = False
    user: str = ""
    password: str = ""
    timeout: float = 20.0
    ssl_context: ssl.SSLContext | None = None
    transport: str = "smtp"
    _conn: smtplib.SMTP | None = field(default=None, repr=False)

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        ctx = self.ssl_context or ssl.create_default_context()
        conn: smtplib.SMTP | None = None
        try:
            if self.use_ssl:
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ctx)
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.starttls:
                    conn.starttls(context=ctx)
            if self.user:
                conn.login(self.user, self.password)
        except (OSError, smtplib.SMTPException) as e:
            if conn is not None:  # a refused certificate or login: do not leave the socket open
                try:
                    conn.close()
                except OSError:
                    pass
            raise DeliveryError(f"SMTP server {self.host}:{self.port}: {_smtp_error(e)}") from None
        self._conn = conn
        return conn

    def send(self, cl: Claim) -> str:
        if cl.notification.channel == "sms":
            return self.files.send(cl)
        msg = build_email(cl, self.from_address)
        conn = self._connect()
        try:
            conn.send_message(msg)
        except (OSError, smtplib.SMTPException) as e:
            self.close()
            raise DeliveryError(f"SMTP server {self.host}:{self.port}: {_smtp_error(e)}") from None
        return f"smtp://{self.host}:{self.port}"

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._conn = None


def _smtp_error(e: BaseException) -> str:
    if isinstance(e, smtplib.SMTPResponseException):
        text = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        return f"{e.smtp_code} {text}"
    if isinstance(e, smtplib.SMTPNotSupportedError):
        return "the server does not offer STARTTLS (set delivery.smtp_starttls = false only on a trusted network)"
    if isinstance(e, ssl.SSLCertVerificationError):
        return (f"its TLS certificate could not be verified ({e.verify_message or e.reason}); if a private CA "
                "signed it, set delivery.smtp_ca_bundle to that CA's PEM file; nothing was sent")
    if isinstance(e, socket.timeout):
        return "timed out"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    return str(e) or type(e).__name__


@dataclass
class PassResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    lines: list[str] = field(default_factory=list)


def deliver_pass(store: Any, sender: Any, *, backoff: Backoff = Backoff(), batch: int = 50,
                 claimer: str | None = None, domain: str = "carecli.invalid",
                 on_sent: Callable[[Claim, str], None] | None = None,
                 stop: Callable[[], bool] | None = None) -> PassResult:
    """One pass: claim every due row (in batches), send, record. Failed rows wait for their next try.
    ``stop()`` true ends the pass before the next batch is claimed (every claimed row is finished)."""
    res = PassResult()
    me = claimer or this_claimer()
    try:
        while not (stop is not None and stop()):
            claims = store.claim_deliveries(sender.transport, limit=batch, claimer=me, alive=claimer_alive,
                                            domain=domain)
            if not claims:
                break
            for cl in claims:
                try:
                    target = sender.send(cl)
                    error = ""
                except DeliveryError as e:
                    target, error = "", str(e)
                if not error and on_sent is not None:
                    on_sent(cl, target)
                store.finish_delivery(cl, error=error, target=target, retry=backoff)
                n = cl.notification
                if not error:
                    res.sent += 1
                    res.lines.append(f"sent   {n.id} → {n.to} ({target})")
                elif cl.attempts >= backoff.max_attempts:
                    res.dead += 1
                    res.lines.append(f"GAVE UP {n.id} after {cl.attempts} attempts: {error}")
                else:
                    res.failed += 1
                    res.lines.append(f"failed {n.id} (attempt {cl.attempts}): {error}; will retry")
    finally:
        sender.close()
    return res


__all__ = ["DeliveryError", "FileSender", "PassResult", "SetupError", "SmtpSender", "build_email", "smtp_tls_context",
           "claimer_alive", "deliver_pass", "file_name", "smtp_password", "this_claimer"]

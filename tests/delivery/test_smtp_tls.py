"""SMTP with STARTTLS against a real TLS-capable loopback server (aiosmtpd). The certificates are made
here with the openssl command line: a private CA and a server certificate for 127.0.0.1 signed by it,
and a second, unrelated CA. The deliverer trusts the CA given in ``delivery.smtp_ca_bundle`` only."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from carecli.backend.sqlite import SqliteStore
from carecli.cli_events import make_sender
from carecli.config import DeliverySettings
from carecli.delivery import FileSender, SetupError, SmtpSender, deliver_pass, smtp_tls_context

from .conftest import NOW

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("smtp-tls")
    for ca in ("ca", "other-ca"):
        _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
             "-days", "2", "-subj", f"/CN=carecli test {ca}", cwd=d)
    _run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    _run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    return d


class Handler:
    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []
        self.tls: list[bool] = []

    async def handle_DATA(self, server, session, envelope):
        self.tls.append(session.ssl is not None)
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def tls_server(certs):
    """An SMTP server on loopback that offers STARTTLS and refuses mail before it."""
    from aiosmtpd.controller import Controller

    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(str(certs / "server.pem"), str(certs / "server.key"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = Handler()
    ctl = Controller(handler, hostname="127.0.0.1", port=port, tls_context=server_ctx, require_starttls=True)
    ctl.start()
    try:
        yield port, handler
    finally:
        ctl.stop()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


def _settings(port: int, ca: Path | None, outbox: Path) -> SimpleNamespace:
    return SimpleNamespace(delivery=DeliverySettings(transport="smtp", smtp_host="127.0.0.1", smtp_port=port,
                                                     smtp_ca_bundle=ca, outbox_dir=outbox))


def test_starttls_with_the_configured_ca_delivers_every_email_over_tls(outbox_store_path, tmp_path, certs, tls_server):
    port, handler = tls_server
    sender = make_sender(_settings(port, certs / "ca.pem", tmp_path / "out"), SimpleNamespace(outbox_dir=tmp_path))
    assert isinstance(sender, SmtpSender) and sender.starttls
    with SqliteStore.open(outbox_store_path, clock=Clock()) as s:
        res = deliver_pass(s, sender)
        assert (res.sent, res.failed) == (7, 0)
        assert s.outbox_status().counts["sent"] == 7
    assert len(handler.received) == 5 and all(handler.tls)  # the 5 e-mails, each after STARTTLS
    subjects = {m["Subject"] for m in handler.received}
    assert any(sub.endswith("is on its way") for sub in subjects)
    assert len({m["Message-ID"] for m in handler.received}) == 5


@pytest.mark.parametrize("trust", ["system", "other-ca"])
def test_a_certificate_the_deliverer_does_not_trust_is_refused_and_the_messages_wait(
        outbox_store_path, tmp_path, certs, tls_server, trust):
    port, handler = tls_server
    ca = None if trust == "system" else certs / "other-ca.pem"
    sender = make_sender(_settings(port, ca, tmp_path / "out"), SimpleNamespace(outbox_dir=tmp_path))
    with SqliteStore.open(outbox_store_path, clock=Clock()) as s:
        res = deliver_pass(s, sender)
        assert (res.sent, res.failed) == (2, 5)  # the SMS files are written; no e-mail leaves
        st = s.outbox_status()
        assert st.counts["failed"] == 5 and st.counts.get("sent", 0) == 2
        errors = {p.last_error for p in st.problems}
    assert handler.received == []
    assert len(errors) == 1
    error = errors.pop()
    assert f"127.0.0.1:{port}" in error and "certificate could not be verified" in error
    assert "delivery.smtp_ca_bundle" in error


def test_a_ca_bundle_that_is_missing_or_not_pem_is_a_clear_setup_error(tmp_path):
    with pytest.raises(SetupError, match=r"smtp_ca_bundle: there is no file .*nope\.pem"):
        smtp_tls_context(tmp_path / "nope.pem")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(SetupError, match=r"smtp_ca_bundle: .*junk\.pem is not a PEM file"):
        smtp_tls_context(junk)
    assert smtp_tls_context(None).verify_mode == ssl.CERT_REQUIRED


def test_the_file_sender_is_unaffected_by_the_tls_setting(tmp_path):
    sender = make_sender(SimpleNamespace(delivery=DeliverySettings(outbox_dir=tmp_path / "o")),
                         SimpleNamespace(outbox_dir=tmp_path))
    assert isinstance(sender, FileSender)

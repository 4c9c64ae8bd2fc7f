"""TLS: verification is on; a private CA is trusted only through the ca_bundle setting.

The certificates are made here with the openssl command line (a CA, and a server certificate for
127.0.0.1 signed by it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from carecli.backend.contract import Offline
from carecli.backend.http import HttpBackend
from carecli.server.app import create_app
from carecli.server.runner import ThreadedServer

from .serving import add_users

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tls")
    _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=carecli test CA", cwd=d)
    _run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    _run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    return d


def test_tls_is_verified_and_a_ca_bundle_is_honoured(certs, store_copy, clock):
    tokens = add_users(store_copy, clock)
    app = create_app(store_copy, clock=clock)
    with ThreadedServer(app, ssl_certfile=str(certs / "server.pem"), ssl_keyfile=str(certs / "server.key")) as srv:
        assert srv.url.startswith("https://")
        untrusted = HttpBackend(srv.url, tokens["agent"], retries=0)
        with pytest.raises(Offline) as e:
            untrusted.whoami()
        assert "certificate" in e.value.message and "ca_bundle" in e.value.message
        assert tokens["agent"] not in e.value.message
        trusted = HttpBackend(srv.url, tokens["agent"], ca_bundle=certs / "ca.pem", retries=0)
        assert trusted.whoami().name == "ana.agent"
        assert trusted.search_orders("ON-100001").items[0].ref == "ON-100001"
        trusted.close()
        untrusted.close()


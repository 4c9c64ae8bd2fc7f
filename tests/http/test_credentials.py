"""Tokens: CARECLI_TOKEN, the keyring (with a timeout), and clear ways forward when neither works.

The keyring backends below are real keyring backends (keyring's own plug-in interface) standing in
for a desktop wallet, which cannot run here: one that keeps passwords in memory, one that hangs, one
that fails like a headless host without D-Bus.
"""

from __future__ import annotations

import threading

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import NoKeyringError

from carecli.credentials import CredentialsError, get_token, set_token

SERVER = "https://care.example:8443"


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.data.get((service, username))

    def set_password(self, service, username, password):
        self.data[(service, username)] = password

    def delete_password(self, service, username):
        self.data.pop((service, username), None)


class HangingKeyring(MemoryKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service, username):
        self.release.wait(30)
        return None

    set_password = lambda self, *a: self.release.wait(30)  # noqa: E731


class NoKeyring(MemoryKeyring):
    def get_password(self, service, username):
        raise NoKeyringError("No recommended backend was available.")

    set_password = get_password


@pytest.fixture
def use_keyring():
    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


def test_environment_token_wins(use_keyring):
    ring = MemoryKeyring()
    use_keyring(ring)
    ring.set_password("carecli", SERVER, "cc_from_keyring")
    assert get_token(SERVER, env={"CARECLI_TOKEN": " cc_from_env "}) == "cc_from_env"
    assert get_token(SERVER, env={}) == "cc_from_keyring"


def test_set_then_get_through_the_keyring(use_keyring):
    use_keyring(MemoryKeyring())
    set_token(SERVER, "cc_secret_value")
    assert get_token(SERVER, env={}) == "cc_secret_value"


def test_hanging_keyring_times_out_with_ways_forward(use_keyring):
    ring = HangingKeyring()
    use_keyring(ring)
    try:
        with pytest.raises(CredentialsError) as e:
            get_token(SERVER, env={}, timeout=0.2)
        assert "did not answer" in e.value.message
        assert "carecli login" in e.value.message and "CARECLI_TOKEN" in e.value.message
        with pytest.raises(CredentialsError) as e:
            set_token(SERVER, "cc_x", timeout=0.2)
        assert "CARECLI_TOKEN" in e.value.message and "cc_x" not in e.value.message
    finally:
        ring.release.set()


def test_headless_host_without_keyring_gets_ways_forward(use_keyring):
    use_keyring(NoKeyring())
    with pytest.raises(CredentialsError) as e:
        get_token(SERVER, env={})
    assert "No usable keyring" in e.value.message and "CARECLI_TOKEN" in e.value.message
    assert "sqlite:///" in e.value.message


def test_no_token_stored_names_the_server(use_keyring):
    use_keyring(MemoryKeyring())
    with pytest.raises(CredentialsError) as e:
        get_token(SERVER, env={})
    assert SERVER in e.value.message and "carecli login" in e.value.message

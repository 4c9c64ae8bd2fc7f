"""The bearer token for a carecli server: ``CARECLI_TOKEN``, else the system keyring.

* ``CARECLI_TOKEN`` (environment) wins: for automation and for hosts without a keyring.
* Otherwise the keyring (service ``carecli``, user name = the server URL), which ``carecli login``
  fills. Every keyring call runs in a thread with a timeout, so a keyring that hangs (a locked desktop
  wallet, a D-Bus that never answers on an SSH host) cannot hang the app: it becomes a clear message.
* The token is never logged and never part of an error message.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable

SERVICE = "carecli"
ENV = "CARECLI_TOKEN"
KEYRING_TIMEOUT_S = 3.0  # float-ok: seconds


class CredentialsError(Exception):
    """No usable token; ``message`` says what to do next (for the agent, never with the token in it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _ways_forward(server: str) -> str:
    return (f"Ways forward: run `carecli login --backend {server}` to store your token in the keyring; "
            f"or set {ENV} in the environment (for automation, or a host with no keyring); or use the "
            "embedded store (`--backend sqlite:///path`).")


def _with_timeout(fn: Callable[[], Any], timeout: float) -> Any:  # float-ok
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller below
            box["error"] = e

    t = threading.Thread(target=run, name="carecli-keyring", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box.get("value")


def get_token(server: str, *, env: dict[str, str] | None = None,
              timeout: float = KEYRING_TIMEOUT_S) -> str:  # float-ok
    env = os.environ if env is None else env
    token = (env.get(ENV) or "").strip()
    if token:
        return token
    try:
        import keyring

        token = _with_timeout(lambda: keyring.get_password(SERVICE, server), timeout)
    except TimeoutError:
        raise CredentialsError(f"The system keyring did not answer within {timeout:g} s. "
                               + _ways_forward(server)) from None
    except Exception as e:  # noqa: BLE001 - no backend, locked, D-Bus missing...
        raise CredentialsError(f"No usable keyring on this host ({type(e).__name__}). "
                               + _ways_forward(server)) from None
    if not token:
        raise CredentialsError(f"No token for {server} in the keyring. " + _ways_forward(server))
    return token


def set_token(server: str, token: str, *, timeout: float = KEYRING_TIMEOUT_S) -> None:  # float-ok
    try:
        import keyring

        _with_timeout(lambda: keyring.set_password(SERVICE, server, token), timeout)
    except TimeoutError:
        raise CredentialsError(f"The system keyring did not answer within {timeout:g} s; the token was not "
                               f"stored. Set {ENV} in the environment instead.") from None
    except Exception as e:  # noqa: BLE001
        raise CredentialsError(f"No usable keyring on this host ({type(e).__name__}); the token was not "
                               f"stored. Set {ENV} in the environment instead.") from None

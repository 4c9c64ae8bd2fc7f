"""Settings: one typed model, read from defaults < config file < environment < command-line flags.

* File: ``config.toml`` in the user config dir (``carecli config`` prints where), or ``--config PATH``.
* Environment: ``CARECLI_<FIELD>``, e.g. ``CARECLI_ROLE=supervisor``, ``CARECLI_STORE=/srv/care.db``,
  ``CARECLI_THEME=ansi-dark``; nested keys with a double underscore (``CARECLI_UI__PAGE_SIZE=100``).
* Flags override both (see ``carecli --help``).

The precedence is on purpose: a support host's shared file sets the team's defaults, an agent's
environment adapts them, and a flag is what someone typed just now. A malformed file or value never
stops the app: the bad key is named in a warning, and that key keeps its default.

All discovery of files goes through :func:`locations`, which tests patch, so a developer's own config
never leaks into a test.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

APP_NAME = "carecli"


@dataclass(frozen=True)
class Locations:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def default_store(self) -> Path:
        return self.data_dir / "store.db"

    @property
    def policy_file(self) -> Path:
        return self.config_dir / "policy.toml"

    @property
    def templates_dir(self) -> Path:
        """An operator's message templates (``<kind>.subject|txt|html|sms``; docs/NOTIFICATIONS.md)."""
        return self.config_dir / "templates"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def journal_file(self) -> Path:
        """The HTTP client's commit journal."""
        return self.data_dir / "journal.db"


def locations() -> Locations:
    """Where carecli keeps its files (platformdirs, so XDG on Linux)."""
    import platformdirs

    return Locations(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME)),
    )


class UISettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page_size: int = Field(50, ge=10, le=500)
    """Search results per page."""
    search_debounce_ms: int = Field(0, ge=0, le=2000)
    """How long typing must pause before a search runs (0: at once; a query still running is never
    doubled: the newest text waits for it)."""
    local_echo: bool = True
    """Write a character typed at the end of the search box to the terminal as the key arrives, before
    the app's own frame draws the same cells (``widgets/echo.py``); off: only the frame draws it."""


class DeliverySettings(BaseModel):
    """How ``carecli deliver`` sends the notifications outbox (docs/NOTIFICATIONS.md)."""

    model_config = ConfigDict(extra="forbid")

    transport: Literal["eml", "smtp"] = "eml"
    """``eml``: write each e-mail as an .eml file under ``outbox_dir``; ``smtp``: send through the SMTP
    server below. SMS messages are always written as .txt files under ``outbox_dir``."""
    outbox_dir: Path | None = None
    """Where .eml and SMS .txt files go. Default: ``outbox`` in the user data dir."""
    from_address: str = "Customer Care <care@example.com>"
    """The From header of every e-mail."""
    smtp_host: str = ""
    """SMTP server host name (``transport = "smtp"``)."""
    smtp_port: int = Field(587, ge=1, le=65535)
    """SMTP port: 587 with STARTTLS, 465 with ``smtp_ssl``, 25 plain."""
    smtp_starttls: bool = True
    """Upgrade the connection with STARTTLS before logging in (refused if the server cannot)."""
    smtp_ssl: bool = False
    """Connect with TLS from the start (port 465) instead of STARTTLS."""
    smtp_ca_bundle: Path | None = None
    """A PEM file of the CA that signed the SMTP server's certificate (a private CA); default: the
    system's CAs. The server's name is checked against its certificate either way."""
    smtp_user: str = ""
    """Log in as this user; the password comes from the keyring (service ``carecli-smtp``) or
    ``$CARECLI_SMTP_PASSWORD``. Empty: no login."""
    timeout_seconds: float = Field(20.0, gt=0, le=600)
    """Network timeout for the SMTP server, and for asking the keyring."""
    retry_base_seconds: float = Field(60.0, gt=0)
    """First retry after a failed delivery; each further retry waits twice as long..."""
    retry_max_seconds: float = Field(3600.0, gt=0)
    """...up to this."""
    max_attempts: int = Field(8, ge=1, le=100)
    """After this many failed attempts a message is given up (``dead``) and shown for an operator."""
    watch_interval_seconds: float = Field(10.0, gt=0, le=3600)
    """``carecli deliver --watch``: the pause between passes."""
class HttpSettings(BaseModel):
    """How the app talks to a carecli server (``backend = "https://…"``)."""

    model_config = ConfigDict(extra="forbid")

    ca_bundle: Path | None = None
    """A PEM file of the CA that signed the server's certificate (a private CA); default: the system's."""
    connect_timeout: float = Field(3.0, gt=0, le=60)  # float-ok: seconds
    """Seconds to wait for a connection before the server counts as unreachable."""
    read_timeout: float = Field(35.0, gt=0, le=300)  # float-ok: seconds
    """Seconds to wait for an answer (a commit may wait up to 30 s for the store's write lock)."""
    retries: int = Field(3, ge=0, le=10)
    """Retries after a network error or a 5xx answer (with back-off; a commit keeps its request id)."""


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: Path | None = None
    """The embedded store file. Default: ``store.db`` in the user data dir; a shared path lets several
    agents on one support host work on one store."""
    backend: str = ""
    """``sqlite:///path`` for an embedded store, ``https://host:port`` for a shared server (empty: the
    embedded store at ``store``)."""
    role: Literal["agent", "supervisor"] = "agent"
    """Who is at the keyboard: agents amend within their limits; supervisors work read-only by default."""
    read_only: bool | None = None
    """Force read-only on (true) or off (false). Default: read-only for supervisors only."""
    actor: str = Field(default_factory=lambda: _user())
    """The name written in the audit trail (default: the login name)."""
    theme: str = "carecli-dark"
    """carecli-dark, carecli-light, carecli-contrast, or a Textual theme such as ansi-dark (16 colours)."""
    policy: Path | None = None
    """An operator's policy file over the built-in one (default: ``policy.toml`` in the config dir)."""
    keymap: dict[str, str] = {}
    """Key remapping by binding id, e.g. ``{"commit" = "ctrl+s"}``."""
    ui: UISettings = UISettings()
    delivery: DeliverySettings = DeliverySettings()
    http: HttpSettings = HttpSettings()

    @field_validator("backend")
    @classmethod
    def _backend_url(cls, v: str) -> str:
        v = v.strip()
        if not v or v.startswith("sqlite:///"):
            return v
        u = urlsplit(v)
        if u.scheme in ("http", "https") and u.hostname and not u.query and u.path in ("", "/"):
            try:
                u.port  # noqa: B018 - raises on a bad port
            except ValueError:
                raise ValueError(f"{v!r}: the port is not a number from 1 to 65535") from None
            return v.rstrip("/")
        raise ValueError(f"{v!r}: expected sqlite:///path/to/store.db or https://host:port")

    @property
    def effective_read_only(self) -> bool:
        return self.read_only if self.read_only is not None else self.role == "supervisor"

    @property
    def server_url(self) -> str | None:
        """The server's URL when ``backend`` names one (http:// or https://), else None."""
        b = self.backend.strip()
        return b.rstrip("/") if b.startswith(("https://", "http://")) else None

    def store_path(self, where: Locations) -> Path:
        if self.backend.startswith("sqlite:///"):  # sqlite:///srv/care.db (or ////) is /srv/care.db
            return Path("/" + self.backend.removeprefix("sqlite:///").lstrip("/"))
        return self.store or where.default_store

    def policy_path(self, where: Locations) -> Path:
        return self.policy or where.policy_file


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "agent"


_ENV_PREFIX = "CARECLI_"
_FIELDS = set(Settings.model_fields)


def _from_env(env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in env.items():
        if not key.startswith(_ENV_PREFIX):
            continue
        name = key[len(_ENV_PREFIX):].lower()
        if name in ("stress_scale", "token", "hypothesis_examples", "smtp_password"):
            continue
        parts = name.split("__")
        if parts[0] not in _FIELDS:
            continue
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _drop(data: dict[str, Any], loc: tuple[Any, ...]) -> None:
    node: Any = data
    for p in loc[:-1]:
        node = node.get(p) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(loc[-1], None)


def load_settings(
    flags: dict[str, Any] | None = None, *, config_file: Path | None = None,
    env: dict[str, str] | None = None, where: Locations | None = None,
) -> tuple[Settings, list[str]]:
    """Settings and the warnings met on the way (each names the file or variable and the key)."""
    where = where or locations()
    env = dict(os.environ) if env is None else env
    warnings: list[str] = []
    path = config_file or where.config_file
    file_data: dict[str, Any] = {}
    if path.exists():
        try:
            if path.stat().st_size > 1_000_000:
                raise ValueError("larger than 1 MB; is it the right file?")
            file_data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            warnings.append(f"settings file {path}: ignored, {e}")
    elif config_file is not None:
        warnings.append(f"settings file {path}: not found; using defaults")
    sources = [(f"settings file {path}", file_data), ("environment", _from_env(env)),
               ("command line", {k: v for k, v in (flags or {}).items() if v is not None})]
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, data in sources:
        merged = _merge(merged, data)
        for k in data:
            origin[k] = name
    for _ in range(20):  # drop bad keys one by one, keeping every good one
        try:
            return Settings.model_validate(merged), warnings
        except ValidationError as e:
            err = e.errors()[0]
            loc = tuple(err["loc"])
            key = ".".join(str(p) for p in loc)
            src = origin.get(str(loc[0]), "settings")
            if src == "environment":
                src = f"environment variable {_ENV_PREFIX}{'__'.join(str(p) for p in loc).upper()}"
            warnings.append(f"{src}: key {key}: {err['msg']}; using the default")
            _drop(merged, loc)
    return Settings(), warnings + ["settings: too many problems; using all defaults"]


def describe_locations(settings: Settings, where: Locations | None = None) -> str:
    where = where or locations()
    rows = [
        ("settings file", where.config_file),
        ("policy file", settings.policy_path(where)),
        ("store", settings.store_path(where)) if not settings.server_url else ("server", settings.server_url),
        ("journal", where.journal_file),
        ("templates", where.templates_dir),
        ("outbox", settings.delivery.outbox_dir or where.outbox_dir),
        ("logs", where.log_dir),
    ]
    return "\n".join(f"{name:<14} {path}" + ("" if name == "server" or Path(path).exists()
                                             else "  (not there yet)") for name, path in rows)

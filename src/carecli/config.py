"""Settings: one typed model, read from defaults < config file < environment < command-line flags.

The model is a set of dataclasses whose fields are converted and checked when an instance is made
(:class:`_Checked`): a setting is a type, a default and, for numbers, bounds.

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

import math
import os
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from types import UnionType
from typing import Any, Callable, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

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


class SettingsError(ValueError):
    """A value a setting cannot take. ``key`` is its dotted name (``ui.page_size``); the text says what
    was expected and what was given."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason


def setting(default: Any = None, *, factory: Callable[[], Any] | None = None, ge: float | None = None,
            le: float | None = None, gt: float | None = None) -> Any:
    """A field of a settings class: its default (or ``factory``), and the bounds of a number."""
    meta = {"ge": ge, "le": le, "gt": gt}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


_TRUE = {"true", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "0", "no", "off", "n", "f"}


def _expected(kind: str, value: Any) -> str:
    return f"expected {kind}, got {value!r}"


def _coerce(tp: Any, value: Any, key: str) -> Any:
    """``value`` as the annotated type ``tp``: what a TOML file, an environment variable (text) or a flag
    gives, converted the way a person means it ("100" is 100, "yes" is true); else SettingsError."""
    origin = get_origin(tp)
    if origin in (Union, UnionType):  # X | None: None, or empty text (an unset variable), is "not set"
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None or value == "":
            return None
        return _coerce(args[0], value, key)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise SettingsError(key, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")
        return value
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in value.items()):
            raise SettingsError(key, f"expected a table of names to texts, got {value!r}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if type(value) is int and value in (0, 1):
            return bool(value)
        raise SettingsError(key, _expected("true or false", value))
    if tp is int:
        if type(value) is int:
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value.strip())
        raise SettingsError(key, _expected("a whole number", value))
    if tp is float:
        if type(value) in (int, float):
            number = float(value)  # float-ok: seconds
        elif isinstance(value, str):
            try:
                number = float(value.strip())  # float-ok: seconds
            except ValueError:
                raise SettingsError(key, _expected("a number", value)) from None
        else:
            raise SettingsError(key, _expected("a number", value))
        if not math.isfinite(number):
            raise SettingsError(key, _expected("a finite number", value))
        return number
    if tp is str:
        if not isinstance(value, str):
            raise SettingsError(key, f"expected a text, got {value!r}")
        return value
    if tp is Path:
        if not isinstance(value, (str, Path)):
            raise SettingsError(key, f"expected a file path, got {value!r}")
        return Path(value)
    if is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise SettingsError(key, f"expected a table of settings, got {value!r}")
        return _build(tp, value, key + ".")
    raise TypeError(f"{key}: settings of type {tp!r} are not supported")  # a programming error


def _build(cls: type, values: dict[str, Any], prefix: str = "") -> Any:
    names = {f.name for f in fields(cls) if f.init}
    for name in values:
        if name not in names:
            raise SettingsError(prefix + str(name),
                                f"not a setting (the settings here: {', '.join(sorted(names))})")
    return cls(**values)


class _Checked:
    """Base of the settings classes: every field converted to its annotated type and checked against its
    bounds when an instance is made (so ``Settings(role="boss")`` raises :class:`SettingsError`)."""

    _prefix = ""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            key = self._prefix + f.name
            # f.type is the annotation itself (this module does not postpone annotations, so that no
            # string has to be evaluated: typing.get_type_hints compiled each one, at every start)
            value = _coerce(f.type, getattr(self, f.name), key)
            meta = f.metadata
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if meta.get("ge") is not None and value < meta["ge"]:
                    raise SettingsError(key, f"must be at least {meta['ge']}, got {value}")
                if meta.get("gt") is not None and value <= meta["gt"]:
                    raise SettingsError(key, f"must be more than {meta['gt']}, got {value}")
                if meta.get("le") is not None and value > meta["le"]:
                    raise SettingsError(key, f"must be at most {meta['le']}, got {value}")
            setattr(self, f.name, value)
        self._check()

    def _check(self) -> None:
        """Checks across fields or of a field's form, in subclasses."""


@dataclass
class UISettings(_Checked):
    _prefix = "ui."

    page_size: int = setting(50, ge=10, le=500)
    """Search results per page."""
    search_debounce_ms: int = setting(0, ge=0, le=2000)
    """How long typing must pause before a search runs (0: at once; a query still running is never
    doubled: the newest text waits for it)."""
    local_echo: bool = True
    """Write a character typed at the end of the search box to the terminal as the key arrives, before
    the app's own frame draws the same cells (``widgets/echo.py``); off: only the frame draws it."""


@dataclass
class DeliverySettings(_Checked):
    """How ``carecli deliver`` sends the notifications outbox (docs/NOTIFICATIONS.md)."""

    _prefix = "delivery."

    transport: Literal["eml", "smtp"] = "eml"
    """``eml``: write each e-mail as an .eml file under ``outbox_dir``; ``smtp``: send through the SMTP
    server below. SMS messages are always written as .txt files under ``outbox_dir``."""
    outbox_dir: Path | None = None
    """Where .eml and SMS .txt files go. Default: ``outbox`` in the user data dir."""
    from_address: str = "Customer Care <care@example.com>"
    """The From header of every e-mail."""
    smtp_host: str = ""
    """SMTP server host name (``transport = "smtp"``)."""
    smtp_port: int = setting(587, ge=1, le=65535)
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
    timeout_seconds: float = setting(20.0, gt=0, le=600)
    """Network timeout for the SMTP server, and for asking the keyring."""
    retry_base_seconds: float = setting(60.0, gt=0)
    """First retry after a failed delivery; each further retry waits twice as long..."""
    retry_max_seconds: float = setting(3600.0, gt=0)
    """...up to this."""
    max_attempts: int = setting(8, ge=1, le=100)
    """After this many failed attempts a message is given up (``dead``) and shown for an operator."""
    watch_interval_seconds: float = setting(10.0, gt=0, le=3600)
    """``carecli deliver --watch``: the pause between passes."""


@dataclass
class HttpSettings(_Checked):
    """How the app talks to a carecli server (``backend = "https://…"``)."""

    _prefix = "http."

    ca_bundle: Path | None = None
    """A PEM file of the CA that signed the server's certificate (a private CA); default: the system's."""
    connect_timeout: float = setting(3.0, gt=0, le=60)  # float-ok: seconds
    """Seconds to wait for a connection before the server counts as unreachable."""
    read_timeout: float = setting(35.0, gt=0, le=300)  # float-ok: seconds
    """Seconds to wait for an answer (a commit may wait up to 30 s for the store's write lock)."""
    retries: int = setting(3, ge=0, le=10)
    """Retries after a network error or a 5xx answer (with back-off; a commit keeps its request id)."""


@dataclass
class Settings(_Checked):
    """Every setting, typed and checked when made (a plain dataclass: the app's start reads them, and
    pydantic would cost that start more than the rest of its settings work together)."""

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
    actor: str = setting(factory=lambda: _user())
    """The name written in the audit trail (default: the login name)."""
    theme: str = "carecli-dark"
    """carecli-dark, carecli-light, carecli-contrast, or a Textual theme such as ansi-dark (16 colours)."""
    policy: Path | None = None
    """An operator's policy file over the built-in one (default: ``policy.toml`` in the config dir)."""
    keymap: dict[str, str] = setting(factory=dict)
    """Key remapping by binding id, e.g. ``{"commit" = "ctrl+s"}``."""
    ui: UISettings = setting(factory=UISettings)
    delivery: DeliverySettings = setting(factory=DeliverySettings)
    http: HttpSettings = setting(factory=HttpSettings)

    def _check(self) -> None:
        self.backend = _backend_url(self.backend)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Settings":
        """Settings from nested tables of values (a TOML file's, the environment's, the flags');
        raises :class:`SettingsError` naming the first key that cannot be used."""
        return _build(cls, data)

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


def _backend_url(v: str) -> str:
    v = v.strip()
    if not v or v.startswith("sqlite:///"):
        return v
    u = urlsplit(v)
    if u.scheme in ("http", "https") and u.hostname and not u.query and u.path in ("", "/"):
        try:
            u.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise SettingsError("backend", f"{v!r}: the port is not a number from 1 to 65535") from None
        return v.rstrip("/")
    raise SettingsError("backend", f"{v!r}: expected sqlite:///path/to/store.db or https://host:port")


def _user() -> str:
    import getpass  # here: only a default actor needs it, and its import costs the start a few ms

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "agent"


_ENV_PREFIX = "CARECLI_"
_FIELDS = {f.name for f in fields(Settings)}


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
            return Settings.from_dict(merged), warnings
        except SettingsError as e:
            loc = tuple(e.key.split("."))
            src = origin.get(loc[0], "settings")
            if src == "environment":
                src = f"environment variable {_ENV_PREFIX}{'__'.join(loc).upper()}"
            warnings.append(f"{src}: key {e.key}: {e.reason}; using the default")
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

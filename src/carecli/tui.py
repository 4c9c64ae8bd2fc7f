"""Starting the app: settings, the backend, the demo store on first start, then the screens.

Kept apart from ``cli.py`` so that the sub-commands (``demo``, ``audit verify``, ``config``) never
import Textual.
"""

from __future__ import annotations

import gc
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

FIRST_START_ORDERS = 10_000


def settings_from_flags(flags: dict[str, Any]):
    from .config import load_settings

    config_file = flags.pop("config", None)
    return load_settings(flags, config_file=Path(config_file).expanduser() if config_file else None)


def open_http_backend(settings, warnings: list[str], *, env: dict[str, str] | None = None):
    """The HTTP client of the server in settings. Raises CredentialsError (no token) or Unauthorized;
    an unreachable server is not an error: the app opens offline and says so."""
    from urllib.parse import urlsplit

    from .backend.contract import Offline
    from .backend.http import HttpBackend, Journal
    from .config import locations
    from .credentials import get_token

    url = settings.server_url
    token = get_token(url, env=env)
    host = urlsplit(url).hostname or ""
    if url.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
        warnings.append(f"backend {url}: plain http sends your token and the customers' data unencrypted; "
                        "use https")
    h = settings.http
    backend = HttpBackend(url, token, read_only=True if settings.read_only else None, role=settings.role,
                          journal=Journal(locations().journal_file), ca_bundle=h.ca_bundle,
                          connect_timeout=h.connect_timeout, read_timeout=h.read_timeout, retries=h.retries)
    try:
        backend.whoami(retries=0)
    except Offline as e:
        warnings.append(f"{e.message}. carecli works offline until the server answers.")
    except BaseException:
        backend.close()
        raise
    return backend


def open_backend(settings, warnings: list[str]):
    """The backend named by settings; builds the demo store when there is no store yet.

    An existing store is opened without reading the operator's policy and message templates (that
    would import pydantic and build the policy's models before the first screen): the app reads them
    a moment after its first results (:meth:`SqliteStore.load_files`, see :func:`run`). Before the demo
    store is built they are read first, so that a bad file is refused before a long build.
    """
    from .backend.sqlite.store import SqliteStore
    from .config import locations

    if settings.server_url:
        return open_http_backend(settings, warnings)
    where = locations()
    path = settings.store_path(where)
    files = {"policy_file": settings.policy_path(where), "templates_dir": where.templates_dir}
    if not path.exists():
        from .backend.sqlite.load import build_demo
        from .backend.templates import load_templates
        from .cli import ProgressBar
        from .engine.policy import load_policy

        files = {"policy": load_policy(files["policy_file"]),  # PolicyError
                 "templates": load_templates(files["templates_dir"])}  # TemplateError
        print(f"No store at {path}: building the demo store ({FIRST_START_ORDERS:,} orders) once…",
              file=sys.stderr)
        bar = ProgressBar()
        build_demo(path, orders=FIRST_START_ORDERS, progress=bar)
        bar.close()
    store = SqliteStore.open(path, role=settings.role, read_only=settings.effective_read_only, **files)
    if store.read_only and not settings.effective_read_only:
        warnings.append(f"store {path} can only be read by you: carecli works read-only")
    return store


def files_check(backend) -> Callable[[], str | None] | None:
    """For an embedded store: a call that reads the operator's policy and message templates (opening
    the store did not) and returns what is wrong with them, or None. The app makes it a moment after its
    first results, and leaves with that message if there is one. None for a server (its files are its own)."""
    load = getattr(backend, "load_files", None)
    if load is None:
        return None

    def check() -> str | None:
        from .engine.errors import PolicyError, TemplateError

        try:
            load()
        except (PolicyError, TemplateError) as e:
            return file_problem(e)
        return None

    return check


def file_problem(e: ValueError) -> str:
    """What to tell the operator about a policy or template file that cannot be used."""
    from .engine.errors import TemplateError

    return f"carecli: {'message templates' if isinstance(e, TemplateError) else 'Policy'}: {e}"


def at_once(call: Callable[[], Any]) -> Future:
    """``call()``, now; its result (or exception) in a Future that is already done."""
    future: Future = Future()
    try:
        future.set_result(call())
    except Exception as e:  # noqa: BLE001 - handed over to whoever takes the result
        future.set_exception(e)
    return future


def prefetch(call: Callable[[], Any]) -> Future:
    """``call()`` in a thread of its own, now; its result (or exception) in the returned Future."""
    future: Future = Future()

    def work() -> None:
        try:
            future.set_result(call())
        except BaseException as e:  # noqa: BLE001 - handed over to whoever takes the result
            future.set_exception(e)

    threading.Thread(target=work, name="carecli-prefetch", daemon=True).start()
    return future


def run(flags: dict[str, Any]) -> int:
    # No garbage collection during the start: it builds tens of thousands of long-lived objects
    # (modules, classes, style sheets, the first screen) and few cycles, and the collections it
    # caused took 25-40 ms of the launch. The app freezes what the start built and enables the
    # collector again once its first results are drawn (CareApp._after_start).
    gc.disable()
    try:
        return _run(flags)
    finally:
        gc.enable()


def _run(flags: dict[str, Any]) -> int:
    from .backend.errors import BackendError
    from .credentials import CredentialsError
    from .engine.errors import PolicyError, TemplateError

    settings, warnings = settings_from_flags(flags)
    try:
        backend = open_backend(settings, warnings)
    except CredentialsError as e:
        print(f"carecli: no token for {settings.server_url}: {e.message}", file=sys.stderr)
        return 2
    except (PolicyError, TemplateError) as e:
        print(file_problem(e), file=sys.stderr)
        return 2
    except BackendError as e:
        print(f"carecli: {e.title}: {e.message}", file=sys.stderr)
        return 2
    # The first page of results, for the first frame: from an embedded store, read now (a few
    # milliseconds; in a thread it took up to 30 ms, since a thread gets the interpreter back after
    # each row only when the main thread, busy starting the app, lets it go); from a server, read in a
    # thread while the screens are built (the app takes it only if it is there by then).
    first_page = (prefetch if settings.server_url else at_once)(
        lambda: backend.search_orders("", limit=settings.ui.page_size))
    from .app import CareApp
    from .config import locations
    from .themes import user_themes

    # The operator's own themes: config dir/themes/*.toml; a bad file is named and skipped.
    theme_dir = locations().config_dir / "themes"
    themes, theme_warnings = user_themes(sorted(theme_dir.glob("*.toml")) if theme_dir.is_dir() else [])
    app = CareApp(backend, settings, warnings=[*warnings, *theme_warnings], extra_themes=themes,
                  first_page=first_page, freeze_start=True,
                  files_check=files_check(backend))
    try:
        app.run()
    finally:
        backend.close()
    if app.stopped_because:
        print(app.stopped_because, file=sys.stderr)
    return app.return_code or 0

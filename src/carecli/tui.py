"""Starting the app: settings, the backend, the demo store on first start, then the screens.

Kept apart from ``cli.py`` so that the sub-commands (``demo``, ``audit verify``, ``config``) never
import Textual.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

FIRST_START_ORDERS = 10_000


def settings_from_flags(flags: dict[str, Any]):
    from .config import load_settings

    config_file = flags.pop("config", None)
    return load_settings(flags, config_file=Path(config_file).expanduser() if config_file else None)


def open_backend(settings, warnings: list[str]):
    """The backend named by settings; builds the demo store when there is no store yet."""
    from .backend.sqlite.store import SqliteStore
    from .config import locations
    from .engine.policy import load_policy

    if settings.backend and not settings.backend.startswith("sqlite:///"):
        raise SystemExit(f"carecli: backend {settings.backend!r}: only embedded stores (sqlite:///path) are "
                         "supported by this version")
    where = locations()
    path = settings.store_path(where)
    policy = load_policy(settings.policy_path(where))
    if not path.exists():
        from .backend.sqlite.load import build_demo
        from .cli import ProgressBar

        print(f"No store at {path}: building the demo store ({FIRST_START_ORDERS:,} orders) once…",
              file=sys.stderr)
        bar = ProgressBar()
        build_demo(path, orders=FIRST_START_ORDERS, progress=bar)
        bar.close()
    store = SqliteStore.open(path, role=settings.role, read_only=settings.effective_read_only, policy=policy)
    if store.read_only and not settings.effective_read_only:
        warnings.append(f"store {path} can only be read by you: carecli works read-only")
    return store


def run(flags: dict[str, Any]) -> int:
    from .backend.contract import BackendError
    from .engine.policy import PolicyError

    settings, warnings = settings_from_flags(flags)
    try:
        backend = open_backend(settings, warnings)
    except (BackendError, PolicyError) as e:
        title = getattr(e, "title", "Policy")
        print(f"carecli: {title}: {getattr(e, 'message', e)}", file=sys.stderr)
        return 2
    from .app import CareApp
    from .config import locations
    from .themes import user_themes

    # The operator's own themes: config dir/themes/*.toml; a bad file is named and skipped.
    theme_dir = locations().config_dir / "themes"
    themes, theme_warnings = user_themes(sorted(theme_dir.glob("*.toml")) if theme_dir.is_dir() else [])
    try:
        CareApp(backend, settings, warnings=[*warnings, *theme_warnings], extra_themes=themes).run()
    finally:
        backend.close()
    return 0

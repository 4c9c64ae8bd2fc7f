"""Themes shipped with carecli (TOML files beside this module), plus Textual's own.

``carecli-dark`` (default), ``carecli-light`` and ``carecli-contrast`` are ours. For 16- and
256-colour terminals on support hosts use Textual's ``ansi-dark`` or ``ansi-light``, which draw with
the terminal's own palette.

A malformed theme file is skipped with a warning naming the file and the key; the app still opens.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Iterable

from textual.theme import Theme

_KEYS = {"name", "dark", "primary", "secondary", "accent", "foreground", "background", "surface", "panel",
         "success", "warning", "error", "boost", "luminosity_spread", "text_alpha", "variables"}


def parse_theme(text: str, source: str) -> Theme:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"theme file {source}: not valid TOML: {e}") from None
    unknown = set(data) - _KEYS
    if unknown:
        raise ValueError(f"theme file {source}: key {sorted(unknown)[0]}: not a theme setting")
    if not isinstance(data.get("name"), str) or not isinstance(data.get("primary"), str):
        raise ValueError(f"theme file {source}: keys name and primary are required, as quoted strings")
    try:
        from textual.color import Color

        for key in ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
                    "success", "warning", "error"):
            if key in data:
                Color.parse(data[key])
    except Exception as e:  # noqa: BLE001 - Color raises its own error types
        raise ValueError(f"theme file {source}: key {key}: {e}") from None
    return Theme(**data)


MAX_THEME_BYTES = 100_000  # a theme is a few dozen lines; anything this big is the wrong file


def builtin_themes() -> list[Theme]:
    """Our themes, from the TOML files beside this module (read at every start: a plain folder read,
    not ``importlib.resources``, whose import alone costs the start a few milliseconds)."""
    return [parse_theme(entry.read_text("utf-8"), entry.name)
            for entry in sorted(Path(__file__).parent.glob("*.toml"), key=lambda p: p.name)]


def user_themes(paths: Iterable[Path]) -> tuple[list[Theme], list[str]]:
    themes, warnings = [], []
    for p in paths:
        try:
            if p.stat().st_size > MAX_THEME_BYTES:
                raise ValueError(f"theme file {p}: larger than {MAX_THEME_BYTES // 1000} KB; is it the right file?")
            text = p.read_text("utf-8")
        except UnicodeDecodeError as e:
            warnings.append(f"theme file {p}: not UTF-8 text ({e.reason} at byte {e.start})")
            continue
        except OSError as e:
            warnings.append(f"theme file {p}: cannot be read: {e.strerror or e}")
            continue
        except ValueError as e:
            warnings.append(str(e))
            continue
        try:
            themes.append(parse_theme(text, str(p)))
        except ValueError as e:
            warnings.append(str(e))
    return themes, warnings

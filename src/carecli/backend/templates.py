"""An operator's message templates: ``<config dir>/templates/<kind>.<part>`` over the shipped ones.

``<kind>`` is the message kind in lower case (``dispatched``, ``short_picked``, …; see
``engine/templates.toml``) and ``<part>`` one of ``subject``, ``txt``, ``html``, ``sms``. A file
replaces that part only. A template that uses a placeholder its kind does not have, or malformed ``$``
syntax, is refused with the file named: better no event taken in than a customer message with a hole.
"""

from __future__ import annotations

from pathlib import Path

from ..engine.notifications import MessageTemplate, TemplateError, check_template, default_templates

PARTS = {"subject": "subject", "txt": "text", "html": "html", "sms": "sms"}


def load_templates(folder: Path | None) -> dict[str, MessageTemplate]:
    """The shipped templates with the operator's files in ``folder`` over them. Raises TemplateError."""
    out = default_templates()
    if folder is None or not folder.is_dir():
        return out
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        kind, _, ext = path.name.rpartition(".")
        kind = kind.upper()
        if ext not in PARTS or kind not in out:
            raise TemplateError(f"template file {path}: not a template name; use <kind>.<part> with kind one of "
                                f"{', '.join(k.lower() for k in sorted(out))} and part one of "
                                f"{', '.join(PARTS)}")
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise TemplateError(f"template file {path}: cannot be read: {e}") from None
        if len(text) > 200_000:
            raise TemplateError(f"template file {path}: larger than 200 KB; is it the right file?")
        if PARTS[ext] == "subject":
            text = text.strip()
        tpl = out[kind].model_copy(update={PARTS[ext]: text})
        check_template(kind, tpl, f"template file {path}")
        out[kind] = tpl
    return out


__all__ = ["load_templates", "TemplateError"]

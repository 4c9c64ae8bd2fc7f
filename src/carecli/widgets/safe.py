"""The one boundary where text from the outside world becomes something the terminal may show.

Customer names, addresses, notes, product titles, reason notes and event payloads are untrusted: they
may hold terminal control sequences (CSI, OSC 0/8/52, DCS, APC …), C0/C1 control characters, bidi
overrides, or Rich/Textual markup such as ``[@click=app.quit]``. Rich and Textual pass OSC/CSI
sequences through to the terminal as they are, and parse markup in plain ``str`` content.

So every piece of untrusted text is shown through :func:`text` (a ``rich.text.Text``, never markup)
after :func:`clean`, which removes escape sequences and control/bidi characters. ``O'Brien [VIP]``
stays exactly as typed.

Textual's ``Input`` shows its value raw (escape sequences included), so an Input pre-filled from data
takes ``clean(value)``, and every free-text Input has ``restrict=INPUT_RESTRICT`` so that nothing
typed or pasted can carry a control character either.
"""

from __future__ import annotations

import re

from rich.text import Text

# ESC-introduced sequences: CSI (ESC [ … final), OSC/DCS/SOS/PM/APC (ESC ] P X ^ _ … ST or BEL),
# and two-character escapes (ESC + one byte). The 8-bit forms (0x9B CSI, 0x9D OSC, 0x90 DCS, …) too.
_SEQUENCES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?            # CSI
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])       # OSC, DCS, SOS, PM, APC …
    [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?        #   … up to BEL or ST (or the end)
  | \x1b[ -/]*[0-~]?                             # other escapes (ESC c, ESC ( B, lone ESC)
    """,
    re.VERBOSE,
)
# C0 controls but tab and newline, DEL, C1 controls; bidi embeddings/overrides/isolates and marks;
# line/paragraph separators; the BOM/zero-width no-break space.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]")


# For Input(restrict=...): any run of characters without C0/C1 controls, DEL, bidi controls or separators.
INPUT_RESTRICT = r"[^\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]*"


def clean(value: object, *, one_line: bool = True) -> str:
    """``value`` as text with every escape sequence and control character removed.

    ``one_line`` folds tabs and newlines to spaces (for table cells and headers).
    """
    s = value if isinstance(value, str) else str(value)
    if not s.isprintable() or "\x1b" in s:
        s = _SEQUENCES.sub("", s)
        s = _CONTROLS.sub("", s)
    if one_line:
        s = s.replace("\t", " ").replace("\n", " ").replace("\r", "")
    return s


def text(value: object, style: str = "", *, one_line: bool = True, justify: str | None = None) -> Text:
    """Untrusted ``value`` as a Rich ``Text``: literal (never markup), cleaned, styled as given."""
    return Text(clean(value, one_line=one_line), style=style, justify=justify)  # type: ignore[arg-type]

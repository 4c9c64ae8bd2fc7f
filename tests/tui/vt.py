"""A small terminal for tests: the cells (character and what SGR made of it) that bytes written to a
terminal leave on screen, and where they leave the cursor.

It reads what Textual writes for a frame (cursor moves ``CSI row;col H``, SGR ``CSI … m``, newlines and
printable text) and raises on anything else, so a test that feeds it bytes also checks they hold
nothing unexpected. SGR is interpreted (reset, attributes on and off, 16/256/true colours, defaults),
not compared as text: two ways of writing the same cell decode to the same cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\x1b\[([0-9;]*)([A-Za-z])|([^\x1b\n\r]+)|(\n)|(\r)|(\x1b.?)", re.S)

# SGR attribute numbers: on, and the number that turns each off.
_ATTRS = {1: "bold", 2: "dim", 3: "italic", 4: "underline", 5: "blink", 7: "reverse", 8: "conceal",
          9: "strike", 21: "underline2", 51: "frame", 53: "overline"}
_OFF = {22: ("bold", "dim"), 23: ("italic",), 24: ("underline", "underline2"), 25: ("blink",),
        27: ("reverse",), 28: ("conceal",), 29: ("strike",), 54: ("frame",), 55: ("overline",)}


@dataclass(frozen=True)
class Pen:
    fg: str | None = None
    bg: str | None = None
    attrs: frozenset[str] = frozenset()


def _sgr(pen: Pen, params: str) -> Pen:
    codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
    fg, bg, attrs = pen.fg, pen.bg, set(pen.attrs)
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            fg, bg, attrs = None, None, set()
        elif c in _ATTRS:
            attrs.add(_ATTRS[c])
        elif c in _OFF:
            attrs.difference_update(_OFF[c])
        elif 30 <= c <= 37 or 90 <= c <= 97:
            fg = f"ansi{c - 30 if c < 90 else c - 82}"
        elif 40 <= c <= 47 or 100 <= c <= 107:
            bg = f"ansi{c - 40 if c < 100 else c - 92}"
        elif c == 39:
            fg = None
        elif c == 49:
            bg = None
        elif c in (38, 48):
            if codes[i + 1] == 5:
                colour, i = f"c{codes[i + 2]}", i + 2
            elif codes[i + 1] == 2:
                colour, i = "#{:02x}{:02x}{:02x}".format(*codes[i + 2:i + 5]), i + 4
            else:
                raise ValueError(f"SGR {params!r}: colour form {codes[i + 1]}")
            if c == 38:
                fg = colour
            else:
                bg = colour
        else:
            raise ValueError(f"SGR {params!r}: code {c} not understood")
        i += 1
    return Pen(fg, bg, frozenset(attrs))


class Terminal:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells: list[list[tuple[str, Pen]]] = [[(" ", Pen())] * width for _ in range(height)]
        self.x = self.y = 0
        self.pen = Pen()

    def feed(self, data: str) -> Terminal:
        for m in _TOKEN.finditer(data):
            params, final, text, newline, cr, other = m.groups()
            if final == "H":
                row, _, col = params.partition(";")
                self.y, self.x = int(row or 1) - 1, int(col or 1) - 1
            elif final == "m":
                self.pen = _sgr(self.pen, params)
            elif final is not None:
                raise ValueError(f"unexpected control sequence CSI {params}{final}")
            elif text is not None:
                for ch in text:
                    if not ch.isprintable():
                        raise ValueError(f"unexpected character {ch!r}")
                    if 0 <= self.y < self.height and 0 <= self.x < self.width:
                        self.cells[self.y][self.x] = (ch, self.pen)
                    self.x += 1
            elif newline is not None:
                self.y += 1
            elif cr is not None:
                self.x = 0
            else:
                raise ValueError(f"unexpected escape {other!r}")
        return self

    def copy(self) -> Terminal:
        t = Terminal(self.width, self.height)
        t.cells = [list(row) for row in self.cells]
        t.x, t.y, t.pen = self.x, self.y, self.pen
        return t

    def text(self, y: int, x1: int = 0, x2: int | None = None) -> str:
        return "".join(ch for ch, _ in self.cells[y][x1:x2])

    def region(self, x: int, y: int, width: int, height: int) -> list[list[tuple[str, Pen]]]:
        return [self.cells[row][x:x + width] for row in range(y, y + height)]

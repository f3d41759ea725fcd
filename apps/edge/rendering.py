"""The structured lines of a print job, checked, and rendered as plain text.

A job's ``payload`` is what the edge agent turns into ESC/POS commands for a receipt printer::

    {"width": 80, "columns": 48, "lines": [
        {"type": "text", "text": "芳华美发", "align": "center", "bold": true, "size": "double"},
        {"type": "pair", "left": "合计", "right": "¥246.00", "bold": true},
        {"type": "rule", "char": "-"},
        {"type": "feed", "lines": 1},
        {"type": "cut"}]}

``width`` is the paper in millimetres (58 or 80) and ``columns`` how many characters of the printer's
normal font fit on a line (32 or 48). A Chinese character takes two columns, as it does on the printer,
so the plain-text rendering here lines up the way the paper will.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Characters per line of font A (12×24 dots) on 58 mm (384 dots) and 80 mm (576 dots) paper.
COLUMNS = {58: 32, 80: 48}
LINE_TYPES = ("text", "pair", "rule", "feed", "cut")
ALIGNS = ("left", "center", "right")
SIZES = ("normal", "double")
MAX_LINES = 400
MAX_TEXT = 400


class PayloadError(ValueError):
    """The payload is not a list of lines this module (and the agent) understands."""


def char_width(char: str) -> int:
    """Columns one character takes on a receipt printer: two for wide (CJK) characters, none for marks."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def text_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def wrap(text: str, columns: int) -> list[str]:
    """``text`` cut into pieces no wider than ``columns`` (a wide character never straddles two lines)."""
    pieces: list[str] = []
    current, used = "", 0
    for char in text:
        width = char_width(char)
        if used + width > columns and current:
            pieces.append(current)
            current, used = "", 0
        current += char
        used += width
    pieces.append(current)
    return pieces


def _align(text: str, columns: int, align: str) -> str:
    space = max(columns - text_width(text), 0)
    if align == "center":
        left = space // 2
        return (" " * left + text).rstrip()
    if align == "right":
        return " " * space + text
    return text


def _string(line: dict[str, Any], key: str) -> str:
    value = line.get(key, "")
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise PayloadError(f"{key} must be text of at most {MAX_TEXT} characters")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise PayloadError(f"{key} may not hold control characters")  # they would reach the printer raw
    return value


def payload_clean(payload: Any) -> dict[str, Any]:
    """The payload with its width, columns and lines checked (and ``columns`` filled in from the width);
    raises ``PayloadError`` for anything the agent could not print."""
    if not isinstance(payload, dict):
        raise PayloadError("the payload must be an object")
    width = payload.get("width")
    if width not in COLUMNS:
        raise PayloadError("width must be 58 or 80")
    lines = payload.get("lines")
    if not isinstance(lines, list) or not lines or len(lines) > MAX_LINES:
        raise PayloadError(f"lines must be a list of 1 to {MAX_LINES} lines")
    clean: list[dict[str, Any]] = []
    for line in lines:
        if not isinstance(line, dict) or line.get("type") not in LINE_TYPES:
            raise PayloadError(f"each line needs a type among {', '.join(LINE_TYPES)}")
        kind = line["type"]
        if kind == "text":
            align = line.get("align", "left")
            size = line.get("size", "normal")
            if align not in ALIGNS or size not in SIZES:
                raise PayloadError("align must be left, center or right; size normal or double")
            clean.append(
                {
                    "type": "text",
                    "text": _string(line, "text"),
                    "align": align,
                    "bold": bool(line.get("bold")),
                    "size": size,
                }
            )
        elif kind == "pair":
            clean.append(
                {
                    "type": "pair",
                    "left": _string(line, "left"),
                    "right": _string(line, "right"),
                    "bold": bool(line.get("bold")),
                }
            )
        elif kind == "rule":
            char = line.get("char", "-")
            if char not in ("-", "=", "*", "."):
                raise PayloadError("a rule is drawn with -, =, * or .")
            clean.append({"type": "rule", "char": char})
        elif kind == "feed":
            count = line.get("lines", 1)
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 10:
                raise PayloadError("a feed is 1 to 10 lines")
            clean.append({"type": "feed", "lines": count})
        else:
            clean.append({"type": "cut"})
    result: dict[str, Any] = {"width": width, "columns": COLUMNS[width], "lines": clean}
    copy_title = payload.get("copy_title", "")
    if copy_title:
        result["copy_title"] = _string(payload, "copy_title")
    return result


def render_text(payload: dict[str, Any]) -> str:
    """The job as the printer will lay it out, in plain text (one line per printed line, no trailing
    spaces), for previews, e-mails and tests. Missing optional keys take their defaults."""
    columns = int(payload.get("columns") or COLUMNS[payload["width"]])
    out: list[str] = []
    for line in payload["lines"]:
        kind = line["type"]
        if kind == "text":
            for piece in wrap(line["text"], columns):
                out.append(_align(piece, columns, line.get("align", "left")))
        elif kind == "pair":
            left, right = line.get("left", ""), line.get("right", "")
            gap = columns - text_width(left) - text_width(right)
            if gap >= 1:
                out.append(left + " " * gap + right)
            else:  # too long for one line: the label, then the figure on its own line at the right
                out.extend(wrap(left, columns))
                out.extend(_align(piece, columns, "right") for piece in wrap(right, columns))
        elif kind == "rule":
            out.append(line.get("char", "-") * columns)
        elif kind == "feed":
            out.extend([""] * int(line.get("lines", 1)))
        # a cut prints nothing
    while out and out[-1] == "":
        out.pop()
    return "\n".join(piece.rstrip() for piece in out) + "\n"

"""A print job's structured lines as a PDF the width of the receipt paper (58 or 80 mm), for e-mailing,
downloading and printers without the edge agent.

Chinese is drawn with reportlab's built-in CID font STSong-Light (Adobe's Song typeface, which every PDF
reader carries), so nothing depends on fonts installed on the server and the text stays selectable and
searchable in the PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
MARGIN = 3 * mm
MAX_FONT_SIZE = 9.0

_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


@dataclass(frozen=True)
class _Row:
    kind: str  # text, pair, rule, blank
    left: str = ""
    right: str = ""
    align: str = "left"
    bold: bool = False
    scale: float = 1.0
    char: str = "-"


def _width(text: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, FONT, size))


def _wrap(text: str, size: float, room: float) -> list[str]:
    pieces: list[str] = []
    current = ""
    for char in text:
        if current and _width(current + char, size) > room:
            pieces.append(current)
            current = ""
        current += char
    pieces.append(current)
    return pieces


def _rows(lines: list[dict[str, Any]], size: float, room: float) -> list[_Row]:
    rows: list[_Row] = []
    for line in lines:
        kind = line["type"]
        if kind == "text":
            scale = 1.5 if line.get("size") == "double" else 1.0
            for piece in _wrap(line["text"], size * scale, room):
                rows.append(
                    _Row("text", left=piece, align=line.get("align", "left"), bold=line.get("bold", False), scale=scale)
                )
        elif kind == "pair":
            left, right, bold = line.get("left", ""), line.get("right", ""), line.get("bold", False)
            if _width(left, size) + _width(right, size) + size <= room:
                rows.append(_Row("pair", left=left, right=right, bold=bold))
            else:
                rows.extend(_Row("text", left=piece, bold=bold) for piece in _wrap(left, size, room))
                rows.extend(_Row("text", left=piece, align="right", bold=bold) for piece in _wrap(right, size, room))
        elif kind == "rule":
            rows.append(_Row("rule", char=line.get("char", "-")))
        elif kind == "feed":
            rows.extend(_Row("blank") for _ in range(min(int(line.get("lines", 1)), 2)))
    while rows and rows[-1].kind == "blank":
        rows.pop()
    return rows


def _draw(pdf: canvas.Canvas, text: str, x: float, y: float, size: float, bold: bool) -> None:
    pdf.setFont(FONT, size)
    pdf.drawString(x, y, text)
    if bold:  # the CID font has no bold face: a second pass a hair to the right thickens the strokes
        pdf.drawString(x + size * 0.04, y, text)


def payload_pdf(payload: dict[str, Any], *, title: str, author: str = "") -> bytes:
    """The PDF of a print payload (``{"width", "columns", "lines"}``, see ``apps.edge.rendering``): one page
    as wide as the paper and as long as the content."""
    _font()
    page_width = int(payload["width"]) * mm
    room = page_width - 2 * MARGIN
    # As many characters per line as the printer's font gives: a wide character is two columns.
    columns = int(payload.get("columns") or {58: 32, 80: 48}[int(payload["width"])])
    size = min(MAX_FONT_SIZE, room / (columns / 2))
    leading = size * 1.35
    rows = _rows(payload["lines"], size, room)
    height = sum(leading * r.scale for r in rows) + 2 * MARGIN + leading
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(page_width, height), pageCompression=1)
    pdf.setTitle(title)
    pdf.setAuthor(author)
    pdf.setCreator("salon-platform")
    y = height - MARGIN - leading
    for row in rows:
        row_size = size * row.scale
        if row.kind == "text":
            width = _width(row.left, row_size)
            x = MARGIN
            if row.align == "center":
                x = (page_width - width) / 2
            elif row.align == "right":
                x = page_width - MARGIN - width
            _draw(pdf, row.left, x, y, row_size, row.bold)
        elif row.kind == "pair":
            _draw(pdf, row.left, MARGIN, y, size, row.bold)
            _draw(pdf, row.right, page_width - MARGIN - _width(row.right, size), y, size, row.bold)
        elif row.kind == "rule":
            pdf.setLineWidth(0.8 if row.char == "=" else 0.4)
            if row.char in "-.":
                pdf.setDash(2, 2)
            middle = y + size * 0.35
            pdf.line(MARGIN, middle, page_width - MARGIN, middle)
            pdf.setDash()
        y -= leading * row.scale
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()

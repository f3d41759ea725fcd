"""Reading uploaded client lists (CRM-7): CSV or XLSX judged by content, rows as the
spreadsheet numbers them, and cells turned into text and dates."""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from apps.core.errors import ServiceError
from apps.crm.errors import CrmError, crm_error

CSV = "csv"
XLSX = "xlsx"
# Images, PDFs, old binary .xls and gzip: refused before any attempt to read them as text.
_IMAGE_OR_DOCUMENT = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"\xd0\xcf\x11\xe0", b"\x1f\x8b")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Unreadable(Exception):
    """The bytes are not a spreadsheet we can read."""


def not_spreadsheet() -> ServiceError:
    return crm_error(CrmError.FILE_NOT_SPREADSHEET)


def too_large() -> ServiceError:
    from django.template.defaultfilters import filesizeformat

    return ServiceError(
        CrmError.FILE_TOO_LARGE,
        _("The file is larger than %(size)s.") % {"size": filesizeformat(settings.CLIENT_IMPORT_MAX_BYTES)},
        field="file",
    )


def _too_many_rows() -> ServiceError:
    return ServiceError(
        CrmError.FILE_TOO_LARGE,
        _("The file has more than %(count)s rows; split it into smaller files.")
        % {"count": f"{settings.CLIENT_IMPORT_MAX_ROWS:,}"},
        field="file",
    )


def detect_format(data: bytes) -> str:
    """CSV or XLSX, from the content (never the name alone): an XLSX is a zip holding a workbook."""
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, ValueError, OSError):
            raise Unreadable
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
            raise Unreadable
        # A zip that unpacks to a hundred times its limit is a zip bomb, not a client list.
        if unpacked > 100 * settings.CLIENT_IMPORT_MAX_BYTES:
            raise Unreadable
        return XLSX
    if any(data.startswith(magic) for magic in _IMAGE_OR_DOCUMENT):
        raise Unreadable
    _csv_text(data)
    return CSV


def _csv_text(data: bytes) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), or
    GB18030 (a superset of GBK, what Chinese Excel writes by default). Binary content is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):
            raise Unreadable
        return text
    raise Unreadable


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = _csv_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count) if first_line else ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error:
        raise Unreadable


def _xlsx_rows(data: bytes) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises anything from KeyError to XML errors for a broken file
        raise Unreadable
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None or not hasattr(sheet, "reset_dimensions"):
            raise Unreadable
        # The stored dimension is often wrong (other programs write "A1"): read every row there is.
        sheet.reset_dimensions()
        try:
            yield from sheet.iter_rows(min_row=1, values_only=True)
        except Unreadable:
            raise
        except Exception:
            raise Unreadable
    finally:
        workbook.close()


def sheet_rows(data: bytes, file_format: str) -> Iterator[tuple[int, list[Any]]]:
    """(row number as the spreadsheet shows it, cells) of every row that is not blank."""
    source: Iterator[Any] = _xlsx_rows(data) if file_format == XLSX else _csv_rows(data)
    for number, cells in enumerate(source, start=1):
        values = list(cells)
        if any(cell_text(v) for v in values):
            yield number, values


def cell_text(value: Any) -> str:
    """A cell as text: 13800138000.0 → "13800138000", a date cell → "1990-05-20"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value).replace("\u00a0", " ").replace("\ufeff", "").strip()
    # Excel tricks that keep leading zeros: ="0123" and '0123.
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        text = text[2:-1].strip()
    elif text.startswith("'"):
        text = text[1:].strip()
    return text


@dataclass
class Scan:
    headers: list[str]
    total_rows: int


def scan(data: bytes, file_format: str) -> Scan:
    """Header (the first row that is not blank) and the number of rows under it."""
    headers: list[str] | None = None
    total = 0
    for _number, cells in sheet_rows(data, file_format):
        if headers is None:
            headers = [cell_text(c) for c in cells]
            while headers and not headers[-1]:
                headers.pop()
            continue
        total += 1
        if total > settings.CLIENT_IMPORT_MAX_ROWS:
            raise _too_many_rows()
    if headers is None or total == 0:
        raise crm_error(CrmError.FILE_EMPTY)
    return Scan(
        headers=[h or _("Column %(number)s") % {"number": i + 1} for i, h in enumerate(headers)], total_rows=total
    )


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def cell_date(value: Any) -> datetime.date | None:
    """A date cell, an Excel serial number, or text like 1990-05-20, 1990/5/20, 19900520, 1990年5月20日.
    Raises ValueError for anything else."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 10_000_000 <= value <= 99_999_999 and float(value).is_integer():
            value = str(int(value))
        else:
            from openpyxl.utils.datetime import from_excel

            if not 1 <= value < 2_958_466:
                raise ValueError(value)
            converted = from_excel(value)
            return converted.date() if isinstance(converted, datetime.datetime) else converted
    text = cell_text(value).split(" ")[0].split("T")[0]
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return datetime.date(year, month, day)
    raise ValueError(text)

"""Export of the client list to XLSX (CRM-7, SEC-4)."""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from apps.core.crypto import mask_phone
from apps.core.db import salon_timezone
from apps.core.models import User
from apps.core.roles import perm
from apps.core.services import audit_record
from apps.crm.errors import CrmError, crm_error
from apps.crm.models import Client
from apps.crm.services.imports import FIELDS_BY_NAME

EXPORT_FILTERS = ("q", "tag", "tier", "source")


def _export_columns() -> list[tuple[str, Callable[[Client, bool], Any]]]:
    tz = salon_timezone()
    columns: list[tuple[str, Callable[[Client, bool], Any]]] = [
        (str(FIELDS_BY_NAME["name"].label), lambda c, _s: c.name),
        (str(FIELDS_BY_NAME["phone"].label), lambda c, show: _national(c.phone) if show else mask_phone(c.phone)),
        (str(FIELDS_BY_NAME["gender"].label), lambda c, _s: c.get_gender_display() if c.gender else ""),
        (str(FIELDS_BY_NAME["birthday"].label), lambda c, _s: c.birthday),
        (str(FIELDS_BY_NAME["card_number"].label), lambda c, _s: c.card_number),
        (str(FIELDS_BY_NAME["tier"].label), lambda c, _s: c.tier.name if c.tier else ""),
        (str(FIELDS_BY_NAME["tags"].label), lambda c, _s: "、".join(ct.tag.name for ct in c.client_tags.all())),
        (str(FIELDS_BY_NAME["wechat_id"].label), lambda c, _s: c.wechat_id),
        (str(FIELDS_BY_NAME["email"].label), lambda c, _s: c.email),
        (str(FIELDS_BY_NAME["source"].label), lambda c, _s: c.get_source_display() if c.source else ""),
        (str(FIELDS_BY_NAME["occupation"].label), lambda c, _s: c.occupation),
        (str(FIELDS_BY_NAME["address"].label), lambda c, _s: c.address),
        (str(FIELDS_BY_NAME["allergies"].label), lambda c, _s: c.allergies),
        (str(FIELDS_BY_NAME["contraindications"].label), lambda c, _s: c.contraindications),
        (str(FIELDS_BY_NAME["taboos"].label), lambda c, _s: c.taboos),
        (str(FIELDS_BY_NAME["notes"].label), lambda c, _s: c.notes),
        (_("Client since"), lambda c, _s: _local(c.created_at, tz)),
        (_("Last visit"), lambda c, _s: _local(getattr(c, "last_visit", None), tz)),
        (_("Total spend (yuan)"), lambda c, _s: Decimal(getattr(c, "total_spend", None) or 0) / 100),
    ]
    return [(capfirst(title), read) for title, read in columns]


def _local(moment: datetime.datetime | None, tz: Any) -> datetime.datetime | None:
    """A time as the salon's clock shows it (spreadsheets have no time zones)."""
    return moment.astimezone(tz).replace(tzinfo=None) if moment else None


def _national(e164: str) -> str:
    """13800138000 for a mainland mobile (what Chinese spreadsheets hold), E.164 otherwise."""
    return e164[3:] if e164.startswith("+86") and len(e164) == 14 else e164


@dataclass
class Export:
    file: IO[bytes]
    count: int
    file_name: str


def clients_export(*, params: Mapping[str, Any], acting_user: User) -> Export:
    """Write the clients matching the client list's filters to an XLSX file and audit the export.
    Needs ``export_data``; phones are masked unless the exporter may see them
    (``view_client_contact``). Clients are read from the database in chunks and the rows go
    to a temporary file (openpyxl's write-only mode), never all into memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from apps.crm.selectors_imports import export_queryset

    if not acting_user.has_perm(perm("export_data")):
        raise crm_error(CrmError.PERMISSION_DENIED)
    show_contact = acting_user.has_perm(perm("view_client_contact"))
    columns = _export_columns()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Clients"))[:31])
    sheet.append([title for title, _read in columns])

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if value.startswith("="):  # text, never a formula
                written = WriteOnlyCell(sheet, value=value)
                written.data_type = "s"
                return written
        if isinstance(value, datetime.date):
            written = WriteOnlyCell(sheet, value=value)
            written.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, datetime.datetime) else "yyyy-mm-dd"
            return written
        return value

    count = 0
    for client in export_queryset(params).iterator(chunk_size=1000):
        sheet.append([cell(read(client, show_contact)) for _title, read in columns])
        count += 1
    output = tempfile.TemporaryFile()  # noqa: SIM115 — handed to the response, which closes it
    workbook.save(output)
    output.seek(0)
    filters = {k: str(params.get(k)) for k in EXPORT_FILTERS if params.get(k) not in (None, "")}
    audit_record(
        action="clients.export",
        actor=acting_user,
        data={"count": count, "filters": filters, "contact": "full" if show_contact else "masked"},
    )
    stamp = timezone.now().astimezone(salon_timezone()).strftime("%Y%m%d-%H%M")
    return Export(file=output, count=count, file_name=f"clients-{stamp}.xlsx")

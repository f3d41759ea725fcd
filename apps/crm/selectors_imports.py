"""Reads for client import and export (CRM-7)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from apps.core.crypto import search_hash
from apps.core.validators import normalize_phone
from apps.crm.models import Client, ImportJob, ImportStatus


def import_job_list(*, limit: int = 20) -> QuerySet[ImportJob]:
    """The salon's most recent imports, newest first."""
    return ImportJob.objects.select_related("created_by").order_by("-id")[:limit]


def import_job_is_running(job: ImportJob) -> bool:
    return job.status in (ImportStatus.VALIDATING, ImportStatus.IMPORTING)


def import_job_progress(job: ImportJob) -> int:
    """Percentage of rows processed by the running check or import."""
    if not job.total_rows:
        return 0
    return min(100, round(100 * job.processed_rows / job.total_rows))


def import_report_rows(job: ImportJob) -> Iterator[list[Any]]:
    """The report of the last check or import as table rows: row, column, outcome, message."""
    for entry in job.errors:
        yield [entry.get("row"), entry.get("column", ""), entry.get("kind", "error"), entry.get("message", "")]


def _first(params: Mapping[str, Any], key: str) -> str:
    getter = getattr(params, "get", None)
    value = getter(key) if getter else None
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return str(value).strip() if value not in (None, "") else ""


def export_queryset(params: Mapping[str, Any]) -> QuerySet[Client]:
    """Active clients matching the client list's filters: ``q`` (name, pinyin or initials,
    phone or its last four digits, card number), ``tag`` and ``tier`` (ids), ``source``.
    Unreadable values are ignored, as the list page ignores them."""
    clients = Client.objects.filter(is_active=True)
    q = _first(params, "q")
    if q:
        match = Q(name__icontains=q) | Q(card_number__iexact=q)
        lowered = q.lower().replace(" ", "")
        if lowered.isascii() and lowered.isalpha():
            match |= Q(name_pinyin__startswith=lowered) | Q(name_initials__startswith=lowered)
        digits = q.replace(" ", "").replace("-", "")
        if digits.isdigit() and len(digits) == 4:
            match |= Q(phone_last4=digits)
        with contextlib.suppress(ValidationError):  # not a phone number: the other matches apply
            match |= Q(phone_hash=search_hash(normalize_phone(q)))
        clients = clients.filter(match)
    for key, lookup in (("tag", "client_tags__tag_id"), ("tier", "tier_id")):
        value = _first(params, key)
        if value.isdigit():
            clients = clients.filter(**{lookup: int(value)})
    source = _first(params, "source")
    if source:
        clients = clients.filter(source=source)
    return clients  # one tag per filter and one row per client and tag: no duplicates to remove

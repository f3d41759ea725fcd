"""Reads for client import and export (CRM-7)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import QuerySet

from apps.crm.models import Client, ImportJob, ImportStatus
from apps.crm.selectors import client_list_filtered


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


def export_queryset(params: Mapping[str, Any]) -> QuerySet[Client]:
    """The clients the list page shows for the same query string (``q``, ``tag``, ``tier``,
    ``source`` …), in its order, with tier, tags, last visit and total spend loaded."""
    return client_list_filtered(params)

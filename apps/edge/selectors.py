"""Reads of print jobs: the recent jobs of a location, and the queue the agent works through."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.models import Location
from apps.edge.models import PrintJob


def print_jobs(
    *, location: Location | None = None, status: str = "", after_id: int | None = None
) -> QuerySet[PrintJob]:
    """Jobs newest first; ``after_id`` gives those queued after a job the caller already has (oldest
    first then, the order the agent prints them in)."""
    jobs = PrintJob.objects.select_related("location", "created_by")
    if location is not None:
        jobs = jobs.filter(location=location)
    if status:
        jobs = jobs.filter(status=status)
    if after_id is not None:
        return jobs.filter(pk__gt=after_id).order_by("pk")
    return jobs.order_by("-pk")


def print_jobs_recent(*, location: Location, limit: int = 50) -> list[PrintJob]:
    return list(print_jobs(location=location)[:limit])

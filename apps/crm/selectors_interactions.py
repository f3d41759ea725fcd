"""Reads of a client's timeline, of complaints and of follow-up tasks (CRM-5, CRM-6)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from apps.core.db import salon_today
from apps.core.models import User
from apps.crm.models import Client, ComplaintStatus, FollowUp, FollowUpStatus, Interaction, InteractionKind

OPEN_COMPLAINT_STATUSES = (ComplaintStatus.OPEN, ComplaintStatus.HANDLING)


def client_timeline(*, client: Client, kind: str | None = None) -> QuerySet[Interaction]:
    """A client's interactions, newest first (ties: the later recorded first), optionally of one kind."""
    entries = (
        Interaction.objects.filter(client=client).select_related("recorded_by", "owner").order_by("-occurred_at", "-id")
    )
    if kind:
        entries = entries.filter(kind=kind)
    return entries


def interaction_list() -> QuerySet[Interaction]:
    """Every interaction with what its views show (the client and the people involved)."""
    return Interaction.objects.select_related("client", "recorded_by", "owner", "resolved_by")


def complaint_list(*, status: str | None = None, owner: User | int | None = None) -> QuerySet[Interaction]:
    """The salon's complaints still to deal with (open and being handled), oldest first so the
    longest-waiting is on top; ``status`` narrows to one status (also ``resolved``)."""
    complaints = Interaction.objects.filter(kind=InteractionKind.COMPLAINT).select_related("client", "owner")
    complaints = complaints.filter(status__in=[status] if status else OPEN_COMPLAINT_STATUSES)
    if owner is not None:
        complaints = complaints.filter(owner=owner)
    return complaints.order_by("occurred_at", "id")


def follow_up_list() -> QuerySet[FollowUp]:
    return FollowUp.objects.select_related("client", "assigned_to", "completed_by")


def follow_ups_due(
    *, assigned_to: User | int | None = None, today: datetime.date | None = None, due: str | None = None
) -> QuerySet[FollowUp]:
    """Open follow-ups due today and overdue (``due`` = "today" or "overdue" narrows to one),
    oldest due first; of one staff member, or of everyone when ``assigned_to`` is None."""
    today = today or salon_today()
    tasks = follow_up_list().filter(status=FollowUpStatus.OPEN)
    if due == "today":
        tasks = tasks.filter(due_date=today)
    elif due == "overdue":
        tasks = tasks.filter(due_date__lt=today)
    else:
        tasks = tasks.filter(due_date__lte=today)
    if assigned_to is not None:
        tasks = tasks.filter(assigned_to=assigned_to)
    return tasks.order_by("due_date", "client__name", "id")


def client_follow_ups(*, client: Client, limit: int = 10) -> list[FollowUp]:
    """A client's open follow-ups, next due first."""
    return list(follow_up_list().filter(client=client, status=FollowUpStatus.OPEN).order_by("due_date", "id")[:limit])


@dataclass(frozen=True)
class TimelineSummary:
    entries: list[Interaction]
    total: int
    open_complaints: int


def client_timeline_summary(*, client: Client, limit: int = 5) -> TimelineSummary:
    """The newest entries of a client's timeline for the 360° page, with counts, in two queries."""
    counts = Interaction.objects.filter(client=client).aggregate(
        total=Count("pk"),
        open_complaints=Count("pk", filter=Q(kind=InteractionKind.COMPLAINT, status__in=OPEN_COMPLAINT_STATUSES)),
    )
    entries = list(client_timeline(client=client)[:limit]) if counts["total"] else []
    return TimelineSummary(entries=entries, total=counts["total"], open_complaints=counts["open_complaints"])


def assignable_staff() -> QuerySet[User]:
    """Active staff who can be given a follow-up or a complaint."""
    return User.objects.filter(is_active=True).order_by("name", "pk")

"""Reads of points (LOY-2) shared by the pages and the API: the ledger, the lots still open with their
expiry dates, and the next points to expire."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet, Sum

from apps.crm.models import Client
from apps.loyalty.models import PointsEntry, PointsLot


def points_entries(client: Client) -> QuerySet[PointsEntry]:
    return PointsEntry.objects.filter(wallet__client=client).select_related("actor").order_by("-id")


def points_lots_open(client: Client) -> QuerySet[PointsLot]:
    """Lots with points left, in the order they are spent and expire (oldest first)."""
    return PointsLot.objects.filter(wallet__client=client, remaining__gt=0).order_by("earned_on", "id")


@dataclass(frozen=True)
class NextExpiry:
    on: datetime.date
    points: int


def points_next_expiry(client: Client) -> NextExpiry | None:
    """The earliest expiry date of the client's points and how many points expire then."""
    first = points_lots_open(client).filter(expires_on__isnull=False).order_by("expires_on").first()
    if first is None or first.expires_on is None:
        return None
    total = points_lots_open(client).filter(expires_on=first.expires_on).aggregate(total=Sum("remaining"))["total"]
    return NextExpiry(on=first.expires_on, points=int(total or 0))

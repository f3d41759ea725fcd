"""Reads of points (LOY-2) shared by the pages and the API: the ledger, the lots still open with their
expiry dates, and the next points to expire."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

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


def points_next_expiry(lots: Iterable[PointsLot]) -> NextExpiry | None:
    """The earliest expiry date among ``lots`` (those of ``points_lots_open``) and how many points expire then."""
    dated = [lot for lot in lots if lot.expires_on is not None]
    if not dated:
        return None
    first = min(lot.expires_on for lot in dated if lot.expires_on is not None)
    return NextExpiry(on=first, points=sum(lot.remaining for lot in dated if lot.expires_on == first))

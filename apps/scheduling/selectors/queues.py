"""Reads of the waitlist, the walk-in queue and the rotation for the pages and the API."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from apps.catalog.models import Service
from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.scheduling.models import WaitlistEntry, WaitlistOffer, WalkIn, WalkInStatus


def service_names(id_lists: Iterable[list[int]]) -> dict[int, str]:
    """Names of every service named in these lists (one query)."""
    ids = {i for ids in id_lists for i in ids}
    return dict(Service.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def waitlist_entries(*, location: Location | None = None, date: datetime.date | None = None) -> QuerySet[WaitlistEntry]:
    """Entries in join order with their client, technician and offers (three queries)."""
    entries = WaitlistEntry.objects.select_related("client", "staff", "location").prefetch_related(
        Prefetch("offers", queryset=WaitlistOffer.objects.order_by("created_at", "id"))
    )
    if location is not None:
        entries = entries.filter(location=location)
    if date is not None:
        entries = entries.filter(date=date)
    return entries.order_by("created_at", "id")


def walk_in_queue(*, location: Location, day: datetime.date) -> QuerySet[WalkIn]:
    """Walk-ins of a location still waiting, and those of ``day`` (local) that were served or left."""
    tz = salon_timezone()
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=tz)
    end = start + datetime.timedelta(days=1)
    return (
        WalkIn.objects.filter(location=location)
        .filter(Q(status=WalkInStatus.WAITING) | Q(created_at__gte=start, created_at__lt=end))
        .select_related("client", "requested_staff", "assigned_staff", "appointment")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class OfferView:
    offer: WaitlistOffer
    services: list[str]
    staff: list[str]


def offer_by_token(token: str) -> OfferView | None:
    """An offer with what the client needs to decide: services and technicians by name."""
    offer = WaitlistOffer.objects.select_related("entry", "entry__location").filter(token=token).first()
    if offer is None:
        return None
    names = service_names([offer.entry.service_ids])
    people = dict(User.objects.filter(pk__in=offer.staff_ids).values_list("pk", "name"))
    return OfferView(
        offer=offer,
        services=[names[i] for i in offer.entry.service_ids if i in names],
        staff=[people[i] for i in dict.fromkeys(offer.staff_ids) if i in people],
    )

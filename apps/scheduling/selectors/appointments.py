"""Reads of appointments: the list the API and pages filter, with everything a row shows loaded in a fixed
number of queries, and a client's booking summary for the 360° page."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from apps.core.db import salon_timezone
from apps.core.models import User
from apps.core.roles import perm
from apps.crm.models import Client
from apps.scheduling.models import (
    Appointment,
    AppointmentLine,
    AppointmentResource,
    AppointmentStatus,
    ClientBookingProfile,
)
from apps.scheduling.models.appointments import ACTIVE_STATUSES


def appointments_loaded() -> QuerySet[Appointment]:
    """Appointments with client, location, deposit and lines (service, technician, resource holds): four
    queries for any page size."""
    lines = AppointmentLine.objects.select_related("service", "staff").order_by("position", "id")
    return (
        Appointment.objects.select_related("client", "location", "deposit")
        .prefetch_related(
            Prefetch("lines", queryset=lines),
            Prefetch("lines__resource_holds", queryset=AppointmentResource.objects.select_related("resource")),
        )
        .order_by("start", "id")
    )


def appointments_visible_to(user: User) -> QuerySet[Appointment]:
    """Everything for staff who book appointments; a technician sees the visits they work in."""
    visits = appointments_loaded()
    if user.has_perm(perm("book_appointments")):
        return visits
    if user.has_perm(perm("view_own_schedule")):
        return visits.filter(pk__in=AppointmentLine.objects.filter(staff=user).values("appointment_id"))
    return visits.none()


def day_bounds(day_from: datetime.date, day_to: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """UTC instants of the salon's local midnight starting ``day_from`` and ending ``day_to``."""
    tz = salon_timezone()
    start = datetime.datetime.combine(day_from, datetime.time(), tzinfo=tz)
    end = datetime.datetime.combine(day_to + datetime.timedelta(days=1), datetime.time(), tzinfo=tz)
    return start, end


@dataclass(frozen=True)
class BookingSummary:
    upcoming: list[Appointment]
    recent: list[Appointment]
    profile: ClientBookingProfile | None


def client_booking_summary(client: Client, *, limit: int = 5) -> BookingSummary:
    """The client's next visits, the last ones, and their booking record (no-shows, block list)."""
    now = timezone.now()
    visits = appointments_loaded().filter(client=client)
    upcoming = list(visits.filter(start__gte=now, status__in=ACTIVE_STATUSES)[:limit])
    recent = list(visits.filter(start__lt=now).order_by("-start", "-id")[:limit])
    profile = ClientBookingProfile.objects.filter(client=client).first()
    return BookingSummary(upcoming, recent, profile)


STATUS_VALUES = tuple(AppointmentStatus.values)

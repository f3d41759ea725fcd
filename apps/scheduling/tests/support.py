"""Arranging a bookable salon in tests: technicians with skills and weekly shifts, services, clients, and
(for read-side tests: reports, feeds, the board) appointments written straight to the tables.

Everything except ``appointment_insert`` goes through the product's services. ``appointment_insert``
writes rows directly, so read-side tests do not depend on the booking rules; the exclusion constraints
still apply to it."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from typing import Any

from apps.catalog.models import Service
from apps.catalog.services import service_create
from apps.core.models import Location, User
from apps.core.services import staff_create
from apps.crm.models import Client
from apps.crm.services.clients import client_create
from apps.scheduling.models import (
    Appointment,
    AppointmentChannel,
    AppointmentLine,
    AppointmentResource,
    AppointmentStatus,
    Resource,
    ShiftPattern,
)
from apps.scheduling.models.appointments import ACTIVE_STATUSES
from apps.scheduling.services import staff_profile_update

_seq = itertools.count(1)


def default_location() -> Location:
    return Location.objects.order_by("id").first()  # type: ignore[return-value]


def service_make(name: str, *, minutes: int = 60, buffer: int = 0, price: int = 10_000) -> Service:
    return service_create(name=name, duration_minutes=minutes, buffer_minutes=buffer, price=price)


def technician_make(
    name: str,
    *,
    services: Sequence[Service],
    location: Location | None = None,
    weekdays: Sequence[int] = range(7),
    hours: tuple[str, str] | None = ("10:00", "19:00"),
    valid_from: datetime.date = datetime.date(2020, 1, 1),
) -> User:
    """A technician who performs ``services`` and works ``hours`` (local) on ``weekdays`` at ``location``."""
    n = next(_seq)
    # English, so messages to technicians read as the tests write them (the catalogue translates them).
    user = staff_create(name=name, role="technician", username=f"tech{n}-{name.lower()}"[:30], language="en")
    staff_profile_update(user=user, acting_user=None, skills=list(services))
    if hours is not None:
        location = location or default_location()
        start, end = (datetime.time.fromisoformat(h) for h in hours)
        ShiftPattern.objects.bulk_create(
            [
                ShiftPattern(
                    staff=user, location=location, weekday=d, start_time=start, end_time=end, valid_from=valid_from
                )
                for d in weekdays
            ]
        )
    return user


def client_make(name: str = "王芳", *, phone: str | None = None) -> Client:
    n = next(_seq)
    return client_create(name=name, acting_user=None, phone=phone or f"+86139{n:08d}")


def appointment_insert(
    *,
    client: Client,
    start: datetime.datetime,
    lines: Sequence[tuple[Service, User]],
    location: Location | None = None,
    status: str = AppointmentStatus.BOOKED,
    channel: str = AppointmentChannel.STAFF,
    resources: Sequence[Resource | None] = (),
    **fields: Any,
) -> Appointment:
    """Rows of a visit, lines one after another (each starts when the one before ends plus its buffer)."""
    location = location or default_location()
    active = status in ACTIVE_STATUSES
    at = start
    built: list[tuple[Service, User, datetime.datetime, datetime.datetime, datetime.datetime]] = []
    for service, staff in lines:
        end = at + datetime.timedelta(minutes=service.duration_minutes)
        busy = end + datetime.timedelta(minutes=service.buffer_minutes)
        built.append((service, staff, at, end, busy))
        at = busy
    appointment = Appointment.objects.create(
        client=client,
        location=location,
        status=status,
        channel=channel,
        start=start,
        end=built[-1][3],
        **fields,
    )
    for position, (service, staff, line_start, line_end, busy) in enumerate(built):
        line = AppointmentLine.objects.create(
            appointment=appointment,
            position=position,
            service=service,
            staff=staff,
            start=line_start,
            end=line_end,
            busy_until=busy,
            price=service.price,
            is_active=active,
        )
        resource = resources[position] if position < len(resources) else None
        if resource is not None:
            AppointmentResource.objects.create(
                line=line, resource=resource, place=1, start=line_start, end=busy, is_active=active
            )
    return appointment

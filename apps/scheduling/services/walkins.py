"""The walk-in queue (SCH-11): clients who came in without a booking wait at a location until the front
desk gives them a technician — the next one by rotation (轮牌), or the one they asked for (点钟). The
assignment books an appointment that starts now through the booking service, so every booking rule
and the exclusion constraint against double booking apply to walk-ins too."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from apps.catalog.models import Service
from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.core.services import audit_record
from apps.crm.models import Client
from apps.crm.models.clients import Source
from apps.crm.services.clients import client_create
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import RotationEntry, WalkIn, WalkInStatus
from apps.scheduling.selectors.settings import scheduling_settings
from apps.scheduling.services import rotation
from apps.scheduling.services.booking import LineRequest, appointment_book
from apps.scheduling.services.queue_common import location_checked, services_checked, services_of, staff_checked


@transaction.atomic
def walk_in_add(
    *,
    location: Location,
    services: list[Service] | list[int],
    client: Client | None = None,
    name: str = "",
    requested_staff: User | None = None,
    acting_user: User | None,
) -> WalkIn:
    """Put a walk-in in the queue: a client on file or just a name, the services wanted in order, and
    the technician asked for (点钟), who must perform them all."""
    location_checked(location)
    name = (name or "").strip()
    if client is None and not name:
        raise scheduling_error(SchedulingError.NAME_REQUIRED)
    if len(name) > WalkIn._meta.get_field("name").max_length:  # type: ignore[operator]
        raise scheduling_error(SchedulingError.TEXT_TOO_LONG, field="name")
    chosen = services_checked(services)
    if requested_staff is not None:
        staff_checked(requested_staff, chosen)
    walk_in = WalkIn.objects.create(
        location=location,
        client=client,
        name=name if client is None else (name or client.name),
        service_ids=[s.pk for s in chosen],
        requested_staff=requested_staff,
        created_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    audit_record(
        action="scheduling.walk_in.added",
        actor=acting_user,
        target=walk_in,
        data={"services": walk_in.service_ids, "requested_staff": getattr(requested_staff, "pk", None)},
    )
    return walk_in


def _locked_waiting(walk_in: WalkIn) -> WalkIn:
    locked = WalkIn.objects.select_for_update().get(pk=walk_in.pk)
    if locked.status != WalkInStatus.WAITING:
        raise scheduling_error(SchedulingError.NOT_WAITING)
    return locked


@transaction.atomic
def walk_in_leave(*, walk_in: WalkIn, acting_user: User | None) -> WalkIn:
    """The walk-in left before being served."""
    walk_in = _locked_waiting(walk_in)
    walk_in.status = WalkInStatus.LEFT
    walk_in.save(update_fields=["status"])
    audit_record(action="scheduling.walk_in.left", actor=acting_user, target=walk_in)
    return walk_in


def _client_of(walk_in: WalkIn, acting_user: User | None) -> Client:
    """The walk-in's client record; a walk-in known only by name gets one (source: walk-in), because a
    booking belongs to a client."""
    if walk_in.client is not None:
        return walk_in.client
    client = client_create(name=walk_in.name, acting_user=acting_user, source=Source.WALK_IN)
    walk_in.client = client
    return client


@transaction.atomic
def walk_in_assign(
    *,
    walk_in: WalkIn,
    staff: User | None = None,
    acting_user: User | None,
    now: datetime.datetime | None = None,
) -> WalkIn:
    """Give a waiting walk-in a technician and book the visit from now.

    ``staff=None``: the next technician by rotation; that card goes to the back and counts a turn.
    The technician the client asked for (点钟): booked as requested; by the salon's setting their card
    keeps its place (counting a requested turn) or goes to the back. Any other technician chosen by
    hand takes the turn like a rotation pick. Nothing changes when the booking is refused."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    day = now.astimezone(salon_timezone()).date()
    location = Location.objects.get(pk=walk_in.location_id)
    # Lock order everywhere: location, rotation cards by id, then the walk-in (rotation_lock's docstring).
    rotation.rotation_build(location=location, date=day, acting_user=acting_user)
    cards = rotation.rotation_lock(location=location, date=day)
    walk_in = _locked_waiting(walk_in)
    services = services_of(walk_in.service_ids)
    requested = staff is not None and staff.pk == walk_in.requested_staff_id
    if staff is None:
        card: RotationEntry | None = rotation.rotation_next(location=location, services=services, now=now)
        if card is None:
            raise scheduling_error(SchedulingError.NO_TECHNICIAN_FREE)
        staff = card.staff
        card = next(c for c in cards if c.pk == card.pk)
    else:
        staff_checked(staff, services)
        card = next((c for c in cards if c.staff_id == staff.pk), None)
    appointment = appointment_book(
        client=_client_of(walk_in, acting_user),
        location=location,
        start=now,
        lines=[LineRequest(service=s, staff=staff, is_requested=requested) for s in services],
        channel="walk_in",
        acting_user=acting_user,
        now=now,
    )
    if card is not None:
        if requested:
            card.requested_turns += 1
            if not scheduling_settings().rotation_requested_keeps_turn:
                rotation.rotation_send_back(card, cards)
        else:
            card.turns += 1
            rotation.rotation_send_back(card, cards)
        card.save(update_fields=["position", "turns", "requested_turns", "updated_at"])
    walk_in.status = WalkInStatus.SERVING
    walk_in.assigned_staff = staff
    walk_in.appointment = appointment
    walk_in.assigned_at = now
    walk_in.save(update_fields=["status", "client", "assigned_staff", "appointment", "assigned_at"])
    audit_record(
        action="scheduling.walk_in.assigned",
        actor=acting_user,
        target=walk_in,
        data={
            "staff": staff.pk,
            "by": "requested" if requested else ("rotation" if card is not None else "hand"),
            "appointment": appointment.pk,
        },
    )
    return walk_in


def walk_ins_follow_appointment(*, appointment_id: int, kind: str) -> int:
    """Keep a served walk-in in step with its visit: done when the visit finishes; a cancelled visit or
    a no-show means the client left. Returns how many walk-ins changed."""
    status = {"finished": WalkInStatus.DONE, "cancelled": WalkInStatus.LEFT, "no_show": WalkInStatus.LEFT}.get(kind)
    if status is None:
        return 0
    return WalkIn.objects.filter(appointment_id=appointment_id, status=WalkInStatus.SERVING).update(status=status)

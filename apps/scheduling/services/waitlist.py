"""The waitlist (SCH-9): a client who wants a full time joins it for a date and a window; when a booking
at that location and date is cancelled, moved or missed, the waiting entries are checked in the order
they joined and each one for which a matching slot is now open gets an offer by text message with a
private link. The first to accept books the slot through the booking service; the others' offers for it
are then taken.

A slot matches an entry when the entry's services, in order, can start at or after ``earliest`` and end
by ``latest`` (local times) on the entry's date, with the entry's technician or anyone.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.models import Service
from apps.core.db import current_schema, salon_absolute_url, salon_name, salon_timezone
from apps.core.errors import ServiceError
from apps.core.models import Location, User
from apps.core.services import audit_record
from apps.crm.models import Client
from apps.scheduling.availability import availability_search
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import (
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from apps.scheduling.roster import local_instant
from apps.scheduling.selectors.settings import scheduling_settings
from apps.scheduling.services.booking import LineRequest, appointment_book
from apps.scheduling.services.queue_common import location_checked, services_checked, services_of, staff_checked

# Booking refusals that mean another client or booking got there first.
_TAKEN_CODES = (SchedulingError.STAFF_BUSY, SchedulingError.RESOURCE_FULL, SchedulingError.NO_STAFF_AVAILABLE)
_FREEING_KINDS = ("cancelled", "rescheduled", "no_show")


# --- joining and leaving ---------------------------------------------------------------------------


@transaction.atomic
def waitlist_join(
    *,
    client: Client,
    location: Location,
    services: Sequence[Service] | Sequence[int],
    date: datetime.date,
    earliest: datetime.time,
    latest: datetime.time,
    staff: User | None = None,
    notes: str = "",
    acting_user: User | None,
    now: datetime.datetime | None = None,
) -> WaitlistEntry:
    """Put a client on the waitlist. The window must end after it starts and not be over yet; a client
    waits once for the same services, technician, date and window."""
    now = now or timezone.now()
    location_checked(location)
    chosen = services_checked(services)
    if staff is not None:
        staff_checked(staff, chosen)
    if latest <= earliest:
        raise scheduling_error(SchedulingError.END_BEFORE_START, field="latest")
    if local_instant(date, latest, salon_timezone()) <= now:
        raise scheduling_error(SchedulingError.SLOT_IN_PAST, field="date")
    notes = (notes or "").strip()
    if len(notes) > WaitlistEntry._meta.get_field("notes").max_length:  # type: ignore[operator]
        raise scheduling_error(SchedulingError.TEXT_TOO_LONG, field="notes")
    # The client's row is the lock that makes the duplicate check hold against a second desk at once.
    Client.objects.select_for_update().filter(pk=client.pk).first()
    ids = [s.pk for s in chosen]
    if WaitlistEntry.objects.filter(
        client=client,
        location=location,
        service_ids=ids,
        staff=staff,
        date=date,
        earliest=earliest,
        latest=latest,
        status=WaitlistStatus.WAITING,
    ).exists():
        raise scheduling_error(SchedulingError.ALREADY_WAITING)
    entry = WaitlistEntry.objects.create(
        client=client,
        location=location,
        service_ids=ids,
        staff=staff,
        date=date,
        earliest=earliest,
        latest=latest,
        notes=notes,
        created_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    audit_record(
        action="scheduling.waitlist.joined",
        actor=acting_user,
        target=entry,
        data={"client": client.pk, "date": date.isoformat(), "from": str(earliest), "until": str(latest)},
    )
    return entry


@transaction.atomic
def waitlist_cancel(*, entry: WaitlistEntry, acting_user: User | None) -> WaitlistEntry:
    """Take a waiting client off the waitlist; their open offers close."""
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != WaitlistStatus.WAITING:
        raise scheduling_error(SchedulingError.NOT_WAITING)
    entry.status = WaitlistStatus.CANCELLED
    entry.save(update_fields=["status"])
    entry.offers.filter(status=WaitlistOfferStatus.OPEN).update(status=WaitlistOfferStatus.EXPIRED)
    audit_record(action="scheduling.waitlist.cancelled", actor=acting_user, target=entry)
    return entry


# --- offers ---------------------------------------------------------------------------------------


def waitlist_on_appointment_changed(
    sender: Any, appointment: Any, kind: str, data: dict | None = None, **_: Any
) -> None:
    """Receiver of ``appointment_changed``: a cancelled, moved or missed booking may free a slot, so
    the waiting entries of that day are checked by a task, queued once the change has committed."""
    from apps.scheduling.services.walkins import walk_ins_follow_appointment

    walk_ins_follow_appointment(appointment_id=appointment.pk, kind=kind)
    if kind not in _FREEING_KINDS:
        return
    tz = salon_timezone()
    starts = [appointment.start]
    if kind == "rescheduled" and data and data.get("start"):
        starts = [datetime.datetime.fromisoformat(str(data["start"]))]
    dates = sorted({s.astimezone(tz).date() for s in starts})
    schema = current_schema()
    location_id = appointment.location_id

    def queue() -> None:
        from apps.scheduling.tasks_queues import waitlist_offers_make_task

        for day in dates:
            waitlist_offers_make_task.apply_async(args=[location_id, day.isoformat()], headers={"_schema_name": schema})

    transaction.on_commit(queue)


def _in_window(entry: WaitlistEntry, start: datetime.datetime, end: datetime.datetime) -> bool:
    tz = salon_timezone()
    return local_instant(entry.date, entry.earliest, tz) <= start and end <= local_instant(entry.date, entry.latest, tz)


def offer_link(token: str) -> str:
    """The client's link to an offer on the salon's own domain (the bare path when no salon is served)."""
    path = f"/book/offer/{token}/"
    return salon_absolute_url(path) or path


def _offer_message(offer: WaitlistOffer, services: Sequence[Service]) -> None:
    from apps.messaging.services import message_send_email, message_send_sms

    client = offer.entry.client
    tz = salon_timezone()
    body = _(
        "%(salon)s: a time you were waiting for is free: %(when)s, %(services)s. "
        "The first to accept gets it; open before %(until)s: %(link)s"
    ) % {
        "salon": salon_name(),
        "when": offer.start.astimezone(tz).strftime("%m-%d %H:%M"),
        "services": "、".join(s.name for s in services),
        "until": offer.expires_at.astimezone(tz).strftime("%H:%M"),
        "link": offer_link(offer.token),
    }
    if client.phone:
        message_send_sms(to=client.phone, body=body, purpose="waitlist_offer")
    elif client.email:
        message_send_email(to=client.email, subject=_("A time is free"), body=body, purpose="waitlist_offer")


@transaction.atomic
def waitlist_offers_make(
    *, location: Location, date: datetime.date, now: datetime.datetime | None = None
) -> list[WaitlistOffer]:
    """Offer freed slots to the waiting entries of ``location`` on ``date``, in the order they joined:
    each entry without an open offer gets the earliest open slot that matches it (the same slot may go
    to several entries; the first to accept books it). Safe to run twice: an entry is offered a start
    once, and entries are locked while this runs."""
    now = now or timezone.now()
    minutes = scheduling_settings().waitlist_offer_minutes
    # order_by("id") is intentional: a consistent lock order prevents deadlocks between two runs.
    entries = list(
        WaitlistEntry.objects.select_for_update()
        .filter(location=location, date=date, status=WaitlistStatus.WAITING)
        .order_by("id")
    )
    entries.sort(key=lambda e: (e.created_at, e.pk))
    holding = set(
        WaitlistOffer.objects.filter(
            entry__in=entries, status=WaitlistOfferStatus.OPEN, expires_at__gt=now
        ).values_list("entry_id", flat=True)
    )
    offered_before = set(WaitlistOffer.objects.filter(entry__in=entries).values_list("entry_id", "start"))
    made: list[WaitlistOffer] = []
    for entry in entries:
        if entry.pk in holding:
            continue
        services = services_of(entry.service_ids)
        if len(services) != len(entry.service_ids):
            continue
        try:
            slots = availability_search(
                location=location, services=services, date_from=date, date_to=date, staff=entry.staff, now=now
            )
        except ServiceError:  # a service withdrawn since the client joined: nothing to offer this entry
            continue
        slot = next(
            (s for s in slots if _in_window(entry, s.start, s.end) and (entry.pk, s.start) not in offered_before),
            None,
        )
        if slot is None:
            continue
        offer = WaitlistOffer.objects.create(
            entry=entry,
            start=slot.start,
            end=slot.end,
            staff_ids=[seg.staff_id for seg in slot.segments],
            token=secrets.token_urlsafe(24),
            expires_at=now + datetime.timedelta(minutes=minutes),
        )
        offer.entry = entry
        _offer_message(offer, services)
        made.append(offer)
    return made


def _offer_locked(token: str) -> WaitlistOffer:
    offer = WaitlistOffer.objects.select_for_update().filter(token=token).first()
    if offer is None:
        raise scheduling_error(SchedulingError.OFFER_EXPIRED)
    return offer


def _accept(token: str, now: datetime.datetime) -> WaitlistOffer:
    # Lock order as in waitlist_cancel: the entry, then its offer.
    entry_id = WaitlistOffer.objects.filter(token=token).values_list("entry_id", flat=True).first()
    if entry_id is None:
        raise scheduling_error(SchedulingError.OFFER_EXPIRED)
    entry = WaitlistEntry.objects.select_for_update(of=("self",)).select_related("client", "location").get(pk=entry_id)
    offer = _offer_locked(token)
    if offer.status == WaitlistOfferStatus.ACCEPTED:
        return offer  # a second tap on the same link
    if offer.status == WaitlistOfferStatus.TAKEN:
        raise scheduling_error(SchedulingError.OFFER_TAKEN)
    if offer.status == WaitlistOfferStatus.EXPIRED or offer.expires_at <= now:
        raise scheduling_error(SchedulingError.OFFER_EXPIRED)
    if entry.status != WaitlistStatus.WAITING:
        raise scheduling_error(SchedulingError.NOT_WAITING)
    staff = User.objects.in_bulk(list(offer.staff_ids))
    services = services_of(entry.service_ids)
    appointment = appointment_book(
        client=entry.client,
        location=entry.location,
        start=offer.start,
        lines=[
            LineRequest(service=service, staff=staff.get(staff_id))
            for service, staff_id in zip(services, offer.staff_ids, strict=False)
        ],
        channel="waitlist",
        acting_user=None,
        idempotency_key=f"waitlist-offer:{offer.pk}",
        now=now,
    )
    offer.status = WaitlistOfferStatus.ACCEPTED
    offer.answered_at = now
    offer.save(update_fields=["status", "answered_at"])
    entry.status = WaitlistStatus.BOOKED
    entry.appointment = appointment
    entry.save(update_fields=["status", "appointment"])
    # The slot is gone for everyone else offered it (same technician, overlapping time), and this
    # client's other offers are no longer needed.
    # skip_locked: an offer locked now is being accepted by its own client, whose booking then meets
    # this one's line and marks that offer taken itself; waiting for it here would deadlock.
    others = list(
        WaitlistOffer.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=WaitlistOfferStatus.OPEN)
        .filter(
            Q(entry=entry)
            | Q(
                entry__location_id=entry.location_id,
                start__lt=offer.end,
                end__gt=offer.start,
                staff_ids__overlap=list(offer.staff_ids),
            )
        )
        .exclude(pk=offer.pk)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    WaitlistOffer.objects.filter(pk__in=others).update(status=WaitlistOfferStatus.TAKEN)
    audit_record(
        action="scheduling.waitlist.offer_accepted",
        target=entry,
        actor_label=f"client:{entry.client_id}",
        data={"offer": offer.pk, "appointment": appointment.pk},
    )
    return offer


def waitlist_offer_accept(*, token: str, now: datetime.datetime | None = None) -> WaitlistOffer:
    """The client takes the offered slot: booked through the booking service (channel ``waitlist``) if
    it is still free. Expired → OFFER_EXPIRED; someone else booked it first → OFFER_TAKEN (409) and the
    offer is marked taken. The link is the proof: no sign-in."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return _accept(token, now)
    except ServiceError as error:
        if error.code not in _TAKEN_CODES:
            raise
        with transaction.atomic():
            WaitlistOffer.objects.filter(token=token, status=WaitlistOfferStatus.OPEN).update(
                status=WaitlistOfferStatus.TAKEN, answered_at=now
            )
        raise scheduling_error(SchedulingError.OFFER_TAKEN) from error


@transaction.atomic
def waitlist_offer_decline(*, token: str, now: datetime.datetime | None = None) -> WaitlistOffer:
    """The client does not want this slot: the offer closes (answered) and the client keeps waiting."""
    now = now or timezone.now()
    offer = _offer_locked(token)
    if offer.status == WaitlistOfferStatus.OPEN:
        offer.status = WaitlistOfferStatus.EXPIRED
        offer.answered_at = now
        offer.save(update_fields=["status", "answered_at"])
    return offer


@transaction.atomic
def waitlist_expire(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Close offers past their time and entries whose date has passed. Returns (offers, entries)."""
    now = now or timezone.now()
    today = now.astimezone(salon_timezone()).date()
    offers = (
        WaitlistOffer.objects.filter(status=WaitlistOfferStatus.OPEN)
        .filter(Q(expires_at__lte=now) | Q(entry__date__lt=today))
        .update(status=WaitlistOfferStatus.EXPIRED)
    )
    entries = WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING, date__lt=today).update(
        status=WaitlistStatus.EXPIRED
    )
    return offers, entries

"""Confirmations and reminders of appointments (SCH-8).

A booking, a move and a cancellation are confirmed to the client and to the technicians at once
(``appointment_notify``, called when ``appointment_changed`` fires); before the visit the client and the
technicians are reminded at the salon's offsets (``reminders_due_send``, run every five minutes by beat).

Each message to each recipient is sent once: a ``ReminderSent`` row is inserted first with
``ON CONFLICT DO NOTHING`` against its unique constraint (appointment, kind, offset, recipient, the
visit's start), and the message is queued only if this call inserted the row, in the same transaction.
Beat firing twice, two workers at once, or the same signal handled twice therefore send one message;
a visit moved to another time gets its messages again for the new time.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.catalog.models import Service
from apps.core.db import current_schema, salon_name, salon_timezone
from apps.core.models import User
from apps.messaging.models import Channel
from apps.messaging.services import message_send
from apps.scheduling.models import (
    Appointment,
    AppointmentChannel,
    AppointmentEvent,
    AppointmentLine,
    AppointmentStatus,
    ClientBookingProfile,
    ReminderSent,
)
from apps.scheduling.selectors.settings import scheduling_settings

logger = logging.getLogger(__name__)

CONFIRMATION = "confirmation"
CHANGE = "change"
CANCELLATION = "cancellation"
REMINDER = "reminder"

# What each booking change tells the client and the technicians.
KIND_OF_CHANGE = {"booked": CONFIRMATION, "rescheduled": CHANGE, "cancelled": CANCELLATION}

# Reminders go to visits still to come; arrived and later ones need none.
REMINDED_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)

CLIENT_KEY = "client"

# Purpose of each kind in the delivery log, and the key of its WeChat template in WECHAT_TEMPLATES.
PURPOSES = {
    CONFIRMATION: "appointment_confirmation",
    CHANGE: "appointment_change",
    CANCELLATION: "appointment_cancellation",
    REMINDER: "appointment_reminder",
}


@dataclass(frozen=True)
class Recipient:
    key: str  # "client" or "staff:<id>", as in ReminderSent.recipient_key
    channel: str
    address: str  # openid, E.164 number or e-mail address
    language: str
    staff: User | None = None


def _client_recipient(appointment: Appointment) -> Recipient | None:
    """WeChat if the client follows the official account, else a text to the phone, else e-mail; none
    when the client asked for no reminders or is no longer a client (merged away, erased)."""
    client = appointment.client
    if not client.is_active:
        return None
    try:
        profile: ClientBookingProfile | None = client.booking_profile
    except ClientBookingProfile.DoesNotExist:
        profile = None
    if profile is not None and profile.reminders_opted_out:
        return None
    language = settings.LANGUAGE_CODE  # clients hear from the salon in the salon's language
    if profile is not None and profile.wechat_openid:
        return Recipient(CLIENT_KEY, Channel.WECHAT, profile.wechat_openid, language)
    if client.phone:
        return Recipient(CLIENT_KEY, Channel.SMS, client.phone, language)
    if client.email:
        return Recipient(CLIENT_KEY, Channel.EMAIL, client.email, language)
    return None


def _staff_recipients(lines: Sequence[AppointmentLine]) -> list[Recipient]:
    """Each technician of the visit once (text message, else e-mail), in the order of their first line."""
    seen: set[int] = set()
    recipients = []
    for line in lines:
        staff = line.staff
        if staff.pk in seen or not staff.is_active:
            continue
        seen.add(staff.pk)
        language = staff.language or settings.LANGUAGE_CODE
        if staff.phone:
            recipients.append(Recipient(f"staff:{staff.pk}", Channel.SMS, staff.phone, language, staff))
        elif staff.email:
            recipients.append(Recipient(f"staff:{staff.pk}", Channel.EMAIL, staff.email, language, staff))
    return recipients


def _lines_query(*, active_only: bool) -> Any:
    lines = AppointmentLine.objects.select_related("service", "staff").order_by("position", "id")
    return lines.filter(is_active=True) if active_only else lines


def _lines(appointment: Appointment) -> list[AppointmentLine]:
    # A cancelled visit's lines are inactive, and its cancellation still names them.
    active_only = appointment.status != AppointmentStatus.CANCELLED
    return list(_lines_query(active_only=active_only).filter(appointment=appointment))


def _local(moment: datetime.datetime) -> str:
    return moment.astimezone(salon_timezone()).strftime("%Y-%m-%d %H:%M")


def _fields(appointment: Appointment, lines: Sequence[AppointmentLine], recipient: Recipient) -> dict[str, str]:
    own = [line for line in lines if recipient.staff is None or line.staff_id == recipient.staff.pk]
    location = appointment.location
    place = location.name + (f" ({location.address})" if location.address else "")
    return {
        "salon": salon_name(),
        "time": _local(own[0].start if own else appointment.start),
        "services": ", ".join(line.service.name for line in own),
        "staff": ", ".join(dict.fromkeys(line.staff.name for line in own)),
        "location": place,
        "client": appointment.client.name,
    }


def _text(kind: str, fields: dict[str, str], *, to_staff: bool) -> tuple[str, str]:
    """(subject, body) of a message, in the active language."""
    if to_staff:
        subject, body = {
            CONFIRMATION: (_("New booking"), _("New booking: %(client)s, %(time)s, %(services)s at %(location)s.")),
            CHANGE: (_("Booking moved"), _("Booking moved: %(client)s is now %(time)s, %(services)s at %(location)s.")),
            CANCELLATION: (_("Booking cancelled"), _("Booking cancelled: %(client)s, %(time)s, %(services)s.")),
            REMINDER: (_("Upcoming booking"), _("Upcoming: %(client)s at %(time)s, %(services)s at %(location)s.")),
        }[kind]
    else:
        subject, body = {
            CONFIRMATION: (
                _("Your booking"),
                _("%(salon)s: you are booked for %(time)s, %(services)s with %(staff)s at %(location)s."),
            ),
            CHANGE: (
                _("Your booking has moved"),
                _("%(salon)s: your booking has moved to %(time)s, %(services)s with %(staff)s at %(location)s."),
            ),
            CANCELLATION: (
                _("Your booking is cancelled"),
                _("%(salon)s: your booking of %(time)s (%(services)s) is cancelled."),
            ),
            REMINDER: (
                _("Reminder of your visit"),
                _("%(salon)s: a reminder of your visit at %(time)s, %(services)s with %(staff)s at %(location)s."),
            ),
        }[kind]
    return subject, body % fields


def _wechat_data(kind: str, fields: dict[str, str]) -> dict[str, str]:
    """Fields of the classic appointment template: first, keyword1 … keyword4, remark."""
    headline = {
        CONFIRMATION: _("Your booking is confirmed"),
        CHANGE: _("Your booking has moved"),
        CANCELLATION: _("Your booking is cancelled"),
        REMINDER: _("Reminder of your visit"),
    }[kind]
    return {
        "first": headline,
        "keyword1": fields["services"],
        "keyword2": fields["time"],
        "keyword3": fields["staff"],
        "keyword4": fields["location"],
        "remark": fields["salon"],
    }


def _gate(
    *, appointment: Appointment, kind: str, offset: int, recipient: Recipient, start: datetime.datetime
) -> int | None:
    """Insert the ReminderSent row unless it exists; its id if this call inserted it, else None.

    A raw INSERT … ON CONFLICT DO NOTHING RETURNING: Django's bulk_create(ignore_conflicts=True) does
    not say which rows it inserted. A concurrent inserter of the same row waits here for the other
    transaction and then finds the conflict, so only one of them goes on to send."""
    table = connection.ops.quote_name(ReminderSent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (appointment_id, kind, offset_minutes, recipient_key, appointment_start, "
            "channel, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT ON CONSTRAINT reminder_once DO NOTHING RETURNING id",
            [appointment.pk, kind, offset, recipient.key, start, recipient.channel, timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _send_once(
    *,
    appointment: Appointment,
    lines: Sequence[AppointmentLine],
    kind: str,
    offset: int,
    recipient: Recipient,
    start: datetime.datetime | None = None,
) -> ReminderSent | None:
    """Insert the gate row and queue the message, or do nothing if the row was there. ``start`` is the
    visit's start the message is about (its current one unless said)."""
    start = start or appointment.start
    with transaction.atomic():
        gate_id = _gate(appointment=appointment, kind=kind, offset=offset, recipient=recipient, start=start)
        if gate_id is None:
            return None
        with translation.override(recipient.language):
            fields = _fields(appointment, lines, recipient)
            subject, body = _text(kind, fields, to_staff=recipient.staff is not None)
            data = _wechat_data(kind, fields) if recipient.channel == Channel.WECHAT else None
        delivery = message_send(
            channel=recipient.channel,
            recipient=recipient.address,
            subject=subject,
            body=body,
            purpose=PURPOSES[kind],
            template=PURPOSES[kind] if data is not None else None,
            data=data,
        )
        ReminderSent.objects.filter(pk=gate_id).update(delivery=delivery)
        return ReminderSent(
            id=gate_id,
            appointment=appointment,
            kind=kind,
            offset_minutes=offset,
            recipient_key=recipient.key,
            appointment_start=start,
            channel=recipient.channel,
            delivery=delivery,
        )


def _recipients(appointment: Appointment, lines: Sequence[AppointmentLine], remind_staff: bool) -> list[Recipient]:
    client = _client_recipient(appointment)
    recipients = [client] if client is not None else []
    if remind_staff:
        recipients += _staff_recipients(lines)
    return recipients


def _released_staff(
    appointment: Appointment, lines: Sequence[AppointmentLine], before: dict[str, Any]
) -> tuple[datetime.datetime | None, list[AppointmentLine]]:
    """The lines a move took away from technicians who are no longer on the visit (unsaved, from the
    ``rescheduled`` signal's previous lines), with the visit's previous start."""
    staying = {line.staff_id for line in lines}
    previous = [item for item in before.get("lines") or [] if item.get("staff") and item["staff"] not in staying]
    if not previous or not before.get("start"):
        return None, []
    staff = User.objects.in_bulk({item["staff"] for item in previous})
    services = Service.objects.in_bulk({item["service"] for item in previous if item.get("service")})
    released = [
        AppointmentLine(
            appointment=appointment,
            staff=staff[item["staff"]],
            service=services[item["service"]],
            start=datetime.datetime.fromisoformat(item["start"]),
        )
        for item in previous
        if item["staff"] in staff and item.get("service") in services
    ]
    return datetime.datetime.fromisoformat(before["start"]), released


def appointment_notify(
    *, appointment: Appointment, kind: str, data: dict[str, Any] | None = None
) -> list[ReminderSent]:
    """Tell the client and (if the salon reminds staff) the technicians of a booking, a move or a
    cancellation (``kind``: booked, rescheduled, cancelled), once per recipient and start time. A move
    that takes a technician off the visit tells them it is cancelled for them (``data``: the signal's
    previous start and lines). Walk-ins are in the salon already and hear nothing."""
    message_kind = KIND_OF_CHANGE.get(kind)
    if message_kind is None:
        return []
    appointment = Appointment.objects.select_related("client__booking_profile", "location").get(pk=appointment.pk)
    if appointment.channel == AppointmentChannel.WALK_IN:
        return []
    if message_kind != CANCELLATION and appointment.status not in REMINDED_STATUSES:
        return []  # moved and then cancelled before this ran: the cancellation says what matters
    lines = _lines(appointment)
    remind_staff = scheduling_settings().remind_staff
    sent = []
    for recipient in _recipients(appointment, lines, remind_staff):
        row = _send_once(appointment=appointment, lines=lines, kind=message_kind, offset=0, recipient=recipient)
        if row is not None:
            sent.append(row)
    if message_kind == CHANGE and remind_staff:
        previous_start, released = _released_staff(appointment, lines, data or {})
        for recipient in _staff_recipients(released):
            row = _send_once(
                appointment=appointment,
                lines=released,
                kind=CANCELLATION,
                offset=0,
                recipient=recipient,
                start=previous_start,
            )
            if row is not None:
                sent.append(row)
    return sent


def on_appointment_changed(
    sender: Any, *, appointment: Appointment, kind: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> None:
    """Receiver of ``appointment_changed`` (sent after the booking committed): queues the messages for the
    worker, so a booking request pays for one queued task, not for composing and logging every message. A
    failure here is logged and never reaches the booking that has already happened."""
    if kind not in KIND_OF_CHANGE:
        return
    from apps.scheduling.tasks_reminders import appointment_notify_task

    try:
        appointment_notify_task.apply_async(
            args=[appointment.pk, kind, data or {}], headers={"_schema_name": current_schema()}
        )
    except Exception:
        logger.exception("booking message for appointment %s (%s) failed", appointment.pk, kind)


def _due(now: datetime.datetime, offset: int, next_offset: int) -> list[Appointment]:
    """The visits whose reminder ``offset`` minutes ahead is due: the reminder time has come and the next
    (shorter) reminder's time has not, and the visit was booked (or last moved) before the reminder time,
    so a booking made three hours ahead gets no 24-hour reminder, and a reminder missed while beat was
    down is not sent together with the next one. Each comes with its active lines (``active_lines``)."""
    before = datetime.timedelta(minutes=offset)
    until = datetime.timedelta(minutes=next_offset)
    moved_at = (
        AppointmentEvent.objects.filter(appointment=OuterRef("pk"), kind="rescheduled")
        .values("appointment")
        .annotate(at=Max("created_at"))
        .values("at")
    )
    return list(
        Appointment.objects.filter(status__in=REMINDED_STATUSES, start__gt=now + until, start__lte=now + before)
        .exclude(channel=AppointmentChannel.WALK_IN)
        .annotate(booked_at=Coalesce(Subquery(moved_at), F("created_at")))
        .filter(booked_at__lte=F("start") - before)
        .select_related("client__booking_profile", "location")
        .prefetch_related(Prefetch("lines", queryset=_lines_query(active_only=True), to_attr="active_lines"))
        .order_by("start", "id")
    )


def reminders_due_send(*, now: datetime.datetime | None = None) -> list[ReminderSent]:
    """Send this salon's reminders that are due (each offset of the booking settings, to the client and,
    if the salon wants, to the technicians), each once. Safe to run again and from two workers at once:
    the reminders already sent are skipped with one query, and the insert gate decides the rest."""
    now = now or timezone.now()
    booking_settings = scheduling_settings()
    offsets = sorted({o for o in booking_settings.reminder_offsets_minutes if o > 0}, reverse=True)
    sent = []
    for offset, next_offset in zip(offsets, [*offsets[1:], 0], strict=True):
        appointments = _due(now, offset, next_offset)
        done = set(
            ReminderSent.objects.filter(
                appointment__in=[a.pk for a in appointments], kind=REMINDER, offset_minutes=offset
            ).values_list("appointment_id", "recipient_key", "appointment_start")
        )
        for appointment in appointments:
            lines = appointment.active_lines  # type: ignore[attr-defined]
            for recipient in _recipients(appointment, lines, booking_settings.remind_staff):
                if (appointment.pk, recipient.key, appointment.start) in done:
                    continue
                row = _send_once(
                    appointment=appointment, lines=lines, kind=REMINDER, offset=offset, recipient=recipient
                )
                if row is not None:
                    sent.append(row)
    return sent

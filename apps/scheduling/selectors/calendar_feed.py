"""A staff member's calendar as an iCalendar feed (SCH-15), for the phone's calendar app to subscribe to.

The feed holds the staff member's **active** lines from 30 days back to 180 days ahead, one VEVENT per
line. Cancelled and no-show lines are omitted rather than sent as ``STATUS:CANCELLED``: a subscribed
calendar is replaced by each fetch, so an event that disappears is removed by every calendar app, while
some of them still show a cancelled event as if it were booked.

The address is a secret, and anyone holding it reads the feed without signing in, so the feed says as
little about the client as the technician needs: the client's given name (a Chinese name as the surname
and stars, 王**), never a phone number, notes or contact details.
"""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from apps.core.db import current_schema
from apps.core.models import User
from apps.scheduling.models import AppointmentLine, AppointmentResource, AppointmentStatus, StaffCalendarFeed

DAYS_BACK = 30
DAYS_AHEAD = 180

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_DIGITS = re.compile(r"\d")


def calendar_feed_by_token(token: str) -> StaffCalendarFeed | None:
    """The feed this secret token opens, if it is current and its staff member still works here."""
    if not token:
        return None
    return StaffCalendarFeed.objects.select_related("staff").filter(token=token, staff__is_active=True).first()


def calendar_feed_of(staff: User) -> StaffCalendarFeed | None:
    return StaffCalendarFeed.objects.filter(staff=staff).first()


def client_short_name(name: str) -> str:
    """What the feed calls a client: the first word of a Western name ("Anna Smith" → "Anna"), the
    surname and one star per other character of a Chinese name ("王芳" → "王*"); digits are starred,
    so a name typed as a phone number leaks nothing."""
    name = (name or "").strip()
    if not name:
        return _("Client")
    short = name[0] + "*" * min(len(name.replace(" ", "")) - 1, 3) if _CJK.match(name) else name.split()[0]
    return _DIGITS.sub("*", short)


def calendar_feed_lines(*, staff: User, now: datetime.datetime | None = None) -> list[AppointmentLine]:
    """The staff member's active lines from 30 days back to 180 days ahead (two queries)."""
    now = now or timezone.now()
    return list(
        AppointmentLine.objects.filter(
            staff=staff,
            is_active=True,
            end__gt=now - datetime.timedelta(days=DAYS_BACK),
            start__lt=now + datetime.timedelta(days=DAYS_AHEAD),
        )
        .select_related("appointment__client", "appointment__location", "service")
        .prefetch_related(Prefetch("resource_holds", queryset=AppointmentResource.objects.select_related("resource")))
        .order_by("start", "id")
    )


def _uid(line: AppointmentLine) -> str:
    # Stable per line and unique across salons (the schema name is opaque and says nothing).
    return f"line-{line.pk}.{current_schema()}@{settings.PLATFORM_DOMAIN}"


def calendar_feed_ics(*, staff: User, now: datetime.datetime | None = None) -> bytes:
    """The feed of ``staff`` as iCalendar bytes (UTF-8), in the staff member's language."""
    now = now or timezone.now()
    lines = calendar_feed_lines(staff=staff, now=now)
    statuses = dict(AppointmentStatus.choices)
    with translation.override(staff.language or settings.LANGUAGE_CODE):
        calendar = Calendar()
        calendar.add("prodid", "-//Salon Platform//Staff calendar//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", _("Appointments of %(name)s") % {"name": staff.name})
        calendar.add("x-published-ttl", "PT15M")
        for line in lines:
            appointment = line.appointment
            event = Event()
            event.add("uid", _uid(line))
            event.add("dtstamp", now.astimezone(datetime.UTC))
            event.add("dtstart", line.start.astimezone(datetime.UTC))
            event.add("dtend", line.end.astimezone(datetime.UTC))
            event.add("last-modified", appointment.updated_at.astimezone(datetime.UTC))
            event.add("sequence", appointment.reschedule_count)
            event.add("summary", f"{line.service.name} · {client_short_name(appointment.client.name)}")
            place = appointment.location.name
            rooms = [hold.resource.name for hold in line.resource_holds.all() if hold.is_active]
            if rooms:
                place = f"{place} · {', '.join(rooms)}"
            event.add("location", place)
            details = [
                _("Status: %(status)s") % {"status": statuses.get(appointment.status, appointment.status)},
                _("Requested by the client (点钟): %(answer)s")
                % {"answer": _("yes") if line.is_requested else _("no")},
            ]
            event.add("description", "\n".join(details))
            event.add("status", "CONFIRMED")
            calendar.add_component(event)
        return calendar.to_ical()

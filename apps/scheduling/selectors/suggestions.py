"""Suggestions for booking a client (SCH-13): the technicians they come back to, the services they book
most, and the services due again by their own rhythm — each with a short reason staff can read out.

The client's history is their **visit days**: the local dates of their past visits that were kept (not
cancelled, not a no-show) together with the service lines of their consumption history in crm
(``PurchaseLine`` of kind "service", recorded by the till or imported). A booked visit and its bill fall
on the same day, so a day counts once however many records describe it. Purchase lines name their
service only by text; a line counts for the active service of exactly that name (ignoring case).

Only active services and active staff are suggested. Four or five queries, whatever the history's length
(the most recent ``HISTORY_LIMIT`` records of each kind are read).
"""

from __future__ import annotations

import datetime
import itertools
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.models import Service
from apps.core.db import salon_timezone
from apps.core.models import User
from apps.crm.models import Client, PurchaseLine
from apps.crm.models.clients import PurchaseKind
from apps.scheduling.models import AppointmentLine, AppointmentStatus

HISTORY_LIMIT = 500
# Preferred technicians are read from the most recent visits only: people change stylists.
RECENT_VISITS = 10
SUGGESTION_LIMIT = 3


@dataclass(frozen=True)
class StaffSuggestion:
    staff_id: int
    name: str
    visits: int  # recent visit days with this person
    of_visits: int  # recent visit days considered
    is_preferred: bool
    reason: str


@dataclass(frozen=True)
class ServiceSuggestion:
    service_id: int
    name: str
    times: int  # visit days with this service
    last_date: datetime.date
    reason: str


@dataclass(frozen=True)
class DueSuggestion:
    service_id: int
    name: str
    interval_days: float  # median days between visits with this service
    last_date: datetime.date
    days_since: int
    reason: str


@dataclass(frozen=True)
class Suggestions:
    staff: list[StaffSuggestion] = field(default_factory=list)
    services: list[ServiceSuggestion] = field(default_factory=list)
    due: list[DueSuggestion] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.staff or self.services or self.due)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for row in (*data["services"], *data["due"]):
            row["last_date"] = row["last_date"].isoformat()
        return data


@dataclass
class _Day:
    staff: set[int] = field(default_factory=set)
    services: set[int] = field(default_factory=set)


def _days_text(days: float) -> str:
    return f"{days:g}"


def client_suggestions(
    *, client: Client, now: datetime.datetime | None = None, limit: int = SUGGESTION_LIMIT
) -> Suggestions:
    """Technicians and services to suggest when booking ``client``, from their own history."""
    now = now or timezone.now()
    tz = salon_timezone()
    today = now.astimezone(tz).date()

    days: dict[datetime.date, _Day] = defaultdict(_Day)
    staff_names: dict[int, str] = {}
    service_names: dict[int, str] = {}

    # 1. Lines of the client's past visits that were kept.
    for start, service_id, service_name, service_active, staff_id, staff_name, staff_active in (
        AppointmentLine.objects.filter(appointment__client=client, appointment__start__lt=now)
        .exclude(appointment__status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
        .order_by("-appointment__start", "position")
        .values_list(
            "appointment__start",
            "service_id",
            "service__name",
            "service__is_active",
            "staff_id",
            "staff__name",
            "staff__is_active",
        )[:HISTORY_LIMIT]
    ):
        day = days[start.astimezone(tz).date()]
        if service_active:
            day.services.add(service_id)
            service_names[service_id] = service_name
        if staff_active:
            day.staff.add(staff_id)
            staff_names[staff_id] = staff_name

    # 2. Services in crm's consumption history (the till's bills, imported history).
    purchases = list(
        PurchaseLine.objects.filter(client=client, kind=PurchaseKind.SERVICE, amount__gt=0, occurred_at__lt=now)
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", "item_name", "staff_id", "staff__name", "staff__is_active")[:HISTORY_LIMIT]
    )
    if purchases:
        # 3. Active services by name, to recognise the purchase lines (a name two services share is skipped).
        by_name: dict[str, int | None] = {}
        for service_id, name in Service.objects.filter(is_active=True).values_list("id", "name"):
            key = name.strip().lower()
            by_name[key] = None if key in by_name else service_id
            service_names.setdefault(service_id, name)
        for occurred_at, item_name, staff_id, staff_name, staff_active in purchases:
            day = days[occurred_at.astimezone(tz).date()]
            matched = by_name.get(item_name.strip().lower())
            if matched is not None:
                day.services.add(matched)
            if staff_id is not None and staff_active:
                day.staff.add(staff_id)
                staff_names[staff_id] = staff_name

    # 4. The technician the client's profile names, if any and still working here.
    preferred: User | None = None
    if client.preferred_staff_id is not None:
        preferred = User.objects.filter(pk=client.preferred_staff_id, is_active=True).first()

    # 5. Services already booked ahead are not "due".
    booked_ahead = set(
        AppointmentLine.objects.filter(appointment__client=client, is_active=True, start__gte=now).values_list(
            "service_id", flat=True
        )
    )

    ordered = sorted(days, reverse=True)
    return Suggestions(
        staff=_staff_suggestions(ordered, days, staff_names, preferred, limit),
        services=_service_suggestions(ordered, days, service_names, limit),
        due=_due_suggestions(ordered, days, service_names, booked_ahead, today, limit),
    )


def _staff_suggestions(
    ordered: list[datetime.date],
    days: dict[datetime.date, _Day],
    names: dict[int, str],
    preferred: User | None,
    limit: int,
) -> list[StaffSuggestion]:
    recent = ordered[:RECENT_VISITS]
    counts: Counter[int] = Counter()
    last_seen: dict[int, int] = {}
    for index, day in enumerate(recent):
        for staff_id in days[day].staff:
            counts[staff_id] += 1
            last_seen.setdefault(staff_id, index)
    total = len(recent)

    def reason(staff_id: int) -> str:
        if total == 1:
            return _("Last visit with %(name)s") % {"name": names[staff_id]}
        return _("%(count)d of last %(total)d visits with %(name)s") % {
            "count": counts[staff_id],
            "total": total,
            "name": names[staff_id],
        }

    found: list[StaffSuggestion] = []
    if preferred is not None:
        names.setdefault(preferred.pk, preferred.name)
        text = _("Preferred technician in the client's profile")
        if counts[preferred.pk]:
            text = f"{text}; {reason(preferred.pk)}"
        found.append(
            StaffSuggestion(
                staff_id=preferred.pk,
                name=preferred.name,
                visits=counts[preferred.pk],
                of_visits=total,
                is_preferred=True,
                reason=text,
            )
        )
    # Most visits first; between equals, the one seen most recently.
    for staff_id in sorted(counts, key=lambda pk: (-counts[pk], last_seen[pk], pk)):
        if preferred is not None and staff_id == preferred.pk:
            continue
        found.append(
            StaffSuggestion(
                staff_id=staff_id,
                name=names[staff_id],
                visits=counts[staff_id],
                of_visits=total,
                is_preferred=False,
                reason=reason(staff_id),
            )
        )
    return found[:limit]


def _service_suggestions(
    ordered: list[datetime.date], days: dict[datetime.date, _Day], names: dict[int, str], limit: int
) -> list[ServiceSuggestion]:
    counts: Counter[int] = Counter()
    last: dict[int, datetime.date] = {}
    for day in ordered:
        for service_id in days[day].services:
            counts[service_id] += 1
            last.setdefault(service_id, day)
    found = []
    for service_id in sorted(counts, key=lambda pk: (-counts[pk], -last[pk].toordinal(), pk))[:limit]:
        found.append(
            ServiceSuggestion(
                service_id=service_id,
                name=names[service_id],
                times=counts[service_id],
                last_date=last[service_id],
                reason=_("Booked %(count)d times, last on %(date)s")
                % {"count": counts[service_id], "date": last[service_id].isoformat()}
                if counts[service_id] > 1
                else _("Booked once, on %(date)s") % {"date": last[service_id].isoformat()},
            )
        )
    return found


def _due_suggestions(
    ordered: list[datetime.date],
    days: dict[datetime.date, _Day],
    names: dict[int, str],
    booked_ahead: set[int],
    today: datetime.date,
    limit: int,
) -> list[DueSuggestion]:
    """A service is due when the client last had it longer ago than their median interval between two
    visits with it (two visits at least), and it is not booked ahead already."""
    dates: dict[int, list[datetime.date]] = defaultdict(list)
    for day in sorted(ordered):
        for service_id in days[day].services:
            dates[service_id].append(day)
    found = []
    for service_id, seen in dates.items():
        if len(seen) < 2 or service_id in booked_ahead:
            continue
        interval = float(statistics.median((b - a).days for a, b in itertools.pairwise(seen)))
        days_since = (today - seen[-1]).days
        if days_since <= interval:
            continue
        found.append(
            DueSuggestion(
                service_id=service_id,
                name=names[service_id],
                interval_days=interval,
                last_date=seen[-1],
                days_since=days_since,
                reason=_("Usually every %(interval)s days; last one %(days)d days ago")
                % {"interval": _days_text(interval), "days": days_since},
            )
        )
    # The most overdue against the client's own rhythm first.
    found.sort(key=lambda s: (-s.days_since / s.interval_days, s.service_id))
    return found[:limit]

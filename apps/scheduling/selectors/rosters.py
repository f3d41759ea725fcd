"""Reads of rosters (SCH-2): the week grid of a location, a person's weekly pattern, upcoming time off."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.core.roles import Role
from apps.scheduling.models import ShiftException, ShiftPattern, TimeOff
from apps.scheduling.roster import roster_periods

Hours = list[tuple[datetime.time, datetime.time]]


@dataclass
class RosterCell:
    date: datetime.date
    hours: Hours = field(default_factory=list)
    is_day_off: bool = False  # a day-off exception
    is_changed: bool = False  # other hours that date (a working exception)
    time_off: list[tuple[datetime.datetime, datetime.datetime]] = field(default_factory=list)  # local
    note: str = ""


@dataclass
class RosterRow:
    staff: User
    cells: list[RosterCell]


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of the week holding ``day``."""
    return day - datetime.timedelta(days=day.weekday())


def rostered_staff(location: Location) -> QuerySet[User]:
    """Active staff who can work at a location: those assigned to it, those without any location (they
    work everywhere) and anyone with a weekly pattern there. Accountants are not rostered."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(locations=location) | Q(locations__isnull=True) | Q(shift_patterns__location=location))
        .exclude(role=Role.ACCOUNTANT)
        .distinct()
        .order_by("name", "pk")
    )


def roster_week_grid(*, location: Location, start: datetime.date) -> list[RosterRow]:
    """Staff rows × the seven days from ``start``: the hours each works at this location that date (weekly
    pattern or that date's exceptions), with days off, changed days and time off marked (five queries)."""
    tz = salon_timezone()
    end = start + datetime.timedelta(days=6)
    staff = list(rostered_staff(location))
    ids = [s.pk for s in staff]
    periods = roster_periods(staff_ids=ids, date_from=start, date_to=end, tz=tz, location_id=location.pk)
    exceptions: dict[tuple[int, datetime.date], list[ShiftException]] = defaultdict(list)
    for exc in ShiftException.objects.filter(staff_id__in=ids, date__gte=start, date__lte=end).order_by("start_time"):
        exceptions[(exc.staff_id, exc.date)].append(exc)
    window_start = datetime.datetime.combine(start, datetime.time(), tzinfo=tz)
    window_end = window_start + datetime.timedelta(days=7)
    offs: dict[int, list[TimeOff]] = defaultdict(list)
    for off in TimeOff.objects.filter(staff_id__in=ids, start__lt=window_end, end__gt=window_start).order_by("start"):
        offs[off.staff_id].append(off)
    rows = []
    for member in staff:
        cells = []
        for offset in range(7):
            day = start + datetime.timedelta(days=offset)
            cell = RosterCell(date=day)
            for period in periods.get(member.pk, []):
                local_start = period.start.astimezone(tz)
                if local_start.date() == day:
                    cell.hours.append((local_start.time(), period.end.astimezone(tz).time()))
            day_exceptions = exceptions.get((member.pk, day), [])
            cell.is_day_off = any(not e.is_working for e in day_exceptions)
            cell.is_changed = any(e.is_working for e in day_exceptions)
            cell.note = "; ".join(e.note for e in day_exceptions if e.note)
            day_start = datetime.datetime.combine(day, datetime.time(), tzinfo=tz)
            day_end = day_start + datetime.timedelta(days=1)
            cell.time_off = [
                (max(o.start, day_start).astimezone(tz), min(o.end, day_end).astimezone(tz))
                for o in offs.get(member.pk, [])
                if o.start < day_end and o.end > day_start
            ]
            cells.append(cell)
        rows.append(RosterRow(staff=member, cells=cells))
    return rows


def week_exceptions(*, start: datetime.date) -> QuerySet[ShiftException]:
    """Exceptions of a week (seven days from ``start``), with their staff member and location."""
    rows = ShiftException.objects.filter(date__gte=start, date__lte=start + datetime.timedelta(days=6))
    return rows.select_related("staff", "location").order_by("date", "staff__name", "start_time", "pk")


def roster_week_of(*, staff: User, location: Location, on: datetime.date) -> dict[int, Hours]:
    """The weekly pattern of a person at a location in force on a date (weekday → periods)."""
    week: dict[int, Hours] = {d: [] for d in range(7)}
    rows = (
        ShiftPattern.objects.filter(staff=staff, location=location, valid_from__lte=on)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .order_by("weekday", "start_time")
        .values_list("weekday", "start_time", "end_time")
    )
    for weekday, start, end in rows:
        week[weekday].append((start, end))
    return week


def time_off_upcoming(*, now: datetime.datetime | None = None) -> QuerySet[TimeOff]:
    """Time off that has not ended yet, soonest first, with the staff member."""
    return (
        TimeOff.objects.filter(end__gt=now or timezone.now())
        .select_related("staff")
        .order_by("start", "staff__name", "pk")
    )

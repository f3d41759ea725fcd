"""Turning rosters into working periods (SCH-2): the weekly patterns, replaced on a date by that date's
exceptions, as UTC instants in the salon's time zone. ``expand_roster`` is pure (the availability engine,
its brute-force reference, the roster pages and ``/api/v1/shifts/`` all use it); ``roster_periods`` loads
the rows for it in two queries.

Shift times are local wall-clock times: a 10:00–19:00 shift is 10:00–19:00 local on both sides of a
DST change, so its length in UTC changes on the day the clocks do when it spans the change.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q

from apps.scheduling.models import ShiftException, ShiftPattern, TimeOff


@dataclass(frozen=True, order=True)
class Period:
    start: datetime.datetime
    end: datetime.datetime
    location_id: int


@dataclass(frozen=True)
class PatternRow:
    staff_id: int
    location_id: int
    weekday: int
    start_time: datetime.time
    end_time: datetime.time
    valid_from: datetime.date
    valid_until: datetime.date | None


@dataclass(frozen=True)
class ExceptionRow:
    staff_id: int
    date: datetime.date
    is_working: bool
    location_id: int | None
    start_time: datetime.time | None
    end_time: datetime.time | None


def local_instant(day: datetime.date, at: datetime.time, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The UTC instant of a local wall-clock time on a date in ``tz``."""
    return datetime.datetime.combine(day, at, tzinfo=tz).astimezone(datetime.UTC)


def _days(date_from: datetime.date, date_to: datetime.date) -> Iterable[datetime.date]:
    day = date_from
    while day <= date_to:
        yield day
        day += datetime.timedelta(days=1)


def expand_roster(
    *,
    patterns: Iterable[PatternRow],
    exceptions: Iterable[ExceptionRow],
    date_from: datetime.date,
    date_to: datetime.date,
    tz: zoneinfo.ZoneInfo,
) -> dict[int, list[Period]]:
    """Working periods per staff id for every date from ``date_from`` to ``date_to`` (inclusive), sorted.

    On a date with any exception for a person, the exceptions alone say what they work that day (a
    day-off row means nothing); otherwise the weekly patterns valid on that date do."""
    by_weekday: dict[int, list[PatternRow]] = defaultdict(list)
    for row in patterns:
        by_weekday[row.weekday].append(row)
    exceptions_on: dict[tuple[int, datetime.date], list[ExceptionRow]] = defaultdict(list)
    for exc in exceptions:
        exceptions_on[(exc.staff_id, exc.date)].append(exc)
    periods: dict[int, list[Period]] = defaultdict(list)
    for day in _days(date_from, date_to):
        for row in by_weekday.get(day.weekday(), ()):
            if row.valid_from > day or (row.valid_until is not None and row.valid_until < day):
                continue
            if (row.staff_id, day) in exceptions_on:
                continue
            periods[row.staff_id].append(
                Period(local_instant(day, row.start_time, tz), local_instant(day, row.end_time, tz), row.location_id)
            )
    for (staff_id, day), rows in exceptions_on.items():
        if not date_from <= day <= date_to:
            continue
        for exc in rows:
            if exc.is_working and exc.start_time is not None and exc.end_time is not None and exc.location_id:
                periods[staff_id].append(
                    Period(
                        local_instant(day, exc.start_time, tz), local_instant(day, exc.end_time, tz), exc.location_id
                    )
                )
    return {staff_id: sorted(found) for staff_id, found in periods.items()}


def roster_periods(
    *,
    staff_ids: Sequence[int],
    date_from: datetime.date,
    date_to: datetime.date,
    tz: zoneinfo.ZoneInfo,
    location_id: int | None = None,
) -> dict[int, list[Period]]:
    """Working periods of these staff members between two dates, optionally only those at one location
    (two queries)."""
    patterns = [
        PatternRow(*row)
        for row in ShiftPattern.objects.filter(staff_id__in=staff_ids, valid_from__lte=date_to)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=date_from))
        .values_list("staff_id", "location_id", "weekday", "start_time", "end_time", "valid_from", "valid_until")
    ]
    exceptions = [
        ExceptionRow(*row)
        for row in ShiftException.objects.filter(
            staff_id__in=staff_ids, date__gte=date_from, date__lte=date_to
        ).values_list("staff_id", "date", "is_working", "location_id", "start_time", "end_time")
    ]
    periods = expand_roster(patterns=patterns, exceptions=exceptions, date_from=date_from, date_to=date_to, tz=tz)
    if location_id is not None:
        periods = {
            staff_id: kept
            for staff_id, found in periods.items()
            if (kept := [p for p in found if p.location_id == location_id])
        }
    return periods


def time_off_between(
    *, staff_ids: Sequence[int], start: datetime.datetime, end: datetime.datetime
) -> dict[int, list[tuple[datetime.datetime, datetime.datetime]]]:
    """Time off of these staff members that overlaps [start, end), per staff id, sorted (one query)."""
    found: dict[int, list[tuple[datetime.datetime, datetime.datetime]]] = defaultdict(list)
    for staff_id, off_start, off_end in (
        TimeOff.objects.filter(staff_id__in=staff_ids, start__lt=end, end__gt=start)
        .order_by("start")
        .values_list("staff_id", "start", "end")
    ):
        found[staff_id].append((off_start, off_end))
    return dict(found)

"""Availability engine (SCH-4): the bookable starts of one service or several in sequence (one visit), at
one location, for a chosen technician or "any staff".

Two layers:

* ``availability_load`` reads everything a search needs in at most five queries into a ``Snapshot`` of
  plain data (epoch seconds, sorted interval lists): the services with their booking rules and resource
  types and the salon's booking settings; the candidate staff with their skills; their roster (weekly
  patterns and dated exceptions); their time off and active lines; the location's resources with their
  holds.
* ``slots_compute`` is pure: it walks the slot grid over the snapshot and returns the valid starts with
  one technician per segment. Its brute-force twin lives in the tests.

A visit's segments follow each other: a segment starts when the previous one's ``busy_until`` (its end
plus its buffer) is reached. A segment needs a technician who performs the service, works at this
location for the whole of [start, busy_until) within one working period, is not on time off and has no
active line overlapping it (at any location); and, for each resource type the service needs, one free
place in one active resource of that type at the location for the same span.
"""

from __future__ import annotations

import bisect
import datetime
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from apps.catalog.models import Service
from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import (
    Appointment,
    AppointmentLine,
    AppointmentResource,
    Resource,
    ResourceType,
    SchedulingSettings,
    ServiceBookingRule,
    ShiftException,
    ShiftPattern,
    StaffProfile,
    TimeOff,
)
from apps.scheduling.roster import ExceptionRow, PatternRow, expand_roster

MAX_SERVICES = 5
MAX_DAYS = 31
CHANNEL_ONLINE = "online"

# Open-ended gaps of a resource place with no hold.
_NEVER = -(2**62)
_FOREVER = 2**62


@dataclass(frozen=True)
class SlotSegment:
    service_id: int
    staff_id: int
    start: datetime.datetime
    end: datetime.datetime
    busy_until: datetime.datetime


@dataclass(frozen=True)
class Slot:
    start: datetime.datetime
    end: datetime.datetime  # the last segment's end
    segments: tuple[SlotSegment, ...]

    @property
    def staff_id(self) -> int:
        """The technician of the first segment."""
        return self.segments[0].staff_id


# ---------------------------------------------------------------------------------------------------------
# Plain data and the pure core. Times are integer seconds since the epoch (UTC).


@dataclass(frozen=True)
class ServiceSpec:
    service_id: int
    duration: int  # seconds
    buffer: int  # seconds
    resource_type_ids: tuple[int, ...] = ()


@dataclass
class Snapshot:
    """Everything a search reads, as plain data.

    ``days`` are the local days searched as [start, end) instants (23 or 25 hours on a DST day);
    ``skills`` holds only the candidate staff (active, working at the location); ``periods`` their
    working periods at this location; ``busy`` their active lines (start to busy_until, any location)
    and time off; ``booked`` their active lines (start to end), for the "least booked" choice;
    ``places`` per resource type, each place of each active resource of the location as
    (resource id, place number, sorted holds)."""

    services: tuple[ServiceSpec, ...]
    step: int  # seconds
    days: list[tuple[int, int]]
    skills: dict[int, frozenset[int]]
    periods: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    busy: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    booked: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    places: dict[int, list[tuple[int, int, list[tuple[int, int]]]]] = field(default_factory=dict)


# One computed slot: (start, ((service_id, staff_id, start, end, busy_until), ...)).
RawSegment = tuple[int, int, int, int, int]
RawSlot = tuple[int, tuple[RawSegment, ...]]


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, with overlapping or touching intervals joined: disjoint, so the ends rise too."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _free_windows(periods: list[tuple[int, int]], busy: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each working period with the busy intervals cut out: the spans a segment may fill (sorted by start,
    each inside one period)."""
    merged = _merged(busy)
    starts = [b[0] for b in merged]
    windows: list[tuple[int, int]] = []
    for p_start, p_end in sorted(periods):
        cursor = p_start
        # The first busy interval that may reach into the period (merged ends rise with the starts).
        i = max(0, bisect.bisect_right(starts, p_start) - 1)
        for b_start, b_end in merged[i:]:
            if b_start >= p_end:
                break
            if b_end <= cursor:
                continue
            if b_start > cursor:
                windows.append((cursor, b_start))
            cursor = b_end
            if cursor >= p_end:
                break
        if cursor < p_end:
            windows.append((cursor, p_end))
    windows.sort()
    return windows


def _gaps(holds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans between a place's holds, open-ended at both sides."""
    return _free_windows([(_NEVER, _FOREVER)], holds)


class _Fits:
    """Does [start, end) lie inside one of these sorted windows? Windows may overlap (split periods of one
    person are kept apart), so a running maximum of the ends answers it with one bisect."""

    __slots__ = ("max_ends", "starts")

    def __init__(self, windows: list[tuple[int, int]]) -> None:
        self.starts = [w[0] for w in windows]
        ends: list[int] = []
        top = _NEVER
        for _, w_end in windows:
            top = max(top, w_end)
            ends.append(top)
        self.max_ends = ends

    def __call__(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.starts, start) - 1
        return i >= 0 and self.max_ends[i] >= end


def _booked_per_day(booked: dict[int, list[tuple[int, int]]], days: list[tuple[int, int]]) -> list[dict[int, int]]:
    """Seconds of booked lines per staff id for each day (the part of each line inside the day)."""
    starts = [d[0] for d in days]
    loads: list[dict[int, int]] = [defaultdict(int) for _ in days]
    for staff_id, intervals in booked.items():
        for start, end in intervals:
            i = max(0, bisect.bisect_right(starts, start) - 1)
            while i < len(days) and days[i][0] < end:
                overlap = min(end, days[i][1]) - max(start, days[i][0])
                if overlap > 0:
                    loads[i][staff_id] += overlap
                i += 1
    return loads


def _starts(windows: list[tuple[int, int]], offset: int, span: int) -> list[tuple[int, int]]:
    """The visit starts t (as [from, until) intervals) at which a segment ``offset`` seconds into the visit
    and ``span`` long (duration plus buffer) fits inside one of these windows."""
    return [(w_start - offset, w_end - span - offset + 1) for w_start, w_end in windows if w_end - w_start >= span]


def slots_compute(
    snapshot: Snapshot, *, earliest: int, latest: int | None = None, staff_id: int | None = None
) -> list[RawSlot]:
    """The valid starts on the slot grid of each day in the snapshot, not before ``earliest`` and before
    ``latest``, with a technician per segment: ``staff_id`` for all segments when given, otherwise the
    skilled free technician with the least booked time that day (ties: the lowest id).

    First, per segment, the union of the visit starts at which some skilled technician fits, and per
    needed resource type the union of those at which some place is free: a grid start outside any of
    them costs one bisect each, and the walk jumps straight over the gaps of the first segment's union
    (nights, closed days). Only then are the technicians tried in order of preference."""
    services = snapshot.services
    offsets: list[int] = []
    spans: list[int] = []
    at = 0
    for spec in services:
        offsets.append(at)
        spans.append(spec.duration + spec.buffer)
        at += spec.duration + spec.buffer
    candidates = sorted(snapshot.skills) if staff_id is None else [staff_id]
    windows = {
        s: _free_windows(snapshot.periods.get(s, []), snapshot.busy.get(s, []))
        for s in candidates
        if s in snapshot.skills
    }
    fits = {s: _Fits(w) for s, w in windows.items()}
    skilled = [[s for s in windows if spec.service_id in snapshot.skills[s]] for spec in services]
    if any(not staff for staff in skilled):
        return []
    unions = [
        _merged([i for s in skilled[k] for i in _starts(windows[s], offsets[k], spans[k])])
        for k in range(len(services))
    ]
    place_gaps = {type_id: [_gaps(holds) for _, _, holds in places] for type_id, places in snapshot.places.items()}
    checks = [_Fits(u) for u in unions[1:]] + [
        _Fits(_merged([i for gaps in place_gaps.get(t, []) for i in _starts(gaps, offsets[k], spans[k])]))
        for k, spec in enumerate(services)
        for t in spec.resource_type_ids
    ]
    first_starts = [u[0] for u in unions[0]]
    step = snapshot.step
    found: list[RawSlot] = []
    loads = _booked_per_day(snapshot.booked, snapshot.days) if staff_id is None else []
    for day_index, day in enumerate(snapshot.days):
        first = max(day[0], earliest)
        stop = day[1] if latest is None else min(day[1], latest)
        if first >= stop:
            continue
        # Skilled staff per segment, in the order they are preferred that day.
        load = loads[day_index] if loads else {}
        order = sorted(windows, key=lambda s: (load.get(s, 0), s))
        per_segment = [[(fits[s], s) for s in order if spec.service_id in snapshot.skills[s]] for spec in services]
        i = max(0, bisect.bisect_right(first_starts, first) - 1)
        while i < len(unions[0]) and unions[0][i][0] < stop:
            lo, hi = unions[0][i]
            i += 1
            lo = max(lo, first)
            # Align to the day's grid (the day starts at local midnight).
            t = day[0] + -(-(lo - day[0]) // step) * step
            end = min(hi, stop)
            while t < end:
                if all(check(t, t + 1) for check in checks):
                    segments: list[RawSegment] = []
                    for k, spec in enumerate(services):
                        s_start = t + offsets[k]
                        s_busy = s_start + spans[k]
                        chosen = next(sid for fit, sid in per_segment[k] if fit(s_start, s_busy))
                        segments.append((spec.service_id, chosen, s_start, s_start + spec.duration, s_busy))
                    found.append((t, tuple(segments)))
                t += step
    return found


# ---------------------------------------------------------------------------------------------------------
# Loading.


@dataclass
class _Loaded:
    snapshot: Snapshot
    tz: zoneinfo.ZoneInfo
    settings: tuple[int, int, int]  # step minutes, online notice minutes, online max days
    online_bookable: dict[int, bool]


def _epoch(at: datetime.datetime) -> int:
    return int(at.timestamp())


def _local_midnight(day: datetime.date, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=tz)


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _column(model: Any, name: str) -> str:
    return str(connection.ops.quote_name(model._meta.get_field(name).column))


def _service_rows(cursor: Any, service_ids: list[int]) -> list[tuple[Any, ...]]:
    """Query 1: the services, their booking rule and needed resource types — one row per type — and the
    booking settings row (LEFT JOINs)."""
    needs = ServiceBookingRule.resource_types.through
    sql = f"""
        SELECT s.id, s.is_active, s.duration_minutes, s.buffer_minutes, r.is_online_bookable, t.id, t.is_active,
               c.slot_step_minutes, c.online_min_notice_minutes, c.online_max_days_ahead
          FROM {_table(Service)} s
          LEFT JOIN {_table(ServiceBookingRule)} r ON r.service_id = s.id
          LEFT JOIN {_table(needs)} n ON n.{_column(needs, "servicebookingrule")} = r.id
          LEFT JOIN {_table(ResourceType)} t ON t.id = n.{_column(needs, "resourcetype")}
          LEFT JOIN {_table(SchedulingSettings)} c ON c.id = 1
         WHERE s.id = ANY(%s)
    """
    cursor.execute(sql, [service_ids])
    return list(cursor.fetchall())


def _staff_skills(
    cursor: Any, *, service_ids: list[int], location: Location, staff: User | None
) -> list[tuple[int, int, bool]]:
    """Query 2: (user id, service id, works at the location) of active staff who perform one of the
    services (only the chosen person when given). Someone with no locations works in every location."""
    skills, places = StaffProfile.skills.through, User.locations.through
    user, location_col = _column(places, "user"), _column(places, "location")
    chosen = "AND p.user_id = %s" if staff is not None else ""
    sql = f"""
        SELECT p.user_id, k.{_column(skills, "service")},
               NOT EXISTS (SELECT 1 FROM {_table(places)} w WHERE w.{user} = p.user_id)
               OR EXISTS (SELECT 1 FROM {_table(places)} w WHERE w.{user} = p.user_id AND w.{location_col} = %s)
          FROM {_table(skills)} k
          JOIN {_table(StaffProfile)} p ON p.id = k.{_column(skills, "staffprofile")}
          JOIN {_table(User)} u ON u.id = p.user_id
         WHERE k.{_column(skills, "service")} = ANY(%s) AND u.is_active {chosen}
    """
    params: list[Any] = [location.pk, service_ids]
    if staff is not None:
        params.append(staff.pk)
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def _roster_rows(
    cursor: Any, *, staff_ids: list[int], location_id: int, date_from: datetime.date, date_to: datetime.date
) -> tuple[list[PatternRow], list[ExceptionRow]]:
    """Query 3: the weekly patterns at this location and the dated exceptions (any location: a working
    day elsewhere still replaces the pattern here) of these people, in one UNION."""
    pattern, exception = ShiftPattern._meta.db_table, ShiftException._meta.db_table
    sql = f"""
        SELECT 0, staff_id, location_id, weekday, start_time, end_time, valid_from, valid_until, TRUE
          FROM {pattern}
         WHERE staff_id = ANY(%s) AND location_id = %s AND valid_from <= %s
           AND (valid_until IS NULL OR valid_until >= %s)
        UNION ALL
        SELECT 1, staff_id, location_id, 0, start_time, end_time, date, date, is_working
          FROM {exception}
         WHERE staff_id = ANY(%s) AND date >= %s AND date <= %s
    """  # table names come from the models
    cursor.execute(sql, [staff_ids, location_id, date_to, date_from, staff_ids, date_from, date_to])
    rows = cursor.fetchall()
    patterns = [PatternRow(r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows if r[0] == 0]
    exceptions = [ExceptionRow(r[1], r[6], r[8], r[2], r[4], r[5]) for r in rows if r[0] == 1]
    return patterns, exceptions


# Instants leave the database as whole epoch seconds: the core works on integers, and psycopg reads an
# integer far faster than a timestamp with time zone.
_EPOCH = "EXTRACT(EPOCH FROM {})::bigint"


def _busy_rows(
    cursor: Any, *, staff_ids: list[int], start: datetime.datetime, end: datetime.datetime, exclude_id: int | None
) -> list[tuple[int, int, int, int, int]]:
    """Query 4: active lines (any location; start, end, busy_until) and time off (start, end, end) of
    these people overlapping [start, end), in one UNION; kind 0 is a line, 1 time off. The lines' range
    test is the one of the exclusion constraint, so its GiST index finds them."""
    line, off = AppointmentLine._meta.db_table, TimeOff._meta.db_table
    e = _EPOCH.format
    mine = "AND appointment_id <> %s" if exclude_id is not None else ""
    sql = f"""
        SELECT 0, staff_id, {e("start")}, {e('"end"')}, {e("busy_until")}
          FROM {line}
         WHERE is_active AND TSTZRANGE(start, busy_until, '[)') && TSTZRANGE(%s, %s, '[)')
           AND staff_id = ANY(%s) {mine}
        UNION ALL
        SELECT 1, staff_id, {e("start")}, {e('"end"')}, {e('"end"')}
          FROM {off}
         WHERE staff_id = ANY(%s) AND start < %s AND "end" > %s
    """  # table names come from the models
    params: list[Any] = [start, end, staff_ids]
    if exclude_id is not None:
        params.append(exclude_id)
    params += [staff_ids, end, start]
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def _resource_rows(
    cursor: Any,
    *,
    location_id: int,
    type_ids: list[int],
    start: datetime.datetime,
    end: datetime.datetime,
    exclude_id: int | None,
) -> list[tuple[int, int, int, int | None, int | None, int | None]]:
    """Query 5: the location's active resources of these types, each with its active holds overlapping
    [start, end) (LEFT JOIN: a resource with no hold gives one row of NULLs; the range test is the one
    of the exclusion constraint, so its GiST index finds the holds)."""
    resource, hold, line = Resource._meta.db_table, AppointmentResource._meta.db_table, AppointmentLine._meta.db_table
    e = _EPOCH.format
    mine = (
        f"AND NOT EXISTS (SELECT 1 FROM {line} l WHERE l.id = h.line_id AND l.appointment_id = %s)"
        if exclude_id is not None
        else ""
    )
    sql = f"""
        SELECT r.id, r.resource_type_id, r.capacity, h.place, {e("h.start")}, {e('h."end"')}
          FROM {resource} r
          LEFT JOIN {hold} h
            ON h.resource_id = r.id AND h.is_active
           AND TSTZRANGE(h.start, h."end", '[)') && TSTZRANGE(%s, %s, '[)') {mine}
         WHERE r.location_id = %s AND r.is_active AND r.resource_type_id = ANY(%s)
         ORDER BY r.sort_order, r.id
    """  # table names come from the models
    params: list[Any] = [start, end]
    if exclude_id is not None:
        params.append(exclude_id)
    params += [location_id, type_ids]
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def availability_load(
    *,
    location: Location,
    services: Sequence[Service],
    date_from: datetime.date,
    date_to: datetime.date,
    staff: User | None = None,
    exclude_appointment: Appointment | None = None,
) -> _Loaded:
    """Read a search's data into a ``Snapshot``: at most five statements (four when no service needs a
    resource), all on one cursor, so django-tenants sets the search path once. Raises
    ``SchedulingError`` for unknown or inactive services and staff."""
    tz = salon_timezone()
    with connection.cursor() as cursor:
        return _load(
            cursor,
            tz=tz,
            location=location,
            services=services,
            date_from=date_from,
            date_to=date_to,
            staff=staff,
            exclude_appointment=exclude_appointment,
        )


def _load(
    cursor: Any,
    *,
    tz: zoneinfo.ZoneInfo,
    location: Location,
    services: Sequence[Service],
    date_from: datetime.date,
    date_to: datetime.date,
    staff: User | None,
    exclude_appointment: Appointment | None,
) -> _Loaded:
    service_ids = [s.pk for s in services]
    rows = _service_rows(cursor, sorted(set(service_ids)))
    specs: dict[int, tuple[int, int, list[int]]] = {}
    online: dict[int, bool] = {}
    settings = (15, 60, 60)
    for sid, active, minutes, buffer, is_online, type_id, type_active, step, notice, ahead in rows:
        if not active:
            continue
        spec = specs.setdefault(sid, (minutes * 60, buffer * 60, []))
        if type_id is not None and type_active:
            spec[2].append(type_id)
        online[sid] = is_online if is_online is not None else True
        if step is not None:
            settings = (step, notice, ahead)
    for sid in service_ids:
        if sid not in specs:
            raise scheduling_error(SchedulingError.UNKNOWN_SERVICE, field="service")
    sequence = tuple(
        ServiceSpec(sid, specs[sid][0], specs[sid][1], tuple(sorted(specs[sid][2]))) for sid in service_ids
    )
    if staff is not None and not staff.is_active:
        raise scheduling_error(SchedulingError.UNKNOWN_STAFF, field="staff")

    skills: dict[int, set[int]] = defaultdict(set)
    performs: set[int] = set()
    for user_id, sid, here in _staff_skills(cursor, service_ids=list(specs), location=location, staff=staff):
        performs.add(sid)
        if here:
            skills[user_id].add(sid)
    if staff is not None and not performs.issuperset(specs):
        raise scheduling_error(SchedulingError.STAFF_LACKS_SKILL, field="staff")
    day_starts = [date_from + datetime.timedelta(days=n) for n in range((date_to - date_from).days + 2)]
    bounds = [_local_midnight(d, tz) for d in day_starts]
    days = [(_epoch(bounds[i]), _epoch(bounds[i + 1])) for i in range(len(bounds) - 1)]
    snapshot = Snapshot(
        services=sequence,
        step=settings[0] * 60,
        days=days,
        skills={s: frozenset(found) for s, found in skills.items()},
    )
    staff_ids = sorted(skills)
    if not staff_ids:
        return _Loaded(snapshot, tz, settings, online)
    window_start = bounds[0]
    window_end = bounds[-1] + datetime.timedelta(seconds=sum(s.duration + s.buffer for s in sequence))

    patterns, exceptions = _roster_rows(
        cursor,
        staff_ids=staff_ids,
        location_id=location.pk,
        date_from=date_from,
        date_to=date_to + datetime.timedelta(days=1),
    )
    periods = expand_roster(
        patterns=patterns,
        exceptions=exceptions,
        date_from=date_from,
        date_to=date_to + datetime.timedelta(days=1),
        tz=tz,
    )
    for staff_id, found in periods.items():
        kept = [(_epoch(p.start), _epoch(p.end)) for p in found if p.location_id == location.pk]
        if kept:
            snapshot.periods[staff_id] = kept
    exclude_id = exclude_appointment.pk if exclude_appointment is not None else None
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    booked: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for kind, staff_id, start, end, until in _busy_rows(
        cursor, staff_ids=staff_ids, start=window_start, end=window_end, exclude_id=exclude_id
    ):
        busy[staff_id].append((start, until))
        if kind == 0:
            booked[staff_id].append((start, end))
    snapshot.busy.update(busy)
    snapshot.booked.update(booked)

    type_ids = sorted({t for spec in sequence for t in spec.resource_type_ids})
    if type_ids:
        places: dict[int, list[tuple[int, int, list[tuple[int, int]]]]] = defaultdict(list)
        holds: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for resource_id, type_id, capacity, place, hold_start, hold_end in _resource_rows(
            cursor,
            location_id=location.pk,
            type_ids=type_ids,
            start=window_start,
            end=window_end,
            exclude_id=exclude_id,
        ):
            if (resource_id, 1) not in holds:
                for number in range(1, capacity + 1):
                    holds[(resource_id, number)] = []
                    places[type_id].append((resource_id, number, holds[(resource_id, number)]))
            if place is not None and hold_start is not None and hold_end is not None and (resource_id, place) in holds:
                holds[(resource_id, place)].append((hold_start, hold_end))
        snapshot.places.update(places)
    return _Loaded(snapshot, tz, settings, online)


def _check_range(*, services: Sequence[Service], date_from: datetime.date, date_to: datetime.date) -> None:
    if not services:
        raise scheduling_error(SchedulingError.UNKNOWN_SERVICE, field="service")
    if len(services) > MAX_SERVICES:
        raise scheduling_error(SchedulingError.TOO_MANY_SERVICES, field="services")
    if date_to < date_from:
        raise scheduling_error(SchedulingError.END_BEFORE_START, field="date_to")
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise scheduling_error(SchedulingError.RANGE_TOO_LONG, field="date_to")


def availability_search(
    *,
    location: Location,
    services: Sequence[Service],
    date_from: datetime.date,
    date_to: datetime.date,
    staff: User | None = None,
    channel: str = "staff",
    exclude_appointment: Appointment | None = None,
    now: datetime.datetime | None = None,
) -> list[Slot]:
    """The bookable starts (sorted, one ``Slot`` each) for ``services`` done one after another, on the
    local dates ``date_from`` to ``date_to`` at ``location``. Slots are never in the past; the online
    channel also keeps the online notice and advance limits and refuses services not bookable online.
    ``exclude_appointment`` frees that appointment's own lines and holds (to move it)."""
    _check_range(services=services, date_from=date_from, date_to=date_to)
    loaded = availability_load(
        location=location,
        services=services,
        date_from=date_from,
        date_to=date_to,
        staff=staff,
        exclude_appointment=exclude_appointment,
    )
    snapshot, tz = loaded.snapshot, loaded.tz
    now = now or timezone.now()
    earliest = _epoch(now)
    latest: int | None = None
    if channel == CHANNEL_ONLINE:
        if not all(loaded.online_bookable.get(spec.service_id, True) for spec in snapshot.services):
            raise scheduling_error(SchedulingError.SERVICE_NOT_BOOKABLE_ONLINE, field="service")
        _, notice, ahead = loaded.settings
        earliest += notice * 60
        last_day = now.astimezone(tz).date() + datetime.timedelta(days=ahead)
        latest = _epoch(_local_midnight(last_day + datetime.timedelta(days=1), tz))
    raw = slots_compute(snapshot, earliest=earliest, latest=latest, staff_id=staff.pk if staff else None)
    return [_slot(found, tz) for found in raw]


def _at(seconds: int, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz)


def _slot(found: RawSlot, tz: zoneinfo.ZoneInfo) -> Slot:
    start, segments = found
    built = tuple(
        SlotSegment(service_id=sid, staff_id=staff_id, start=_at(s, tz), end=_at(e, tz), busy_until=_at(b, tz))
        for sid, staff_id, s, e, b in segments
    )
    return Slot(start=_at(start, tz), end=built[-1].end, segments=built)


def availability_staff_options(
    *,
    location: Location,
    services: Sequence[Service],
    start: datetime.datetime,
    channel: str = "staff",
    exclude_appointment: Appointment | None = None,
    now: datetime.datetime | None = None,
) -> list[User]:
    """The technicians who could take the whole visit themselves at ``start`` (every segment by the same
    person), sorted by name."""
    tz = salon_timezone()
    day = start.astimezone(tz).date()
    _check_range(services=services, date_from=day, date_to=day)
    loaded = availability_load(
        location=location,
        services=services,
        date_from=day,
        date_to=day,
        exclude_appointment=exclude_appointment,
    )
    snapshot = loaded.snapshot
    wanted = _epoch(start)
    able = []
    for staff_id, performs in snapshot.skills.items():
        if not all(spec.service_id in performs for spec in snapshot.services):
            continue
        single = Snapshot(
            services=snapshot.services,
            step=1,
            days=[(wanted, wanted + 1)],
            skills=snapshot.skills,
            periods=snapshot.periods,
            busy=snapshot.busy,
            booked=snapshot.booked,
            places=snapshot.places,
        )
        earliest = _epoch(now or timezone.now())
        if channel == CHANNEL_ONLINE:
            earliest += loaded.settings[1] * 60
        if slots_compute(single, earliest=earliest, staff_id=staff_id):
            able.append(staff_id)
    return list(User.objects.filter(pk__in=able).order_by("name", "id"))

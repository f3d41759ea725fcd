"""Availability engine (SCH-4): the bookable starts of one service or several in sequence (one visit), at
one location, for a chosen technician or "any staff".

Two layers:

* ``availability_load`` reads everything a search needs in one SQL statement into a ``Snapshot`` of
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


def _epoch_sql(column: str) -> str:
    """Instants leave the database as whole epoch seconds: the core works on integers."""
    return f"EXTRACT(EPOCH FROM {column})::bigint"


def _search_sql(*, chosen: bool, exclude: bool) -> str:
    """One statement reads a search's data: each part a JSON array of rows (``json_agg``), so one round
    trip brings it all. Parts: the services with their booking rule and needed resource types (one row
    per type); the booking settings; the skills of active staff for these services with whether each
    works at the location; of those who do, the weekly patterns at the location, the dated exceptions
    (any location: a working day elsewhere still replaces the pattern here), the active lines (any
    location) and the time off overlapping the window; and the location's active resources of the needed
    types with their active holds overlapping the window. Lines and holds are found by the range
    expression of their exclusion constraints, so the constraints' GiST indexes serve them; the window
    ends one visit's length after the last day."""
    skills, places = StaffProfile.skills.through, User.locations.through
    needs = ServiceBookingRule.resource_types.through
    w_user, w_location = _column(places, "user"), _column(places, "location")
    k_service = _column(skills, "service")
    line, hold, e = _table(AppointmentLine), _table(AppointmentResource), _epoch_sql
    return f"""
        WITH svc AS (
            SELECT s.id, s.is_active, s.duration_minutes, s.buffer_minutes, r.is_online_bookable,
                   t.id AS type_id, t.is_active AS type_active
              FROM {_table(Service)} s
              LEFT JOIN {_table(ServiceBookingRule)} r ON r.service_id = s.id
              LEFT JOIN {_table(needs)} n ON n.{_column(needs, "servicebookingrule")} = r.id
              LEFT JOIN {_table(ResourceType)} t ON t.id = n.{_column(needs, "resourcetype")}
             WHERE s.id = ANY(%(services)s)
        ), skill AS (
            SELECT p.user_id, k.{k_service} AS service_id,
                   NOT EXISTS (SELECT 1 FROM {_table(places)} w WHERE w.{w_user} = p.user_id)
                   OR EXISTS (
                       SELECT 1 FROM {_table(places)} w WHERE w.{w_user} = p.user_id AND w.{w_location} = %(location)s
                   ) AS here
              FROM {_table(skills)} k
              JOIN {_table(StaffProfile)} p ON p.id = k.{_column(skills, "staffprofile")}
              JOIN {_table(User)} u ON u.id = p.user_id
             WHERE k.{k_service} = ANY(%(services)s) AND u.is_active {"AND p.user_id = %(staff)s" if chosen else ""}
        ), who AS (
            SELECT DISTINCT user_id FROM skill WHERE here
        ), win AS (
            SELECT TSTZRANGE(
                %(window_start)s,
                %(window_end)s + make_interval(mins => COALESCE((
                    SELECT SUM(s.duration_minutes + s.buffer_minutes)::int
                      FROM unnest(%(sequence)s::bigint[]) AS v(id) JOIN {_table(Service)} s ON s.id = v.id
                ), 0)),
                '[)'
            ) AS r
        )
        SELECT
          (SELECT json_agg(json_build_array(id, is_active, duration_minutes, buffer_minutes, is_online_bookable,
                                            type_id, type_active)) FROM svc),
          (SELECT json_build_array(slot_step_minutes, online_min_notice_minutes, online_max_days_ahead)
             FROM {_table(SchedulingSettings)} WHERE id = 1),
          (SELECT json_agg(json_build_array(user_id, service_id, here)) FROM skill),
          (SELECT json_agg(json_build_array(staff_id, location_id, weekday, start_time, end_time, valid_from,
                                            valid_until))
             FROM {_table(ShiftPattern)}
            WHERE staff_id IN (SELECT user_id FROM who) AND location_id = %(location)s
              AND valid_from <= %(roster_to)s AND (valid_until IS NULL OR valid_until >= %(roster_from)s)),
          (SELECT json_agg(json_build_array(staff_id, date, is_working, location_id, start_time, end_time))
             FROM {_table(ShiftException)}
            WHERE staff_id IN (SELECT user_id FROM who) AND date >= %(roster_from)s AND date <= %(roster_to)s),
          (SELECT json_agg(json_build_array(staff_id, {e("start")}, {e('"end"')}, {e("busy_until")}))
             FROM {line}
            WHERE is_active AND TSTZRANGE(start, busy_until, '[)') && (SELECT r FROM win)
              AND staff_id IN (SELECT user_id FROM who) {"AND appointment_id <> %(exclude)s" if exclude else ""}),
          (SELECT json_agg(json_build_array(staff_id, {e("start")}, {e('"end"')}))
             FROM {_table(TimeOff)}
            WHERE staff_id IN (SELECT user_id FROM who) AND TSTZRANGE(start, "end", '[)') && (SELECT r FROM win)),
          (SELECT json_agg(json_build_array(x.id, x.resource_type_id, x.capacity, h.place, {e("h.start")},
                                            {e('h."end"')}) ORDER BY x.sort_order, x.id)
             FROM {_table(Resource)} x
             LEFT JOIN {hold} h
               ON h.resource_id = x.id AND h.is_active
              AND TSTZRANGE(h.start, h."end", '[)') && (SELECT r FROM win)
              {
        f"AND NOT EXISTS (SELECT 1 FROM {line} l WHERE l.id = h.line_id AND l.appointment_id = %(exclude)s)"
        if exclude
        else ""
    }
            WHERE x.location_id = %(location)s AND x.is_active
              AND x.resource_type_id IN (SELECT type_id FROM svc WHERE is_active AND type_active))
    """


def _time(text: str | None) -> datetime.time | None:
    return datetime.time.fromisoformat(text) if text is not None else None


def _date(text: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text is not None else None


def availability_load(
    *,
    location: Location,
    services: Sequence[Service],
    date_from: datetime.date,
    date_to: datetime.date,
    staff: User | None = None,
    exclude_appointment: Appointment | None = None,
) -> _Loaded:
    """Read a search's data into a ``Snapshot`` with one SQL statement (``_search_sql``), so one round
    trip after django-tenants' ``SET search_path``. Raises ``SchedulingError`` for unknown or inactive
    services and staff."""
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
    if staff is not None and not staff.is_active:
        raise scheduling_error(SchedulingError.UNKNOWN_STAFF, field="staff")
    day_starts = [date_from + datetime.timedelta(days=n) for n in range((date_to - date_from).days + 2)]
    bounds = [_local_midnight(d, tz) for d in day_starts]
    exclude_id = exclude_appointment.pk if exclude_appointment is not None else None
    cursor.execute(
        _search_sql(chosen=staff is not None, exclude=exclude_id is not None),
        {
            "services": sorted(set(service_ids)),
            "sequence": service_ids,
            "location": location.pk,
            "staff": staff.pk if staff is not None else None,
            "exclude": exclude_id,
            "window_start": bounds[0],
            "window_end": bounds[-1],
            "roster_from": date_from,
            "roster_to": date_to + datetime.timedelta(days=1),
        },
    )
    service_rows, settings_row, skill_rows, pattern_rows, exception_rows, line_rows, off_rows, resource_rows = (
        part or [] for part in cursor.fetchone()
    )
    specs: dict[int, tuple[int, int, list[int]]] = {}
    online: dict[int, bool] = {}
    settings = (settings_row[0], settings_row[1], settings_row[2]) if settings_row else (15, 60, 60)
    for sid, active, minutes, buffer, is_online, type_id, type_active in service_rows:
        if not active:
            continue
        spec = specs.setdefault(sid, (minutes * 60, buffer * 60, []))
        if type_id is not None and type_active:
            spec[2].append(type_id)
        online[sid] = is_online if is_online is not None else True
    for sid in service_ids:
        if sid not in specs:
            raise scheduling_error(SchedulingError.UNKNOWN_SERVICE, field="service")
    sequence = tuple(
        ServiceSpec(sid, specs[sid][0], specs[sid][1], tuple(sorted(specs[sid][2]))) for sid in service_ids
    )
    skills: dict[int, set[int]] = defaultdict(set)
    performs: set[int] = set()
    for user_id, sid, here in skill_rows:
        if sid not in specs:  # an inactive service
            continue
        performs.add(sid)
        if here:
            skills[user_id].add(sid)
    if staff is not None and not performs.issuperset(specs):
        raise scheduling_error(SchedulingError.STAFF_LACKS_SKILL, field="staff")
    days = [(_epoch(bounds[i]), _epoch(bounds[i + 1])) for i in range(len(bounds) - 1)]
    snapshot = Snapshot(
        services=sequence,
        step=settings[0] * 60,
        days=days,
        skills={s: frozenset(found) for s, found in skills.items()},
    )
    patterns = [
        PatternRow(staff_id, loc, weekday, _time(a), _time(b), _date(vf), _date(vu))  # type: ignore[arg-type]
        for staff_id, loc, weekday, a, b, vf, vu in pattern_rows
    ]
    exceptions = [
        ExceptionRow(staff_id, _date(day), working, loc, _time(a), _time(b))  # type: ignore[arg-type]
        for staff_id, day, working, loc, a, b in exception_rows
    ]
    periods = expand_roster(
        patterns=patterns,
        exceptions=exceptions,
        date_from=date_from,
        date_to=date_to + datetime.timedelta(days=1),
        tz=tz,
    )
    for staff_id, found in periods.items():
        kept = [(_epoch(p.start), _epoch(p.end)) for p in found if p.location_id == location.pk]
        if kept and staff_id in snapshot.skills:
            snapshot.periods[staff_id] = kept
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    booked: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for staff_id, start, end, until in line_rows:
        busy[staff_id].append((start, until))
        booked[staff_id].append((start, end))
    for staff_id, start, end in off_rows:
        busy[staff_id].append((start, end))
    snapshot.busy.update(busy)
    snapshot.booked.update(booked)
    places: dict[int, list[tuple[int, int, list[tuple[int, int]]]]] = defaultdict(list)
    holds: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for resource_id, type_id, capacity, place, hold_start, hold_end in resource_rows:
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

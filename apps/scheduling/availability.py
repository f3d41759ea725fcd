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

from django.db import connection
from django.db.models import Exists, OuterRef, Subquery
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
    SchedulingSettings,
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


def _booked_seconds(intervals: list[tuple[int, int]], day: tuple[int, int]) -> int:
    return sum(max(0, min(end, day[1]) - max(start, day[0])) for start, end in intervals)


def slots_compute(
    snapshot: Snapshot, *, earliest: int, latest: int | None = None, staff_id: int | None = None
) -> list[RawSlot]:
    """The valid starts on the slot grid of each day in the snapshot, not before ``earliest`` and before
    ``latest``, with a technician per segment: ``staff_id`` for all segments when given, otherwise the
    skilled free technician with the least booked time that day (ties: the lowest id)."""
    services = snapshot.services
    offsets: list[int] = []
    at = 0
    for spec in services:
        offsets.append(at)
        at += spec.duration + spec.buffer
    candidates = sorted(snapshot.skills) if staff_id is None else [staff_id]
    fits = {
        s: _Fits(_free_windows(snapshot.periods.get(s, []), snapshot.busy.get(s, [])))
        for s in candidates
        if s in snapshot.skills
    }
    place_fits = {
        type_id: [_Fits(_gaps(holds)) for _, _, holds in places] for type_id, places in snapshot.places.items()
    }
    type_fits = [[place_fits.get(t, []) for t in spec.resource_type_ids] for spec in services]
    step = snapshot.step
    found: list[RawSlot] = []
    for day in snapshot.days:
        # Skilled staff per segment, in the order they are preferred that day.
        if staff_id is None:
            load = {s: _booked_seconds(snapshot.booked.get(s, []), day) for s in fits}
            order = sorted(fits, key=lambda s: (load[s], s))
        else:
            order = [s for s in candidates if s in fits]
        per_segment = [[fits[s] for s in order if spec.service_id in snapshot.skills[s]] for spec in services]
        ids_per_segment = [[s for s in order if spec.service_id in snapshot.skills[s]] for spec in services]
        if any(not staff for staff in per_segment):
            continue
        first = max(day[0], earliest)
        # Align to the day's grid (the day starts at local midnight).
        t = day[0] + -(-(first - day[0]) // step) * step
        stop = day[1] if latest is None else min(day[1], latest)
        while t < stop:
            segments: list[RawSegment] = []
            for k, spec in enumerate(services):
                s_start = t + offsets[k]
                s_end = s_start + spec.duration
                s_busy = s_end + spec.buffer
                chosen = -1
                for fit, sid in zip(per_segment[k], ids_per_segment[k], strict=True):
                    if fit(s_start, s_busy):
                        chosen = sid
                        break
                if chosen < 0:
                    break
                if not all(any(f(s_start, s_busy) for f in places) for places in type_fits[k]):
                    break
                segments.append((spec.service_id, chosen, s_start, s_end, s_busy))
            if len(segments) == len(services):
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


def _service_rows(service_ids: list[int]) -> list[tuple]:
    """Query 1: the services, their booking rule and needed (active) resource types — one row per type —
    and the booking settings as subqueries."""
    settings = SchedulingSettings.objects.filter(id=1)
    return list(
        Service.objects.filter(id__in=service_ids)
        .annotate(
            step=Subquery(settings.values("slot_step_minutes")[:1]),
            notice=Subquery(settings.values("online_min_notice_minutes")[:1]),
            ahead=Subquery(settings.values("online_max_days_ahead")[:1]),
        )
        .values_list(
            "id",
            "is_active",
            "duration_minutes",
            "buffer_minutes",
            "booking_rule__is_online_bookable",
            "booking_rule__resource_types",
            "booking_rule__resource_types__is_active",
            "step",
            "notice",
            "ahead",
        )
        .order_by()
    )


def _staff_skills(*, service_ids: list[int], location: Location, staff: User | None) -> list[tuple]:
    """Query 2: (user id, service id, works at the location) of active staff who perform one of the
    services (only the chosen person when given). Someone with no locations works in every location."""
    through = StaffProfile.skills.through
    user_locations = User.locations.through
    rows = through.objects.filter(service_id__in=service_ids, staffprofile__user__is_active=True)
    if staff is not None:
        rows = rows.filter(staffprofile__user_id=staff.pk)
    return list(
        rows.annotate(  # type: ignore[misc]  # the stubs do not see the annotation in values_list
            here=Exists(
                user_locations.objects.filter(user_id=OuterRef("staffprofile__user_id"), location_id=location.pk)
            )
            | ~Exists(user_locations.objects.filter(user_id=OuterRef("staffprofile__user_id")))
        )
        .values_list("staffprofile__user_id", "service_id", "here")
        .order_by()
    )


def _roster_rows(
    *, staff_ids: list[int], location_id: int, date_from: datetime.date, date_to: datetime.date
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
    with connection.cursor() as cursor:
        cursor.execute(sql, [staff_ids, location_id, date_to, date_from, staff_ids, date_from, date_to])
        rows = cursor.fetchall()
    patterns = [PatternRow(r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows if r[0] == 0]
    exceptions = [ExceptionRow(r[1], r[6], r[8], r[2], r[4], r[5]) for r in rows if r[0] == 1]
    return patterns, exceptions


def _busy_rows(
    *, staff_ids: list[int], start: datetime.datetime, end: datetime.datetime, exclude_id: int | None
) -> list[tuple]:
    """Query 4: active lines (any location; start, end, busy_until) and time off (start, end, end) of
    these people overlapping [start, end), in one UNION. Kind 0 is a line, 1 time off."""
    line, off = AppointmentLine._meta.db_table, TimeOff._meta.db_table
    sql = f"""
        SELECT 0, staff_id, start, "end", busy_until
          FROM {line}
         WHERE is_active AND staff_id = ANY(%s) AND start < %s AND busy_until > %s AND appointment_id <> %s
        UNION ALL
        SELECT 1, staff_id, start, "end", "end"
          FROM {off}
         WHERE staff_id = ANY(%s) AND start < %s AND "end" > %s
    """  # table names come from the models
    with connection.cursor() as cursor:
        cursor.execute(sql, [staff_ids, end, start, exclude_id or 0, staff_ids, end, start])
        return cursor.fetchall()


def _resource_rows(
    *,
    location_id: int,
    type_ids: list[int],
    start: datetime.datetime,
    end: datetime.datetime,
    exclude_id: int | None,
) -> list[tuple]:
    """Query 5: the location's active resources of these types, each with its active holds overlapping
    [start, end) (LEFT JOIN: a resource with no hold gives one row of NULLs)."""
    resource, hold, line = Resource._meta.db_table, AppointmentResource._meta.db_table, AppointmentLine._meta.db_table
    sql = f"""
        SELECT r.id, r.resource_type_id, r.capacity, h.place, h.start, h."end"
          FROM {resource} r
          LEFT JOIN {hold} h
            ON h.resource_id = r.id AND h.is_active AND h.start < %s AND h."end" > %s
           AND NOT EXISTS (SELECT 1 FROM {line} l WHERE l.id = h.line_id AND l.appointment_id = %s)
         WHERE r.location_id = %s AND r.is_active AND r.resource_type_id = ANY(%s)
         ORDER BY r.sort_order, r.id
    """  # table names come from the models
    with connection.cursor() as cursor:
        cursor.execute(sql, [end, start, exclude_id or 0, location_id, type_ids])
        return cursor.fetchall()


def availability_load(
    *,
    location: Location,
    services: Sequence[Service],
    date_from: datetime.date,
    date_to: datetime.date,
    staff: User | None = None,
    exclude_appointment: Appointment | None = None,
) -> _Loaded:
    """Read a search's data into a ``Snapshot`` (at most five queries; four when no service needs a
    resource). Raises ``SchedulingError`` for unknown or inactive services and staff."""
    tz = salon_timezone()
    service_ids = [s.pk for s in services]
    rows = _service_rows(sorted(set(service_ids)))
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
    for user_id, sid, here in _staff_skills(service_ids=list(specs), location=location, staff=staff):
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
        staff_ids=staff_ids, location_id=location.pk, date_from=date_from, date_to=date_to + datetime.timedelta(days=1)
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
        staff_ids=staff_ids, start=window_start, end=window_end, exclude_id=exclude_id
    ):
        busy[staff_id].append((_epoch(start), _epoch(until)))
        if kind == 0:
            booked[staff_id].append((_epoch(start), _epoch(end)))
    snapshot.busy.update(busy)
    snapshot.booked.update(booked)

    type_ids = sorted({t for spec in sequence for t in spec.resource_type_ids})
    if type_ids:
        places: dict[int, list[tuple[int, int, list[tuple[int, int]]]]] = defaultdict(list)
        holds: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for resource_id, type_id, capacity, place, start, end in _resource_rows(
            location_id=location.pk, type_ids=type_ids, start=window_start, end=window_end, exclude_id=exclude_id
        ):
            if (resource_id, 1) not in holds:
                for number in range(1, capacity + 1):
                    holds[(resource_id, number)] = []
                    places[type_id].append((resource_id, number, holds[(resource_id, number)]))
            if place is not None and (resource_id, place) in holds:
                holds[(resource_id, place)].append((_epoch(start), _epoch(end)))
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

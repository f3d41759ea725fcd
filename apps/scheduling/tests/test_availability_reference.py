"""The availability engine against a brute-force reference, on random salons.

The reference is written independently and simply: it marks every busy minute of each technician and
each resource place, and for every start on the grid checks each segment minute by minute. It checks
that every slot the engine offers is valid (the technicians it picked perform the service, work the whole
span within one period, are free every minute; a place of each needed resource type is free every
minute), that the engine offers every start the reference finds valid, and that "any staff" picks the
least booked technician that day (ties: the lowest id).

The pure core runs on many generated salons; a smaller property runs through the database loader."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass

import pytest
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.models import Location
from apps.scheduling.availability import ServiceSpec, Snapshot, availability_search, slots_compute
from apps.scheduling.models import (
    AppointmentLine,
    AppointmentResource,
    Resource,
    ResourceType,
    SchedulingSettings,
    ServiceBookingRule,
    ShiftException,
    ShiftPattern,
    TimeOff,
)
from apps.scheduling.tests.support import client_make, default_location, service_make, technician_make

BASE = 1_900_000_000 // 86400 * 86400  # a UTC midnight in 2030
MIN = 60
HORIZON = 3 * 1440  # minutes the reference tracks from BASE


# ---------------------------------------------------------------------------------------------------------
# The reference: minutes from BASE, lists of booleans.


@dataclass
class World:
    step: int  # minutes
    days: list[tuple[int, int]]  # minutes
    services: list[tuple[int, int, int, tuple[int, ...]]]  # (id, duration, buffer, resource types) in order
    skills: dict[int, set[int]]
    periods: dict[int, list[tuple[int, int]]]
    busy: dict[int, list[tuple[int, int]]]  # lines (start, busy_until) and time off
    booked: dict[int, list[tuple[int, int]]]  # lines (start, end)
    places: dict[int, list[list[tuple[int, int]]]]  # type -> each place's holds
    earliest: int
    staff_id: int | None


def _marks(intervals: list[tuple[int, int]]) -> list[bool]:
    taken = [False] * HORIZON
    for start, end in intervals:
        for minute in range(max(0, start), min(HORIZON, end)):
            taken[minute] = True
    return taken


def reference(world: World) -> dict[int, list[list[int]]]:
    """For each valid start, per segment the technicians who could do it (sorted)."""
    busy = {s: _marks(world.busy.get(s, [])) for s in world.skills}
    place_marks = {t: [_marks(h) for h in holds] for t, holds in world.places.items()}
    valid: dict[int, list[list[int]]] = {}
    for day_start, day_end in world.days:
        for start in range(day_start, day_end):
            if (start - day_start) % world.step or start < world.earliest:
                continue
            at = start
            options: list[list[int]] = []
            for service_id, duration, buffer, types in world.services:
                until = at + duration + buffer
                if until > HORIZON:
                    options = []
                    break
                who = []
                for staff_id, performs in world.skills.items():
                    if world.staff_id is not None and staff_id != world.staff_id:
                        continue
                    if service_id not in performs:
                        continue
                    if not any(p_start <= at and until <= p_end for p_start, p_end in world.periods.get(staff_id, [])):
                        continue
                    if any(busy[staff_id][at:until]):
                        continue
                    who.append(staff_id)
                rooms_ok = all(any(not any(marks[at:until]) for marks in place_marks.get(t, [])) for t in types)
                if not who or not rooms_ok:
                    options = []
                    break
                options.append(sorted(who))
                at = until
            if options:
                valid[start] = options
    return valid


def least_booked(world: World, candidates: list[int], day: tuple[int, int]) -> int:
    def load(staff_id: int) -> int:
        return sum(max(0, min(end, day[1]) - max(start, day[0])) for start, end in world.booked.get(staff_id, []))

    return min(candidates, key=lambda s: (load(s), s))


def check(world: World, engine: list[tuple[int, tuple[tuple[int, int, int, int, int], ...]]]) -> None:
    expected = reference(world)
    offered = {start: segments for start, segments in engine}
    assert sorted(offered) == sorted(expected)
    assert [start for start, _ in engine] == sorted(offered)
    for start, segments in offered.items():
        day = next(d for d in world.days if d[0] <= start < d[1])
        at = start
        for (service_id, duration, buffer, _), segment, who in zip(
            world.services, segments, expected[start], strict=True
        ):
            assert segment == (service_id, segment[1], at, at + duration, at + duration + buffer)
            assert segment[1] in who
            if world.staff_id is None:
                assert segment[1] == least_booked(world, who, day)
            at += duration + buffer


def to_snapshot(world: World) -> Snapshot:
    def sec(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return [(BASE + a * MIN, BASE + b * MIN) for a, b in intervals]

    return Snapshot(
        services=tuple(ServiceSpec(i, d * MIN, b * MIN, types) for i, d, b, types in world.services),
        step=world.step * MIN,
        days=sec(world.days),
        skills={s: frozenset(p) for s, p in world.skills.items()},
        periods={s: sec(p) for s, p in world.periods.items()},
        busy={s: sec(b) for s, b in world.busy.items()},
        booked={s: sec(b) for s, b in world.booked.items()},
        places={
            t: [(t * 100 + n, 1, sec(holds)) for n, holds in enumerate(places)] for t, places in world.places.items()
        },
    )


def run_engine(world: World) -> list[tuple[int, tuple[tuple[int, int, int, int, int], ...]]]:
    found = slots_compute(to_snapshot(world), earliest=BASE + world.earliest * MIN, staff_id=world.staff_id)
    back = []
    for start, segments in found:
        back.append(
            (
                (start - BASE) // MIN,
                tuple(
                    (sid, staff, (s - BASE) // MIN, (e - BASE) // MIN, (b - BASE) // MIN)
                    for sid, staff, s, e, b in segments
                ),
            )
        )
    return back


# ---------------------------------------------------------------------------------------------------------
# Random salons.


def _interval(lo: int, hi: int, grain: int = 1, longest: int = 600) -> st.SearchStrategy[tuple[int, int]]:
    return (
        st.tuples(st.integers(lo // grain, hi // grain), st.integers(1, longest // grain))
        .map(lambda pair: (pair[0] * grain, min(hi, pair[0] * grain + pair[1] * grain)))
        .filter(lambda pair: pair[1] > pair[0])
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    step = draw(st.sampled_from([5, 10, 15, 20, 30, 60]))
    n_days = draw(st.integers(1, 2))
    days = [(d * 1440, (d + 1) * 1440) for d in range(n_days)]
    # A DST-like day: 23 or 25 hours.
    if draw(st.booleans()):
        days = [(0, 1380)] if draw(st.booleans()) else [(0, 1500)]
    pool = {
        sid: (
            sid,
            draw(st.integers(1, 24)) * 5,
            draw(st.integers(0, 6)) * 5,
            tuple(sorted(draw(st.sets(st.sampled_from([1, 2]), max_size=2)))),
        )
        for sid in (1, 2, 3)
    }
    visit = draw(st.lists(st.sampled_from(sorted(pool)), min_size=1, max_size=3))
    staff_ids = list(range(10, 10 + draw(st.integers(1, 4))))
    skills = {s: draw(st.sets(st.sampled_from([1, 2, 3]), min_size=1, max_size=3)) for s in staff_ids}
    horizon = days[-1][1] + 300
    periods = {
        s: draw(st.lists(_interval(0, horizon, grain=5, longest=900), min_size=1, max_size=3)) for s in staff_ids
    }
    busy: dict[int, list[tuple[int, int]]] = {}
    booked: dict[int, list[tuple[int, int]]] = {}
    for s in staff_ids:
        lines = draw(st.lists(_interval(0, horizon, longest=120), max_size=3))
        off = draw(st.lists(_interval(0, horizon, longest=600), max_size=1))
        ends = [draw(st.integers(start + 1, until)) for start, until in lines]
        busy[s] = lines + off
        booked[s] = [(start, end) for (start, _), end in zip(lines, ends, strict=True)]
    places = {
        t: [
            draw(st.lists(_interval(0, horizon, longest=240), max_size=3))
            for _ in range(draw(st.integers(0, 3)) if draw(st.integers(0, 4)) == 0 else draw(st.integers(1, 3)))
        ]
        for t in (1, 2)
    }
    earliest = draw(st.one_of(st.just(0), st.just(0), st.integers(0, horizon)))
    staff_id = draw(st.one_of(st.none(), st.sampled_from(staff_ids)))
    return World(
        step=step,
        days=days,
        services=[pool[sid] for sid in visit],
        skills=skills,
        periods=periods,
        busy=busy,
        booked=booked,
        places=places,
        earliest=earliest,
        staff_id=staff_id,
    )


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_the_pure_core_agrees_with_the_reference(world):
    check(world, run_engine(world))


def test_the_reference_sees_a_simple_case():
    # given one technician 10:00–12:00 with a line 10:30–11:00, a 30-minute service, a 30-minute grid
    world = World(
        step=30,
        days=[(0, 1440)],
        services=[(1, 30, 0, ())],
        skills={10: {1}},
        periods={10: [(600, 720)]},
        busy={10: [(630, 660)]},
        booked={10: [(630, 660)]},
        places={},
        earliest=0,
        staff_id=None,
    )
    # then both find 10:00 and 11:00 and 11:30
    assert sorted(reference(world)) == [600, 660, 690]
    check(world, run_engine(world))


# ---------------------------------------------------------------------------------------------------------
# Through the database: random rosters, exceptions, time off, bookings and rooms in a Shanghai salon.

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
DAY = datetime.date(2030, 3, 4)
_names = itertools.count()


def _local(minute: int) -> datetime.datetime:
    return datetime.datetime.combine(DAY, datetime.time(0), tzinfo=SHANGHAI) + datetime.timedelta(minutes=minute)


def _clock(minute: int) -> datetime.time:
    return datetime.time(minute // 60, minute % 60)


@st.composite
def db_salons(draw: st.DrawFn) -> dict:
    services = [(draw(st.integers(2, 12)) * 10, draw(st.integers(0, 3)) * 5, draw(st.booleans())) for _ in range(2)]
    staff = []
    for _ in range(draw(st.integers(1, 3))):
        shifts = draw(st.lists(st.tuples(st.integers(16, 40), st.integers(1, 16)), min_size=1, max_size=2))
        staff.append(
            {
                "skills": draw(st.sets(st.sampled_from([0, 1]), min_size=1)),
                "pattern": [(a * 30, min(1439, a * 30 + n * 30)) for a, n in shifts],
                "exception": draw(
                    st.one_of(st.none(), st.just("off"), st.tuples(st.integers(16, 30), st.integers(2, 12)))
                ),
                "time_off": draw(st.one_of(st.none(), st.tuples(st.integers(480, 1200), st.integers(10, 240)))),
                "lines": draw(st.lists(st.integers(480, 1300), max_size=2)),
            }
        )
    return {
        "services": services,
        "staff": staff,
        "rooms": draw(st.integers(0, 2)),
        "visit": draw(st.lists(st.sampled_from([0, 1]), min_size=1, max_size=2)),
        "chosen": draw(st.one_of(st.none(), st.integers(0, len(staff) - 1))),
        "step": draw(st.sampled_from([15, 30, 60])),
    }


def _build(salon: dict) -> tuple[list, list, World]:
    SchedulingSettings.objects.filter(id=1).update(slot_step_minutes=salon["step"])
    location = default_location()
    room_type = ResourceType.objects.create(name=f"Room {next(_names)}")
    rooms = [
        Resource.objects.create(location=location, resource_type=room_type, name=f"R{n}") for n in range(salon["rooms"])
    ]
    services = []
    for minutes, buffer, needs_room in salon["services"]:
        service = service_make(f"S{next(_names)}", minutes=minutes, buffer=buffer)
        if needs_room:
            ServiceBookingRule.objects.create(service=service).resource_types.set([room_type])
        services.append(service)
    client = client_make()
    world_staff: dict[int, set[int]] = {}
    periods: dict[int, list[tuple[int, int]]] = {}
    busy: dict[int, list[tuple[int, int]]] = {}
    booked: dict[int, list[tuple[int, int]]] = {}
    room_holds: list[tuple[int, int]] = []
    users = []
    for person in salon["staff"]:
        user = technician_make(f"T{next(_names)}", services=[services[i] for i in person["skills"]], hours=None)
        users.append(user)
        world_staff[user.pk] = {services[i].pk for i in person["skills"]}
        for start, end in person["pattern"]:
            ShiftPattern.objects.create(
                staff=user,
                location=location,
                weekday=DAY.weekday(),
                start_time=_clock(start),
                end_time=_clock(end),
                valid_from=DAY,
            )
        worked = list(person["pattern"])
        if person["exception"] == "off":
            ShiftException.objects.create(staff=user, date=DAY, is_working=False)
            worked = []
        elif person["exception"] is not None:
            a, n = person["exception"]
            ShiftException.objects.create(
                staff=user, date=DAY, location=location, start_time=_clock(a * 30), end_time=_clock(a * 30 + n * 30)
            )
            worked = [(a * 30, a * 30 + n * 30)]
        periods[user.pk] = worked
        busy[user.pk], booked[user.pk] = [], []
        if person["time_off"] is not None:
            start, length = person["time_off"]
            TimeOff.objects.create(staff=user, start=_local(start), end=_local(start + length))
            busy[user.pk].append((start, start + length))
        service = services[min(person["skills"])]
        for start in person["lines"]:
            end, until = start + service.duration_minutes, start + service.duration_minutes + service.buffer_minutes
            try:
                with transaction.atomic():
                    appointment = _appointment(client, location, start, end)
                    line = AppointmentLine.objects.create(
                        appointment=appointment,
                        service=service,
                        staff=user,
                        start=_local(start),
                        end=_local(end),
                        busy_until=_local(until),
                        price=0,
                    )
                    held = next((room for room in rooms if not _overlaps(room_holds, room.pk, start, until)), None)
                    if held is not None:
                        AppointmentResource.objects.create(
                            line=line, resource=held, place=1, start=_local(start), end=_local(until)
                        )
                        room_holds.append((held.pk, start, until))
            except IntegrityError:  # an overlapping random line is simply not added
                continue
            busy[user.pk].append((start, until))
            booked[user.pk].append((start, end))
    places = {room_type.pk: [[(s, u) for rid, s, u in room_holds if rid == room.pk] for room in rooms]}
    visit = [services[i] for i in salon["visit"]]
    world = World(
        step=salon["step"],
        days=[(0, 1440)],
        services=[
            (s.pk, s.duration_minutes, s.buffer_minutes, (room_type.pk,) if salon["services"][i][2] else ())
            for i, s in zip(salon["visit"], visit, strict=True)
        ],
        skills=world_staff,
        periods=periods,
        busy=busy,
        booked=booked,
        places=places,
        earliest=0,
        staff_id=users[salon["chosen"]].pk if salon["chosen"] is not None else None,
    )
    return visit, users, world


def _overlaps(holds: list[tuple[int, int, int]], resource_id: int, start: int, until: int) -> bool:
    return any(rid == resource_id and s < until and start < u for rid, s, u in holds)


def _appointment(client, location: Location, start: int, end: int):
    from apps.scheduling.models import Appointment

    return Appointment.objects.create(client=client, location=location, start=_local(start), end=_local(end))


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(salon=db_salons())
def test_the_loader_and_core_agree_with_the_reference(alpha, salon):
    with schema_context(alpha.schema), transaction.atomic():
        visit, users, world = _build(salon)
        chosen = users[salon["chosen"]] if salon["chosen"] is not None else None
        if chosen is not None and not all(s.pk in world.skills[chosen.pk] for s in visit):
            transaction.set_rollback(True)
            return
        slots = availability_search(
            location=default_location(),
            services=visit,
            date_from=DAY,
            date_to=DAY,
            staff=chosen,
            now=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        )
        midnight = _local(0)
        engine = [
            (
                int((slot.start - midnight).total_seconds()) // 60,
                tuple(
                    (
                        seg.service_id,
                        seg.staff_id,
                        int((seg.start - midnight).total_seconds()) // 60,
                        int((seg.end - midnight).total_seconds()) // 60,
                        int((seg.busy_until - midnight).total_seconds()) // 60,
                    )
                    for seg in slot.segments
                ),
            )
            for slot in slots
        ]
        transaction.set_rollback(True)
    check(world, engine)

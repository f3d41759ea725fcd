"""(g) Availability (SCH-4): ``availability_search`` in-process on a busy salon — one day of slots for one
service (median, p95, SQL statements) and a 7-day search for a two-service visit.

``scheduling_seed`` fills a salon with staff, rooms, rosters and 90 days of bookings; other benchmarks
(booking throughput through the API) reuse it. Import only after ``django.setup()`` (bench.run does).
"""

from __future__ import annotations

import datetime
import math
import random
import statistics
import time
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from bench.scenarios import log, signup_raw, tenant_db
from bench.stats import at_most, percentile
from tenants import services as tenant_services

SCHEDULING_SUBDOMAIN = "scheduling-bench"
SCHEDULING_BEGIN = (
    "<!-- BEGIN GENERATED availability by `make bench` (bench/run.py): everything down to END is overwritten -->"
)
SCHEDULING_END = "<!-- END GENERATED availability -->"
TARGET_DAY_MS = 15.0
TARGET_QUERIES = 6
TARGET_WEEK_MS = 80.0

# name, minutes, buffer, room type (None: no room)
SERVICES = (
    ("剪发 Cut", 45, 15, None),
    ("染发 Colour", 90, 15, None),
    ("烫发 Perm", 120, 15, None),
    ("洗吹 Wash and blow-dry", 30, 5, None),
    ("美甲 Manicure", 45, 10, None),
    ("面部护理 Facial", 60, 15, "美容房 Facial room"),
    ("肩颈按摩 Massage", 60, 10, "美容房 Facial room"),
    ("水疗 Spa", 90, 15, "水疗房 Spa room"),
)
ROOMS = (("美容房 Facial room", 6, 1), ("水疗房 Spa room", 3, 1), ("水疗房 Spa room", 1, 2))  # type, count, capacity
OPEN, CLOSE = 10 * 60, 21 * 60  # local minutes


@dataclass
class SeededSalon:
    """What ``scheduling_seed`` made: ids to search or book with, and the seeded dates."""

    schema_name: str
    location_id: int
    service_ids: dict[str, int]
    staff_ids: list[int]
    client_ids: list[int]
    room_ids: list[int]
    first_day: datetime.date
    today: datetime.date
    future_days: int
    appointments: int = 0
    lines: int = 0
    holds: int = 0


@dataclass
class SchedulingRun:
    started: str = ""
    minutes: float = 0.0
    load_start: str = ""
    load_end: str = ""
    seed_seconds: float = math.nan
    seeded: SeededSalon | None = None
    day_ms: list[float] = field(default_factory=list)
    day_slots: list[int] = field(default_factory=list)
    day_queries: int = 0
    day_search_path_sets: int = 0
    day_statements: list[str] = field(default_factory=list)
    day_plain_ms: list[float] = field(default_factory=list)
    day_cpu_ms: list[float] = field(default_factory=list)
    week_cpu_ms: list[float] = field(default_factory=list)
    week_ms: list[float] = field(default_factory=list)
    week_slots: list[int] = field(default_factory=list)
    week_queries: int = 0
    core_share: float = math.nan  # the pure core's share of a one-day search


def _local(day: datetime.date, minute: int, tz: datetime.tzinfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=tz) + datetime.timedelta(minutes=minute)


def scheduling_seed(
    *,
    staff_count: int = 30,
    history_days: int = 90,
    per_day: int = 150,
    future_days: int = 14,
    future_per_day: int = 100,
    clients: int = 3_000,
    seed: int = 4,
) -> SeededSalon:
    """Fill the current salon schema: ``staff_count`` technicians with skills and weekly rosters (five
    days a week, some on split shifts, a few exceptions and time off), 10 rooms of two types, and
    ``per_day`` visits a day for ``history_days`` days up to today (done) plus ``future_per_day`` a day for
    the next ``future_days`` days (booked). Bookings are bulk-inserted, each fitting its technician's
    shift and a free room place, so the exclusion constraints hold."""
    from apps.catalog.services import service_create
    from apps.core.db import salon_timezone, salon_today
    from apps.core.models import Location
    from apps.core.services import staff_create
    from apps.crm.models import Client
    from apps.crm.services.clients import client_build
    from apps.scheduling.models import (
        Appointment,
        AppointmentLine,
        AppointmentResource,
        AppointmentStatus,
        Resource,
        ResourceType,
        ServiceBookingRule,
        ShiftException,
        ShiftPattern,
        TimeOff,
    )
    from apps.scheduling.services import staff_profile_update

    rng = random.Random(seed)
    tz = salon_timezone()
    today = salon_today()
    first_day = today - datetime.timedelta(days=history_days)
    location = Location.objects.order_by("id").first()
    assert location is not None
    types = {name: ResourceType.objects.create(name=name) for name in {r[0] for r in ROOMS}}
    rooms: list[Resource] = []
    for type_name, count, capacity in ROOMS:
        for _ in range(count):
            rooms.append(
                Resource.objects.create(
                    location=location,
                    resource_type=types[type_name],
                    name=f"{type_name.split()[0]} {len(rooms) + 1}",
                    capacity=capacity,
                    sort_order=len(rooms),
                )
            )
    services = []
    for name, minutes, buffer, room_type in SERVICES:
        price = 10_000 + minutes * 100
        service = service_create(name=name, duration_minutes=minutes, buffer_minutes=buffer, price=price)
        if room_type is not None:
            ServiceBookingRule.objects.create(service=service).resource_types.set([types[room_type]])
        services.append(service)
    staff = []
    # shifts per person: weekday -> [(start, end)] in local minutes
    shifts: dict[int, dict[int, list[tuple[int, int]]]] = {}
    patterns = []
    for n in range(staff_count):
        user = staff_create(name=f"技师{n + 1:02d}", role="technician", username=f"bench-tech-{n + 1}")
        skills = rng.sample(services, rng.randint(3, 5))
        staff_profile_update(user=user, acting_user=None, skills=skills)
        days_off = set(rng.sample(range(7), 2))
        split = n % 5 == 0
        week: dict[int, list[tuple[int, int]]] = {}
        for weekday in range(7):
            if weekday in days_off:
                continue
            periods = [(OPEN, 14 * 60), (15 * 60, CLOSE)] if split else [(OPEN, CLOSE - 60 * (n % 2))]
            week[weekday] = periods
            for start, end in periods:
                patterns.append(
                    ShiftPattern(
                        staff=user,
                        location=location,
                        weekday=weekday,
                        start_time=datetime.time(start // 60, start % 60),
                        end_time=datetime.time(end // 60, end % 60),
                        valid_from=first_day,
                    )
                )
        shifts[user.pk] = week
        staff.append((user, [s.pk for s in skills]))
    ShiftPattern.objects.bulk_create(patterns)
    # A few days off and some time off in the coming days.
    for user, _ in staff[:4]:
        off = today + datetime.timedelta(days=rng.randint(1, 7))
        ShiftException.objects.create(staff=user, date=off, is_working=False)
    for user, _ in staff[4:8]:
        day = today + datetime.timedelta(days=rng.randint(1, 7))
        TimeOff.objects.create(staff=user, start=_local(day, 12 * 60, tz), end=_local(day, 15 * 60, tz))

    built = [client_build(name=f"顾客{i:05d}", phone=f"+86137{i:08d}") for i in range(clients)]
    client_ids = [c.pk for c in Client.objects.bulk_create(built, batch_size=2000)]
    by_id = {s.pk: s for s in services}
    room_type_of = {s.pk: (types[r].pk if r else None) for s, (_, _, _, r) in zip(services, SERVICES, strict=True)}
    places = {
        t.pk: [(room, p) for room in rooms if room.resource_type_id == t.pk for p in range(1, room.capacity + 1)]
        for t in types.values()
    }

    seeded = SeededSalon(
        schema_name=tenant_db.schema_name,
        location_id=location.pk,
        service_ids={name.split()[-1].lower(): s.pk for (name, *_), s in zip(SERVICES, services, strict=True)},
        staff_ids=[u.pk for u, _ in staff],
        client_ids=client_ids,
        room_ids=[r.pk for r in rooms],
        first_day=first_day,
        today=today,
        future_days=future_days,
    )
    day = first_day
    last = today + datetime.timedelta(days=future_days)
    while day <= last:
        count = per_day if day <= today else future_per_day
        status = AppointmentStatus.DONE if day < today else AppointmentStatus.BOOKED
        _seed_day(
            seeded, day, count, status, rng, tz, staff, shifts, by_id, room_type_of, places,
            Appointment, AppointmentLine, AppointmentResource,
        )  # fmt: skip
        day += datetime.timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return seeded


def _seed_day(
    seeded, day, count, status, rng, tz, staff, shifts, by_id, room_type_of, places,
    Appointment, AppointmentLine, AppointmentResource,
) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """``count`` visits on ``day``: each one or two services, each line at its technician's next free
    time within a shift, the room place free; visits that do not fit are dropped."""
    cursor: dict[int, dict[int, int]] = {u.pk: {} for u, _ in staff}  # staff -> period -> next free minute
    room_free: dict[tuple[int, int], int] = {}
    visits: list[tuple[object, list[tuple]]] = []
    weekday = day.weekday()
    for _ in range(count * 2):
        if len(visits) >= count:
            break
        user, skills = staff[rng.randrange(len(staff))]
        periods = shifts[user.pk].get(weekday)
        if not periods:
            continue
        chosen = [rng.choice(skills)]
        if rng.random() < 0.2:
            chosen.append(rng.choice(skills))
        index = rng.randrange(len(periods))
        p_start, p_end = periods[index]
        at = cursor[user.pk].get(index, p_start) + rng.choice((0, 0, 15, 30, 45))
        lines: list[tuple] = []
        for sid in chosen:
            service = by_id[sid]
            end = at + service.duration_minutes
            until = end + service.buffer_minutes
            if until > p_end:
                lines = []
                break
            place = None
            if room_type_of[sid] is not None:
                free = (pl for pl in places[room_type_of[sid]] if room_free.get((pl[0].pk, pl[1]), 0) <= at)
                place = next(free, None)
                if place is None:
                    lines = []
                    break
                room_free[(place[0].pk, place[1])] = until
            lines.append((service, at, end, until, place))
            at = until
        if not lines:
            continue
        cursor[user.pk][index] = at
        visits.append((user, lines))
    appointments = [
        Appointment(
            client_id=seeded.client_ids[rng.randrange(len(seeded.client_ids))],
            location_id=seeded.location_id,
            status=status,
            start=_local(day, lines[0][1], tz),
            end=_local(day, lines[-1][2], tz),
        )
        for _, lines in visits
    ]
    Appointment.objects.bulk_create(appointments)
    line_rows = []
    hold_specs = []
    for appointment, (user, lines) in zip(appointments, visits, strict=True):
        for position, (service, start, end, until, place) in enumerate(lines):
            line_rows.append(
                AppointmentLine(
                    appointment=appointment,
                    position=position,
                    service=service,
                    staff=user,
                    start=_local(day, start, tz),
                    end=_local(day, end, tz),
                    busy_until=_local(day, until, tz),
                    price=service.price,
                )
            )
            hold_specs.append(place)
    AppointmentLine.objects.bulk_create(line_rows)
    holds = [
        AppointmentResource(line=line, resource=place[0], place=place[1], start=line.start, end=line.busy_until)
        for line, place in zip(line_rows, hold_specs, strict=True)
        if place is not None
    ]
    AppointmentResource.objects.bulk_create(holds)
    seeded.appointments += len(appointments)
    seeded.lines += len(line_rows)
    seeded.holds += len(holds)


def scheduling_salon() -> tuple[str, SeededSalon, float]:
    """Sign up a salon and seed it (the schema name, what was seeded, seconds taken)."""
    tenant_db.set_schema_to_public()
    salon = tenant_services.salon_signup(raw=signup_raw(SCHEDULING_SUBDOMAIN)).salon
    with schema_context(salon.schema_name):
        t0 = time.perf_counter()
        seeded = scheduling_seed()
        return salon.schema_name, seeded, time.perf_counter() - t0


def scheduling_all(run: SchedulingRun, *, day_runs: int = 300, week_runs: int = 60) -> None:
    from apps.catalog.models import Service
    from apps.core.models import Location
    from apps.scheduling import availability

    schema, seeded, run.seed_seconds = scheduling_salon()
    run.seeded = seeded
    log(
        f"  seeded {seeded.appointments:,} visits, {seeded.lines:,} lines, {seeded.holds:,} room holds "
        f"in {run.seed_seconds:.1f} s"
    )
    with schema_context(schema):
        location = Location.objects.get(pk=seeded.location_id)
        facial = Service.objects.get(pk=seeded.service_ids["facial"])
        cut = Service.objects.get(pk=seeded.service_ids["cut"])
        colour = Service.objects.get(pk=seeded.service_ids["colour"])
        now = datetime.datetime.now(datetime.UTC)
        days = [seeded.today + datetime.timedelta(days=n) for n in range(1, seeded.future_days)]

        def one_day(day: datetime.date) -> list:
            return availability.availability_search(
                location=location, services=[facial], date_from=day, date_to=day, now=now
            )

        for day in days:  # warm-up: connection, statement paths, the zone cache
            one_day(day)
        for i in range(day_runs):
            day = days[i % len(days)]
            t0, c0 = time.perf_counter(), time.process_time()
            slots = one_day(day)
            run.day_ms.append((time.perf_counter() - t0) * 1000)
            run.day_cpu_ms.append((time.process_time() - c0) * 1000)
            run.day_slots.append(len(slots))
        with CaptureQueriesContext(connection) as captured:
            one_day(days[2])
        sql = [q["sql"] for q in captured.captured_queries]
        run.day_search_path_sets = sum(1 for q in sql if q.startswith("SET search_path"))
        run.day_statements = [q for q in sql if not q.startswith("SET search_path")]
        run.day_queries = len(run.day_statements)
        # The pure core alone on the loaded snapshot.
        loaded = availability.availability_load(
            location=location, services=[facial], date_from=days[2], date_to=days[2]
        )
        for _ in range(100):
            t0 = time.perf_counter()
            availability.slots_compute(loaded.snapshot, earliest=int(now.timestamp()))
            run.day_plain_ms.append((time.perf_counter() - t0) * 1000)
        run.core_share = statistics.median(run.day_plain_ms) / statistics.median(run.day_ms)
        log(
            f"  one day, one service: median {statistics.median(run.day_ms):.2f} ms, "
            f"p95 {percentile(run.day_ms, 95):.2f} ms, {run.day_queries} statements"
        )

        for i in range(week_runs):
            first = days[i % 7]
            t0, c0 = time.perf_counter(), time.process_time()
            slots = availability.availability_search(
                location=location,
                services=[cut, colour],
                date_from=first,
                date_to=first + datetime.timedelta(days=6),
                now=now,
            )
            run.week_ms.append((time.perf_counter() - t0) * 1000)
            run.week_cpu_ms.append((time.process_time() - c0) * 1000)
            run.week_slots.append(len(slots))
        with CaptureQueriesContext(connection) as captured:
            availability.availability_search(
                location=location, services=[cut, colour], date_from=days[0], date_to=days[6], now=now
            )
        run.week_queries = sum(1 for q in captured.captured_queries if not q["sql"].startswith("SET search_path"))
        log(
            f"  7 days, cut then colour: median {statistics.median(run.week_ms):.2f} ms, "
            f"p95 {percentile(run.week_ms, 95):.2f} ms"
        )


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if not math.isnan(value) else "—"


def scheduling_generated_section(run: SchedulingRun, machine: dict[str, str], postgres: str) -> str:
    s = run.seeded
    assert s is not None
    day_median, day_p95 = statistics.median(run.day_ms), percentile(run.day_ms, 95)
    week_median, week_p95 = statistics.median(run.week_ms), percentile(run.week_ms, 95)
    lines = [
        "## Results: (g) availability",
        "",
        f"Generated {run.started} by `python -m bench.run --scheduling only` ({run.minutes:.1f} min for this part).",
        "",
        f"* Machine: `{machine['host']}`, nproc {machine['nproc']}, RAM {machine['ram']}, CPU {machine['cpu']}; "
        f"load average (1/5/15 min) {run.load_start} at the start, {run.load_end} at the end",
        f"* PostgreSQL {postgres}; one Python thread calling `availability_search` in-process (no HTTP), the "
        "salon's zone already cached",
        f"* Salon (`bench.scheduling.scheduling_seed`, seeded in {run.seed_seconds:.0f} s): {len(s.staff_ids)} "
        f"technicians with 3–5 skills each, five days a week (every fifth on a split shift), a few days off and "
        f"time off; {len(s.room_ids)} rooms of two types (one double); {len(SERVICES)} services, three needing a "
        f"room; {s.appointments:,} visits ({s.lines:,} lines, {s.holds:,} room holds): 150 a day for 90 days "
        f"of history and 100 a day for the next {s.future_days} days",
        "",
        "| search | runs | slots found | median | p95 | target | ratio (median / target) | SQL statements | "
        "+ SET search_path |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| one day, one service needing a room (facial), any staff | {len(run.day_ms)} | "
        f"{min(run.day_slots)}–{max(run.day_slots)} | {_ms(day_median)} | {_ms(day_p95)} | ≤ {TARGET_DAY_MS:.0f} ms, "
        f"≤ {TARGET_QUERIES} statements | {day_median / TARGET_DAY_MS:.2f}× {at_most(day_median, TARGET_DAY_MS)} | "
        f"{run.day_queries} {at_most(run.day_queries, TARGET_QUERIES)} | {run.day_search_path_sets} |",
        f"| 7 days, cut then colour (two services in sequence), any staff | {len(run.week_ms)} | "
        f"{min(run.week_slots)}–{max(run.week_slots)} | {_ms(week_median)} | {_ms(week_p95)} | "
        f"≤ {TARGET_WEEK_MS:.0f} ms | {week_median / TARGET_WEEK_MS:.2f}× {at_most(week_median, TARGET_WEEK_MS)} | "
        f"{run.week_queries} | |",
        "",
        f"The pure core (`slots_compute` on the loaded snapshot) takes {_ms(statistics.median(run.day_plain_ms))} "
        f"of the one-day search ({run.core_share:.0%}); the rest is the one statement (after one `SET search_path`) "
        "and turning its rows into plain data. CPU time of the Python process "
        f"per search (median): one day {_ms(statistics.median(run.day_cpu_ms))}, 7 days "
        f"{_ms(statistics.median(run.week_cpu_ms))}; the rest of the wall time is waiting for PostgreSQL and for "
        "a core (see the load average above).",
        "",
        "What the one-day search sends:",
        "",
        *[
            f"{i}. `{' '.join(sql.split())[:170]}{'…' if len(' '.join(sql.split())) > 170 else ''}`"
            for i, sql in enumerate(run.day_statements, 1)
        ],
        "",
    ]
    return "\n".join(lines)

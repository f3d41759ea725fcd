"""Booking throughput (SCH-5, SCH-6): ``POST /api/v1/appointments/`` with a bearer token through Django's
in-process test client (the same harness as the routing benchmark), one Python thread, each booking its own
committed transaction, in a salon seeded with 30 technicians, 10 rooms and 90 days of booked history.

Usage: ``DATABASE_URL=postgresql://… python -m bench.scheduling_booking [--bookings 1500] [--no-doc]``.
The run creates the database ``salon_bench_booking`` on that server, works only there and drops it at the
end. It prints bookings per second, median and p95 latency, and SQL statements per booking, and writes them
to docs/benchmarks.md (its own generated section); nothing fails on a missed target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from bench import dbutil, machine, throughput
from bench.throughput import Scenario, broker_label, ms

SUBDOMAIN = "booking-bench"
TARGET_PER_SECOND = 100
STAFF = 30
ROOMS = 10
HISTORY_DAYS = 90
VISITS_PER_STAFF_DAY = 5

BEGIN = (
    "<!-- BEGIN GENERATED booking throughput by `python -m bench.scheduling_booking`: "
    "everything down to END is overwritten -->"
)
END = "<!-- END GENERATED booking throughput -->"


@dataclass
class BookingRun:
    started: str = ""
    machine: dict[str, str] = field(default_factory=dict)
    postgres: str = ""
    load_start: str = ""
    load_end: str = ""
    seed_seconds: float = math.nan
    history_visits: int = 0
    bookings: int = 0
    seconds: float = math.nan
    latencies_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    search_path_sets: list[int] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    with_room: int = 0
    scenarios: list[Any] = field(default_factory=list)
    any_staff: int = 0
    broker: str = ""
    cpu_ms: tuple[float, float] = (math.nan, math.nan)
    status_codes: dict[int, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.bookings / self.seconds if self.seconds else math.nan

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else math.nan


def log(message: str) -> None:
    print(f"    {message}", flush=True)


def seed(run: BookingRun) -> dict[str, Any]:
    """30 technicians on 10:00–21:00 every day, 10 single rooms, 2,000 clients, and 90 days of visits (five a
    technician a day, a third of them in a room), written in bulk."""
    from django.db import connection
    from django.utils import timezone

    from apps.catalog.services import service_create
    from apps.core.db import salon_timezone
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
        ShiftPattern,
        StaffProfile,
    )

    t0 = time.perf_counter()
    location = Location.objects.order_by("id").first()
    assert location is not None
    cut = service_create(name="洗剪吹", duration_minutes=60, buffer_minutes=0, price=12_800)
    facial = service_create(name="补水护理", duration_minutes=60, buffer_minutes=0, price=38_800)
    room_type = ResourceType.objects.create(name="美容房")
    ServiceBookingRule.objects.create(service=facial).resource_types.add(room_type)
    rooms = [
        Resource.objects.create(location=location, resource_type=room_type, name=f"房间{i + 1}", sort_order=i)
        for i in range(ROOMS)
    ]
    staff = [
        staff_create(name=f"技师{i + 1:02d}", role="technician", username=f"tech{i + 1:02d}") for i in range(STAFF)
    ]
    for user in staff:
        profile = StaffProfile.objects.create(user=user)
        profile.skills.add(cut, facial)
    ShiftPattern.objects.bulk_create(
        [
            ShiftPattern(
                staff=user,
                location=location,
                weekday=day,
                start_time=dt.time(10),
                end_time=dt.time(21),
                valid_from=dt.date(2020, 1, 1),
            )
            for user in staff
            for day in range(7)
        ]
    )
    Client.objects.bulk_create(
        [client_build(name=f"顾客{i:05d}", phone=f"+86137{i:08d}") for i in range(2000)], batch_size=2000
    )
    clients = list(Client.objects.order_by("id").values_list("id", flat=True))

    tz = salon_timezone()
    today = timezone.localdate(timezone.now(), tz)
    visits: list[Appointment] = []
    plan: list[tuple[int, int, dt.datetime, int | None]] = []  # staff, service, start, room
    n = 0
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        for s_index, user in enumerate(staff):
            for slot in range(VISITS_PER_STAFF_DAY):
                start = dt.datetime.combine(day, dt.time(10 + 2 * slot), tzinfo=tz)
                room = rooms[(s_index + slot) % ROOMS].pk if s_index < ROOMS and slot % 3 == 0 else None
                service = facial if room else cut
                visits.append(
                    Appointment(
                        client_id=clients[n % len(clients)],
                        location=location,
                        status=AppointmentStatus.DONE,
                        start=start,
                        end=start + dt.timedelta(hours=1),
                    )
                )
                plan.append((user.pk, service.pk, start, room))
                n += 1
    Appointment.objects.bulk_create(visits, batch_size=5000)
    lines = [
        AppointmentLine(
            appointment=visit,
            service_id=service_id,
            staff_id=staff_id,
            start=start,
            end=start + dt.timedelta(hours=1),
            busy_until=start + dt.timedelta(hours=1),
            price=12_800,
        )
        for visit, (staff_id, service_id, start, _room) in zip(visits, plan, strict=True)
    ]
    AppointmentLine.objects.bulk_create(lines, batch_size=5000)
    AppointmentResource.objects.bulk_create(
        [
            AppointmentResource(line=line, resource_id=room, place=1, start=start, end=start + dt.timedelta(hours=1))
            for line, (_staff, _service, start, room) in zip(lines, plan, strict=True)
            if room
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    run.history_visits = len(visits)
    run.seed_seconds = time.perf_counter() - t0
    log(f"seeded {len(visits):,} past visits, {STAFF} technicians, {ROOMS} rooms in {run.seed_seconds:.1f} s")
    return {
        "cut": cut.pk,
        "facial": facial.pk,
        "staff": [u.pk for u in staff],
        "clients": clients,
        "today": today,
        "tz": tz,
    }


def requests_for(data: dict[str, Any], count: int, *, offset_days: int) -> list[dict[str, Any]]:
    """Bookings that do not collide: each technician's free hours on the days ahead; every third a facial
    needing a room (at most ten at once: one technician per room per hour), every fifth with any staff."""
    tz = data["tz"]
    bodies: list[dict[str, Any]] = []
    day = data["today"] + dt.timedelta(days=offset_days)
    while len(bodies) < count:
        for hour in range(10, 21):
            for index, staff_id in enumerate(data["staff"]):
                if len(bodies) >= count:
                    break
                start = dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
                body: dict[str, Any] = {
                    "client": data["clients"][len(bodies) % len(data["clients"])],
                    "service": data["facial"] if index < ROOMS else data["cut"],
                    "staff": staff_id,
                    "start": start.isoformat(),
                }
                bodies.append(body)
        day += dt.timedelta(days=1)
    return bodies


def _post_one(post: Any, body: dict[str, Any]) -> int:
    return int(post("/api/v1/appointments/", body, content_type="application/json").status_code)


def _post_all(bodies: list[dict[str, Any]], token: str, host: str) -> tuple[list[float], dict[int, int]]:
    return throughput.send_all(bodies, _post_one, token, host)


def _backend_cpu_seconds() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine: /proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_per_booking(bodies: list[dict[str, Any]], token: str, host: str) -> tuple[float, float]:
    import resource

    def own() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    python_before, backend_before = own(), _backend_cpu_seconds()
    _post_all(bodies, token, host)
    python_after, backend_after = own(), _backend_cpu_seconds()
    n = len(bodies)
    return (python_after - python_before) * 1000 / n, (backend_after - backend_before) * 1000 / n


def timed(scenario: Scenario, bodies: list[dict[str, Any]], token: str, host: str) -> Scenario:
    return throughput.timed(scenario, bodies, _post_one, token, host)


def book_all(run: BookingRun, data: dict[str, Any], count: int, token: str, host: str, workers: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext

    api = HttpClient(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token}")
    post = api.post
    # warm-up (connection, statement paths, settings rows): 100 bookings ahead of the timed ones
    for body in requests_for(data, 100, offset_days=2):
        response = post("/api/v1/appointments/", body, content_type="application/json")
        if response.status_code != 201:
            raise RuntimeError(f"warm-up booking answered {response.status_code}: {response.content[:300]!r}")
    offset = 10
    # CPU per booking, apart from the machine's load: this process's and its PostgreSQL backend's.
    run.cpu_ms = _cpu_per_booking(requests_for(data, 300, offset_days=offset), token, host)
    offset += 10
    log(f"CPU per booking: {run.cpu_ms[0]:.1f} ms Python + {run.cpu_ms[1]:.1f} ms PostgreSQL backend")
    if os.environ.get("BENCH_BOOKING_PROFILE"):
        # Where one process spends a booking's time: cProfile over 300 bookings, top functions by own and
        # cumulative time. Figures under the profiler are slower; the ratios are what matter.
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        bodies = requests_for(data, 300, offset_days=offset)
        offset += 10
        profiler.enable()
        _post_all(bodies, token, host)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.dump_stats("/tmp/booking.prof")
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    plans = [
        Scenario("one process, in-process test client", 1),
        Scenario(f"{workers} worker processes", workers),
    ]
    for scenario in plans:
        bodies = requests_for(data, count, offset_days=offset)
        offset += 10
        if scenario.workers == 1:
            run.with_room = sum(1 for b in bodies if b["service"] == data["facial"])
        timed(scenario, bodies, token, host)
        run.scenarios.append(scenario)
        log(
            f"{scenario.label}: {scenario.per_second:,.0f}/s, median {statistics.median(scenario.latencies_ms):.1f} ms"
            f", answers {scenario.status_codes}"
        )
    # For comparison: django-tenants setting search_path before every statement (its default; this project
    # sets TENANT_LIMIT_SET_CALLS, one SET per request).
    settings.TENANT_LIMIT_SET_CALLS = False
    try:
        scenario = Scenario("one process, `SET search_path` before every statement", 1)
        timed(scenario, requests_for(data, count, offset_days=offset), token, host)
        offset += 10
        run.scenarios.append(scenario)
        log(f"{scenario.label}: {scenario.per_second:,.0f}/s, answers {scenario.status_codes}")
    finally:
        settings.TENANT_LIMIT_SET_CALLS = True
    first = run.scenarios[0]
    run.bookings, run.seconds, run.latencies_ms, run.status_codes = (
        first.count,
        first.seconds,
        first.latencies_ms,
        first.status_codes,
    )
    # statements per booking, measured apart (capturing slows the timed loop)
    for body in requests_for(data, 20, offset_days=offset):
        with CaptureQueriesContext(connection) as queries:
            response = post("/api/v1/appointments/", body, content_type="application/json")
        if response.status_code != 201:
            raise RuntimeError(f"measured booking answered {response.status_code}: {response.content[:300]!r}")
        sqls = [q["sql"] for q in queries.captured_queries]
        run.search_path_sets.append(sum(1 for s in sqls if s.startswith("SET search_path")))
        run.queries.append(sum(1 for s in sqls if not s.startswith("SET search_path")))
        run.statements = [s for s in sqls if not s.startswith("SET search_path")]
        if os.environ.get("BENCH_BOOKING_TIMES"):
            slow = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:5]
            print([(q["time"], q["sql"][:200]) for q in slow], flush=True)
    if os.environ.get("BENCH_BOOKING_TIMES"):
        for i, sql in enumerate(run.statements, 1):
            print(i, sql[:230], flush=True)


def generated_section(run: BookingRun) -> str:
    m = run.machine
    lines = [
        "## Results: booking throughput",
        "",
        f"Generated {run.started} by `python -m bench.scheduling_booking`.",
        "",
        f"* Machine: `{m['host']}`, nproc {m['nproc']}, RAM {m['ram']}, CPU {m['cpu']}; load average (1/5/15 min) "
        f"{run.load_start} at the start, {run.load_end} at the end",
        f"* PostgreSQL {run.postgres}; one Python thread posting `POST /api/v1/appointments/` with a bearer token "
        "through Django's in-process test client (middleware, tenant routing, token auth, DRF, the booking "
        "service, the response serializer); each booking its own committed transaction",
        f"* Salon: {STAFF} technicians on 10:00–21:00, {ROOMS} single rooms, {run.history_visits:,} past visits over "
        f"{HISTORY_DAYS} days (seeded in {run.seed_seconds:.0f} s); bookings go to technicians' free hours ahead, "
        f"{run.with_room:,} of {run.bookings:,} need a room",
        "",
        "| scenario | bookings | per second | target | ratio | median | p95 | answers |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {sc.label} | {sc.count:,} | {sc.per_second:,.0f} | ≥ {TARGET_PER_SECOND} | "
            f"{sc.per_second / TARGET_PER_SECOND:.2f}× | {ms(statistics.median(sc.latencies_ms))} | "
            f"{ms(sc.percentile(0.95))} | {', '.join(f'{c} × {n:,}' for c, n in sorted(sc.status_codes.items()))} |"
            for sc in run.scenarios
        ],
        "",
        f"* Booking messages are queued on {broker_label(run.broker)} (one task per booking, no worker running)",
        "",
        f"SQL statements per booking: {min(run.queries)}–{max(run.queries)}, plus {max(run.search_path_sets)} "
        "`SET search_path` (once per request: `TENANT_LIMIT_SET_CALLS`).",
        "",
        "What one booking sends (`SET search_path` counted apart):",
        "",
        *[f"{i}. `{sql[:150]}{'…' if len(sql) > 150 else ''}`" for i, sql in enumerate(run.statements, 1)],
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=1500)
    parser.add_argument("--database", default="salon_bench_booking")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument(
        "--broker",
        default="auto",
        help="Celery broker for the booking messages: a URL, 'sql' (kombu's SQLAlchemy transport on the bench "
        "database, the no-server default of `make run`), or 'auto' (Redis on 127.0.0.1:6379 database 15 when it "
        "answers, as deployed; else 'sql')",
    )
    args = parser.parse_args(argv)
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    run = BookingRun(
        started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine.describe(),
        postgres=dbutil.server_version(server_url),
        load_start=machine.load_average(),
    )
    ok = False
    try:
        with throughput.bench_salon(server_url, args.database, SUBDOMAIN, args.broker, log) as salon:
            from django_tenants.utils import schema_context

            from bench.scenarios import PASSWORD

            run.broker = salon.broker
            with schema_context(salon.schema):
                data = seed(run)
            token = throughput.api_token(salon.host, salon.raw["owner_email"], PASSWORD)
            book_all(run, data, args.bookings, token, salon.host, args.workers)
            run.load_end = machine.load_average()
            print(
                f"booking: {run.bookings:,} bookings in {run.seconds:.2f} s = {run.per_second:,.0f}/s; "
                f"median {ms(statistics.median(run.latencies_ms))}, p95 {ms(run.percentile(0.95))}; "
                f"SQL statements per booking {min(run.queries)}–{max(run.queries)} "
                f"(+ {max(run.search_path_sets)} SET search_path); answers {run.status_codes}",
                flush=True,
            )
            if not args.no_doc:
                from bench.report import write_doc

                write_doc(generated_section(run), begin=BEGIN, end=END)
                print("booking: wrote docs/benchmarks.md", flush=True)
            ok = True
    except Exception:
        traceback.print_exc()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

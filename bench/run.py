"""``make bench``: signup paths, routing, no-op migrations, client search and import on a throw-away database.

Usage: ``python -m bench.run [options]`` with DATABASE_URL set (``make bench`` sets it to the
embedded server). The run creates the database ``salon_bench`` on that server, works only
there, and drops it at the end, also on failure or Ctrl-C. It prints figures and writes them
to docs/benchmarks.md; nothing fails on a missed target.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import importlib.metadata
import os
import secrets
import signal
import sys
import time
import traceback
from types import FrameType

from bench import dbutil, machine
from bench.report import (
    BEGIN,
    DOC_PATH,
    END,
    LOYALTY_BEGIN,
    LOYALTY_END,
    SEARCH_BEGIN,
    SEARCH_END,
    generated_section,
    search_generated_section,
    write_doc,
)
from bench.results import MigrateRun, Results, SearchRun

# Environment of the run: the real settings module, production-like switches.
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "salon_platform.settings",
    "DEBUG": "0",
    "SALON_TESTING": "0",
    "SECRET_KEY": "bench",
    "PLATFORM_DOMAIN": "localhost",
    "CELERY_TASK_ALWAYS_EAGER": "0",
    # Nothing is queued after a signup's commit; the benchmark refills the pool itself, untimed.
    "SALON_POOL_SIZE": "0",
    "LOG_LEVEL": "WARNING",
}


def bench_keys() -> dict[str, str]:
    """Throw-away keys for personal data at rest: the settings refuse to start without them when
    DEBUG is off, and every client phone the search benchmark stores is encrypted and hashed."""
    return {
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "SEARCH_HASH_KEY": secrets.token_hex(32),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,200", help="existing salons for (a), comma-separated (default 10,200)")
    parser.add_argument("--pool-samples", type=int, default=7)
    parser.add_argument("--clone-samples", type=int, default=5)
    parser.add_argument("--stock-samples", type=int, default=3)
    parser.add_argument("--rps-rounds", type=int, default=20)
    parser.add_argument("--rps-requests", type=int, default=300)
    parser.add_argument("--rps-warmup", type=int, default=300)
    parser.add_argument("--migrate-runs", type=int, default=2, help="in-process no-op migrate_schemas runs")
    parser.add_argument(
        "--stock-migrate",
        choices=("full", "sample", "skip"),
        default="full",
        help="django-tenants' stock migrate_schemas for (c): over every salon (default), "
        "on a sample of salons and extrapolated, or not at all",
    )
    parser.add_argument("--stock-migrate-sample", type=int, default=10, help="salons migrated one by one (sample)")
    parser.add_argument(
        "--search",
        choices=("with", "skip", "only"),
        default="with",
        help="(d) client search and list at --search-clients clients: after (a)-(c) (default), not at all, or alone",
    )
    parser.add_argument("--search-clients", type=int, default=100_000, help="clients in the search salon")
    parser.add_argument("--search-queries", type=int, default=200, help="timed client_search() calls per kind")
    parser.add_argument("--search-list-samples", type=int, default=30, help="timed list pages per filter")
    parser.add_argument("--search-seed", type=int, default=8, help="seed of the generated clients and queries")
    parser.add_argument(
        "--loyalty",
        choices=("with", "skip", "only"),
        default="with",
        help="(f) stored-value payments: after the rest (default), not at all, or alone",
    )
    parser.add_argument(
        "--scheduling",
        choices=("with", "skip", "only"),
        default="with",
        help="(g) availability on a salon with 90 days of bookings: after the rest (default), not at all, or alone",
    )
    parser.add_argument("--scheduling-day-runs", type=int, default=300, help="timed one-day searches of (g)")
    parser.add_argument("--scheduling-week-runs", type=int, default=60, help="timed 7-day searches of (g)")
    parser.add_argument(
        "--pos-reports",
        choices=("with", "skip", "only"),
        default="with",
        help="(h) monthly sales report over 1,000,000 bill lines: after the rest (default), not at all, or alone",
    )
    parser.add_argument("--pos-reports-lines", type=int, default=1_000_000, help="bill lines seeded for (h)")
    parser.add_argument("--loyalty-wallets", type=int, default=2_000, help="wallets in the payment salon of (f)")
    parser.add_argument("--loyalty-payments", type=int, default=3_000, help="timed payments per scenario of (f)")
    parser.add_argument(
        "--import-rows", type=int, default=10_000, help="rows of the client list imported in (e); 0 skips it"
    )
    parser.add_argument("--database", default="salon_bench", help="database created and dropped by the run")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--max-minutes", type=float, default=30.0, help="hard stop (the database is still dropped)")
    return parser.parse_args(argv)


def phase(title: str, started: float) -> None:
    print(f"[{time.monotonic() - started:6.1f} s] {title}", flush=True)


class _Stop(Exception):
    pass


_stopped: list[int] = []


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _stopped.append(signum)
    raise _Stop(f"stopped by signal {signum}")


def only_one(args: argparse.Namespace) -> str | None:
    """The part run alone (``--search only``, ``--loyalty only``, ``--scheduling only`` or ``--pos-reports only``),
    if any."""
    for name in ("search", "loyalty", "scheduling", "pos_reports"):
        if getattr(args, name) == "only":
            return name
    return None


def runs(args: argparse.Namespace, name: str) -> bool:
    alone = only_one(args)
    return alone == name if alone is not None else getattr(args, name) != "skip"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url:
        print("DATABASE_URL is not set: run `make bench` (embedded PostgreSQL) or set it to a server.", file=sys.stderr)
        return 2
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    counts = {"pool": args.pool_samples, "clone": args.clone_samples, "stock": args.stock_samples}
    started = time.monotonic()
    # Ctrl-C must always end the run through the cleanup below, also when SIGINT arrives ignored
    # (salon_platform.embedded_db ignores it while its child runs, and children inherit that).
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGALRM, _on_signal)
    signal.alarm(int(args.max_minutes * 60))

    bench_url = dbutil.url_with_database(server_url, args.database)
    results = Results(
        started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine.describe(),
        load_start=machine.load_average(),
        postgres=dbutil.server_version(server_url),
        versions={name: importlib.metadata.version(name) for name in ("Django", "django-tenants", "argon2-cffi")},
        counts=counts,
        sizes=sizes,
    )
    print(
        f"bench: database {args.database!r} on the server of DATABASE_URL (PostgreSQL {results.postgres}); "
        + (
            f"sizes {sizes}; samples per size {counts}; rps {args.rps_rounds}×{args.rps_requests}; "
            f"stock migrate: {args.stock_migrate}; "
            if only_one(args) is None
            else ""
        )
        + (
            f"search: {args.search_clients:,} clients, {args.search_queries} queries per kind"
            if runs(args, "search")
            else "search: skipped"
        ),
        flush=True,
    )
    m = results.machine
    print(f"bench: machine {m['host']}: nproc {m['nproc']}, RAM {m['ram']}, CPU {m['cpu']}", flush=True)

    dbutil.create_database(server_url, args.database)
    ok = False
    django_ready = False
    try:
        os.environ.update(BENCH_ENV)
        os.environ.update(bench_keys())
        os.environ["DATABASE_URL"] = bench_url
        os.environ.pop("CELERY_BROKER_URL", None)  # the default broker: the bench database itself
        import django

        django.setup()
        django_ready = True
        run_all(args, results, started)
        ok = True
    except (_Stop, KeyboardInterrupt) as exc:
        print(f"bench: interrupted ({exc or 'Ctrl-C'}); cleaning up", file=sys.stderr, flush=True)
    except Exception:
        if _stopped:  # the signal surfaced as a database error from the interrupted query
            print(f"bench: interrupted (signal {_stopped[0]}); cleaning up", file=sys.stderr, flush=True)
        else:
            traceback.print_exc()
            print("bench: failed; cleaning up", file=sys.stderr, flush=True)
    finally:
        signal.alarm(0)
        if django_ready:
            from django.db import connections

            try:
                connections.close_all()
            except Exception as exc:  # a connection broken by the interruption; the drop below forces it out
                print(f"bench: closing connections: {exc}", file=sys.stderr, flush=True)
        dbutil.drop_database(server_url, args.database)
        os.environ["DATABASE_URL"] = server_url
        phase(f"dropped database {args.database!r}", started)
    if not ok:
        return 1
    results.minutes = (time.monotonic() - started) / 60
    results.load_end = machine.load_average()
    sections: list[tuple[str, str, str]] = []
    if only_one(args) is None:
        sections.append((generated_section(results), BEGIN, END))
    if results.search is not None:
        sections.append((search_generated_section(results), SEARCH_BEGIN, SEARCH_END))
    if results.loyalty is not None:
        from bench.loyalty import loyalty_generated_section

        section = loyalty_generated_section(results.loyalty, results.machine, results.postgres)
        sections.append((section, LOYALTY_BEGIN, LOYALTY_END))
    if results.scheduling is not None:
        from bench.scheduling import SCHEDULING_BEGIN, SCHEDULING_END, scheduling_generated_section

        section = scheduling_generated_section(results.scheduling, results.machine, results.postgres)
        sections.append((section, SCHEDULING_BEGIN, SCHEDULING_END))
    if results.pos_reports is not None:
        from bench.pos_reports import POS_REPORTS_BEGIN, POS_REPORTS_END, pos_reports_generated_section

        section = pos_reports_generated_section(results.pos_reports, results.machine, results.postgres)
        sections.append((section, POS_REPORTS_BEGIN, POS_REPORTS_END))
    for section, begin, end in sections:
        print("\n" + section)
        if not args.no_doc:
            write_doc(section, begin=begin, end=end)
    if sections and not args.no_doc:
        print(f"bench: wrote {DOC_PATH.relative_to(DOC_PATH.parent.parent)}", flush=True)
    return 0


def run_all(args: argparse.Namespace, results: Results, started: float) -> None:
    from bench import scenarios

    phase("migrate_schemas on the empty bench database (public + template)", started)
    results.setup_seconds = scenarios.migrate_fresh()
    from tenants import provisioning

    results.tenant_migrations = len(provisioning.expected_tenant_migrations())
    if only_one(args) is None:
        run_platform(args, results, started)
    if runs(args, "search"):
        from bench import search

        phase(f"(d) client search and list with {args.search_clients:,} clients in one salon", started)
        results.search = SearchRun(started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
        search_started = time.monotonic()
        search.search_all(
            results.search,
            count=args.search_clients,
            per_kind=args.search_queries,
            list_samples=args.search_list_samples,
            seed=args.search_seed,
        )
        results.search.minutes = (time.monotonic() - search_started) / 60
    if runs(args, "loyalty"):
        from bench import loyalty

        phase(f"(f) stored-value payments over {args.loyalty_wallets:,} wallets and on one wallet", started)
        run = loyalty.LoyaltyRun(
            started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), load_start=machine.load_average()
        )
        loyalty_started = time.monotonic()
        loyalty.loyalty_all(run, wallets_count=args.loyalty_wallets, payments=args.loyalty_payments)
        run.minutes = (time.monotonic() - loyalty_started) / 60
        run.load_end = machine.load_average()
        results.loyalty = run
    if runs(args, "scheduling"):
        from bench import scheduling

        phase("(g) availability: seeding a salon with 30 staff, 10 rooms and 90 days of bookings", started)
        booked = scheduling.SchedulingRun(
            started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), load_start=machine.load_average()
        )
        scheduling_started = time.monotonic()
        scheduling.scheduling_all(booked, day_runs=args.scheduling_day_runs, week_runs=args.scheduling_week_runs)
        booked.minutes = (time.monotonic() - scheduling_started) / 60
        booked.load_end = machine.load_average()
        results.scheduling = booked
    if runs(args, "pos_reports"):
        from bench import pos_reports

        phase(f"(h) sales reports: seeding a salon with {args.pos_reports_lines:,} bill lines over 12 months", started)
        sold = pos_reports.PosReportsRun(
            started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), load_start=machine.load_average()
        )
        pos_reports_started = time.monotonic()
        pos_reports.pos_reports_all(sold, lines=args.pos_reports_lines)
        sold.minutes = (time.monotonic() - pos_reports_started) / 60
        sold.load_end = machine.load_average()
        results.pos_reports = sold
    phase("done measuring", started)


def run_platform(args: argparse.Namespace, results: Results, started: float) -> None:
    """(a) signups, (b) routing, (c) no-op migrations, (e) a client import."""
    from bench import scenarios
    from tenants import provisioning

    phase(f"  {results.setup_seconds:.1f} s; argon2 cost", started)
    results.hash_make, results.hash_check = scenarios.hash_costs()

    for index, size in enumerate(results.sizes):
        phase(f"filling to {size} salons", started)
        results.fill[size] = scenarios.fill_to(size)
        if index == 0:
            phase("warm-up signups (not recorded)", started)
            scenarios.signup_warmup()
        phase(f"(a) signups with {size} existing salons", started)
        scenarios.signup_size(results.signup, size, results.counts)
        phase(f"(a) signup steps one by one with {size} existing salons", started)
        results.components[size] = scenarios.signup_components(size)

    results.clone_function_used = scenarios.clone_function_installed()
    phase(f"(b) GET /api/v1/meta/ on both hosts with {scenarios.salon_count()} salons", started)
    results.rps = scenarios.rps(args.rps_rounds, args.rps_requests, args.rps_warmup)

    phase("(c) no-op migrate_schemas", started)
    provisioning.pool_refill(target=3)  # a pool as a deployment has one (SALON_POOL_SIZE's default)
    results.migrate = MigrateRun()
    scenarios.migrate_noop(results.migrate, args.migrate_runs)
    if args.stock_migrate != "skip":
        phase(f"(c) django-tenants' stock migrate_schemas ({args.stock_migrate})", started)
        scenarios.migrate_stock(results.migrate, args.stock_migrate, args.stock_migrate_sample)

    if args.import_rows:
        phase(f"(e) client import: {args.import_rows:,}-row XLSX into one salon", started)
        results.client_import = scenarios.client_import(args.import_rows)


if __name__ == "__main__":
    sys.exit(main())

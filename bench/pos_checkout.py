"""Checkout throughput (POS-2): ``POST /api/v1/orders/{id}/pay/`` paying a three-line bill by cash and stored
value, with a bearer token through Django's in-process test client (middleware, tenant routing, token auth,
DRF, the payment and everything a paid bill sets off: the stored-value debit, points earned, the client's
history, the tier evaluated), each checkout its own committed transaction.

The salon is seeded through the product's services: 2,000 members with stored value, gold and silver tiers
reached by spend (with member discounts and a gold tier price), a senior level with its own price, and one
open three-line bill per checkout (a facial by one technician, a cut split 60/40 between two, a shampoo),
opened and filled through the bill services before the timing starts.

Usage: ``DATABASE_URL=postgresql://… python -m bench.pos_checkout [--checkouts 600] [--no-doc]``. The run
creates the database ``salon_bench_checkout`` on that server, works only there and drops it at the end. It
prints checkouts per second (one process, then forked worker processes), median and p95 latency and the SQL
statements of one checkout, and writes them to docs/benchmarks.md (its own generated section); nothing fails
on a missed target.
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
from bench.throughput import Scenario, ms

SUBDOMAIN = "checkout-bench"
TARGET_PER_SECOND = 50
TARGET_STATEMENTS = 40
MEMBERS = 2_000
CASH = 10_000  # ¥100 of each bill in cash, the rest from stored value

BEGIN = (
    "<!-- BEGIN GENERATED checkout throughput by `python -m bench.pos_checkout`: "
    "everything down to END is overwritten -->"
)
END = "<!-- END GENERATED checkout throughput -->"


@dataclass
class CheckoutRun:
    started: str = ""
    machine: dict[str, str] = field(default_factory=dict)
    postgres: str = ""
    load_start: str = ""
    load_end: str = ""
    seed_seconds: float = math.nan
    bills_seconds: float = math.nan
    bills: int = 0
    scenarios: list[Scenario] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    search_path_sets: list[int] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    largest: list[str] = field(default_factory=list)
    members: int = 0


def log(message: str) -> None:
    print(f"    {message}", flush=True)


# --- seeding --------------------------------------------------------------------------------------------


def seed(run: CheckoutRun, members: int = MEMBERS) -> dict[str, Any]:
    """The catalogue, four technicians (one senior), tiers by spend, a top-up rule and the members with stored
    value, all through the services."""
    from decimal import Decimal

    from apps.catalog import services as catalog
    from apps.core import services as core_services
    from apps.core.models import Location, User
    from apps.crm.models import Client
    from apps.crm.services.tags import tier_create
    from apps.loyalty.services import tiers, wallets
    from apps.loyalty.services.top_up_rules import top_up_rule_create
    from apps.pos.selectors.bills import pos_settings
    from apps.scheduling.services import staff_profile_update

    t0 = time.perf_counter()
    owner = User.objects.get(role="owner")
    senior = core_services.staff_level_create(name="资深", rank=30, acting_user=owner)
    facial = catalog.service_create(name="补水面部护理", duration_minutes=60, price=29800, acting_user=owner)
    cut = catalog.service_create(name="女士精剪", duration_minutes=45, price=12800, acting_user=owner)
    shampoo = catalog.product_create(name="修护洗发水", price=9800, stock=1_000_000, acting_user=owner)
    silver = tier_create(name="银卡会员", rank=20, acting_user=owner)
    gold = tier_create(name="金卡会员", rank=30, acting_user=owner)
    tiers.tier_benefit_set(
        tier=silver, price_percent=95, points_multiplier=Decimal("1.2"), min_spend=300_000, acting_user=owner
    )
    tiers.tier_benefit_set(
        tier=gold, price_percent=90, points_multiplier=Decimal("1.5"), min_spend=1_000_000, acting_user=owner
    )
    catalog.price_rule_create(service=cut, tier=gold, price=10800, acting_user=owner)
    catalog.price_rule_create(service=facial, staff_level=senior, price=33800, acting_user=owner)
    top_up_rule_create(pay_amount=100_000, bonus_amount=20_000, acting_user=owner)
    technicians = []
    for n, name in enumerate(["李娜", "王强", "张敏", "陈静"]):
        user = core_services.staff_create(name=name, role="technician", username=f"tech{n}", acting_user=owner)
        staff_profile_update(user=user, acting_user=None, level=senior if n == 0 else None, skills=[facial, cut])
        technicians.append(user)
    desk = core_services.staff_create(
        name="前台", role="front_desk", username="desk", password="Bench-pass-1", acting_user=owner
    )
    from django.utils import timezone

    from apps.crm.models import PurchaseLine, PurchaseSource
    from apps.crm.services.clients import client_create, purchases_record

    history = []
    for n in range(members):
        tier = gold if n % 3 == 0 else silver if n % 3 == 1 else None
        client = client_create(name=f"会员{n:04d}", phone=f"+86137{n:08d}", tier=tier, acting_user=None)
        wallets.wallet_top_up(client=client, amount=500_000, idempotency_key=f"seed:{client.pk}")
        # A year of spend that keeps the member in their tier (imported history: no hooks run).
        spend = 1_200_000 if tier == gold else 400_000 if tier == silver else 50_000
        history.append(
            PurchaseLine(
                client=client,
                occurred_at=timezone.now() - dt.timedelta(days=30),
                item_name="历史消费",
                amount=spend,
                source=PurchaseSource.IMPORT,
            )
        )
    purchases_record(lines=history)
    pos_settings()
    run.seed_seconds = time.perf_counter() - t0
    run.members = members
    log(f"seeded {members:,} members with stored value in {run.seed_seconds:.0f} s")
    return {
        "owner": owner.pk,
        "desk": desk.pk,
        "facial": facial.pk,
        "cut": cut.pk,
        "shampoo": shampoo.pk,
        "technicians": [u.pk for u in technicians],
        "clients": list(Client.objects.order_by("pk").values_list("pk", flat=True)),
        "location": Location.objects.order_by("pk").values_list("pk", flat=True).first(),
    }


def bills_make(run: CheckoutRun, data: dict[str, Any], count: int) -> list[tuple[int, int]]:
    """``count`` open three-line bills, round-robin over the members, through the bill services. Returns
    (bill id, total) of each."""
    from apps.catalog.models import Product, Service
    from apps.core.models import Location, User
    from apps.crm.models import Client
    from apps.pos.services.bills import StaffShare, bill_line_add, bill_open

    t0 = time.perf_counter()
    desk = User.objects.get(pk=data["desk"])
    location = Location.objects.get(pk=data["location"])
    facial = Service.objects.get(pk=data["facial"])
    cut = Service.objects.get(pk=data["cut"])
    shampoo = Product.objects.get(pk=data["shampoo"])
    staff = list(User.objects.filter(pk__in=data["technicians"]).order_by("pk"))
    clients = {c.pk: c for c in Client.objects.filter(pk__in=data["clients"])}
    made = []
    for n in range(count):
        client = clients[data["clients"][(run.bills + n) % len(data["clients"])]]
        bill = bill_open(location=location, client=client, acting_user=desk)
        a, b, c = staff[n % 4], staff[(n + 1) % 4], staff[(n + 2) % 4]
        bill_line_add(bill=bill, item=facial, staff=[StaffShare(a)], acting_user=desk)
        bill_line_add(bill=bill, item=cut, staff=[StaffShare(b, 6000), StaffShare(c, 4000)], acting_user=desk)
        bill_line_add(bill=bill, item=shampoo, acting_user=desk)
        bill.refresh_from_db(fields=["total"])
        made.append((bill.pk, bill.total))
    run.bills += count
    run.bills_seconds = (0 if math.isnan(run.bills_seconds) else run.bills_seconds) + time.perf_counter() - t0
    return made


def body(total: int) -> dict[str, Any]:
    return {"payments": [{"method": "cash", "amount": CASH}, {"method": "stored_value", "amount": total - CASH}]}


# --- timing ---------------------------------------------------------------------------------------------


def _pay_one(post: Any, bill: tuple[int, int]) -> int:
    bill_id, total = bill
    response = post(
        f"/api/v1/orders/{bill_id}/pay/",
        body(total),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"bench-{bill_id}",
    )
    return int(response.status_code)


def _pay_all(bills: list[tuple[int, int]], token: str, host: str) -> tuple[list[float], dict[int, int]]:
    return throughput.send_all(bills, _pay_one, token, host)


def timed(scenario: Scenario, bills: list[tuple[int, int]], token: str, host: str) -> Scenario:
    """Pay ``bills`` in this process or split among forked workers (``bench.throughput.timed``)."""
    return throughput.timed(scenario, bills, _pay_one, token, host)


def checkout_all(run: CheckoutRun, data: dict[str, Any], count: int, token: str, host: str, workers: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext

    warm = bills_make(run, data, 50)
    _latencies, codes = _pay_all(warm, token, host)
    if codes != {200: len(warm)}:
        raise RuntimeError(f"warm-up checkouts answered {codes}")
    if os.environ.get("BENCH_CHECKOUT_PROFILE"):  # where one process spends its time (not a figure of the run)
        import cProfile
        import pstats

        profiled = bills_make(run, data, 100)
        profiler = cProfile.Profile()
        profiler.runcall(_pay_all, profiled, token, host)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        ours = "pos/|crm/services|loyalty/services|core/|rest_framework/(views|request|authentication|permissions)"
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(ours, 40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    plans = [Scenario("one process, in-process test client", 1), Scenario(f"{workers} worker processes", workers)]
    for scenario in plans:
        bills = bills_make(run, data, count)
        log(f"{len(bills)} bills opened for '{scenario.label}' ({run.bills_seconds:.0f} s of bill making so far)")
        timed(scenario, bills, token, host)
        run.scenarios.append(scenario)
        log(
            f"{scenario.label}: {scenario.per_second:,.1f}/s, median {statistics.median(scenario.latencies_ms):.1f} ms"
            f", answers {scenario.status_codes}"
        )
    # For comparison: django-tenants setting search_path before every statement (its default; this project
    # sets TENANT_LIMIT_SET_CALLS, one SET per request).
    settings.TENANT_LIMIT_SET_CALLS = False
    try:
        scenario = Scenario("one process, `SET search_path` before every statement", 1)
        timed(scenario, bills_make(run, data, count), token, host)
        run.scenarios.append(scenario)
        log(f"{scenario.label}: {scenario.per_second:,.1f}/s, answers {scenario.status_codes}")
    finally:
        settings.TENANT_LIMIT_SET_CALLS = True
    # statements per checkout, measured apart (capturing slows the timed loop)
    post = HttpClient(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token}").post
    for bill_id, total in bills_make(run, data, 20):
        with CaptureQueriesContext(connection) as queries:
            response = post(
                f"/api/v1/orders/{bill_id}/pay/",
                body(total),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=f"measured-{bill_id}",
            )
        if response.status_code != 200:
            raise RuntimeError(f"measured checkout answered {response.status_code}: {response.content[:300]!r}")
        sqls = [q["sql"] for q in queries.captured_queries]
        run.search_path_sets.append(sum(1 for s in sqls if s.startswith("SET search_path")))
        run.queries.append(sum(1 for s in sqls if not s.startswith("SET search_path")))
        statements = [s for s in sqls if not s.startswith("SET search_path")]
        if not run.statements or len(statements) < len(run.statements):
            run.statements = statements  # the usual checkout: the fewest statements seen
        if len(statements) > len(run.largest):
            run.largest = statements
    if os.environ.get("BENCH_CHECKOUT_STATEMENTS"):
        for i, sql in enumerate(run.largest, 1):
            print(i, sql[:200], flush=True)


# --- report ---------------------------------------------------------------------------------------------


def generated_section(run: CheckoutRun) -> str:
    m = run.machine
    most = max(run.queries) if run.queries else 0
    lines = [
        "## Results: checkout throughput",
        "",
        f"Generated {run.started} by `python -m bench.pos_checkout`.",
        "",
        f"* Machine: `{m['host']}`, nproc {m['nproc']}, RAM {m['ram']}, CPU {m['cpu']}; load average (1/5/15 min) "
        f"{run.load_start} at the start, {run.load_end} at the end",
        f"* PostgreSQL {run.postgres}; `POST /api/v1/orders/{{id}}/pay/` with a bearer token and an "
        "`Idempotency-Key` through Django's in-process test client (middleware, tenant routing, token auth, "
        "DRF, `bill_pay` and everything a paid bill sets off: the stored-value debit, points earned, the "
        "client's history in one INSERT, the tier evaluated once, `bill_paid`); each checkout its own committed "
        "transaction",
        f"* Salon: {run.members:,} members with stored value (a third gold, a third silver: tiers by spend with member "
        f"discounts, a gold tier price, a senior level price), seeded in {run.seed_seconds:.0f} s; each bill has "
        "three lines (a facial by one technician, a cut split 60/40, a shampoo), opened through the bill "
        f"services before the timing ({run.bills:,} bills in {run.bills_seconds:.0f} s); each is paid ¥100 in "
        "cash and the rest from stored value",
        "",
        "| scenario | checkouts | per second | target | ratio | median | p95 | answers |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {sc.label} | {sc.count:,} | {sc.per_second:,.1f} | ≥ {TARGET_PER_SECOND} | "
            f"{sc.per_second / TARGET_PER_SECOND:.2f}× | {ms(statistics.median(sc.latencies_ms))} | "
            f"{ms(sc.percentile(0.95))} | {', '.join(f'{c} × {n:,}' for c, n in sorted(sc.status_codes.items()))} |"
            for sc in run.scenarios
        ],
        "",
        f"SQL statements per checkout: {min(run.queries)}–{most} (target ≤ {TARGET_STATEMENTS}: "
        f"{'PASS' if most <= TARGET_STATEMENTS else 'MISS'}), plus {max(run.search_path_sets)} `SET search_path` "
        "(once per request: `TENANT_LIMIT_SET_CALLS`).",
        "",
        "What one checkout sends (`SET search_path` counted apart):",
        "",
        *[f"{i}. `{sql[:150].strip()}{'…' if len(sql) > 150 else ''}`" for i, sql in enumerate(run.statements, 1)],
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkouts", type=int, default=600, help="timed checkouts per scenario")
    parser.add_argument("--members", type=int, default=MEMBERS, help="members with stored value in the salon")
    parser.add_argument("--database", default="salon_bench_checkout")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--broker", default="auto", help="as bench.scheduling_booking: a URL, 'sql' or 'auto'")
    args = parser.parse_args(argv)
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    run = CheckoutRun(
        started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine.describe(),
        postgres=dbutil.server_version(server_url),
        load_start=machine.load_average(),
    )
    ok = False
    # The receipt work a paid bill queues goes to Redis when it answers, as deployed (see
    # bench.scheduling_booking --broker); else to the default broker on the database.
    try:
        with throughput.bench_salon(server_url, args.database, SUBDOMAIN, args.broker, log) as salon:
            from django_tenants.utils import schema_context

            with schema_context(salon.schema):
                data = seed(run, args.members)
                key = throughput.api_token(salon.host, "desk", "Bench-pass-1")
                checkout_all(run, data, args.checkouts, key, salon.host, args.workers)
            run.load_end = machine.load_average()
            first = run.scenarios[0]
            print(
                f"checkout: {first.count:,} in {first.seconds:.2f} s = {first.per_second:,.1f}/s in one process, "
                f"{run.scenarios[1].per_second:,.1f}/s with {args.workers} workers; SQL statements per checkout "
                f"{min(run.queries)}–{max(run.queries)} (+ {max(run.search_path_sets)} SET search_path)",
                flush=True,
            )
            if not args.no_doc:
                from bench.report import write_doc

                write_doc(generated_section(run), begin=BEGIN, end=END)
                print("checkout: wrote docs/benchmarks.md", flush=True)
            ok = True
    except Exception:
        traceback.print_exc()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

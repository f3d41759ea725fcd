"""(h) Sales reports (POS-7): ``sales_report`` in-process for one month of a salon holding about
1,000,000 bill lines over 12 months — median, p95, and the first report of each month on a new
connection — plus a whole year by month, for comparison.

``pos_reports_seed`` writes the bills with ``INSERT … SELECT generate_series`` (a few statements,
not a million ORM saves), every row satisfying the CHECK constraints of apps/pos/models. Import only
after ``django.setup()`` (bench.run does).
"""

from __future__ import annotations

import datetime
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from bench.scenarios import log, signup_raw, tenant_db
from bench.stats import at_most, percentile
from tenants import services as tenant_services

POS_REPORTS_SUBDOMAIN = "sales-bench"
POS_REPORTS_BEGIN = (
    "<!-- BEGIN GENERATED sales reports by `make bench` (bench/run.py): everything down to END is overwritten -->"
)
POS_REPORTS_END = "<!-- END GENERATED sales reports -->"
TARGET_MS = 500.0
SERVICES = 40
PRODUCTS = 60
CLIENTS = 5_000


@dataclass
class Seeded:
    schema_name: str
    first_day: datetime.date
    last_day: datetime.date
    bills: int = 0
    lines: int = 0
    tenders: int = 0
    refunds: int = 0
    voided: int = 0
    locations: int = 0
    table_mb: dict[str, float] = field(default_factory=dict)


@dataclass
class PosReportsRun:
    started: str = ""
    minutes: float = 0.0
    load_start: str = ""
    load_end: str = ""
    seed_seconds: float = math.nan
    seeded: Seeded | None = None
    month_lines: int = 0  # lines sold in the month timed warm
    month_bills: int = 0
    month_ms: list[float] = field(default_factory=list)  # one month, all locations, warm
    month_location_ms: list[float] = field(default_factory=list)  # one month, one location, warm
    first_ms: list[float] = field(default_factory=list)  # first report of each month on a new connection
    year_ms: list[float] = field(default_factory=list)  # twelve months by month
    statements: list[str] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)


def _months(first: datetime.date, count: int) -> list[tuple[datetime.date, datetime.date]]:
    from apps.pos.selectors.sales import period_bounds

    months = []
    day = first
    for _ in range(count):
        start, end = period_bounds("month", day)
        months.append((start, end))
        day = end + datetime.timedelta(days=1)
    return months


def pos_reports_seed(*, lines: int = 1_000_000, months: int = 12, seed: float = 0.42) -> Seeded:
    """Fill the current salon schema: two locations, 40 services, 60 products, 5,000 clients, and bills
    over the last ``months`` whole months with about ``lines`` lines (1–5 a bill, three on average):
    70 % services, 25 % products, 5 % top-ups; one service or product line in 25 with 10 % off; one bill
    in seven paid by stored value and WeChat Pay together, the others by one of cash (with change),
    WeChat Pay, Alipay or stored value; 80 % with a client, the rest walk-ins; one bill in a hundred
    voided before payment and one in a hundred paid bills refunded (its first line, a few days later)."""
    from apps.catalog.models import Product, Service
    from apps.core.db import salon_timezone, salon_today
    from apps.core.models import Location
    from apps.crm.models import Client
    from apps.crm.services.clients import client_build

    tz = salon_timezone()
    today = salon_today()
    first_day = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    for _ in range(months - 1):
        first_day = (first_day - datetime.timedelta(days=1)).replace(day=1)
    last_day = today.replace(day=1) - datetime.timedelta(days=1)
    days = (last_day - first_day).days + 1

    Location.objects.create(name="分店 Branch")
    Service.objects.bulk_create(
        Service(name=f"服务 Service {n:02d}", duration_minutes=30 + n % 4 * 15, price=8_000 + n * 1_500)
        for n in range(SERVICES)
    )
    Product.objects.bulk_create(Product(name=f"产品 Product {n:02d}", price=3_000 + n * 700) for n in range(PRODUCTS))
    built = [client_build(name=f"顾客{i:05d}", phone=f"+86136{i:08d}") for i in range(CLIENTS)]
    Client.objects.bulk_create(built, batch_size=2000)

    bills = lines // 3
    params: dict[str, Any] = {"seed": seed, "bills": bills, "first_day": first_day, "days": days, "tz": str(tz.key)}
    with connection.cursor() as cursor:
        for statement in _SEED_SQL:
            cursor.execute(statement, params)
        cursor.execute("ANALYZE")
        counts = {}
        for table in ("pos_bill", "pos_billline", "pos_tender", "pos_refund"):
            cursor.execute(f"SELECT COUNT(*), pg_total_relation_size('{table}') FROM {table}")
            counts[table] = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM pos_bill WHERE status = 'voided'")
        voided = cursor.fetchone()[0]
    return Seeded(
        schema_name=tenant_db.schema_name,
        first_day=first_day,
        last_day=last_day,
        bills=counts["pos_bill"][0],
        lines=counts["pos_billline"][0],
        tenders=counts["pos_tender"][0],
        refunds=counts["pos_refund"][0],
        voided=voided,
        locations=Location.objects.count(),
        table_mb={table: size / 1024 / 1024 for table, (_n, size) in counts.items()},
    )


# Bills first (ids 1…n, in paid order), then their lines, tenders and refunds. ``setseed`` makes the data the
# same on every run.
_SEED_SQL = (
    "SELECT setseed(%(seed)s)",
    """CREATE TEMP TABLE gen_refs AS SELECT
         (SELECT array_agg(id ORDER BY id) FROM crm_client) AS clients,
         (SELECT array_agg(id ORDER BY id) FROM core_location) AS locations,
         (SELECT array_agg(id ORDER BY id) FROM catalog_service) AS services,
         (SELECT array_agg(price ORDER BY id) FROM catalog_service) AS service_prices,
         (SELECT array_agg(name ORDER BY id) FROM catalog_service) AS service_names,
         (SELECT array_agg(id ORDER BY id) FROM catalog_product) AS products,
         (SELECT array_agg(price ORDER BY id) FROM catalog_product) AS product_prices,
         (SELECT array_agg(name ORDER BY id) FROM catalog_product) AS product_names,
         (SELECT id FROM core_user ORDER BY id LIMIT 1) AS cashier""",
    # paid_at: bill n on day (n − 1) × days ÷ bills, at a random time from 10:00 to 21:00 local.
    """CREATE TEMP TABLE gen_bill AS
       SELECT n AS id,
              ((%(first_day)s::date + ((n - 1)::bigint * %(days)s / %(bills)s)::int)::timestamp
                + interval '10 hours' + random() * interval '11 hours') AT TIME ZONE %(tz)s AS paid_at,
              CASE WHEN random() < 0.8
                   THEN g.clients[1 + floor(random() * cardinality(g.clients))::int] END AS client_id,
              g.locations[CASE WHEN random() < 0.6 THEN 1 ELSE 2 END] AS location_id,
              1 + floor(random() * 5)::int AS line_count,
              random() < 0.01 AS voided,
              random() AS tender_pick
       FROM generate_series(1, %(bills)s) n, gen_refs g""",
    """CREATE TEMP TABLE gen_line AS
       SELECT bill_id, position, kind, service_id, product_id, name, quantity, price,
              CASE WHEN disc THEN price * quantity / 10 ELSE 0 END AS discount
       FROM (SELECT b.id AS bill_id, i AS position, r.k,
                    CASE WHEN r.k < 0.70 THEN 'service' WHEN r.k < 0.95 THEN 'product' ELSE 'top_up' END AS kind,
                    CASE WHEN r.k < 0.70 THEN g.services[r.s] END AS service_id,
                    CASE WHEN r.k >= 0.70 AND r.k < 0.95 THEN g.products[r.p] END AS product_id,
                    CASE WHEN r.k < 0.70 THEN g.service_names[r.s]
                         WHEN r.k < 0.95 THEN g.product_names[r.p] ELSE '储值充值 Top-up' END AS name,
                    CASE WHEN r.k >= 0.70 AND r.k < 0.95 THEN 1 + floor(random() * 3)::int ELSE 1 END AS quantity,
                    CASE WHEN r.k < 0.70 THEN g.service_prices[r.s]
                         WHEN r.k < 0.95 THEN g.product_prices[r.p] ELSE 100000 END AS price,
                    r.k < 0.95 AND random() < 0.04 AS disc
             FROM gen_bill b CROSS JOIN LATERAL generate_series(1, b.line_count) i
             CROSS JOIN gen_refs g
             CROSS JOIN LATERAL (SELECT random() AS k, 1 + floor(random() * cardinality(g.services))::int AS s,
                                        1 + floor(random() * cardinality(g.products))::int AS p
                                 WHERE i > 0) r) x""",
    """CREATE TEMP TABLE gen_total AS
       SELECT bill_id, SUM(price * quantity) AS subtotal, SUM(discount) AS discount_total,
              SUM(price * quantity - discount) AS total
       FROM gen_line GROUP BY bill_id""",
    """INSERT INTO pos_bill (id, number, location_id, client_id, kind, status, subtotal, discount_total, total,
                             paid_total, refunded_total, change_given, guest_count, notes, opened_by_id, opened_at,
                             paid_at, closed_by_id, voided_at, void_reason, updated_at)
       SELECT b.id, to_char(b.paid_at AT TIME ZONE %(tz)s, 'YYYYMMDD') || '-' || lpad(b.id::text, 7, '0'),
              b.location_id, b.client_id, 'standard', CASE WHEN b.voided THEN 'voided' ELSE 'paid' END,
              t.subtotal, t.discount_total, t.total, CASE WHEN b.voided THEN 0 ELSE t.total END, 0, 0, 1, '',
              g.cashier, b.paid_at - interval '50 minutes', CASE WHEN b.voided THEN NULL ELSE b.paid_at END,
              CASE WHEN b.voided THEN NULL ELSE g.cashier END, CASE WHEN b.voided THEN b.paid_at END,
              CASE WHEN b.voided THEN 'bench' ELSE '' END, b.paid_at
       FROM gen_bill b JOIN gen_total t ON t.bill_id = b.id CROSS JOIN gen_refs g ORDER BY b.id""",
    """SELECT setval(pg_get_serial_sequence('pos_bill', 'id'), (SELECT MAX(id) FROM pos_bill))""",
    """INSERT INTO pos_billline (bill_id, position, kind, service_id, product_id, name, quantity, list_price,
                                 unit_price, price_rule, is_manual_price, price_reason, discount, amount,
                                 top_up_bonus, refunded_quantity, refunded_amount, notes, guest_label)
       SELECT bill_id, position, kind, service_id, product_id, name, quantity, price, price, '', false, '',
              discount, price * quantity - discount, 0, 0, 0, '', ''
       FROM gen_line ORDER BY bill_id, position""",
    # One tender for six bills in seven (cash with change rounded up to ¥100, WeChat Pay, Alipay or stored
    # value); stored value for half and WeChat Pay for the rest on the seventh.
    """INSERT INTO pos_tender (bill_id, method, amount, status, tendered, change, points, refunded_amount,
                               idempotency_key, failure_code, failure_message, created_by_id, created_at, settled_at)
       SELECT b.id, m.method, m.amount, 'succeeded',
              CASE WHEN m.method = 'cash' THEN ((m.amount + 9999) / 10000) * 10000 ELSE 0 END,
              CASE WHEN m.method = 'cash' THEN ((m.amount + 9999) / 10000) * 10000 - m.amount ELSE 0 END,
              0, 0, 'bench-tender-' || b.id || '-' || m.part, '', '', g.cashier, b.paid_at, b.paid_at
       FROM gen_bill b JOIN gen_total t ON t.bill_id = b.id CROSS JOIN gen_refs g
       CROSS JOIN LATERAL (
         SELECT 1 AS part,
                CASE WHEN b.tender_pick < 0.30 THEN 'cash' WHEN b.tender_pick < 0.55 THEN 'wechat'
                     WHEN b.tender_pick < 0.70 THEN 'alipay' ELSE 'stored_value' END AS method,
                CASE WHEN b.tender_pick >= 0.86 THEN t.total / 2 ELSE t.total END AS amount
         UNION ALL
         SELECT 2, 'wechat', t.total - t.total / 2 WHERE b.tender_pick >= 0.86
       ) m
       WHERE NOT b.voided AND m.amount > 0
       ORDER BY b.id, m.part""",
    # One paid bill in a hundred (single tender) gives back its first line, 1–10 days later.
    """CREATE TEMP TABLE gen_refund AS
       SELECT row_number() OVER (ORDER BY b.id) AS id, b.id AS bill_id, l.id AS line_id, l.quantity, l.amount,
              tn.id AS tender_id, b.paid_at + (1 + floor(random() * 10)::int) * interval '1 day' AS created_at
       FROM pos_bill b
       JOIN pos_billline l ON l.bill_id = b.id AND l.position = 1
       JOIN pos_tender tn ON tn.bill_id = b.id
       WHERE b.status = 'paid' AND b.id %% 100 = 37 AND b.total > 0 AND l.amount > 0
         AND NOT EXISTS (SELECT 1 FROM pos_tender o WHERE o.bill_id = b.id AND o.id <> tn.id)""",
    """INSERT INTO pos_refund (id, bill_id, amount, reason, status, idempotency_key, created_by_id, created_at)
       SELECT r.id, r.bill_id, r.amount, 'bench', 'succeeded', 'bench-refund-' || r.id, g.cashier, r.created_at
       FROM gen_refund r CROSS JOIN gen_refs g""",
    """SELECT setval(pg_get_serial_sequence('pos_refund', 'id'), GREATEST((SELECT MAX(id) FROM pos_refund), 1))""",
    """INSERT INTO pos_refundline (refund_id, bill_line_id, quantity, amount)
       SELECT id, line_id, quantity, amount FROM gen_refund""",
    """INSERT INTO pos_refundtender (refund_id, tender_id, amount, status, failure_message)
       SELECT id, tender_id, amount, 'succeeded', '' FROM gen_refund""",
    """UPDATE pos_billline l SET refunded_quantity = r.quantity, refunded_amount = r.amount
       FROM gen_refund r WHERE l.id = r.line_id""",
    """UPDATE pos_tender tn SET refunded_amount = r.amount FROM gen_refund r WHERE tn.id = r.tender_id""",
    """UPDATE pos_bill b SET refunded_total = r.amount,
              status = CASE WHEN r.amount = b.paid_total THEN 'refunded' ELSE 'paid' END
       FROM gen_refund r WHERE b.id = r.bill_id""",
    "DROP TABLE gen_refs, gen_bill, gen_line, gen_total, gen_refund",
    "VACUUM",
)


def pos_reports_salon(lines: int) -> tuple[str, Seeded, float]:
    tenant_db.set_schema_to_public()
    salon = tenant_services.salon_signup(raw=signup_raw(POS_REPORTS_SUBDOMAIN)).salon
    with schema_context(salon.schema_name):
        t0 = time.perf_counter()
        seeded = pos_reports_seed(lines=lines)
        return salon.schema_name, seeded, time.perf_counter() - t0


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def pos_reports_all(run: PosReportsRun, *, lines: int = 1_000_000, runs: int = 30) -> None:
    from apps.core.models import Location
    from apps.pos.selectors.sales import sales_report

    schema, seeded, run.seed_seconds = pos_reports_salon(lines)
    run.seeded = seeded
    log(
        f"  seeded {seeded.bills:,} bills, {seeded.lines:,} lines, {seeded.tenders:,} tenders, "
        f"{seeded.refunds:,} refunds in {run.seed_seconds:.1f} s"
    )
    months = _months(seeded.first_day, 12)
    with schema_context(schema):
        # Cold-ish: the first report of each month, each on a new database connection.
        for start, end in months:
            connections.close_all()
            run.first_ms.append(_timed(lambda s=start, e=end: sales_report(date_from=s, date_to=e, period="day")))
        log(f"  first report of each month, new connection: median {statistics.median(run.first_ms):.1f} ms")

        start, end = months[6]
        report = sales_report(date_from=start, date_to=end, period="day")
        run.month_bills = report.bills
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pos_billline l JOIN pos_bill b ON b.id = l.bill_id "
                "WHERE b.status IN ('paid', 'refunded') AND b.paid_at >= %s AND b.paid_at < %s",
                [report_bounds(start, end)[0], report_bounds(start, end)[1]],
            )
            run.month_lines = cursor.fetchone()[0]
        for _ in range(runs):
            run.month_ms.append(_timed(lambda: sales_report(date_from=start, date_to=end, period="day")))
        log(
            f"  one month ({run.month_lines:,} lines), all locations: median {statistics.median(run.month_ms):.1f} ms, "
            f"p95 {percentile(run.month_ms, 95):.1f} ms"
        )
        branch = Location.objects.order_by("id").first()
        for _ in range(runs):
            run.month_location_ms.append(
                _timed(lambda: sales_report(date_from=start, date_to=end, period="day", location=branch))
            )
        with CaptureQueriesContext(connection) as captured:
            sales_report(date_from=start, date_to=end, period="day")
        run.statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SET search_path")]
        with connection.cursor() as cursor:
            for sql in run.statements[2:6]:  # the line and tender statements
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
                run.plans.append("\n".join(row[0] for row in cursor.fetchall()))
        for _ in range(max(runs // 3, 3)):
            run.year_ms.append(
                _timed(lambda: sales_report(date_from=months[0][0], date_to=months[-1][1], period="month"))
            )
        log(f"  twelve months by month: median {statistics.median(run.year_ms):.1f} ms")


def report_bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    from apps.pos.selectors.sales import report_window

    window = report_window(date_from=start, date_to=end)
    return window.start, window.end


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if not math.isnan(value) else "—"


def pos_reports_generated_section(run: PosReportsRun, machine: dict[str, str], postgres: str) -> str:
    s = run.seeded
    assert s is not None
    month_median, month_p95 = statistics.median(run.month_ms), percentile(run.month_ms, 95)
    first_median, first_max = statistics.median(run.first_ms), max(run.first_ms)
    location_median = statistics.median(run.month_location_ms)
    year_median = statistics.median(run.year_ms)
    sizes = ", ".join(f"`{table}` {mb:.0f} MB" for table, mb in s.table_mb.items())
    lines = [
        "## Results: (h) sales reports",
        "",
        f"Generated {run.started} by `python -m bench.run --pos-reports only` ({run.minutes:.1f} min for this part).",
        "",
        f"* Machine: `{machine['host']}`, nproc {machine['nproc']}, RAM {machine['ram']}, CPU {machine['cpu']}; "
        f"load average (1/5/15 min) {run.load_start} at the start, {run.load_end} at the end",
        f"* PostgreSQL {postgres}, default settings; one Python thread calling `sales_report` in-process (no HTTP)",
        f"* Salon (`bench.pos_reports.pos_reports_seed`, {run.seed_seconds:.0f} s with `INSERT … SELECT "
        f"generate_series`): {s.locations} locations, {SERVICES} services, {PRODUCTS} products, {CLIENTS:,} clients; "
        f"{s.bills:,} bills ({s.voided:,} voided) from {s.first_day} to {s.last_day} with **{s.lines:,} lines**, "
        f"{s.tenders:,} tenders and {s.refunds:,} refunds; {sizes} (with indexes)",
        "",
        "| report | runs | median | p95 | max | target | ratio (median / target) |",
        "|---|---|---|---|---|---|---|",
        f"| one month by day, all locations ({run.month_bills:,} bills, {run.month_lines:,} lines), warm | "
        f"{len(run.month_ms)} | {_ms(month_median)} | {_ms(month_p95)} | {_ms(max(run.month_ms))} | "
        f"≤ {TARGET_MS:.0f} ms | {month_median / TARGET_MS:.2f}× {at_most(month_p95, TARGET_MS)} |",
        f"| one month by day, one location, warm | {len(run.month_location_ms)} | {_ms(location_median)} | "
        f"{_ms(percentile(run.month_location_ms, 95))} | {_ms(max(run.month_location_ms))} | ≤ {TARGET_MS:.0f} ms | "
        f"{location_median / TARGET_MS:.2f}× {at_most(percentile(run.month_location_ms, 95), TARGET_MS)} |",
        f"| first report of each of the 12 months, each on a new connection (cold-ish) | {len(run.first_ms)} | "
        f"{_ms(first_median)} | {_ms(percentile(run.first_ms, 95))} | {_ms(first_max)} | ≤ {TARGET_MS:.0f} ms | "
        f"{first_median / TARGET_MS:.2f}× {at_most(first_max, TARGET_MS)} |",
        f"| twelve months by month, all locations ({s.lines:,} lines), for comparison | {len(run.year_ms)} | "
        f"{_ms(year_median)} | {_ms(percentile(run.year_ms, 95))} | {_ms(max(run.year_ms))} | — | — |",
        "",
        "“Cold-ish”: a new connection has empty catalogue caches and no prepared plans, but PostgreSQL's shared "
        "buffers and the operating system's page cache still hold what seeding and earlier reports read (the "
        "benchmark cannot empty them without restarting the server).",
        "",
        f"What one monthly report sends ({len(run.statements)} statements, django-tenants' `SET search_path` apart):",
        "",
        *[
            f"{i}. `{' '.join(sql.split())[:200]}{'…' if len(' '.join(sql.split())) > 200 else ''}`"
            for i, sql in enumerate(run.statements, 1)
        ],
        "",
        "Plans of the line and tender statements (`EXPLAIN (ANALYZE, BUFFERS)`, warm):",
        "",
    ]
    for plan in run.plans:
        lines += ["```", plan, "```", ""]
    return "\n".join(lines)

"""Sales reports (POS-7): the figures of a fixture month (refunds on their own day, a voided bill left
out, two locations, local-day boundaries at 23:59 and 00:01 Shanghai), the page with its charts and
XLSX export, the API, permissions and query counts."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.pos.selectors.sales import period_bounds, sales_report
from apps.pos.tests.factories_reports import Line, bill_paid
from apps.pos.tests.scenario_reports import MARCH_FIRST, MARCH_LAST, arrange_march, at, beta_bill
from tests.fixtures import api_token, logged_in_client, make_staff


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def statements(captured: CaptureQueriesContext) -> int:
    return sum(1 for query in captured.captured_queries if not query["sql"].startswith("SET search_path"))


def test_month_figures(in_alpha, beta):
    # given
    march = arrange_march()
    with schema_context(beta.schema):
        beta_bill()
    # when
    report = sales_report(date_from=MARCH_FIRST, date_to=MARCH_LAST, period="day")
    # then: B1, B2, B5, B6, B8, B9, B10 sold; R1 and R2 refunded in March
    assert (report.gross, report.refunds, report.revenue) == (286_000, 15_000, 271_000)
    assert (report.bills, report.clients, report.walk_ins, report.average_ticket) == (7, 3, 1, 38_714)
    assert (report.top_ups, report.refunds_without_lines, report.timezone) == (100_000, 0, "Asia/Shanghai")
    assert [(k.kind, k.sold, k.refunded, k.net) for k in report.by_kind] == [
        ("service", 97_000, 10_000, 87_000),
        ("product", 24_000 + 5_000, 5_000, 24_000),
        ("package", 0, 0, 0),
        ("course_card", 60_000, 0, 60_000),
        ("top_up", 100_000, 0, 100_000),
    ]
    assert [(i.name, i.quantity, i.amount, i.refunded_quantity) for i in report.top_services_by_revenue] == [
        ("Colour", 2, 57_000, 0),
        ("Cut", 3, 30_000, 1),
    ]
    assert [i.name for i in report.top_services_by_quantity] == ["Cut", "Colour"]
    assert [(i.name, i.quantity, i.amount) for i in report.top_products_by_revenue] == [
        ("Shampoo", 3, 24_000),
        ("Mask", 0, 0),
    ]
    assert [(t.method, t.taken, t.refunded, t.net) for t in report.tenders] == [
        ("cash", 142_000, 10_000, 132_000),
        ("wechat", 97_000, 0, 97_000),
        ("alipay", 15_000, 5_000, 10_000),
        ("stored_value", 20_000, 0, 20_000),
        ("points", 2_000, 0, 2_000),
        ("course_card", 10_000, 0, 10_000),
    ]
    assert sum(t.net for t in report.tenders) == report.revenue
    assert [(p.name, p.gross, p.refunds, p.revenue, p.bills, p.clients) for p in report.locations] == [
        ("Branch", 35_000, 5_000, 30_000, 1, 1),
        (march.main.name, 251_000, 10_000, 241_000, 6, 3),
    ]


def test_days_are_the_salons_local_days(in_alpha):
    # given
    arrange_march()
    # when
    report = sales_report(date_from=MARCH_FIRST, date_to=MARCH_LAST, period="day")
    # then: B1 at 00:01 on March 1 (still February in UTC) and B2 at 23:59 on March 31 are March's first and
    # last sales; B3 at 23:59 on February 28 and B4 at 00:01 on April 1 are not March's
    days = {row.start.day: (row.gross, row.refunds, row.revenue, row.bills, row.clients) for row in report.rows}
    assert len(report.rows) == 31
    assert {day: figures for day, figures in days.items() if figures != (0, 0, 0, 0, 0)} == {
        1: (36_000, 0, 36_000, 1, 1),
        5: (0, 10_000, -10_000, 0, 0),
        10: (135_000, 0, 135_000, 2, 2),
        15: (70_000, 0, 70_000, 1, 1),
        18: (18_000, 0, 18_000, 2, 1),
        20: (0, 5_000, -5_000, 0, 0),
        31: (27_000, 0, 27_000, 1, 1),
    }
    assert report.rows[0].average_ticket == 36_000 and report.rows[4].average_ticket is None
    feb = sales_report(date_from=datetime.date(2026, 2, 28), date_to=datetime.date(2026, 2, 28))
    april = sales_report(date_from=datetime.date(2026, 4, 1), date_to=datetime.date(2026, 4, 2))
    assert (feb.gross, feb.bills) == (10_000, 1)
    assert (april.gross, april.refunds, april.bills) == (10_000, 27_000, 1)


def test_weeks_start_on_monday_and_are_cut_to_the_period(in_alpha):
    # given
    arrange_march()
    # when
    report = sales_report(date_from=MARCH_FIRST, date_to=MARCH_LAST, period="week")
    # then
    assert [(r.start.isoformat(), r.end.isoformat(), r.revenue, r.bills, r.clients) for r in report.rows] == [
        ("2026-03-01", "2026-03-01", 36_000, 1, 1),
        ("2026-03-02", "2026-03-08", -10_000, 0, 0),
        ("2026-03-09", "2026-03-15", 205_000, 3, 2),
        ("2026-03-16", "2026-03-22", 13_000, 2, 1),
        ("2026-03-23", "2026-03-29", 0, 0, 0),
        ("2026-03-30", "2026-03-31", 27_000, 1, 1),
    ]
    months = sales_report(date_from=datetime.date(2026, 2, 1), date_to=datetime.date(2026, 4, 30), period="month")
    assert [(r.start.month, r.gross, r.refunds, r.bills) for r in months.rows] == [
        (2, 10_000, 0, 1),
        (3, 286_000, 15_000, 7),
        (4, 10_000, 27_000, 1),
    ]


def test_one_location(in_alpha):
    # given
    march = arrange_march()
    # when
    branch = sales_report(date_from=MARCH_FIRST, date_to=MARCH_LAST, location=march.branch)
    main = sales_report(date_from=MARCH_FIRST, date_to=MARCH_LAST, location=march.main)
    # then
    assert (branch.gross, branch.refunds, branch.revenue, branch.bills, branch.clients) == (35_000, 5_000, 30_000, 1, 1)
    assert [(t.method, t.net) for t in branch.tenders] == [("alipay", 10_000), ("stored_value", 20_000)]
    assert [(i.name, i.amount) for i in branch.top_services_by_revenue] == [("Colour", 30_000)]
    assert branch.locations == [] and branch.location_id == march.branch.pk
    assert (main.revenue, main.bills, main.clients) == (241_000, 6, 3)
    assert main.revenue + branch.revenue == 271_000


def test_period_checks(in_alpha):
    with pytest.raises(ServiceError) as backwards:
        sales_report(date_from=MARCH_LAST, date_to=MARCH_FIRST)
    assert (backwards.value.code.value, backwards.value.field) == ("end_before_start", "date_to")
    with pytest.raises(ServiceError) as longer:
        sales_report(date_from=datetime.date(2025, 1, 1), date_to=datetime.date(2026, 1, 2))
    assert longer.value.message == "Report at most 366 days at a time."
    assert period_bounds("week", datetime.date(2026, 3, 1)) == (datetime.date(2026, 2, 23), MARCH_FIRST)
    assert period_bounds("month", datetime.date(2026, 2, 14)) == (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))


def test_statements_do_not_grow_with_bills_or_items(in_alpha):
    # given
    march = arrange_march()
    sales_report(date_from=MARCH_FIRST, date_to=MARCH_LAST)  # the salon's zone is cached
    with CaptureQueriesContext(connection) as few:
        sales_report(date_from=MARCH_FIRST, date_to=MARCH_LAST)
    for n in range(5):
        bill_paid(lines=[Line(march.colour), Line(march.mask, quantity=n + 1)], paid_at=at(3, 3 + n, 12))
    # when
    with CaptureQueriesContext(connection) as many:
        report = sales_report(date_from=MARCH_FIRST, date_to=MARCH_LAST)
    # then
    assert report.bills == 12
    assert statements(many) == statements(few) == 9


# --- page, export, API ----------------------------------------------------------------------------

MONTH = {"period": "month", "date": "2026-03-14"}


def english(info, username):
    client = logged_in_client(info, username)
    client.post("/account/language/", {"language": "en"})
    return client


def test_page_shows_tables_and_charts(alpha):
    # given
    with schema_context(alpha.schema):
        march = arrange_march()
    owner = english(alpha, alpha.owner_username)
    owner.get("/till/reports/sales/", MONTH)  # the salon's zone cached
    # when
    with CaptureQueriesContext(connection) as captured:
        page = owner.get("/till/reports/sales/", MONTH)
    # then: the session, the user and the permissions (3), the report (9), the location choices (1)
    assert statements(captured) == 13
    with schema_context(alpha.schema):
        for n in range(4):
            bill_paid(lines=[Line(march.cut), Line(march.shampoo)], paid_at=at(3, 2 + n, 12), location=march.branch)
    with CaptureQueriesContext(connection) as more:
        owner.get("/till/reports/sales/", MONTH)
    assert statements(more) == 13
    assert page.status_code == 200
    html = page.content.decode()
    assert '<dd data-figure="revenue">¥2,710.00</dd>' in html
    assert '<dd data-figure="clients">3</dd>' in html
    assert '<dd data-figure="average-ticket">¥387.14</dd>' in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 3
    assert '<title id="chart-revenue-title">Revenue by day</title>' in html
    assert "<title>10: ¥1,350.00</title>" in html
    assert "<title>Cash: ¥1,320.00</title>" in html
    assert '<th scope="row">Branch</th><td class="num">¥350.00</td><td class="num">¥50.00</td>' in html
    assert 'href="/till/reports/sales/export.xlsx?period=month&amp;date=2026-03-01&amp;location="' in html
    assert 'href="?period=month&amp;date=2026-02-28&amp;location="' in html  # the month before
    assert '<a href="/till/reports/sales/" aria-current="page">Reports</a>' in html  # the module, not the Till


def test_page_without_a_choice_shows_this_month(alpha):
    owner = english(alpha, alpha.owner_username)
    page = owner.get("/till/reports/sales/")
    assert page.status_code == 200
    assert "Sales report" in page.content.decode()
    refused = owner.get("/till/reports/sales/", {"period": "year", "date": "2026-03-01"})
    assert refused.status_code == 200 and "<svg" not in refused.content.decode()


def test_daily_and_weekly_pages(alpha):
    # given
    with schema_context(alpha.schema):
        arrange_march()
    owner = english(alpha, alpha.owner_username)
    # when
    day = owner.get("/till/reports/sales/", {"period": "day", "date": "2026-03-10"}).content.decode()
    week = owner.get("/till/reports/sales/", {"period": "week", "date": "2026-03-10"}).content.decode()
    # then: March 10 alone (no chart by day), and the week of Monday March 9 with a bar per weekday
    assert "2026-03-10, days in Asia/Shanghai." in day
    assert '<dd data-figure="revenue">¥1,350.00</dd>' in day and "chart-revenue" not in day
    assert "2026-03-09 to 2026-03-15, days in Asia/Shanghai." in week
    assert '<dd data-figure="revenue">¥2,050.00</dd>' in week
    assert "<title>Mon: ¥0.00</title>" in week and "<title>Tue: ¥1,350.00</title>" in week


def test_export_holds_the_figures_and_is_audited(alpha):
    # given
    with schema_context(alpha.schema):
        march = arrange_march()
    owner = english(alpha, alpha.owner_username)
    # when
    response = owner.get("/till/reports/sales/export.xlsx", {**MONTH, "location": march.branch.pk})
    everywhere = owner.get("/till/reports/sales/export.xlsx", MONTH)
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="sales-2026-03-01-2026-03-31.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Summary",
        "By day",
        "By kind",
        "Top services",
        "Services by quantity",
        "Top products",
        "Products by quantity",
        "Tenders",
    ]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert summary["Location"] == "Branch"
    assert (summary["Revenue"], summary["Bills"], summary["Clients"]) == (300, 1, 1)
    assert book["Summary"]["B6"].number_format == "#,##0.00"
    assert list(book["Tenders"].iter_rows(min_row=2, values_only=True)) == [
        ("Alipay", 150, 50, 100),
        ("Stored value", 200, 0, 200),
    ]
    book = load_workbook(io.BytesIO(everywhere.content))
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert (summary["Gross sales"], summary["Refunds"], summary["Revenue"]) == (2860, 150, 2710)
    assert Decimal(str(summary["Average ticket"])) == Decimal("387.14")
    day_ten = next(iter(book["By day"].iter_rows(min_row=11, max_row=11, values_only=True)))
    assert day_ten[0].date() == datetime.date(2026, 3, 10) and day_ten[2:7] == (1350, 0, 1350, 2, 2)
    assert next(iter(book["Locations"].iter_rows(min_row=2, values_only=True)))[:5] == ("Branch", 350, 50, 300, 1)
    assert list(book["Top services"].iter_rows(min_row=2, values_only=True)) == [
        ("Colour", 2, 570, 0, 0),
        ("Cut", 3, 300, 1, 100),
    ]
    with schema_context(alpha.schema):
        exports = list(AuditEntry.objects.filter(action="pos.sales_report.exported").order_by("id"))
    assert [e.data for e in exports] == [
        {"date_from": "2026-03-01", "date_to": "2026-03-31", "location": march.branch.pk},
        {"date_from": "2026-03-01", "date_to": "2026-03-31", "location": None},
    ]


def test_permissions(alpha):
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="manager", username="boss")
    make_staff(alpha, role="accountant", username="books")
    # front desk: no reports
    assert logged_in_client(alpha, "desk").get("/till/reports/sales/").status_code == 403
    # a manager reads reports but may not export (export_data)
    boss = logged_in_client(alpha, "boss")
    assert boss.get("/till/reports/sales/", MONTH).status_code == 200
    assert "Download as a spreadsheet" not in boss.get("/till/reports/sales/", MONTH).content.decode()
    assert boss.get("/till/reports/sales/export.xlsx", MONTH).status_code == 403
    # the accountant does both
    books = logged_in_client(alpha, "books")
    assert books.get("/till/reports/sales/export.xlsx", MONTH).status_code == 200
    assert Client(HTTP_HOST=alpha.host).get("/till/reports/sales/").status_code == 302
    with schema_context(alpha.schema):
        assert AuditEntry.objects.filter(action="pos.sales_report.exported").count() == 1
    desk_api = Client(
        HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, 'desk')}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert desk_api.get("/api/v1/reports/sales/").status_code == 403


def _api(info):
    return Client(
        HTTP_HOST=info.host,
        HTTP_AUTHORIZATION=f"Bearer {api_token(info, info.owner_username)}",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_api_returns_the_figures(alpha, beta):
    # given
    with schema_context(alpha.schema):
        march = arrange_march()
    api = _api(alpha)
    # when
    weekly = api.get("/api/v1/reports/sales/", {"period": "week", "from": "2026-03-01", "to": "2026-03-31"})
    branch = api.get(
        "/api/v1/reports/sales/",
        {"period": "month", "from": "2026-03-01", "to": "2026-03-31", "location": march.branch.pk},
    )
    # then
    assert weekly.status_code == 200, weekly.content
    body = weekly.json()
    assert (body["period"], body["date_from"], body["date_to"], body["timezone"]) == (
        "week",
        "2026-03-01",
        "2026-03-31",
        "Asia/Shanghai",
    )
    assert (body["revenue"], body["bills"], body["clients"], body["average_ticket"]) == (271_000, 7, 3, 38_714)
    assert body["rows"][2] == {
        "start": "2026-03-09",
        "end": "2026-03-15",
        "gross": 205_000,
        "refunds": 0,
        "revenue": 205_000,
        "bills": 3,
        "clients": 2,
        "average_ticket": 68_333,
    }
    assert body["tenders"][0] == {
        "method": "cash",
        "label": "Cash",
        "taken": 142_000,
        "refunded": 10_000,
        "net": 132_000,
    }
    assert branch.json()["rows"] == [
        {
            "start": "2026-03-01",
            "end": "2026-03-31",
            "gross": 35_000,
            "refunds": 5_000,
            "revenue": 30_000,
            "bills": 1,
            "clients": 1,
            "average_ticket": 30_000,
        }
    ]
    assert _api(beta).get("/api/v1/reports/sales/", {"from": "2026-03-01", "to": "2026-03-31"}).json()["bills"] == 0


def test_api_refuses_bad_queries(alpha):
    api = _api(alpha)
    backwards = api.get("/api/v1/reports/sales/", {"from": "2026-03-31", "to": "2026-03-01"})
    assert (backwards.status_code, backwards.json()) == (400, {"to": ["The end of the period is before its start."]})
    too_long = api.get("/api/v1/reports/sales/", {"from": "2025-01-01", "to": "2026-03-01"})
    assert too_long.json() == {"to": ["Report at most 366 days at a time."]}
    assert list(api.get("/api/v1/reports/sales/", {"period": "year"}).json()) == ["period"]
    assert list(api.get("/api/v1/reports/sales/", {"from": "1 March"}).json()) == ["from"]
    assert list(api.get("/api/v1/reports/sales/", {"location": "999999"}).json()) == ["location"]
    # without dates: the period (a day by default) that holds today
    default = api.get("/api/v1/reports/sales/", {"period": "month"}).json()
    with schema_context(alpha.schema):
        from apps.core.db import salon_today

        today = salon_today()
    assert (default["date_from"], default["date_to"]) == (today.replace(day=1).isoformat(), today.isoformat())

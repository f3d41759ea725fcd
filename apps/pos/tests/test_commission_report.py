"""The staff performance report (POS-6): revenue, services, products, requested services and commission per
staff member and period, net of refunds, per location or combined; the page with its charts, the XLSX
export, the API, and a technician who sees only their own figures."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from apps.core.db import salon_timezone
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry, User
from apps.core.services import location_create
from apps.pos.selectors.commission import Period, period_dates, staff_performance
from apps.pos.services.commission import (
    commission_record_for_bill,
    commission_reverse_for_refund,
    commission_rule_create,
)
from apps.pos.tests.factories_commission import (
    Line,
    bill_lines,
    default_location,
    paid_bill,
    product_make,
    refund_make,
    service_make,
)
from tests.fixtures import api_token, logged_in_client, make_staff

UTC = datetime.UTC
MARCH = {"period": "month", "day": "2026-03-15"}


def at(month: int, day: int) -> datetime.datetime:
    return datetime.datetime(2026, month, day, 4, 0, tzinfo=UTC)  # noon in Shanghai


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def arrange_march(info) -> SimpleNamespace:
    """In ``info``'s salon: 10 % on services (+3 % when requested), ¥5 a unit on products, and

    - 2 March, main shop: Li's requested cut (¥100); two shampoos (¥256) shared 50/50 by Li and Wang;
    - 4 March, east shop: Wang's requested colour (¥388) shared 60/40 with Zhao;
    - 6 March: one shampoo of 2 March refunded;
    - 9 March, main shop: Zhao's cut;
    - 1 April 01:00 in Shanghai (31 March in UTC): Li's cut.
    """
    make_staff(info, role="technician", username="li")
    make_staff(info, role="technician", username="wang")
    make_staff(info, role="technician", username="zhao")
    with schema_context(info.schema):
        li, wang, zhao = (User.objects.get(username=name) for name in ("li", "wang", "zhao"))
        main = default_location()
        east = location_create(name="East")
        commission_rule_create(
            scope="kind",
            line_kind="service",
            method="percentage",
            rate_bp=1000,
            requested_bonus_bp=300,
            acting_user=None,
        )
        commission_rule_create(scope="kind", line_kind="product", method="fixed", fixed_amount=500, acting_user=None)
        cut = service_make("Cut", price=10_000)
        colour = service_make("Colour", price=38_800)
        shampoo = product_make("Shampoo", price=12_800)
        first = paid_bill(
            lines=[
                Line(cut, [(li, 10_000, True)]),
                Line(shampoo, [(li, 5_000, False), (wang, 5_000, False)], quantity=2),
            ],
            paid_at=at(3, 2),
            location=main,
        )
        bills = [
            first,
            paid_bill(
                lines=[Line(colour, [(wang, 6_000, True), (zhao, 4_000, False)])], paid_at=at(3, 4), location=east
            ),
            paid_bill(lines=[Line(cut, [(zhao, 10_000, False)])], paid_at=at(3, 9), location=main),
            paid_bill(
                lines=[Line(cut, [(li, 10_000, False)])],
                paid_at=datetime.datetime(2026, 3, 31, 17, 0, tzinfo=UTC),
                location=main,
            ),
        ]
        for bill in bills:
            commission_record_for_bill(bill=bill)
        commission_reverse_for_refund(
            refund=refund_make(bill=first, lines=[(bill_lines(first)[1], 1, 12_800)], at=at(3, 6))
        )
    return SimpleNamespace(li=li, wang=wang, zhao=zhao, main=main, east=east)


def rows(report):
    return [(r.name, r.revenue, r.services, r.products, r.requested, r.commission) for r in report.rows]


def test_month_figures_are_net_of_refunds_and_exact(alpha, beta):
    # given
    arrange_march(alpha)
    with schema_context(beta.schema):  # another salon's figures stay out
        arrange_march(beta)
    with schema_context(alpha.schema):
        salon_timezone()
        # when
        with CaptureQueriesContext(connection) as queries:
            report = staff_performance(date_from=datetime.date(2026, 3, 1), date_to=datetime.date(2026, 3, 31))
    # then, best revenue first: Wang 128 − 64 + 232.80; Zhao 155.20 + 100; Li 100 + 128 − 64
    assert rows(report) == [
        ("Wang", 29_680, 1, 1, 1, 3_276),
        ("Zhao", 25_520, 2, 0, 0, 2_552),
        ("Li", 16_400, 1, 1, 1, 1_550),
    ]
    assert (report.totals.revenue, report.totals.services, report.totals.products) == (71_600, 4, 2)
    assert (report.totals.requested, report.totals.commission) == (2, 7_378)
    assert len([q for q in queries.captured_queries if not q["sql"].startswith("SET search_path")]) == 1


def test_day_week_and_location(alpha):
    # given
    shop = arrange_march(alpha)
    with schema_context(alpha.schema):
        # when / then: the week of 2 March (Monday to Sunday) leaves out Zhao's cut of the 9th
        week = period_dates(period=Period.WEEK, day=datetime.date(2026, 3, 4))
        assert week == (datetime.date(2026, 3, 2), datetime.date(2026, 3, 8))
        assert rows(staff_performance(date_from=week[0], date_to=week[1])) == [
            ("Wang", 29_680, 1, 1, 1, 3_276),
            ("Li", 16_400, 1, 1, 1, 1_550),
            ("Zhao", 15_520, 1, 0, 0, 1_552),
        ]
        # one day
        day = datetime.date(2026, 3, 4)
        assert rows(staff_performance(date_from=day, date_to=day)) == [
            ("Wang", 23_280, 1, 0, 1, 3_026),
            ("Zhao", 15_520, 1, 0, 0, 1_552),
        ]
        # the main shop only: the refund counts where its bill was paid
        march = period_dates(period=Period.MONTH, day=day)
        assert march == (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
        assert rows(staff_performance(date_from=march[0], date_to=march[1], location=shop.main)) == [
            ("Li", 16_400, 1, 1, 1, 1_550),
            ("Zhao", 10_000, 1, 0, 0, 1_000),
            ("Wang", 6_400, 0, 1, 0, 250),
        ]
        # April holds the cut paid at 01:00 on 1 April in Shanghai
        april = period_dates(period=Period.MONTH, day=datetime.date(2026, 4, 20))
        assert rows(staff_performance(date_from=april[0], date_to=april[1])) == [("Li", 10_000, 1, 0, 0, 1_000)]


def test_a_period_must_be_in_order_and_at_most_366_days(in_alpha):
    with pytest.raises(ServiceError) as backwards:
        staff_performance(date_from=datetime.date(2026, 3, 2), date_to=datetime.date(2026, 3, 1))
    assert (backwards.value.code.value, backwards.value.errors) == (
        "commission_period_invalid",
        {"to": ["The end of the period cannot be before its start."]},
    )
    with pytest.raises(ServiceError) as longer:
        staff_performance(date_from=datetime.date(2025, 1, 1), date_to=datetime.date(2026, 1, 2))
    assert longer.value.errors == {"to": ["Report at most 366 days at a time."]}
    leap = staff_performance(date_from=datetime.date(2024, 1, 1), date_to=datetime.date(2024, 12, 31))
    assert leap.rows == []


# --- pages ---------------------------------------------------------------------------------------------


def english(info, username):
    client = logged_in_client(info, username)
    client.post("/account/language/", {"language": "en"})
    return client


def test_page_shows_the_table_and_charts(alpha):
    # given
    arrange_march(alpha)
    owner = english(alpha, alpha.owner_username)
    # when
    page = owner.get("/till/staff-performance/", MARCH)
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        '<tr><th scope="row">Wang</th><td class="num">¥296.80</td><td class="num">1</td><td class="num">1</td>'
        '<td class="num">1</td><td class="num">¥32.76</td></tr>'
    ) in html
    assert (
        '<tr class="total"><th scope="row">Total</th><td class="num">¥716.00</td><td class="num">4</td>'
        '<td class="num">2</td><td class="num">2</td><td class="num">¥73.78</td></tr>'
    ) in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2
    assert '<title id="chart-revenue-title">Revenue per staff member (¥)</title>' in html
    assert "<title>Zhao: ¥255.20</title>" in html
    assert 'href="/till/staff-performance/export.xlsx?period=month&amp;day=2026-03-15"' in html
    assert "2026-03-01 to 2026-03-31" in html


def test_page_without_a_period_shows_this_month_and_explains_a_bad_one(alpha):
    owner = english(alpha, alpha.owner_username)
    assert owner.get("/till/staff-performance/").status_code == 200
    missing = owner.get("/till/staff-performance/", {"period": "custom", "date_from": "2026-03-01"}).content.decode()
    assert "Enter a date." in missing and "<svg" not in missing
    backwards = owner.get(
        "/till/staff-performance/", {"period": "custom", "date_from": "2026-03-02", "date_to": "2026-03-01"}
    ).content.decode()
    assert "The end of the period cannot be before its start." in backwards


def test_export_holds_the_table_and_is_audited(alpha):
    # given
    arrange_march(alpha)
    make_staff(alpha, role="accountant", username="books")
    owner = english(alpha, alpha.owner_username)
    # when
    response = owner.get("/till/staff-performance/export.xlsx", MARCH)
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="staff-performance-2026-03-01-2026-03-31.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content))["Staff performance"]
    assert list(sheet.iter_rows(min_row=1, max_row=5, values_only=True)) == [
        ("Staff member", "Revenue (¥)", "Services", "Products", "Requested", "Commission (¥)"),
        ("Wang", 296.8, 1, 1, 1, 32.76),
        ("Zhao", 255.2, 2, 0, 0, 25.52),
        ("Li", 164, 1, 1, 1, 15.5),
        ("Total", 716, 4, 2, 2, 73.78),
    ]
    assert sheet.cell(row=2, column=2).number_format == "#,##0.00"
    with schema_context(alpha.schema):
        (audit,) = AuditEntry.objects.filter(action="pos.staff_performance.exported")
        assert audit.data == {"from": "2026-03-01", "to": "2026-03-31", "location": None, "rows": 3}
    # and an accountant may export too
    assert logged_in_client(alpha, "books").get("/till/staff-performance/export.xlsx", MARCH).status_code == 200


def test_export_needs_export_data(alpha):
    # given a manager, who reads reports but does not export data
    arrange_march(alpha)
    make_staff(alpha, role="manager", username="boss")
    boss = english(alpha, "boss")
    # when / then
    assert boss.get("/till/staff-performance/", MARCH).status_code == 200
    assert "export.xlsx" not in boss.get("/till/staff-performance/", MARCH).content.decode()
    assert boss.get("/till/staff-performance/export.xlsx", MARCH).status_code == 403
    with schema_context(alpha.schema):
        assert not AuditEntry.objects.filter(action="pos.staff_performance.exported").exists()


def test_a_technician_sees_only_their_own_figures(alpha):
    # given
    arrange_march(alpha)
    li = english(alpha, "li")
    # when the technician opens the report, they are taken to their own figures
    redirected = li.get("/till/staff-performance/", MARCH)
    assert (redirected.status_code, redirected["Location"]) == (302, "/till/my-performance/")
    page = li.get("/till/my-performance/", MARCH)
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert "<dt>Revenue</dt><dd>¥164.00</dd>" in html and "<dt>Commission</dt><dd>¥15.50</dd>" in html
    assert "<dt>Requested</dt><dd>1</dd>" in html
    assert "Wang" not in html and "Zhao" not in html
    assert '<td class="num">50 %</td><td class="num">-¥64.00</td><td class="num">-¥2.50</td>' in html
    assert "10 % + 3 %" not in html and "13 %" in html
    # and nothing else
    assert li.get("/till/staff-performance/export.xlsx", MARCH).status_code == 403
    tech_api = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, 'li')}")
    assert tech_api.get("/api/v1/reports/staff-performance/", {"from": "2026-03-01"}).status_code == 403
    mine = tech_api.get("/api/v1/reports/my-performance/", {"from": "2026-03-01", "to": "2026-03-31"})
    assert mine.status_code == 200
    assert [row["name"] for row in mine.json()["rows"]] == ["Li"]
    assert mine.json()["totals"] == {
        "revenue": 16_400,
        "services": 1,
        "products": 1,
        "requested": 1,
        "commission": 1_550,
    }


def test_a_technicians_own_figures_in_chinese_say_业绩_and_点钟(alpha):
    # given March, and Li's screen in Chinese (the staff's default)
    arrange_march(alpha)
    li = logged_in_client(alpha, "li")
    # when Li opens their own figures
    html = li.get("/till/my-performance/", MARCH).content.decode()
    # then their revenue is 业绩 (not the sales report's 营业额) and the services asked for by name 点钟 (not an
    # invoice request's 已申请), in the figures and on the requested line
    assert "<dt>业绩</dt><dd>¥164.00</dd>" in html
    assert "<dt>点钟</dt><dd>1</dd>" in html
    assert '<th scope="col">业绩</th>' in html
    assert "<td>Cut · 点钟</td>" in html
    assert "营业额" not in html and "已申请" not in html


def test_the_front_desk_sees_its_own_figures_only_and_a_visitor_signs_in(alpha):
    make_staff(alpha, role="front_desk", username="desk")
    desk = logged_in_client(alpha, "desk")
    assert desk.get("/till/staff-performance/")["Location"] == "/till/my-performance/"
    assert desk.get("/till/my-performance/").status_code == 200
    assert desk.get("/till/staff-performance/export.xlsx").status_code == 403
    visitor = Client(HTTP_HOST=alpha.host).get("/till/staff-performance/")
    assert visitor.status_code == 302 and visitor["Location"].startswith("/login/")


# --- API -----------------------------------------------------------------------------------------------


def api(info, username):
    return Client(
        HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}", HTTP_ACCEPT_LANGUAGE="en"
    )


def test_api_returns_the_same_figures(alpha, beta):
    # given
    shop = arrange_march(alpha)
    owner = api(alpha, alpha.owner_username)
    # when
    response = owner.get("/api/v1/reports/staff-performance/", {"from": "2026-03-01", "to": "2026-03-31"})
    # then
    assert response.status_code == 200, response.content
    assert response.json() == {
        "from": "2026-03-01",
        "to": "2026-03-31",
        "location": None,
        "timezone": "Asia/Shanghai",
        "rows": [
            {
                "staff": shop.wang.pk,
                "name": "Wang",
                "revenue": 29_680,
                "services": 1,
                "products": 1,
                "requested": 1,
                "commission": 3_276,
            },
            {
                "staff": shop.zhao.pk,
                "name": "Zhao",
                "revenue": 25_520,
                "services": 2,
                "products": 0,
                "requested": 0,
                "commission": 2_552,
            },
            {
                "staff": shop.li.pk,
                "name": "Li",
                "revenue": 16_400,
                "services": 1,
                "products": 1,
                "requested": 1,
                "commission": 1_550,
            },
        ],
        "totals": {"revenue": 71_600, "services": 4, "products": 2, "requested": 2, "commission": 7_378},
    }
    east = owner.get(
        "/api/v1/reports/staff-performance/", {"from": "2026-03-01", "to": "2026-03-31", "location": shop.east.pk}
    ).json()
    assert [(row["name"], row["revenue"]) for row in east["rows"]] == [("Wang", 23_280), ("Zhao", 15_520)]
    # beta sees none of it
    beta_api = api(beta, beta.owner_username)
    assert beta_api.get("/api/v1/reports/staff-performance/", {"from": "2026-03-01"}).json()["rows"] == []


def test_api_refuses_a_bad_period(alpha):
    owner = api(alpha, alpha.owner_username)
    backwards = owner.get("/api/v1/reports/staff-performance/", {"from": "2026-03-02", "to": "2026-03-01"})
    assert (backwards.status_code, backwards.json()) == (
        400,
        {"to": ["The end of the period cannot be before its start."]},
    )
    longer = owner.get("/api/v1/reports/staff-performance/", {"from": "2025-01-01", "to": "2026-01-02"})
    assert (longer.status_code, longer.json()) == (400, {"to": ["Report at most 366 days at a time."]})
    malformed = owner.get("/api/v1/reports/staff-performance/", {"from": "2 March"})
    assert malformed.status_code == 400 and list(malformed.json()) == ["from"]
    nowhere = owner.get("/api/v1/reports/staff-performance/", {"location": 999_999})
    assert nowhere.status_code == 400 and list(nowhere.json()) == ["location"]
    # without dates: this month up to today
    body = owner.get("/api/v1/reports/staff-performance/").json()
    with schema_context(alpha.schema):
        from apps.core.db import salon_today

        today = salon_today()
    assert (body["from"], body["to"]) == (today.replace(day=1).isoformat(), today.isoformat())

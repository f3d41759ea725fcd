"""Booking reports (SCH-12): peaks by local hour and weekday, utilisation of technicians and resources,
cancellation and no-show rates per channel; the page, its export and the API."""

from __future__ import annotations

import datetime
import io
import zoneinfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from apps.core.db import salon_timezone_forget, salon_today
from apps.core.errors import ServiceError
from apps.core.models import Location
from apps.scheduling.models import AppointmentStatus, Resource, ResourceType, TimeOff
from apps.scheduling.selectors.reports import booking_report
from apps.scheduling.tests.support import (
    appointment_insert,
    client_make,
    default_location,
    service_make,
    technician_make,
)
from tests.fixtures import api_token, logged_in_client, make_staff

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LONDON = zoneinfo.ZoneInfo("Europe/London")
MONDAY = datetime.date(2026, 3, 2)
SUNDAY = datetime.date(2026, 3, 8)
LATER = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)


def at(day: int, hour: int, minute: int = 0, *, tz: zoneinfo.ZoneInfo = SHANGHAI, month: int = 3):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=tz)


def arrange_week() -> dict:
    """Li works 10:00–19:00 every day and is off all Tuesday; Wang works 10:00–14:00 on weekdays."""
    cut, colour = service_make("Cut", minutes=60), service_make("Colour", minutes=90)
    li = technician_make("Li", services=[cut, colour])
    wang = technician_make("Wang", services=[cut, colour], weekdays=range(5), hours=("10:00", "14:00"))
    TimeOff.objects.create(staff=li, start=at(3, 0), end=at(4, 0))
    room_type = ResourceType.objects.create(name="Room")
    room = Resource.objects.create(location=default_location(), resource_type=room_type, name="Room 1", capacity=2)
    client = client_make()
    s = AppointmentStatus
    rows = [
        (at(2, 10), [(cut, li)], s.DONE, "staff", {}, ()),
        (at(2, 10), [(colour, wang)], s.DONE, "online", {}, (room,)),
        (at(4, 14), [(cut, li)], s.NO_SHOW, "online", {}, ()),
        (at(5, 15), [(cut, li)], s.CANCELLED, "phone", {"is_late_cancellation": True}, ()),
        (at(6, 11), [(cut, li)], s.CANCELLED, "staff", {}, ()),
        (at(7, 18), [(cut, li)], s.DONE, "phone", {}, ()),
        (at(8, 23, 30), [(cut, li)], s.DONE, "staff", {}, ()),  # Sunday 15:30 UTC
        (at(2, 0, 30), [(cut, li)], s.DONE, "staff", {}, ()),  # Monday 00:30 local, Sunday 16:30 UTC
        (at(9, 0, 30), [(cut, li)], s.DONE, "staff", {}, ()),  # after the period, though Sunday in UTC
        (at(1, 23, 0), [(cut, li)], s.DONE, "staff", {}, ()),  # before the period
    ]
    for start, lines, status, channel, fields, resources in rows:
        appointment_insert(
            client=client, start=start, lines=lines, status=status, channel=channel, resources=resources, **fields
        )
    return {"li": li, "wang": wang, "room": room, "cut": cut}


def test_week_figures(in_alpha, beta):
    # given
    arrange_week()
    with schema_context(beta.schema):  # another salon's bookings in the same week stay out
        cut = service_make("Cut")
        other = technician_make("Zhao", services=[cut])
        for day in (2, 3, 4):
            appointment_insert(client=client_make(), start=at(day, 10), lines=[(cut, other)])
    # when
    report = booking_report(date_from=MONDAY, date_to=SUNDAY, now=LATER)
    # then: peaks
    hours = {hour: count for hour, count in enumerate(report.by_hour) if count}
    assert hours == {0: 1, 10: 2, 14: 1, 18: 1, 23: 1}
    assert report.by_weekday == [3, 0, 1, 0, 0, 1, 1]
    assert report.by_weekday_hour[0][10] == 2 and report.by_weekday_hour[6][23] == 1
    assert report.total_bookings == 6
    # utilisation: Li booked 4 × 60 of 7 × 540 rostered less Tuesday; Wang 90 of 5 × 240
    li, wang = report.staff
    assert (li.name, li.booked_minutes, li.rostered_minutes, li.time_off_minutes, li.available_minutes) == (
        "Li",
        240,
        3780,
        540,
        3240,
    )
    assert li.utilisation == round(240 / 3240, 4) == 0.0741
    assert (wang.name, wang.booked_minutes, wang.available_minutes, wang.utilisation) == ("Wang", 90, 1200, 0.075)
    # the room: held 90 of (open 6 × 540 + Tuesday's 240 with Wang only) × capacity 2
    (room,) = report.resources
    assert (room.name, room.capacity, room.held_minutes, room.open_minutes) == ("Room 1", 2, 90, 3480)
    assert room.utilisation == round(90 / (3480 * 2), 4)
    # rates over the 8 visits due
    rates = report.rates
    assert (rates.due, rates.cancelled, rates.late_cancelled, rates.no_show) == (8, 2, 1, 1)
    assert (rates.cancellation_rate, rates.late_cancellation_rate, rates.no_show_rate) == (0.25, 0.125, 0.1667)
    by_channel = {
        r.channel: (r.due, r.cancelled, r.late_cancelled, r.no_show, r.cancellation_rate, r.no_show_rate)
        for r in report.rates_by_channel
    }
    assert by_channel == {
        "online": (2, 0, 0, 1, 0.0, 0.5),
        "phone": (2, 1, 1, 0, 0.5, 0.0),
        "staff": (4, 1, 0, 0, 0.25, 0.0),
    }


def test_rates_count_only_visits_whose_time_has_come(in_alpha):
    # given
    arrange_week()
    # when: on Thursday at noon
    report = booking_report(date_from=MONDAY, date_to=SUNDAY, now=at(5, 12))
    # then: Monday's three visits and Wednesday's no-show
    assert (report.rates.due, report.rates.no_show, report.rates.no_show_rate) == (4, 1, 0.25)
    assert report.total_bookings == 6  # the peaks still count the whole period


def test_one_location_leaves_the_others_out(in_alpha):
    # given
    people = arrange_week()
    branch = Location.objects.create(name="Branch")
    chen = technician_make("Chen", services=[people["cut"]], location=branch)
    appointment_insert(client=client_make(), start=at(3, 11), lines=[(people["cut"], chen)], location=branch)
    # when
    main_only = booking_report(date_from=MONDAY, date_to=SUNDAY, location=default_location(), now=LATER)
    everywhere = booking_report(date_from=MONDAY, date_to=SUNDAY, now=LATER)
    branch_only = booking_report(date_from=MONDAY, date_to=SUNDAY, location=branch, now=LATER)
    # then
    assert [row.name for row in main_only.staff] == ["Li", "Wang"]
    assert [row.name for row in everywhere.staff] == ["Chen", "Li", "Wang"]
    assert [(r.name, r.booked_minutes, r.rostered_minutes) for r in branch_only.staff] == [("Chen", 60, 3780)]
    assert (main_only.total_bookings, everywhere.total_bookings, branch_only.total_bookings) == (6, 7, 1)
    assert branch_only.resources == []


def test_hours_are_local_on_both_sides_of_a_dst_change(alpha):
    # given: a salon in London; clocks go forward on Sunday 29 March 2026
    from tenants.models import Salon

    Salon.objects.filter(pk=alpha.salon.pk).update(timezone="Europe/London")
    salon_timezone_forget()
    try:
        with schema_context(alpha.schema):
            cut = service_make("Cut")
            li = technician_make("Li", services=[cut])
            client = client_make()
            for start in (
                at(28, 10, tz=LONDON),  # 10:00 GMT
                at(30, 10, tz=LONDON),  # 09:00 UTC
                at(30, 23, 30, tz=LONDON),  # 22:30 UTC, still Monday here
                at(27, 23, 30, tz=LONDON),  # Friday: before the period
            ):
                appointment_insert(client=client, start=start, lines=[(cut, li)])
            # when
            report = booking_report(date_from=datetime.date(2026, 3, 28), date_to=datetime.date(2026, 3, 30), now=LATER)
        # then
        assert report.timezone == "Europe/London"
        assert {hour: count for hour, count in enumerate(report.by_hour) if count} == {10: 2, 23: 1}
        assert report.by_weekday == [2, 0, 0, 0, 0, 1, 0]
        # the 10:00–19:00 shift is nine hours on each of the three days, the short Sunday too
        assert (report.staff[0].rostered_minutes, report.staff[0].booked_minutes) == (3 * 540, 180)
    finally:
        Salon.objects.filter(pk=alpha.salon.pk).update(timezone="Asia/Shanghai")
        salon_timezone_forget()


def test_query_count_does_not_grow_with_staff(in_alpha):
    # given
    people = arrange_week()
    booking_report(date_from=MONDAY, date_to=SUNDAY, now=LATER)  # the salon's zone is cached
    with CaptureQueriesContext(connection) as few:
        booking_report(date_from=MONDAY, date_to=SUNDAY, now=LATER)
    for n in range(6):
        tech = technician_make(f"Extra{n}", services=[people["cut"]])
        appointment_insert(client=client_make(), start=at(2, 12), lines=[(people["cut"], tech)])
        TimeOff.objects.create(staff=tech, start=at(3, 0), end=at(3, 12))
    # when
    with CaptureQueriesContext(connection) as many:
        report = booking_report(date_from=MONDAY, date_to=SUNDAY, now=LATER)
    # then
    assert len(report.staff) == 8
    assert statements(many) == statements(few) == 9


def statements(captured: CaptureQueriesContext) -> int:
    """Queries run, without django-tenants' ``SET search_path``."""
    return sum(1 for query in captured.captured_queries if not query["sql"].startswith("SET search_path"))


def test_period_is_checked(in_alpha):
    with pytest.raises(ServiceError) as longer:
        booking_report(date_from=datetime.date(2025, 1, 1), date_to=datetime.date(2026, 1, 2))
    assert (longer.value.code.value, longer.value.field) == ("range_too_long", "date_to")
    assert longer.value.message == "Report at most 366 days at a time."
    with pytest.raises(ServiceError) as backwards:
        booking_report(date_from=SUNDAY, date_to=MONDAY)
    assert backwards.value.code.value == "end_before_start"
    # 366 days exactly is fine
    assert booking_report(date_from=datetime.date(2024, 1, 1), date_to=datetime.date(2024, 12, 31)).total_bookings == 0


# --- page, export, API --------------------------------------------------------------------------

QUERY = {"date_from": "2026-03-02", "date_to": "2026-03-08"}


def english(info, username):
    client = logged_in_client(info, username)
    client.post("/account/language/", {"language": "en"})
    return client


def test_page_shows_tables_and_charts(alpha):
    # given
    with schema_context(alpha.schema):
        arrange_week()
    owner = english(alpha, alpha.owner_username)
    # when
    page = owner.get("/calendar/reports/", QUERY)
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 4
    assert '<title id="chart-hours-title">Bookings by hour of day</title>' in html
    assert "<title>10: 2</title>" in html
    assert "<title>Li: 7.4%</title>" in html
    assert '<th scope="row">Li</th><td class="num">240</td><td class="num">3780</td>' in html
    assert '<td class="num">25.0%</td><td class="num">12.5%</td><td class="num">16.7%</td>' in html
    assert "cdn" not in html.lower().replace("cdn.", "")  # no chart library from elsewhere
    assert 'href="/calendar/reports/export.xlsx?date_from=2026-03-02&amp;date_to=2026-03-08"' in html


def test_page_without_a_period_shows_the_last_four_weeks_and_refuses_a_long_one(alpha):
    owner = english(alpha, alpha.owner_username)
    assert owner.get("/calendar/reports/").status_code == 200
    refused = owner.get("/calendar/reports/", {"date_from": "2025-01-01", "date_to": "2026-03-01"})
    assert refused.status_code == 200
    assert "Report at most 366 days at a time." in refused.content.decode()
    assert "<svg" not in refused.content.decode()


def test_export_holds_the_tables(alpha):
    # given
    with schema_context(alpha.schema):
        arrange_week()
    owner = english(alpha, alpha.owner_username)
    # when
    response = owner.get("/calendar/reports/export.xlsx", QUERY)
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="bookings-2026-03-02-2026-03-08.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["By hour", "By weekday", "Technicians", "Resources", "Cancellations and no-shows"]
    assert list(book["By hour"].iter_rows(min_row=12, max_row=12, values_only=True)) == [("10:00", 2)]
    assert list(book["Technicians"].iter_rows(min_row=2, max_row=2, values_only=True)) == [
        ("Li", 240, 3780, 540, 3240, 0.0741)
    ]
    assert list(book["Cancellations and no-shows"].iter_rows(min_row=5, values_only=True)) == [
        ("All channels", 8, 2, 1, 1, 0.25, 0.125, 0.1667)
    ]


def test_only_roles_with_view_reports_see_reports(alpha):
    make_staff(alpha, role="technician", username="tech")
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="accountant", username="books")
    assert logged_in_client(alpha, "tech").get("/calendar/reports/").status_code == 403
    assert logged_in_client(alpha, "desk").get("/calendar/reports/export.xlsx", QUERY).status_code == 403
    assert logged_in_client(alpha, "books").get("/calendar/reports/").status_code == 200
    assert Client(HTTP_HOST=alpha.host).get("/calendar/reports/").status_code == 302  # to sign in
    tech_api = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, 'tech')}")
    assert tech_api.get("/api/v1/reports/bookings/", QUERY).status_code == 403


def test_api_returns_the_same_figures(alpha, beta):
    # given
    with schema_context(alpha.schema):
        arrange_week()
        main = default_location()
    api = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, alpha.owner_username)}")
    # when
    response = api.get("/api/v1/reports/bookings/", {**QUERY, "location": main.pk})
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["date_from"], body["date_to"], body["location_id"], body["timezone"]) == (
        "2026-03-02",
        "2026-03-08",
        main.pk,
        "Asia/Shanghai",
    )
    assert body["total_bookings"] == 6
    assert body["by_hour"][10] == {"hour": 10, "count": 2}
    assert body["by_weekday"][0] == {"weekday": 1, "count": 3}
    assert body["staff"][1] == {
        "staff_id": body["staff"][1]["staff_id"],
        "name": "Wang",
        "booked_minutes": 90,
        "rostered_minutes": 1200,
        "time_off_minutes": 0,
        "available_minutes": 1200,
        "utilisation": 0.075,
    }
    assert body["rates"]["due"] == 8 and body["rates"]["no_show_rate"] == 0.1667
    # beta's API sees none of it
    beta_api = Client(HTTP_HOST=beta.host, HTTP_AUTHORIZATION=f"Bearer {api_token(beta, beta.owner_username)}")
    assert beta_api.get("/api/v1/reports/bookings/", QUERY).json()["total_bookings"] == 0


def test_api_refuses_a_bad_period(alpha):
    api = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, alpha.owner_username)}")
    too_long = api.get("/api/v1/reports/bookings/", {"date_from": "2025-01-01", "date_to": "2026-01-02"})
    assert too_long.status_code == 400
    assert too_long.json() == {"date_to": ["Report at most 366 days at a time."]}
    malformed = api.get("/api/v1/reports/bookings/", {"date_from": "2 March"})
    assert malformed.status_code == 400 and list(malformed.json()) == ["date_from"]
    # without dates: the last four weeks, as on the page
    default = api.get("/api/v1/reports/bookings/").json()
    with schema_context(alpha.schema):
        today = salon_today()
    assert (default["date_from"], default["date_to"]) == (
        (today - datetime.timedelta(days=27)).isoformat(),
        today.isoformat(),
    )

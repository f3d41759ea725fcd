"""Booking reports and the calendar feed in a real browser on the front-desk tablet (1024×768): the owner
reads last week's report (tables and the drawn charts), a technician makes their private calendar link,
a calendar app (no cookies) fetches it, and replacing the link ends the old one.

Each staff member switches the app to English after signing in: these pages' Chinese translations are
compiled centrally later, so the test reads the English source labels."""

from __future__ import annotations

import datetime
import http.client
import secrets
import urllib.parse
from typing import Any

import pytest

from tests.browser.support import LiveSalonServer, SalonLedger, db_run, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips, or fails under REQUIRE_BROWSER=1
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "Passw0rd-x"


def _salon_with_a_booked_week(subdomain: str) -> tuple[str, str]:
    """A salon whose technician 李娜 (10:00–19:00 daily) served two one-hour cuts last week and has one
    booked tomorrow. Returns last week's Monday and Sunday."""
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.core.db import salon_timezone, salon_today
    from apps.core.services import staff_create
    from apps.scheduling.models import AppointmentStatus, ShiftPattern
    from apps.scheduling.tests.support import appointment_insert, client_make, default_location, service_make
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": "芳华美容",
            "subdomain": subdomain,
            "owner_name": "林芳",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345673",
            "password": PASSWORD,
        }
    ).salon
    with schema_context(salon.schema_name):
        tz = salon_timezone()
        tech = staff_create(name="李娜", role="technician", username="lina", password=PASSWORD)
        ShiftPattern.objects.bulk_create(
            ShiftPattern(
                staff=tech,
                location=default_location(),
                weekday=day,
                start_time=datetime.time(10),
                end_time=datetime.time(19),
                valid_from=datetime.date(2020, 1, 1),
            )
            for day in range(7)
        )
        cut = service_make("Cut")
        client = client_make("王芳", phone="+8613911112222")
        today = salon_today()
        monday = today - datetime.timedelta(days=today.weekday() + 7)
        for start in (
            datetime.datetime.combine(monday, datetime.time(10), tz),
            datetime.datetime.combine(monday + datetime.timedelta(days=2), datetime.time(14), tz),
        ):
            appointment_insert(client=client, start=start, lines=[(cut, tech)], status=AppointmentStatus.DONE)
        tomorrow = (timezone.now() + datetime.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        appointment_insert(client=client, start=tomorrow, lines=[(cut, tech)], status=AppointmentStatus.CONFIRMED)
    return monday.isoformat(), (monday + datetime.timedelta(days=6)).isoformat()


def _calendar_app_fetches(url: str) -> tuple[int, str, str]:
    """GET the feed as a calendar app would: no cookies, no browser. The salon's ``*.localhost`` name
    resolves only inside Chromium, so the request goes to the loopback with the salon's Host header."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    try:
        connection.request("GET", parts.path, headers={"Host": parts.netloc})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        connection.close()


def _signs_in(page: Any, server: LiveSalonServer, subdomain: str, username: str) -> None:
    page.goto(server.salon_url(subdomain, "/login/"))
    sign_in(page, username, PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_owner_reads_the_report_and_a_technician_subscribes_to_the_feed(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any, browser: Any
) -> None:
    subdomain = f"ins-{secrets.token_hex(3)}"
    monday, sunday = db_run(_salon_with_a_booked_week, subdomain)

    # The owner picks last week on the report page.
    _signs_in(page, salon_server, subdomain, f"owner@{subdomain}.test")
    page.goto(salon_server.salon_url(subdomain, "/calendar/reports/"))
    form = page.get_by_role("form", name="Period and location")
    form.get_by_label("From", exact=True).fill(monday)
    form.get_by_label("To", exact=True).fill(sunday)
    form.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Booking reports")
    expect(page.get_by_role("navigation", name="Calendar").locator('[aria-current="page"]')).to_have_text("Reports")
    # The charts are pictures with a name; the tables hold the figures.
    for name in ("Bookings by hour of day", "Bookings by weekday", "Utilisation per technician"):
        expect(page.get_by_role("img", name=name)).to_be_visible()
    expect(page.get_by_role("img", name="Bookings by hour of day").locator("rect")).to_have_count(24)
    technician = page.get_by_role("row").filter(has_text="李娜")
    expect(technician.locator("td.num")).to_have_text(["120", "3780", "0", "3780", "3.2%"])
    expect(page.get_by_role("link", name="Download as a spreadsheet (XLSX)")).to_have_attribute(
        "href", f"/calendar/reports/export.xlsx?date_from={monday}&date_to={sunday}&location="
    )

    # The technician makes their private link on the calendar-feed page.
    context = browser.new_context()
    tech = context.new_page()
    try:
        _signs_in(tech, salon_server, subdomain, "lina")
        tech.goto(salon_server.salon_url(subdomain, "/calendar/feed/"))
        tech.get_by_role("button", name="Create my link", exact=True).click()
        expect(tech.locator(".messages")).to_contain_text("Your calendar link is ready.")
        link = tech.get_by_label("Your private link", exact=True).input_value()
        assert link.startswith(salon_server.salon_url(subdomain, "/calendar/feed/")) and link.endswith(".ics")

        # A calendar app fetches it without any cookie.
        status, content_type, body = _calendar_app_fetches(link)
        assert (status, content_type) == (200, "text/calendar; charset=utf-8")
        assert "BEGIN:VCALENDAR" in body and body.count("BEGIN:VEVENT") == 3
        assert "SUMMARY:Cut · 王*" in body and "13911112222" not in body

        # Replacing the link ends the old one at once.
        tech.get_by_role("button", name="Replace my link", exact=True).click()
        expect(tech.get_by_label("Your private link", exact=True)).not_to_have_value(link)
        assert _calendar_app_fetches(link)[0] == 404
        new_link = tech.get_by_label("Your private link", exact=True).input_value()
        assert _calendar_app_fetches(new_link)[0] == 200
    finally:
        context.close()

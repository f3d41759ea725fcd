"""A salon's client books on a phone (375×812, WeChat's in-app browser): picks a service and "anyone",
the day after tomorrow and a time, signs in with the phone and the texted code, confirms, sees the visit under my
bookings and cancels it; nothing is wider than the screen.

The pages open in Chinese (the catalogue is compiled centrally later), so the test reads data attributes,
element ids and addresses rather than labels."""

from __future__ import annotations

import datetime
import re
import secrets
from typing import Any

import pytest

from tests.browser.support import LiveSalonServer, SalonLedger, db_run

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips, or fails under REQUIRE_BROWSER=1
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PHONE = "13800138000"


def _bookable_salon(subdomain: str) -> str:
    """A salon with a cut, a technician who does it 10:00–19:00 every day, and the client 王芳. Returns
    the date of the day after tomorrow where the salon is: its 10:00 is always more than the 12 hours ahead
    that the salon's cancellation window needs, whatever the time of day the test runs (tomorrow's 10:00 is
    not, after 22:00)."""
    from django_tenants.utils import schema_context

    from apps.catalog.services import service_category_create, service_create
    from apps.core.db import salon_today
    from apps.scheduling.tests.support import client_make, technician_make
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": "芳华美发",
            "subdomain": subdomain,
            "owner_name": "林芳",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345672",
            "password": "Passw0rd-x",
        }
    ).salon
    with schema_context(salon.schema_name):
        hair = service_category_create(name="美发", sort_order=1)
        cut = service_create(name="洗剪吹", duration_minutes=45, price=12800, category=hair)
        technician_make("Lin", services=[cut])
        client_make("王芳", phone="+86" + PHONE)
        return (salon_today() + datetime.timedelta(days=2)).isoformat()


def _texted_code() -> str:
    """The code from the text messages the test backend kept (the live server runs in this process)."""
    from apps.messaging import sms

    match = re.search(r"\b(\d{6})\b", sms.outbox[-1].body)
    assert match is not None, sms.outbox[-1].body
    return match.group(1)


def _fits_the_screen(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width}px wide"


def test_a_client_books_with_anyone_sees_it_and_cancels_it(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, phone: Any
) -> None:
    subdomain = f"book-{secrets.token_hex(3)}"
    day = db_run(_bookable_salon, subdomain)

    # The services, by category, with duration and price.
    phone.goto(salon_server.salon_url(subdomain, "/book/"))
    expect(phone.locator("html")).to_have_attribute("lang", "zh-hans")
    service = phone.locator('[data-service="洗剪吹"]')
    expect(service).to_contain_text("¥128.00")
    _fits_the_screen(phone)
    service.get_by_role("link").click()

    # Anyone available.
    expect(phone).to_have_url(re.compile(r"/book/staff/\?"))
    _fits_the_screen(phone)
    phone.locator('[data-staff="any"]').click()

    # The day after tomorrow, the first free time.
    expect(phone).to_have_url(re.compile(r"/book/slots/\?"))
    phone.locator(f'.b-strip a[data-date="{day}"]').click()
    expect(phone.locator(f'.b-strip a[data-date="{day}"]')).to_have_attribute("aria-current", "date")
    first_slot = phone.locator(".b-slots a").first
    expect(first_slot).to_have_text("10:00")
    _fits_the_screen(phone)
    first_slot.click()

    # Not signed in yet: the phone, then the texted code, then back to the confirmation.
    expect(phone).to_have_url(re.compile(r"/book/login/\?next="))
    _fits_the_screen(phone)
    phone.locator("#id_phone").fill("138 0013 8000")
    phone.locator("button.m-primary").click()
    expect(phone).to_have_url(re.compile(r"/book/login/code/"))
    expect(phone.get_by_role("status")).to_contain_text("138****8000")
    phone.locator("#id_code").fill(db_run(_texted_code))
    phone.locator("button.m-primary").click()
    expect(phone).to_have_url(re.compile(r"/book/confirm/\?"))
    expect(phone.locator('[data-figure="time"]')).to_have_text("10:00")
    _fits_the_screen(phone)
    phone.locator("#id_notes").fill("第一次来")
    phone.locator("button.m-primary").click()

    # Booked; it shows under my bookings.
    expect(phone).to_have_url(re.compile(r"/book/done/\d+/$"))
    expect(phone.locator('[data-figure="booked"]')).to_be_visible()
    _fits_the_screen(phone)
    phone.locator('.m-tabs a[href="/book/my/"]').click()
    booking = phone.locator("[data-booking]")
    expect(booking).to_have_count(1)
    expect(booking).to_contain_text("洗剪吹")
    expect(booking.locator('[data-figure="time"]')).to_have_text("10:00")
    _fits_the_screen(phone)

    # Cancel it (more than 12 hours ahead, inside the salon's window).
    booking.locator('a[href$="/cancel/"]').click()
    expect(phone).to_have_url(re.compile(r"/book/my/\d+/cancel/$"))
    _fits_the_screen(phone)
    phone.locator("button.m-primary").click()
    expect(phone).to_have_url(re.compile(r"/book/my/$"))
    expect(phone.locator('[data-figure="no-upcoming"]')).to_be_visible()
    phone.locator("details.m-past summary").click()
    expect(phone.locator("[data-booking].b-cancelled")).to_have_count(1)
    _fits_the_screen(phone)

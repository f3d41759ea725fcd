"""Walk-ins and the waitlist in a real browser: the front desk (1024×768 tablet) adds a walk-in, sees the
rotation and gives the walk-in the next technician; a waiting client opens the texted offer link on a
phone (375×812) and accepts the freed time.

The owner switches the staff app to English first: these pages' Chinese translations are compiled
centrally later, so the test reads the English source labels."""

from __future__ import annotations

import datetime
import secrets
from typing import Any

import pytest

from tests.browser.support import LiveSalonServer, SalonLedger, db_run, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips, or fails under REQUIRE_BROWSER=1
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "Passw0rd-x"


def _create_salon(subdomain: str) -> None:
    from django_tenants.utils import schema_context

    from apps.scheduling.tests.support import service_make, technician_make
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": "芳华美发",
            "subdomain": subdomain,
            "owner_name": "林芳",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345672",
            "password": PASSWORD,
        }
    ).salon
    with schema_context(salon.schema_name):
        cut = service_make("Cut", minutes=15)
        # On shift all day, every day; the test runs at the salon's midday, so "now" is well inside it.
        technician_make("Bai", services=[cut], hours=("00:00", "23:59"))
        technician_make("Chen", services=[cut], hours=("00:00", "23:59"))


def _walk_in_of(subdomain: str) -> tuple[str, str, str]:
    from django_tenants.utils import schema_context

    from apps.scheduling.models import WalkIn
    from tenants.models import Salon

    with schema_context(Salon.objects.get(subdomain=subdomain).schema_name):
        walk_in = WalkIn.objects.select_related("assigned_staff", "appointment").get()
        return walk_in.status, walk_in.assigned_staff.name, walk_in.appointment.channel


def _offer_in(subdomain: str) -> str:
    """A waiting client offered tomorrow 15:00 with Bai (as the offer task writes it)."""
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.catalog.models import Service
    from apps.core.db import salon_timezone, salon_today
    from apps.core.models import User
    from apps.scheduling.models import WaitlistOffer
    from apps.scheduling.services import waitlist
    from apps.scheduling.tests.support import client_make, default_location
    from tenants.models import Salon

    with schema_context(Salon.objects.get(subdomain=subdomain).schema_name):
        day = salon_today() + datetime.timedelta(days=1)
        entry = waitlist.waitlist_join(
            client=client_make("王芳"),
            location=default_location(),
            services=[Service.objects.get(name="Cut")],
            date=day,
            earliest=datetime.time(14),
            latest=datetime.time(17),
            acting_user=None,
        )
        start = datetime.datetime.combine(day, datetime.time(15), tzinfo=salon_timezone())
        offer = WaitlistOffer.objects.create(
            entry=entry,
            start=start,
            end=start + datetime.timedelta(minutes=15),
            staff_ids=[User.objects.get(name="Bai").pk],
            token=secrets.token_urlsafe(24),
            expires_at=timezone.now() + datetime.timedelta(minutes=30),
        )
        return offer.token


def _entry_of(subdomain: str) -> tuple[str, str]:
    from django_tenants.utils import schema_context

    from apps.scheduling.models import WaitlistEntry
    from tenants.models import Salon

    with schema_context(Salon.objects.get(subdomain=subdomain).schema_name):
        entry = WaitlistEntry.objects.select_related("appointment").get()
        return entry.status, entry.appointment.channel


def test_front_desk_assigns_a_walk_in_and_a_client_accepts_an_offer(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any, browser: Any, salon_midday: None
) -> None:
    subdomain = f"walk-{secrets.token_hex(3)}"
    db_run(_create_salon, subdomain)

    # The owner signs in, switches to English and opens Calendar → Walk-ins and rotation.
    page.goto(salon_server.salon_url(subdomain, "/login/"))
    sign_in(page, f"owner@{subdomain}.test", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    page.goto(salon_server.salon_url(subdomain, "/calendar/walk-ins/"))
    rotation = page.get_by_role("region", name="Rotation")
    expect(rotation.get_by_role("listitem")).to_have_count(2)
    expect(rotation.get_by_role("listitem").first).to_contain_text("Bai")

    # A walk-in by name, for a cut.
    page.get_by_label("Or just a name", exact=True).fill("Ms Zhou")
    page.get_by_label("Service", exact=True).select_option(label="Cut")
    page.get_by_role("button", name="Add to the queue", exact=True).click()
    queue = page.get_by_role("region", name="Queue")
    expect(queue.get_by_role("row", name="Ms Zhou")).to_contain_text("Bai")

    # Assign the next technician: Bai takes the turn and goes to the back of the rotation.
    page.get_by_role("button", name="Assign the next technician to Ms Zhou", exact=True).click()
    expect(page.get_by_text("Ms Zhou goes to Bai.", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="Rotation").get_by_role("listitem").first).to_contain_text("Chen")
    assert db_run(_walk_in_of, subdomain) == ("serving", "Bai", "walk_in")

    # A waiting client opens the offer link on a phone and accepts.
    token = db_run(_offer_in, subdomain)
    phone = browser.new_context(viewport={"width": 375, "height": 812})
    try:
        # The client reads English (the language switch's cookie); the page is Chinese by default.
        phone.add_cookies([{"name": "salon_language", "value": "en", "url": salon_server.salon_url(subdomain, "/")}])
        client_page = phone.new_page()
        client_page.goto(salon_server.salon_url(subdomain, f"/book/offer/{token}/"))
        expect(client_page.get_by_role("region", name="The time offered")).to_contain_text("15:00")
        client_page.get_by_role("button", name="Accept").click()
        expect(client_page.get_by_role("status")).to_be_visible()
    finally:
        phone.close()
    assert db_run(_entry_of, subdomain) == ("booked", "waitlist")

"""A technician works through "My tasks today" in a real browser on a 1024×768 tablet: sees
today's and overdue follow-ups (not a colleague's), completes one in place (htmx) with its
outcome, which lands on the client's timeline, and is told when the outcome is missing."""

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


def _create_salon_with_follow_ups(subdomain: str) -> dict[str, int]:
    from unittest import mock

    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.core.db import salon_today
    from apps.core.models import User
    from apps.core.services import staff_create
    from apps.crm.services.clients import client_create
    from apps.crm.services.interactions import follow_up_create
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": "芳华美发",
            "subdomain": subdomain,
            "owner_name": "林芳",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345670",
            "password": PASSWORD,
        }
    ).salon
    with schema_context(salon.schema_name):
        owner = User.objects.get(username=f"owner@{subdomain}.test")
        tech = staff_create(
            name="Chen",
            role="technician",
            phone="13700001234",
            password="Tech-pass-8",
            language="en",
            acting_user=owner,
        )
        wang = client_create(name="王芳", phone="13900001111", acting_user=owner)
        li = client_create(name="李娜", phone="13900002222", acting_user=owner)
        with mock.patch("django.utils.timezone.now", return_value=timezone.now() - datetime.timedelta(days=2)):
            overdue = follow_up_create(
                client=wang,
                assigned_to=tech,
                due_date=salon_today(),
                purpose="Ask how the perm holds",
                acting_user=owner,
            )
        today = follow_up_create(
            client=li, assigned_to=tech, due_date=salon_today(), purpose="Offer the spring package", acting_user=owner
        )
        follow_up_create(
            client=li, assigned_to=owner, due_date=salon_today(), purpose="Owner's own call", acting_user=owner
        )
        return {"overdue": overdue.pk, "today": today.pk, "li": li.pk}


def test_technician_completes_a_follow_up_in_place(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any
) -> None:
    subdomain = f"tasks-{secrets.token_hex(3)}"
    ids = db_run(_create_salon_with_follow_ups, subdomain)

    # The technician signs in (the form is in Chinese until they are known) and opens My tasks.
    page.goto(salon_server.salon_url(subdomain, "/login/"))
    sign_in(page, "13700001234", "Tech-pass-8")
    page.goto(salon_server.salon_url(subdomain, "/clients/tasks/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My tasks today")
    overdue = page.locator(f"#follow-up-{ids['overdue']}")
    today = page.locator(f"#follow-up-{ids['today']}")
    expect(overdue).to_have_class("card task overdue")
    expect(overdue).to_contain_text("Overdue since")
    expect(overdue).to_contain_text("139****1111")  # technicians see phones masked
    expect(today).to_contain_text("Offer the spring package")
    expect(page.get_by_text("Owner's own call")).to_have_count(0)

    # Completing without an outcome is refused in place.
    overdue.get_by_role("button", name="Complete").click()
    expect(overdue.get_by_role("alert")).to_have_text("Describe the outcome of the follow-up.")

    # Completing with an outcome replaces the row, without leaving the page.
    today.get_by_label("Outcome for 李娜").fill("Booked a facial for Saturday")
    today.get_by_role("button", name="Complete").click()
    expect(today.get_by_role("status")).to_have_text("Done: Booked a facial for Saturday")
    assert page.url.endswith("/clients/tasks/")

    # The list no longer holds it, and the outcome is on the client's timeline.
    page.reload()
    expect(page.get_by_text("Offer the spring package")).to_have_count(0)
    expect(page.get_by_text("1 open follow-up due today or overdue.")).to_be_visible()
    page.goto(salon_server.salon_url(subdomain, f"/clients/{ids['li']}/interactions/"))
    entry = page.locator("li.entry").first
    expect(entry).to_contain_text("Communication")
    expect(entry).to_contain_text("Booked a facial for Saturday")

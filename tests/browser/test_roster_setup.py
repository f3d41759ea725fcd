"""The owner sets a technician's week, gives them a day off, and sees both on the roster's week grid, in
a real browser on the front-desk tablet (1024×768). The owner switches the app to English after signing
in: the Chinese translations of these pages are compiled centrally later."""

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


def _salon_with_a_technician(subdomain: str) -> tuple[int, str]:
    """A salon and its technician Wang; returns Wang's id and the Monday of the salon's current week."""
    from django_tenants.utils import schema_context

    from apps.core.db import salon_today
    from apps.core.services import staff_create
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
        tech = staff_create(name="Wang", role="technician", username="wang", password=PASSWORD)
        today = salon_today()
        return int(tech.pk), (today - datetime.timedelta(days=today.weekday())).isoformat()


def _roster_of(subdomain: str, staff_id: int) -> dict[str, Any]:
    from django_tenants.utils import schema_context

    from apps.scheduling.models import ShiftException, ShiftPattern
    from tenants.models import Salon

    with schema_context(Salon.objects.get(subdomain=subdomain).schema_name):
        return {
            "patterns": [
                (weekday, f"{start:%H:%M}", f"{end:%H:%M}")
                for weekday, start, end in ShiftPattern.objects.filter(staff_id=staff_id)
                .order_by("weekday", "start_time")
                .values_list("weekday", "start_time", "end_time")
            ],
            "exceptions": list(
                ShiftException.objects.filter(staff_id=staff_id).values_list("date", "is_working", "note")
            ),
        }


def test_owner_sets_a_week_and_a_day_off(salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any) -> None:
    subdomain = f"ro-{secrets.token_hex(3)}"
    staff_id, monday = db_run(_salon_with_a_technician, subdomain)
    tuesday = (datetime.date.fromisoformat(monday) + datetime.timedelta(days=1)).isoformat()

    # The owner signs in, switches to English and opens the roster.
    page.goto(salon_server.salon_url(subdomain, "/login/"))
    sign_in(page, f"owner@{subdomain}.test", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    page.goto(salon_server.salon_url(subdomain, "/calendar/setup/roster/"))
    calendar_tabs = page.get_by_role("navigation", name="Calendar")
    expect(calendar_tabs.locator('[aria-current="page"]')).to_have_text("Roster")

    # Wang's week: Monday 10–19, Tuesday a split shift, Saturday 9–18, from this week's Monday.
    page.get_by_role("link", name="Set the week of Wang", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Week of Wang")
    form = page.locator("form.card")
    form.get_by_label("From", exact=True).fill(monday)
    form.get_by_label("Monday", exact=True).fill("10:00-19:00")
    form.get_by_label("Tuesday", exact=True).fill("10:00-14:00, 15:00-19:00")
    form.get_by_label("Saturday", exact=True).fill("9:00-18:00")
    form.get_by_role("button", name="Save the week", exact=True).click()
    expect(page.locator(".messages").get_by_role("status")).to_have_text("The week of Wang was saved.")

    # Back on the grid, this week shows the hours.
    grid_row = page.locator("#roster-grid tr", has=page.locator("th", has_text="Wang"))
    expect(grid_row.locator(f"td[data-date='{monday}']")).to_contain_text("10:00–19:00")
    expect(grid_row.locator(f"td[data-date='{tuesday}']")).to_contain_text("15:00–19:00")

    # A day off on Tuesday, with a note.
    exception = page.locator("form.card")
    exception.get_by_label("Staff member", exact=True).select_option(label="Wang")
    exception.get_by_label("Date", exact=True).fill(tuesday)
    exception.get_by_label("Day off", exact=True).check()
    exception.get_by_label("Note", exact=True).fill("Dentist")
    exception.get_by_role("button", name="Save the exception", exact=True).click()
    expect(page.locator(".messages").get_by_role("status")).to_have_text(f"Wang: {tuesday} was changed.")

    # The grid marks the day off and no longer shows Tuesday's hours; Monday is unchanged.
    tuesday_cell = grid_row.locator(f"td[data-date='{tuesday}']")
    expect(tuesday_cell).to_contain_text("Day off")
    expect(tuesday_cell).to_contain_text("Dentist")
    expect(tuesday_cell).not_to_contain_text("10:00")
    expect(grid_row.locator(f"td[data-date='{monday}']")).to_contain_text("10:00–19:00")

    stored = db_run(_roster_of, subdomain, staff_id)
    assert stored["patterns"] == [
        (0, "10:00", "19:00"),
        (1, "10:00", "14:00"),
        (1, "15:00", "19:00"),
        (5, "09:00", "18:00"),
    ]
    assert stored["exceptions"] == [(datetime.date.fromisoformat(tuesday), False, "Dentist")]

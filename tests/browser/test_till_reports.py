"""The monthly sales report in a real browser on the front-desk tablet (1024×768): the owner opens March,
reads the figures and the drawn charts, switches to one location, and downloads the spreadsheet, which
holds the same figures.

The owner switches the app to English after signing in: these pages' Chinese translations are compiled
centrally later, so the test reads the English source labels."""

from __future__ import annotations

import io
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


def _salon_with_a_month_of_bills(subdomain: str) -> None:
    """A salon with two locations and March 2026's bills (apps/pos/tests/scenario_reports.py)."""
    from django_tenants.utils import schema_context

    from apps.pos.tests.scenario_reports import arrange_march
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": "芳华美容",
            "subdomain": subdomain,
            "owner_name": "林芳",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345674",
            "password": PASSWORD,
        }
    ).salon
    with schema_context(salon.schema_name):
        arrange_march()


def test_owner_reads_the_monthly_report_per_location_and_downloads_it(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any
) -> None:
    subdomain = f"sales-{secrets.token_hex(3)}"
    db_run(_salon_with_a_month_of_bills, subdomain)

    page.goto(salon_server.salon_url(subdomain, "/login/"))
    sign_in(page, f"owner@{subdomain}.test", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()

    # The Reports module opens the sales report; the owner picks March.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sales report")
    form = page.get_by_role("form", name="Period and location")
    form.get_by_label("Report", exact=True).select_option(label="Monthly")
    form.get_by_label("Date in the period", exact=True).fill("2026-03-14")
    form.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator('[data-figure="revenue"]')).to_have_text("¥2,710.00")
    expect(page.locator('[data-figure="bills"]')).to_have_text("7")
    expect(page.locator('[data-figure="clients"]')).to_have_text("3")
    expect(page.get_by_role("img", name="Revenue by day").locator("rect")).to_have_count(31)
    expect(page.get_by_role("img", name="Tender mix")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Branch").locator("td.num").first).to_have_text("¥350.00")

    # One location only.
    form = page.get_by_role("form", name="Period and location")
    form.get_by_label("Location", exact=True).select_option(label="Branch")
    form.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator('[data-figure="revenue"]')).to_have_text("¥300.00")
    expect(page.locator('[data-figure="bills"]')).to_have_text("1")
    expect(page.get_by_role("heading", name="By location")).to_have_count(0)
    tenders = page.get_by_role("row").filter(has_text="Alipay")
    expect(tenders.locator("td.num")).to_have_text(["¥150.00", "¥50.00", "¥100.00"])

    # The spreadsheet holds the same figures.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as a spreadsheet (XLSX)").click()
    download = download_info.value
    assert download.suggested_filename == "sales-2026-03-01-2026-03-31.xlsx"
    from openpyxl import load_workbook

    with open(download.path(), "rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert (summary["Location"], summary["Revenue"], summary["Bills"], summary["Clients"]) == ("Branch", 300, 1, 1)
    assert list(book["Tenders"].iter_rows(min_row=2, values_only=True)) == [
        ("Alipay", 150, 50, 100),
        ("Stored value", 200, 0, 200),
    ]

"""The appointment book in a real browser on the front-desk tablet (1024×768): the front desk opens the
day view, books a client into an empty cell, moves the visit to another technician and time by picking a
target cell, marks the client arrived, starts (上钟) and finishes (下钟) the service from today's queue,
and the live board — left open, refreshing itself — shows the technician busy, then free.

The staff member switches the app to English after signing in (the pages' Chinese translations are
compiled centrally later)."""

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
POLL_WAIT_MS = 25_000  # the board polls every 15 s


def _salon(subdomain: str) -> dict[str, Any]:
    """A salon with a front-desk user, two technicians working all day every day, a service and 王芳."""
    from django_tenants.utils import schema_context

    from apps.core.services import staff_create
    from apps.crm.services.clients import client_create
    from apps.scheduling.tests.support import service_make, technician_make
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
        staff_create(name="Desk", role="front_desk", username="desk", password=PASSWORD)
        cut = service_make("洗剪吹", minutes=60)
        li = technician_make("李娜", services=[cut], hours=("00:00", "23:59"))
        wang = technician_make("王强", services=[cut], hours=("00:00", "23:59"))
        client = client_create(name="王芳", phone="13800138000", acting_user=None)
        return {"li": li.pk, "wang": wang.pk, "client": client.pk, "schema": salon.schema_name}


def _visit(schema: str, client_id: int) -> tuple[str, int, datetime.datetime]:
    from django_tenants.utils import schema_context

    from apps.scheduling.models import Appointment

    with schema_context(schema):
        visit = Appointment.objects.get(client_id=client_id)
        line = visit.lines.get()
        return visit.status, line.staff_id, line.start


def _cell_start(moment: datetime.datetime) -> str:
    """A grid cell's ``data-start``: the local time in ISO 8601 with its offset (Django's ``date:'c'``)."""
    return moment.isoformat()


def test_front_desk_books_moves_and_serves_a_client_from_the_book(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any, browser: Any, salon_midday: None
) -> None:
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    now = datetime.datetime.now(shanghai)  # about noon: the visit and its move fit in today's grid
    first = (now + datetime.timedelta(minutes=30)).replace(second=0, microsecond=0)
    first += datetime.timedelta(minutes=(15 - first.minute % 15) % 15)
    later = first + datetime.timedelta(hours=1)
    subdomain = f"bk-{secrets.token_hex(3)}"
    ids = db_run(_salon, subdomain)

    # The front desk signs in and opens Calendar: today's day view.
    page.goto(salon_server.salon_url(subdomain, "/login/"))
    sign_in(page, "desk", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Appointment book")
    grid = page.locator("#book-grid")
    expect(grid.locator(f'.book-head[data-staff="{ids["li"]}"]')).to_contain_text("李娜")

    # An empty cell of 李娜 opens the booking form beside the grid, with 李娜 and the time filled in.
    grid.locator(f'a.book-cell[data-staff="{ids["li"]}"][data-start="{_cell_start(first)}"]').click()
    panel = page.locator("#book-panel")
    expect(panel.get_by_role("heading", name="New appointment")).to_be_visible()
    expect(panel.get_by_label("Start", exact=True)).to_have_value(first.strftime("%H:%M"))
    expect(panel.get_by_label("Technician", exact=True)).to_have_value(str(ids["li"]))
    panel.get_by_label("Find the client (name, phone or last four digits)").fill("8000")
    panel.locator(f'input[name="client"][value="{ids["client"]}"]').check()
    panel.get_by_label("洗剪吹").check()
    panel.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("王芳 is booked at")
    block = page.locator("#book-grid .book-block").filter(has_text="王芳")
    expect(block).to_contain_text("洗剪吹")
    assert db_run(_visit, ids["schema"], ids["client"]) == ("booked", ids["li"], first)

    # Moving: the visit's panel → pick the new time in the grid → 王强's cell an hour later.
    block.click()
    panel.get_by_role("link", name="Pick the new time in the grid").click()
    expect(page.get_by_role("status").filter(has_text="Moving 王芳")).to_be_visible()
    page.locator(f'button.book-cell[data-staff="{ids["wang"]}"][data-start="{_cell_start(later)}"]').click()
    expect(page.locator(".messages")).to_contain_text("王芳's visit moved to")
    assert db_run(_visit, ids["schema"], ids["client"]) == ("booked", ids["wang"], later)

    # The live board, left open in another tab, shows 王强 free.
    board_context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        board = board_context.new_page()
        board.goto(salon_server.salon_url(subdomain, "/login/"))
        sign_in(board, "desk", PASSWORD)
        board.goto(salon_server.salon_url(subdomain, "/calendar/board/"))
        wang_on_board = board.locator(f'#live-board [data-staff="{ids["wang"]}"]')
        expect(wang_on_board).to_have_attribute("data-state", "free")

        # Today's queue: arrived, then start (上钟).
        page.get_by_role("navigation", name="Calendar").get_by_role("link", name="Today's queue").click()
        row = page.locator('[data-queue="upcoming"] li').filter(has_text="王芳")
        row.get_by_role("button", name="Arrived").click()
        page.locator('[data-queue="waiting"] li').filter(has_text="王芳").get_by_role(
            "button", name="Start (上钟)"
        ).click()
        expect(page.locator('[data-queue="in_service"] li').filter(has_text="王芳")).to_contain_text("until")
        assert db_run(_visit, ids["schema"], ids["client"])[0] == "in_service"

        # The board refreshes itself: 王强 is busy until the end of the service, with 王芳.
        expect(wang_on_board).to_have_attribute("data-state", "busy", timeout=POLL_WAIT_MS)
        end = later + datetime.timedelta(hours=1)
        expect(wang_on_board).to_contain_text(f"Busy until {end:%H:%M}")
        expect(wang_on_board).to_contain_text("王芳")

        # Finish (下钟): the visit is done and the board shows 王强 free again.
        page.locator('[data-queue="in_service"] li').filter(has_text="王芳").get_by_role(
            "button", name="Finish (下钟)"
        ).click()
        expect(page.locator('[data-queue="done"] li').filter(has_text="王芳")).to_be_visible()
        assert db_run(_visit, ids["schema"], ids["client"])[0] == "done"
        expect(wang_on_board).to_have_attribute("data-state", "free", timeout=POLL_WAIT_MS)
    finally:
        board_context.close()

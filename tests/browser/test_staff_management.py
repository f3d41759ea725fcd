"""An owner manages the team in a real browser on a 1024×768 tablet: adds a technician, who can
sign in but not open the staff settings, then deactivates them, after which they cannot sign in."""

from __future__ import annotations

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
    from tenants.services import salon_signup

    salon_signup(
        raw={
            "salon_name": "芳华美发",
            "subdomain": subdomain,
            "owner_name": "林芳",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345670",
            "password": PASSWORD,
        }
    )


def _sign_in(page: Any, server: LiveSalonServer, subdomain: str, username: str, password: str) -> None:
    page.goto(server.salon_url(subdomain, "/login/"))
    sign_in(page, username, password)


def test_owner_adds_and_deactivates_a_technician(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any, browser: Any
) -> None:
    subdomain = f"team-{secrets.token_hex(3)}"
    db_run(_create_salon, subdomain)

    # The owner opens Settings → Staff and adds a technician.
    _sign_in(page, salon_server, subdomain, f"owner@{subdomain}.test", PASSWORD)
    page.get_by_role("link", name="设置", exact=True).click()
    page.get_by_role("navigation", name="设置").get_by_role("link", name="员工", exact=True).click()
    page.get_by_role("link", name="添加员工").click()
    form = page.locator("form.card")
    form.get_by_label("姓名", exact=True).fill("陈技师")
    form.get_by_label("角色", exact=True).select_option("technician")
    form.get_by_label("电话", exact=True).fill("13700001234")
    form.get_by_label("初始密码", exact=True).fill("Tech-pass-8")
    form.get_by_role("button", name="保存", exact=True).click()
    row = page.get_by_role("row").filter(has_text="陈技师")
    expect(row).to_contain_text("技师")
    expect(row).to_contain_text("+8613700001234")

    # The technician signs in with the phone number, sees the dashboard, but not the staff settings.
    technician = browser.new_context(viewport={"width": 1024, "height": 768})
    tech_page = technician.new_page()
    try:
        _sign_in(tech_page, salon_server, subdomain, "13700001234", "Tech-pass-8")
        expect(tech_page.get_by_role("heading", level=1)).to_have_text("欢迎，陈技师")
        response = tech_page.goto(salon_server.salon_url(subdomain, "/settings/staff/"))
        assert response is not None and response.status == 403
    finally:
        technician.close()

    # The owner deactivates the technician, whose next sign-in fails.
    row.get_by_role("button", name="停用陈技师").click()
    expect(page.get_by_role("row").filter(has_text="陈技师")).to_contain_text("已停用")
    again = browser.new_context(viewport={"width": 1024, "height": 768})
    again_page = again.new_page()
    try:
        _sign_in(again_page, salon_server, subdomain, "13700001234", "Tech-pass-8")
        expect(again_page).to_have_url(salon_server.salon_url(subdomain, "/login/"))
        expect(again_page.get_by_role("alert")).to_be_visible()
    finally:
        again.close()

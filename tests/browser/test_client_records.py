"""The front desk in a real browser (Chinese UI, 1024×768 tablet): add a client with an allergy,
tag them from the list selection, find them as you type by the last four digits and by pinyin
initials, and see the red allergy alert on their 360° page."""

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


def _salon_with_a_tag_and_another_client(subdomain: str) -> None:
    from django_tenants.utils import schema_context

    from apps.crm.services.clients import client_create
    from apps.crm.services.tags import tag_create
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
        tag_create(name="VIP", color="#b0306a", acting_user=None)
        client_create(name="李四", phone="13900001234", acting_user=None)


def test_add_tag_find_and_see_the_allergy_alert(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any
) -> None:
    subdomain = f"crm-{secrets.token_hex(3)}"
    db_run(_salon_with_a_tag_and_another_client, subdomain)
    page.goto(salon_server.salon_url(subdomain, "/login/"))
    sign_in(page, f"owner@{subdomain}.test", PASSWORD)

    # Add a client with an allergy.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="顾客", exact=True).click()
    page.get_by_role("link", name="添加顾客").click()
    form = page.locator("form.card")
    form.get_by_label("姓名", exact=True).fill("张三")
    form.get_by_label("电话", exact=True).fill("13800135678")
    form.get_by_label("过敏史", exact=True).fill("对烫发药水过敏")
    form.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("张三")

    # Tag the client from the list selection.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="顾客", exact=True).click()
    page.get_by_role("checkbox", name="选择张三").check()
    page.get_by_label("标签", exact=True).last.select_option(label="VIP")
    page.get_by_role("button", name="添加标签", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="VIP")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="张三")).to_contain_text("VIP")

    # Find the client as you type: by the last four digits, then by pinyin initials.
    search = page.get_by_label("搜索顾客", exact=True)
    search.fill("5678")
    results = page.locator("#client-results")
    expect(results.get_by_role("row").filter(has_text="张三")).to_be_visible()
    expect(results).not_to_contain_text("李四")
    search.fill("zs")
    expect(results).not_to_contain_text("李四")
    expect(results.get_by_role("row").filter(has_text="张三")).to_contain_text("提醒")

    # The 360° page shows the allergy as a red alert.
    results.get_by_role("link", name="张三", exact=True).click()
    alert = page.get_by_role("alert").filter(has_text="对烫发药水过敏")
    expect(alert).to_be_visible()
    expect(alert).to_have_css("color", "rgb(180, 35, 24)")
    expect(page.get_by_role("region", name="资料")).to_contain_text("13800135678")

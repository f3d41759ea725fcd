"""The till in a real browser on the front-desk tablet (1024×768): the front desk opens a finished visit
from the calendar and checks it out, applies the client's best coupon, takes the payment split between
cash (handed over with change) and stored value, sees the paid bill and opens its receipt.

The staff member switches the app to English after signing in (the pages' Chinese translations are
compiled centrally later)."""

from __future__ import annotations

import datetime
import re
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


def _salon(subdomain: str, start: datetime.datetime) -> dict[str, Any]:
    """A salon with a front desk, a technician, 王芳 holding ¥500 of stored value and a ¥30-off coupon,
    and her visit (洗剪吹, ¥198) finished earlier today."""
    from django_tenants.utils import schema_context

    from apps.core.services import staff_create
    from apps.crm.services.clients import client_create
    from apps.loyalty.models import CouponKind
    from apps.loyalty.services import coupon_templates, coupons, wallets
    from apps.scheduling.models import AppointmentStatus
    from apps.scheduling.tests.support import appointment_insert, service_make, technician_make
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": "悦颜美容",
            "subdomain": subdomain,
            "owner_name": "周店长",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345674",
            "password": PASSWORD,
        }
    ).salon
    with schema_context(salon.schema_name):
        staff_create(name="Desk", role="front_desk", username="desk", password=PASSWORD)
        cut = service_make("洗剪吹", minutes=60, price=19800)
        li = technician_make("李娜", services=[cut], hours=("00:00", "23:59"))
        client = client_create(name="王芳", phone="13800138000", acting_user=None)
        wallets.wallet_top_up(client=client, amount=50_000, idempotency_key="seed")
        template = coupon_templates.coupon_template_create(
            name="满100减30", kind=CouponKind.MONEY_OFF, value=3000, min_spend=10_000, valid_days=30, acting_user=None
        )
        coupon = coupons.coupon_issue(template=template, client=client, issue_key="seed", acting_user=None)
        visit = appointment_insert(client=client, start=start, lines=[(cut, li)], status=AppointmentStatus.DONE)
        return {"schema": salon.schema_name, "visit": visit.pk, "client": client.pk, "coupon": coupon.pk}


def _after(schema: str, visit_id: int, client_id: int, coupon_id: int) -> dict[str, Any]:
    from django_tenants.utils import schema_context

    from apps.loyalty.models import Coupon, Wallet
    from apps.pos.models import Bill

    with schema_context(schema):
        bill = Bill.objects.get(appointment_id=visit_id)
        wallet = Wallet.objects.get(client_id=client_id)
        return {
            "bill": (bill.status, bill.total, bill.paid_total, bill.change_given),
            "tenders": sorted((t.method, t.amount) for t in bill.tenders.all()),
            "balance": wallet.principal + wallet.bonus,
            "coupon": Coupon.objects.get(pk=coupon_id).status,
        }


def test_front_desk_checks_out_a_visit_with_a_coupon_and_split_payment(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any, salon_midday: None
) -> None:
    from zoneinfo import ZoneInfo

    now = datetime.datetime.now(ZoneInfo("Asia/Shanghai"))  # about noon: the finished visit fits in today's grid
    start = (now - datetime.timedelta(minutes=90)).replace(second=0, microsecond=0)
    start -= datetime.timedelta(minutes=start.minute % 15)
    subdomain = f"till-{secrets.token_hex(3)}"
    ids = db_run(_salon, subdomain, start)

    # The front desk signs in, switches to English and opens the finished visit in the calendar.
    page.goto(salon_server.salon_url(subdomain, "/login/"))
    sign_in(page, "desk", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar", exact=True).click()
    page.locator("#book-grid .book-block").filter(has_text="王芳").click()
    panel = page.locator("#book-panel")
    expect(panel).to_contain_text("Done")

    # Check out: the bill opens with the visit's service by 李娜 at 100%.
    panel.get_by_role("button", name="Check out", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bill")
    lines = page.locator("table.till-lines tbody")
    expect(lines).to_contain_text("洗剪吹")
    expect(lines).to_contain_text("李娜 100%")
    expect(page.locator("#bill-total")).to_have_text("¥198.00")

    # The best coupon is suggested and applied: ¥30 off.
    coupons = page.get_by_role("region", name="Coupons")
    expect(coupons).to_contain_text("Best for this bill: ¥30.00 off.")
    coupons.get_by_role("button", name="Apply the best coupons").click()
    expect(page.locator("#bill-total")).to_have_text("¥168.00")
    expect(page.get_by_role("region", name="Coupons")).to_contain_text("满100减30")

    # Split payment: ¥100 in cash (¥150 handed over) and ¥68 from stored value; the change shows.
    payment = page.get_by_role("region", name="Payment")
    first = payment.get_by_role("group", name="Payment 1")
    first.get_by_label("Method", exact=True).select_option("cash")
    first.get_by_label("Amount (¥)", exact=True).fill("100")
    first.get_by_label("Cash handed over (¥)", exact=True).fill("150")
    second = payment.get_by_role("group", name="Payment 2")
    second.get_by_label("Method", exact=True).select_option("stored_value")
    second.get_by_label("Amount (¥)", exact=True).fill("68")
    expect(payment.locator("#till-pay-preview")).to_contain_text("Change ¥50.00")
    payment.get_by_role("button", name="Take ¥168.00").click()

    # The paid bill: status, change to give, the two payments.
    expect(page.locator(".messages")).to_contain_text("Paid. Give ¥50.00 change.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
    tenders = page.get_by_role("region", name="Payments")
    expect(tenders).to_contain_text("Handed over ¥150.00, change ¥50.00")
    expect(tenders).to_contain_text("Stored value")
    expect(page.locator("#bill-change")).to_have_text("¥50.00")
    assert db_run(_after, ids["schema"], ids["visit"], ids["client"], ids["coupon"]) == {
        "bill": ("paid", 16800, 16800, 5000),
        "tenders": [("cash", 10000), ("stored_value", 6800)],
        "balance": 50_000 - 6800,
        "coupon": "redeemed",
    }

    # The front desk opens the receipt from the paid bill: the salon, the visit's line with the coupon's
    # discount, the totals, the cash with what was handed over and the change, the stored value; in the
    # receipt's words, as printed (Chinese, the salon's receipt language).
    page.get_by_role("link", name="Receipt", exact=True).click()
    receipt = page.get_by_role("article")
    expect(receipt.get_by_role("heading", level=1)).to_have_text("悦颜美容")
    expect(receipt).to_contain_text(re.compile(r"单号：\d{8}-0001"))
    expect(receipt).to_contain_text("收银员：Desk")
    expect(receipt).to_contain_text("顾客：王芳 138****8000")
    expect(receipt.get_by_role("row")).to_have_text(
        [
            "洗剪吹",
            "1 × ¥198.00 ¥198.00",
            "优惠 -¥30.00",
            "服务：李娜",
            "小计 ¥198.00",
            "优惠 -¥30.00",
            "合计 ¥168.00",
            "现金 ¥100.00",
            "实收 ¥150.00",
            "找零 ¥50.00",
            "储值卡 ¥68.00",
            "本次积分 +168",
            "积分余额 168",
            "储值余额 ¥432.00",
        ],
        use_inner_text=True,
    )
    expect(receipt).to_contain_text("谢谢惠顾，欢迎再次光临！")

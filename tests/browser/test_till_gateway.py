"""WeChat Pay and Alipay at the till in a real browser (front-desk tablet, 1024×768), against the local fake
gateways: the cashier opens a walk-in bill and scans the client's WeChat Pay code with the scanner gun (it
types the code and presses Enter); shows an Alipay QR code that the client pays on their phone, while the
page waits by itself until the bill is paid; and scans something that is not a payment code, which is
refused on the page with nothing charged, then scans the right one.

The front desk switches the app to English after signing in (the pages' Chinese translations are compiled
centrally later)."""

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


# --- arranging, through the product's services -----------------------------------------------------


def _salon(subdomain: str, fake_wechat: Any, fake_alipay: Any, keys: dict[str, Any]) -> str:
    """A salon taking WeChat Pay and Alipay, its merchant accounts connected to the fakes; a front desk; a
    product (修护洗发水, ¥98) and a service (洗剪吹, ¥128). Returns the salon's schema."""
    from django_tenants.utils import schema_context

    from apps.catalog import services as catalog
    from apps.core.models import User
    from apps.core.services import staff_create
    from apps.payments.tests.support import connect
    from apps.pos.services.till_settings import pos_settings_update
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": "悦颜美容",
            "subdomain": subdomain,
            "owner_name": "周店长",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345675",
            "password": PASSWORD,
        }
    ).salon
    with schema_context(salon.schema_name):
        owner = User.objects.get(role="owner")
        staff_create(name="Desk", role="front_desk", username="desk", password=PASSWORD)
        pos_settings_update(acting_user=owner, accepts_wechat=True, accepts_alipay=True)
        connect("wechat", fake_wechat, keys)
        connect("alipay", fake_alipay, keys)
        catalog.product_create(name="修护洗发水", price=9800, stock=20, acting_user=None)
        catalog.service_create(name="洗剪吹", duration_minutes=45, price=12800, acting_user=None)
    return salon.schema_name


def _walk_in_bill(schema: str) -> int:
    """A walk-in's bill of one 洗剪吹 (¥128), opened by the front desk."""
    from django_tenants.utils import schema_context

    from apps.catalog.models import Service
    from apps.core.models import User
    from apps.pos.services.bills import bill_line_add, bill_open
    from apps.pos.services.top_ups import till_location

    with schema_context(schema):
        desk = User.objects.get(username="desk")
        bill = bill_open(location=till_location(desk), client=None, acting_user=desk)
        bill_line_add(bill=bill, item=Service.objects.get(name="洗剪吹"), acting_user=desk)
        return bill.pk


def _bill_state(schema: str, bill_id: int | None = None) -> dict[str, Any]:
    """The bill (the salon's only one unless named) and its tenders, as the database holds them."""
    from django_tenants.utils import schema_context

    from apps.payments.models import GatewayPayment
    from apps.pos.models import Bill

    with schema_context(schema):
        bill = Bill.objects.get(pk=bill_id) if bill_id is not None else Bill.objects.get()
        tenders = list(bill.tenders.order_by("id"))
        return {
            "id": bill.pk,
            "bill": (bill.status, bill.total, bill.paid_total),
            "tenders": [(t.method, t.amount, t.status) for t in tenders],
            "out_trade_nos": [str(t.out_trade_no) for t in tenders if t.out_trade_no],
            "payments": [
                (p.provider, p.kind, p.amount, p.status)
                for p in GatewayPayment.objects.filter(reference=f"bill:{bill.pk}").order_by("id")
            ],
        }


def _sign_in_desk(page: Any, salon_server: LiveSalonServer, subdomain: str) -> None:
    page.goto(salon_server.salon_url(subdomain, "/login/"))
    sign_in(page, "desk", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()


# --- the tests --------------------------------------------------------------------------------------


def test_cashier_scans_the_clients_wechat_pay_code_on_a_walk_in_bill(
    salon_ledger: SalonLedger,
    salon_server: LiveSalonServer,
    page: Any,
    fake_wechat: Any,
    fake_alipay: Any,
    payment_key_pairs: dict[str, Any],
) -> None:
    from apps.payments.tests.support import WECHAT_CODE

    # given a salon taking WeChat Pay, and the front desk signed in
    subdomain = f"paywx-{secrets.token_hex(3)}"
    schema = db_run(_salon, subdomain, fake_wechat, fake_alipay, payment_key_pairs)
    _sign_in_desk(page, salon_server, subdomain)

    # when the front desk opens a walk-in's bill and adds the shampoo the client buys
    page.goto(salon_server.salon_url(subdomain, "/till/bills/new/"))
    expect(page.get_by_label("Walk-in (not a client)")).to_be_checked()
    page.get_by_role("button", name="Open the bill", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Open")
    page.get_by_label("Find a service, product, package or course card", exact=True).fill("洗发水")
    page.get_by_label("修护洗发水 · ¥98.00").check()
    page.get_by_role("button", name="Add to the bill", exact=True).click()
    expect(page.locator("table.till-lines tbody")).to_contain_text("修护洗发水")
    expect(page.locator("#bill-total")).to_have_text("¥98.00")

    # and takes it by WeChat Pay: the scanner gun types the client's payment code and presses Enter
    payment = page.get_by_role("region", name="Payment", exact=True)
    first = payment.get_by_role("group", name="Payment 1")
    first.get_by_label("Method", exact=True).select_option("wechat")
    expect(first.get_by_label("Amount (¥)", exact=True)).to_have_value("98.00")
    code = payment.get_by_label("Payment code (scan the client's phone)", exact=True)
    code.fill(WECHAT_CODE)
    code.press("Enter")

    # then the bill is paid by WeChat Pay, with its receipt
    expect(page.locator(".messages")).to_contain_text("Paid.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
    tenders = page.get_by_role("region", name="Payments", exact=True)
    expect(tenders.get_by_role("row", name="WeChat Pay")).to_contain_text("Paid")
    expect(tenders).to_contain_text("¥98.00")
    expect(page.get_by_role("region", name="Payment", exact=True)).to_have_count(0)  # no pay panel on a paid bill
    page.get_by_role("link", name="Receipt", exact=True).click()
    receipt = page.get_by_role("article")
    expect(receipt).to_contain_text("修护洗发水")
    expect(receipt.get_by_role("row", name="微信支付")).to_contain_text("¥98.00")

    # and the gateway charged the code once, for the bill's amount
    state = db_run(_bill_state, schema)
    assert state["bill"] == ("paid", 9800, 9800)
    assert state["tenders"] == [("wechat", 9800, "succeeded")]
    assert state["payments"] == [("wechat", "code", 9800, "succeeded")]
    (out_trade_no,) = state["out_trade_nos"]
    assert (fake_wechat.ledger.charges(out_trade_no), fake_wechat.ledger.charged(out_trade_no)) == (1, 9800)
    assert len(fake_wechat.ledger.movements) == 1
    assert fake_alipay.ledger.calls == []


def test_client_pays_an_alipay_qr_code_and_the_page_sees_it_by_itself(
    salon_ledger: SalonLedger,
    salon_server: LiveSalonServer,
    page: Any,
    fake_wechat: Any,
    fake_alipay: Any,
    payment_key_pairs: dict[str, Any],
) -> None:
    # given a walk-in's bill of ¥128, open at the till
    subdomain = f"payali-{secrets.token_hex(3)}"
    schema = db_run(_salon, subdomain, fake_wechat, fake_alipay, payment_key_pairs)
    bill_id = db_run(_walk_in_bill, schema)
    _sign_in_desk(page, salon_server, subdomain)
    page.goto(salon_server.salon_url(subdomain, f"/till/bills/{bill_id}/"))
    expect(page.locator("#bill-total")).to_have_text("¥128.00")

    # when the front desk chooses Alipay and shows a QR code for the client
    payment = page.get_by_role("region", name="Payment", exact=True)
    payment.get_by_role("group", name="Payment 1").get_by_label("Method", exact=True).select_option("alipay")
    payment.get_by_role("button", name="Show QR", exact=True).click()

    # then the waiting panel shows the QR code, and the bill is not paid yet
    waiting = page.get_by_role("status").filter(has_text="Waiting for the client")
    expect(waiting).to_contain_text("Waiting for the client to pay ¥128.00 by Alipay…")
    expect(waiting.locator("svg")).to_be_visible()
    expect(waiting.locator("svg title")).to_have_text("QR code to pay")
    expect(page.get_by_role("button", name="Cancel this payment", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Open")
    pending = db_run(_bill_state, schema, bill_id)
    assert pending["bill"] == ("open", 12800, 0)
    assert pending["tenders"] == [("alipay", 12800, "pending")]
    assert pending["payments"] == [("alipay", "qr", 12800, "pending")]
    (out_trade_no,) = pending["out_trade_nos"]
    assert fake_alipay.ledger.movements == []

    # when the client scans it and pays: Alipay takes the money and notifies the salon
    fake_alipay.pay_qr(out_trade_no)
    answers = fake_alipay.send_notification(out_trade_no, resolve={f"{subdomain}.localhost": "127.0.0.1"})
    assert answers == [(200, b"success")]

    # then the page, left alone, notices (it polls every 2 s) and shows the bill paid by Alipay
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
    tenders = page.get_by_role("region", name="Payments", exact=True)
    expect(tenders.get_by_role("row", name="Alipay")).to_contain_text("Paid")
    expect(page.get_by_role("status").filter(has_text="Waiting for the client")).to_have_count(0)
    expect(page.get_by_role("link", name="Receipt", exact=True)).to_be_visible()

    # and the money moved once
    state = db_run(_bill_state, schema, bill_id)
    assert state["bill"] == ("paid", 12800, 12800)
    assert state["tenders"] == [("alipay", 12800, "succeeded")]
    assert state["payments"] == [("alipay", "qr", 12800, "succeeded")]
    assert (fake_alipay.ledger.charges(out_trade_no), fake_alipay.ledger.charged(out_trade_no)) == (1, 12800)
    assert len(fake_alipay.ledger.movements) == 1
    assert fake_wechat.ledger.calls == []


def test_a_scan_that_is_not_a_payment_code_is_refused_on_the_page_and_nothing_is_charged(
    salon_ledger: SalonLedger,
    salon_server: LiveSalonServer,
    page: Any,
    fake_wechat: Any,
    fake_alipay: Any,
    payment_key_pairs: dict[str, Any],
) -> None:
    from apps.payments.tests.support import WECHAT_CODE

    # given a walk-in's bill of ¥128, open at the till
    subdomain = f"paybad-{secrets.token_hex(3)}"
    schema = db_run(_salon, subdomain, fake_wechat, fake_alipay, payment_key_pairs)
    bill_id = db_run(_walk_in_bill, schema)
    _sign_in_desk(page, salon_server, subdomain)
    page.goto(salon_server.salon_url(subdomain, f"/till/bills/{bill_id}/"))

    # when the front desk chooses WeChat Pay and takes a code that is not a payment code (a product barcode)
    payment = page.get_by_role("region", name="Payment", exact=True)
    payment.get_by_role("group", name="Payment 1").get_by_label("Method", exact=True).select_option("wechat")
    payment.get_by_label("Payment code (scan the client's phone)", exact=True).fill("6901234567892")
    payment.get_by_role("button", name="Take ¥128.00", exact=True).click()

    # then the page says so at the code, and the bill stays open with all of it due
    payment = page.get_by_role("region", name="Payment", exact=True)
    expect(payment.get_by_role("alert")).to_have_text("This is not a valid payment code: scan it again.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Open")
    expect(page.locator("#bill-due")).to_have_text("¥128.00")
    expect(page.get_by_role("region", name="Payments", exact=True)).to_have_count(0)
    expect(payment.get_by_role("group", name="Payment 1").get_by_label("Method", exact=True)).to_have_value("wechat")
    # and nothing was written or sent to the gateway
    refused = db_run(_bill_state, schema, bill_id)
    assert (refused["bill"], refused["tenders"], refused["payments"]) == (("open", 12800, 0), [], [])
    assert (fake_wechat.ledger.calls, fake_wechat.ledger.movements) == ([], [])

    # when the cashier scans the client's real code
    code = payment.get_by_label("Payment code (scan the client's phone)", exact=True)
    code.fill(WECHAT_CODE)
    code.press("Enter")

    # then the bill is paid, charged once
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
    state = db_run(_bill_state, schema, bill_id)
    assert state["bill"] == ("paid", 12800, 12800)
    assert state["tenders"] == [("wechat", 12800, "succeeded")]
    (out_trade_no,) = state["out_trade_nos"]
    assert fake_wechat.ledger.charges(out_trade_no) == 1
    assert len(fake_wechat.ledger.movements) == 1

"""What a paid bill's receipt says (POS-3), exactly, on 58 and 80 mm paper, in Chinese and English; the
HTML page and the PDF of the same receipt; and what another salon sees."""

from __future__ import annotations

import datetime
import io

import pytest
from django_tenants.utils import schema_context

from apps.edge.rendering import render_text, text_width
from apps.loyalty.services.points import points_earn_for_spend
from apps.loyalty.services.wallets import wallet_debit, wallet_top_up
from apps.pos.models import LineKind, PosSettings, TenderMethod
from apps.pos.selectors.receipts import receipt_as_dict, receipt_bill, receipt_build, receipt_payload
from apps.pos.tests.factories_receipts import (
    LineSpec,
    TenderSpec,
    bill_paid_make,
    client_make,
    english,  # noqa: F401  (fixture, used by pytestmark)
    english_staff,
    location_make,
    staff_make,
)
from tests.fixtures import logged_in_client, make_staff

pytestmark = pytest.mark.usefixtures("english")

PAID_AT = datetime.datetime(2030, 3, 4, 2, 30, tzinfo=datetime.UTC)  # 10:30 in Shanghai


def _sample_bill():
    """Two lines (a discounted service, two products), cash with change and stored value, points earned."""
    PosSettings.objects.update_or_create(pk=1, defaults={"receipt_header": "美丽从这里开始"})
    location = location_make("南京西路店", address="上海市静安区南京西路1266号", phone="021-62881234")
    cashier = staff_make("林芳")
    bai, chen = staff_make("Bai", role="technician"), staff_make("Chen", role="technician")
    client = client_make("王芳", phone="+8613912345678")
    wallet_top_up(client=client, amount=100_000, idempotency_key="top-up-1", reference="top-up")
    bill = bill_paid_make(
        location=location,
        client=client,
        cashier=cashier,
        paid_at=PAID_AT,
        number="20300304-0001",
        lines=[
            LineSpec("洗剪吹", 12_800, discount=1_000, staff=[(bai, 10_000)]),
            LineSpec("护发精油", 6_800, quantity=2, kind=LineKind.PRODUCT, staff=[(chen, 6_000), (bai, 4_000)]),
        ],
        tenders=[
            TenderSpec(TenderMethod.CASH, 10_000, tendered=20_000),
            TenderSpec(TenderMethod.STORED_VALUE, 15_400),
        ],
    )
    wallet_debit(client=client, amount=15_400, idempotency_key=f"bill-{bill.pk}-sv", reference=f"bill:{bill.pk}")
    points_earn_for_spend(
        client=client, amount_spent=25_400, reference=f"bill:{bill.pk}", idempotency_key=f"bill-{bill.pk}-points"
    )
    return bill


ZH_80 = """\
                  Alpha Salon
                 美丽从这里开始
                   南京西路店
           上海市静安区南京西路1266号
               电话：021-62881234
================================================
单号：20300304-0001
时间：2030-03-04 10:30
收银员：林芳
顾客：王芳 139****5678
------------------------------------------------
洗剪吹
  1 × 128.00                              128.00
  优惠                                    -10.00
  服务：Bai
护发精油
  2 × 68.00                               136.00
  服务：Chen、Bai
------------------------------------------------
小计                                     ¥264.00
优惠                                     -¥10.00
合计                                     ¥254.00
------------------------------------------------
现金                                     ¥100.00
  实收                                   ¥200.00
  找零                                   ¥100.00
储值卡                                   ¥154.00
------------------------------------------------
本次积分                                    +254
积分余额                                     254
储值余额                                 ¥846.00
================================================
            谢谢惠顾，欢迎再次光临！
"""

ZH_58 = """\
          Alpha Salon
         美丽从这里开始
           南京西路店
   上海市静安区南京西路1266号
       电话：021-62881234
================================
单号：20300304-0001
时间：2030-03-04 10:30
收银员：林芳
顾客：王芳 139****5678
--------------------------------
洗剪吹
  1 × 128.00              128.00
  优惠                    -10.00
  服务：Bai
护发精油
  2 × 68.00               136.00
  服务：Chen、Bai
--------------------------------
小计                     ¥264.00
优惠                     -¥10.00
合计                     ¥254.00
--------------------------------
现金                     ¥100.00
  实收                   ¥200.00
  找零                   ¥100.00
储值卡                   ¥154.00
--------------------------------
本次积分                    +254
积分余额                     254
储值余额                 ¥846.00
================================
    谢谢惠顾，欢迎再次光临！
"""

EN_80 = """\
                  Alpha Salon
                 美丽从这里开始
                   南京西路店
           上海市静安区南京西路1266号
               Tel.: 021-62881234
================================================
Bill no.: 20300304-0001
Time: 2030-03-04 10:30
Cashier: 林芳
Client: 王芳 139****5678
------------------------------------------------
洗剪吹
  1 × 128.00                              128.00
  Discount                                -10.00
  Staff: Bai
护发精油
  2 × 68.00                               136.00
  Staff: Chen、Bai
------------------------------------------------
Subtotal                                 ¥264.00
Discount                                 -¥10.00
Total                                    ¥254.00
------------------------------------------------
Cash                                     ¥100.00
  Received                               ¥200.00
  Change                                 ¥100.00
Stored value                             ¥154.00
------------------------------------------------
Points earned                               +254
Points balance                               254
Stored value left                        ¥846.00
================================================
         Thank you, see you again soon!
"""

EN_58 = """\
          Alpha Salon
         美丽从这里开始
           南京西路店
   上海市静安区南京西路1266号
       Tel.: 021-62881234
================================
Bill no.: 20300304-0001
Time: 2030-03-04 10:30
Cashier: 林芳
Client: 王芳 139****5678
--------------------------------
洗剪吹
  1 × 128.00              128.00
  Discount                -10.00
  Staff: Bai
护发精油
  2 × 68.00               136.00
  Staff: Chen、Bai
--------------------------------
Subtotal                 ¥264.00
Discount                 -¥10.00
Total                    ¥254.00
--------------------------------
Cash                     ¥100.00
  Received               ¥200.00
  Change                 ¥100.00
Stored value             ¥154.00
--------------------------------
Points earned               +254
Points balance               254
Stored value left        ¥846.00
================================
 Thank you, see you again soon!
"""

WALK_IN_58 = """\
          Alpha Salon
             静安店
================================
Bill no.: 20300304-0002
Time: 2030-03-04 10:30
Client: Walk-in
--------------------------------
Manicure
  1 × 88.00                88.00
--------------------------------
Subtotal                  ¥88.00
Total                     ¥88.00
--------------------------------
Points (800 pts)           ¥8.00
WeChat Pay                ¥80.00
Refunded                 -¥30.00
================================
 Thank you, see you again soon!
"""


@pytest.mark.parametrize(
    ("language", "width", "expected"),
    [("zh-hans", 80, ZH_80), ("zh-hans", 58, ZH_58), ("en", 80, EN_80), ("en", 58, EN_58)],
)
def test_receipt_text_is_exact_on_both_papers_and_in_both_languages(in_alpha, language, width, expected):
    # given the sample bill, paid at 10:30 Shanghai time
    bill = _sample_bill()

    # when its receipt is laid out for the printer
    receipt = receipt_build(bill=receipt_bill(bill.pk), language=language, width=width)
    payload = receipt_payload(receipt)
    text = render_text(payload)

    # then every line is exactly as printed, and none is wider than the paper
    assert text == expected
    assert payload["width"] == width and payload["columns"] == {58: 32, 80: 48}[width]
    assert max(text_width(line) for line in text.splitlines()) <= payload["columns"]


def test_receipt_figures_for_the_api(in_alpha):
    # given the sample bill
    bill = _sample_bill()

    # when its receipt is read as data
    body = receipt_as_dict(receipt_build(bill=receipt_bill(bill.pk)))

    # then the figures are fen and the lines name their staff
    assert body["number"] == "20300304-0001"
    assert body["language"] == "zh-hans" and body["width"] == 80
    assert [
        (line["name"], line["quantity"], line["unit_price"], line["discount"], line["amount"], line["staff"])
        for line in body["lines"]
    ] == [
        ("洗剪吹", 1, 12_800, 1_000, 11_800, ["Bai"]),
        ("护发精油", 2, 6_800, 0, 13_600, ["Chen", "Bai"]),
    ]
    assert (body["subtotal"], body["discount_total"], body["total"], body["change_given"]) == (
        26_400,
        1_000,
        25_400,
        10_000,
    )
    assert [(t["method"], t["amount"], t["tendered"], t["change"]) for t in body["tenders"]] == [
        ("cash", 10_000, 20_000, 10_000),
        ("stored_value", 15_400, 0, 0),
    ]
    assert (body["points_earned"], body["points_balance"], body["stored_value_balance"]) == (254, 254, 84_600)
    assert body["client"] == {"name": "王芳", "phone": "139****5678"}
    assert body["print"]["lines"][0] == {
        "type": "text",
        "text": "Alpha Salon",
        "align": "center",
        "bold": True,
        "size": "double",
    }


def test_walk_in_receipt_with_refund_and_points_tender(in_alpha):
    # given a walk-in's bill paid with points money-off and WeChat Pay, partly refunded
    from apps.pos.tests.factories_receipts import refund_make

    bill = bill_paid_make(
        lines=[LineSpec("Manicure", 8_800)],
        tenders=[TenderSpec(TenderMethod.POINTS, 800, points=800), TenderSpec(TenderMethod.WECHAT, 8_000)],
        location=location_make("静安店"),
        paid_at=PAID_AT,
        number="20300304-0002",
    )
    refund_make(bill=bill, tender=bill.tenders.get(method=TenderMethod.WECHAT), amount=3_000)

    # when its receipt is printed in English on 58 mm paper
    text = render_text(receipt_payload(receipt_build(bill=receipt_bill(bill.pk), language="en", width=58)))

    # then it names no client, shows the points used and what went back, and no loyalty block
    assert text == WALK_IN_58


def test_receipt_page_and_pdf(alpha):
    # given the sample bill and a front-desk cashier signed in
    with schema_context(alpha.schema):
        bill = _sample_bill()
    english_staff(alpha, role="front_desk", username="desk")
    client = logged_in_client(alpha, "desk")

    # when the cashier opens the receipt on 58 mm paper and its PDF
    page = client.get(f"/till/bills/{bill.pk}/receipt/?width=58")
    pdf = client.get(f"/till/bills/{bill.pk}/receipt.pdf?width=58")

    # then the page is the 58 mm receipt in Chinese and the PDF carries the same text
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="receipt receipt-58"' in html
    assert "单号：20300304-0001" in html
    assert "收银员：林芳" in html
    assert "王芳 139****5678" in html
    assert "13912345678" not in html
    assert "储值余额" in html and "¥846.00" in html
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 1
    assert round(float(reader.pages[0].mediabox.width) / 72 * 25.4) == 58
    text = reader.pages[0].extract_text()
    assert "20300304-0001" in text
    assert "合计" in text and "¥254.00" in text
    assert "谢谢惠顾" in text


def test_receipt_of_an_open_bill_is_refused_and_other_salons_see_nothing(alpha, beta):
    # given an open bill in alpha and the sample bill
    from apps.pos.models import Bill

    with schema_context(alpha.schema):
        paid = _sample_bill()
        open_bill = Bill.objects.create(number="20300304-0009", location=paid.location)
    english_staff(alpha, role="front_desk", username="desk")
    make_staff(beta, role="owner", username="beta-boss")
    client = logged_in_client(alpha, "desk")

    # when the open bill's receipt is asked for, and beta's owner asks for alpha's bill
    refused = client.get(f"/till/bills/{open_bill.pk}/receipt/")
    api = client.get(f"/api/v1/orders/{open_bill.pk}/receipt/", HTTP_ACCEPT_LANGUAGE="en")
    other = logged_in_client(beta, "beta-boss").get(f"/till/bills/{paid.pk}/receipt/")

    # then 409 with the reason, and 404 in beta
    assert refused.status_code == 409
    assert "A receipt is available once the bill is paid." in refused.content.decode()
    assert api.status_code == 409
    assert api.json() == {"detail": "A receipt is available once the bill is paid.", "code": "receipt_not_available"}
    assert other.status_code == 404

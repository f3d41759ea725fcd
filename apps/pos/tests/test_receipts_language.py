"""The receipt language (POS-3): a receipt and a handover report are printed in Chinese, word for word as a
Chinese till prints them, whatever language the cashier's screen is in; each of their words is a message
of its own in the catalogue (context ``receipt``) and the compiled Chinese catalogue holds every one of
them, so a Chinese receipt is never half translated. And the English words the staff app uses in more than
one sense have a Chinese per sense."""

from __future__ import annotations

import datetime
import gettext
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import pgettext
from django_tenants.utils import schema_context

from apps.edge.models import PrintJobKind
from apps.edge.rendering import render_text
from apps.loyalty.services.points import points_earn_for_spend
from apps.loyalty.services.wallets import wallet_debit, wallet_top_up
from apps.messaging.models import Channel
from apps.pos.models import CashSession, InvoiceRequest, InvoiceStatus, LineKind, TenderMethod
from apps.pos.receipt_terms import CONTEXT, TERMS, receipt_terms
from apps.pos.selectors.cash import handover_report
from apps.pos.selectors.receipts import receipt_bill, receipt_build, receipt_payload
from apps.pos.services.cash import cash_movement_record, cash_session_close, cash_session_open, handover_payload
from apps.pos.services.receipts import e_receipt_text
from apps.pos.tests.factories_receipts import (
    LineSpec,
    TenderSpec,
    bill_paid_make,
    cash_bill_make,
    client_make,
    english,  # noqa: F401  (fixture, used by pytestmark)
    location_make,
    refund_make,
    staff_make,
)
from tests.fixtures import logged_in_client, make_staff

# The cashier's screen is in English: the Chinese below must come from the receipt language alone.
pytestmark = pytest.mark.usefixtures("english")

# Every receipt word as Chinese tills print it.
CHINESE = {
    "bill_number": "单号",
    "time": "时间",
    "cashier": "收银员",
    "client": "顾客",
    "walk_in": "散客",
    "phone": "电话",
    "staff": "服务",
    "guest": "客人",
    "discount": "优惠",
    "subtotal": "小计",
    "total": "合计",
    "received": "实收",
    "change": "找零",
    "refunded": "已退款",
    "points_earned": "本次积分",
    "points_balance": "积分余额",
    "stored_value_balance": "储值余额",
    "points_used": "%(points)s分",
    "copy": "重印",
    "thanks": "谢谢惠顾，欢迎再次光临！",
    "e_receipt": "电子小票",
    "cash": "现金",
    "wechat": "微信支付",
    "alipay": "支付宝",
    "stored_value": "储值卡",
    "points": "积分抵扣",
    "course_card": "次卡",
    "handover_report": "交班报表",
    "location": "门店",
    "opened": "开班时间",
    "closed": "交班时间",
    "still_open": "未交班",
    "closed_by": "交班人",
    "float": "备用金",
    "cash_sales": "现金收款",
    "cash_refunds": "现金退款",
    "pay_ins": "存入现金",
    "pay_outs": "取出现金",
    "expected_cash": "应有现金",
    "counted_cash": "实点现金",
    "difference": "差额",
    "by_tender": "按支付方式",
    "payments": "%(count)s笔",
    "bills": "结账单数",
    "takings": "营业收款",
    "movements": "存取记录",
    "expected": "应有",
    "counted": "实点",
    "signature": "签字",
}

PAID_AT = datetime.datetime(2030, 3, 4, 2, 30, tzinfo=datetime.UTC)  # 10:30 in Shanghai


def _compiled_chinese_catalogue() -> gettext.GNUTranslations:
    """The project's compiled Chinese catalogue, read as it is on disk (not through Django, which would fall
    back to Django's own catalogues and to the English source)."""
    path = Path(settings.LOCALE_PATHS[0]) / translation.to_locale("zh-hans") / "LC_MESSAGES" / "django.mo"
    with path.open("rb") as mo:
        return gettext.GNUTranslations(mo)


def test_every_receipt_word_has_its_chinese_in_the_compiled_catalogue():
    # given the compiled Chinese catalogue, and each receipt word's English source
    catalogue = _compiled_chinese_catalogue()
    with translation.override(None):
        sources = {key: str(word) for key, word in TERMS.items()}

    # then every receipt word, and no other, has the Chinese tills print, under the receipt context
    assert set(sources) == set(CHINESE)
    missing = {key: source for key, source in sources.items() if catalogue.pgettext(CONTEXT, source) != CHINESE[key]}
    assert missing == {}


@pytest.mark.parametrize("screen", ["en", "zh-hans"])
def test_the_receipt_language_decides_the_words_not_the_screen(screen):
    # when the receipt words are asked for in Chinese and in English while the screen is in ``screen``
    with translation.override(screen):
        chinese = receipt_terms("zh-hans")
        english_words = receipt_terms("en")
        active_after = translation.get_language()

    # then the Chinese ones are those Chinese tills print, the English ones the source, and the screen's
    # language is left as it was
    assert chinese == {**CHINESE, "colon": "："}
    assert (english_words["total"], english_words["staff"], english_words["walk_in"]) == ("Total", "Staff", "Walk-in")
    assert (english_words["points_used"], english_words["colon"]) == ("%(points)s pts", ": ")
    assert active_after == screen


ZH_RECEIPT = """\
                  Alpha Salon
                   南京西路店
               电话：021-62881234
================================================
单号：20300304-0007
时间：2030-03-04 10:30
收银员：林芳
顾客：王芳 139****5678
------------------------------------------------
[小美] 洗剪吹
  1 × 128.00                              128.00
  优惠                                    -10.00
  服务：Bai
护发精油
  1 × 68.00                                68.00
------------------------------------------------
小计                                     ¥196.00
优惠                                     -¥10.00
合计                                     ¥186.00
------------------------------------------------
积分抵扣 (1,000分)                        ¥10.00
现金                                      ¥50.00
  实收                                   ¥100.00
  找零                                    ¥50.00
微信支付                                  ¥40.00
支付宝                                    ¥36.00
储值卡                                    ¥50.00
已退款                                   -¥20.00
------------------------------------------------
本次积分                                    +176
积分余额                                     176
储值余额                                 ¥450.00
================================================
            谢谢惠顾，欢迎再次光临！
"""


def test_a_chinese_receipt_is_chinese_throughout(in_alpha):
    # given a member's bill paid five ways (points, cash with change, WeChat Pay, Alipay, stored value), a
    # line for a guest with a discount and its stylist, partly refunded, with loyalty after it
    location = location_make("南京西路店", phone="021-62881234")
    client = client_make("王芳", phone="+8613912345678")
    wallet_top_up(client=client, amount=50_000, idempotency_key="receipt-language-top-up", reference="top-up")
    bill = bill_paid_make(
        location=location,
        client=client,
        cashier=staff_make("林芳"),
        paid_at=PAID_AT,
        number="20300304-0007",
        lines=[
            LineSpec(
                "洗剪吹",
                12_800,
                discount=1_000,
                staff=[(staff_make("Bai", role="technician"), 10_000)],
                guest_label="小美",
            ),
            LineSpec("护发精油", 6_800, kind=LineKind.PRODUCT),
        ],
        tenders=[
            TenderSpec(TenderMethod.POINTS, 1_000, points=1_000),
            TenderSpec(TenderMethod.CASH, 5_000, tendered=10_000),
            TenderSpec(TenderMethod.WECHAT, 4_000),
            TenderSpec(TenderMethod.ALIPAY, 3_600),
            TenderSpec(TenderMethod.STORED_VALUE, 5_000),
        ],
    )
    wallet_debit(client=client, amount=5_000, idempotency_key=f"bill-{bill.pk}-sv", reference=f"bill:{bill.pk}")
    points_earn_for_spend(
        client=client, amount_spent=17_600, reference=f"bill:{bill.pk}", idempotency_key=f"bill-{bill.pk}-points"
    )
    refund_make(bill=bill, tender=bill.tenders.get(method=TenderMethod.WECHAT), amount=2_000)
    walk_in = cash_bill_make(8_800, location=location, paid_at=PAID_AT, number="20300304-0008")

    # when its receipt is printed in Chinese, sent as an e-receipt, and a walk-in's receipt printed too
    receipt = receipt_build(bill=receipt_bill(bill.pk), language="zh-hans", width=80)
    payload = receipt_payload(receipt)
    subject, body, _data = e_receipt_text(receipt, Channel.SMS)
    walk_in_text = render_text(receipt_payload(receipt_build(bill=receipt_bill(walk_in.pk), language="zh-hans")))

    # then every word on them is the Chinese a Chinese till prints
    assert render_text(payload) == ZH_RECEIPT
    assert payload["copy_title"] == "重印"
    assert subject == "Alpha Salon 电子小票 20300304-0007"
    assert body == (
        "Alpha Salon电子小票：单号 20300304-0007，合计 ¥186.00，2030-03-04 10:30。"
        "积分余额：176，储值余额：¥450.00。谢谢惠顾，欢迎再次光临！"
    )
    assert "顾客：散客" in walk_in_text.splitlines()


def test_the_chinese_receipt_page_says_小票_to_a_chinese_cashier(alpha):
    # given a paid bill and a front-desk cashier whose screen is in Chinese (the staff's default)
    with schema_context(alpha.schema):
        bill = cash_bill_make(8_800, location=location_make("静安店"), paid_at=PAID_AT, number="20300304-0009")
    make_staff(alpha, role="front_desk", username="desk")

    # when the cashier opens the receipt
    html = logged_in_client(alpha, "desk").get(f"/till/bills/{bill.pk}/receipt/").content.decode()

    # then the page is titled 小票 (a paper receipt) and the receipt says 合计
    assert "<title>小票 · 20300304-0009 · " in html
    assert 'aria-label="小票"' in html
    assert '<tr class="total"><th scope="row">合计</th>' in html


def _handover_zh(report_times: dict[str, str]) -> str:
    return """\
                  Alpha Salon
                    交班报表
================================================
门店：南京西路店
收银员：林芳
开班时间：{opened}
交班时间：{closed}
交班人：Manager Wu
------------------------------------------------
备用金                                   ¥500.00
现金收款 (2笔)                           ¥178.00
现金退款                                 -¥30.00
存入现金                                 ¥100.00
取出现金                                 -¥45.00
应有现金                                 ¥703.00
实点现金                                 ¥700.00
差额                                      -¥3.00
------------------------------------------------
按支付方式
现金 (2笔)                               ¥148.00
支付宝 (1笔)                             ¥300.00
  实点                                   ¥290.00
  差额                                   -¥10.00
储值卡 (1笔)                              ¥80.00
营业收款                                 ¥528.00
结账单数                                       3
------------------------------------------------
存取记录
{pay_in} 存入现金 Change from the bank     +¥100.00
{pay_out} 取出现金 Towels                    -¥45.00
================================================

收银员签字：
""".format(**report_times)


def test_a_chinese_handover_report_is_chinese_throughout(in_alpha):
    # given a session with cash (one with change, one refunded), Alipay and stored value, a pay-in and a
    # pay-out, closed by the manager with the drawer 3 yuan short and Alipay 10 yuan short
    location, cashier = location_make("南京西路店"), staff_make("林芳")
    session = cash_session_open(location=location, opening_float=50_000, acting_user=cashier)
    CashSession.objects.filter(pk=session.pk).update(opened_at=timezone.now() - datetime.timedelta(hours=2))
    session.refresh_from_db()
    during = timezone.now() - datetime.timedelta(hours=1)
    cash_bill_make(12_800, tendered=20_000, location=location, paid_at=during)
    refunded = cash_bill_make(5_000, location=location, paid_at=during)
    refund_make(bill=refunded, tender=refunded.tenders.get(), amount=3_000)
    bill_paid_make(
        lines=[LineSpec("Colour", 38_000)],
        tenders=[TenderSpec(TenderMethod.ALIPAY, 30_000), TenderSpec(TenderMethod.STORED_VALUE, 8_000)],
        location=location,
        paid_at=during,
    )
    cash_movement_record(
        session=session, kind="pay_in", amount=10_000, reason="Change from the bank", acting_user=cashier
    )
    cash_movement_record(session=session, kind="pay_out", amount=4_500, reason="Towels", acting_user=cashier)
    interim = handover_payload(handover_report(session), language="zh-hans")
    closed = cash_session_close(
        session=session,
        counted_cash=70_000,
        counted={"alipay": 29_000},
        acting_user=staff_make("Manager Wu", role="manager"),
    )

    # when its handover report is printed in Chinese
    report = handover_report(closed)
    payload = handover_payload(report, language="zh-hans")

    # then every word on it is the Chinese a Chinese till prints (the interim one says the session is open)
    pay_in, pay_out = report.movements
    assert render_text(payload) == _handover_zh(
        {
            "opened": report.local(closed.opened_at),
            "closed": report.local(closed.closed_at),
            "pay_in": report.local(pay_in.created_at)[-5:],
            "pay_out": report.local(pay_out.created_at)[-5:],
        }
    )
    assert payload["copy_title"] == "重印"
    assert "交班时间：未交班" in render_text(interim).splitlines()


@pytest.mark.parametrize(
    ("context", "word", "chinese"),
    [
        ("paper receipt", "Receipt", "小票"),
        ("expense voucher", "Receipt", "票据"),
        ("invoice request status", "Requested", "已申请"),
        ("when an invoice was requested", "Requested", "申请时间"),
        ("when an invoice was requested", "requested", "申请时间"),
        ("client asked for the technician", "Requested", "点钟"),
        ("client asked for the technician", "requested", "点钟"),
        ("sales report", "Revenue", "营业额"),
        ("staff performance", "Revenue", "业绩"),
    ],
)
def test_a_word_with_several_senses_has_a_chinese_per_sense(context, word, chinese):
    # when the word is translated into Chinese in each of its senses
    with translation.override("zh-hans"):
        translated = pgettext(context, word)

    # then each sense has its own Chinese
    assert translated == chinese


def test_the_models_name_each_sense_in_chinese():
    with translation.override("zh-hans"):
        assert str(InvoiceStatus.REQUESTED.label) == "已申请"
        assert str(InvoiceRequest._meta.get_field("requested_at").verbose_name) == "申请时间"
        assert str(PrintJobKind.RECEIPT.label) == "小票"

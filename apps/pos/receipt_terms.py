"""The words printed on receipts and handover reports, in the language the paper is printed in.

A receipt is a document the salon hands its client, not a page of the staff app: it is printed in the
salon's receipt language (Chinese unless asked otherwise), whatever language the cashier's screen is in.
The Chinese wording is fixed here — the terms every Chinese till prints (单号, 收银员, 合计, 找零) — so a
receipt never comes out half translated; any other language goes through the translation catalogue from
the English source below.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# key -> (English source, translated through the catalogue; Chinese as printed)
TERMS: dict[str, tuple[Promise, str]] = {
    # receipts
    "bill_number": (_("Bill no."), "单号"),
    "time": (_("Time"), "时间"),
    "cashier": (_("Cashier"), "收银员"),
    "client": (_("Client"), "顾客"),
    "walk_in": (_("Walk-in"), "散客"),
    "phone": (_("Tel."), "电话"),
    "staff": (_("Staff"), "服务"),
    "guest": (_("Guest"), "客人"),
    "discount": (_("Discount"), "优惠"),
    "subtotal": (_("Subtotal"), "小计"),
    "total": (_("Total"), "合计"),
    "received": (_("Received"), "实收"),
    "change": (_("Change"), "找零"),
    "refunded": (_("Refunded"), "已退款"),
    "points_earned": (_("Points earned"), "本次积分"),
    "points_balance": (_("Points balance"), "积分余额"),
    "stored_value_balance": (_("Stored value left"), "储值余额"),
    "points_used": (_("%(points)s pts"), "%(points)s分"),
    "copy": (_("COPY"), "重印"),
    "thanks": (_("Thank you, see you again soon!"), "谢谢惠顾，欢迎再次光临！"),
    "e_receipt": (_("Your receipt"), "电子小票"),
    # tenders, as printed
    "cash": (_("Cash"), "现金"),
    "wechat": (_("WeChat Pay"), "微信支付"),
    "alipay": (_("Alipay"), "支付宝"),
    "stored_value": (_("Stored value"), "储值卡"),
    "points": (_("Points"), "积分抵扣"),
    "course_card": (_("Course card"), "次卡"),
    # handover reports
    "handover_report": (_("Cash handover report"), "交班报表"),
    "location": (_("Location"), "门店"),
    "opened": (_("Opened"), "开班时间"),
    "closed": (_("Closed"), "交班时间"),
    "still_open": (_("Still open"), "未交班"),
    "closed_by": (_("Closed by"), "交班人"),
    "float": (_("Float"), "备用金"),
    "cash_sales": (_("Cash taken"), "现金收款"),
    "cash_refunds": (_("Cash refunded"), "现金退款"),
    "pay_ins": (_("Paid in"), "存入现金"),
    "pay_outs": (_("Paid out"), "取出现金"),
    "expected_cash": (_("Expected cash"), "应有现金"),
    "counted_cash": (_("Counted cash"), "实点现金"),
    "difference": (_("Difference"), "差额"),
    "by_tender": (_("By payment method"), "按支付方式"),
    "payments": (_("payments"), "笔"),
    "bills": (_("Bills paid"), "结账单数"),
    "takings": (_("Takings"), "营业收款"),
    "movements": (_("Pay-ins and pay-outs"), "存取记录"),
    "expected": (_("Expected"), "应有"),
    "counted": (_("Counted"), "实点"),
    "signature": (_("Signature"), "签字"),
}

COLON = {"zh": "：", "other": ": "}


def receipt_language(value: str | None = None) -> str:
    """A language the receipt can be printed in: ``value`` if the platform offers it, else the salon's
    default (Chinese)."""
    offered = {code for code, _name in settings.LANGUAGES}
    if value:
        value = value.strip().lower()
        if value in offered:
            return value
        if value.startswith("zh"):
            return "zh-hans"
        if value.split("-")[0] in offered:
            return value.split("-")[0]
    return str(settings.LANGUAGE_CODE)


def receipt_terms(language: str) -> dict[str, str]:
    """Every receipt word in ``language``, plus ``colon`` (full-width in Chinese)."""
    if language.startswith("zh"):
        words = {key: chinese for key, (_source, chinese) in TERMS.items()}
        words["colon"] = COLON["zh"]
        return words
    with translation.override(language):
        words = {key: str(source) for key, (source, _chinese) in TERMS.items()}
    words["colon"] = COLON["other"]
    return words

"""The words printed on receipts and handover reports, in the language the paper is printed in.

A receipt is a document the salon hands its client, not a page of the staff app: it is printed in the
salon's receipt language (Chinese unless asked otherwise), whatever language the cashier's screen is in.
Every word here is a message of its own in the catalogue, in the context ``receipt``, so its Chinese is
the one every Chinese till prints (单号, 收银员, 合计, 找零) even where the staff app says the same English
word differently (its Discount is 优惠金额 and its Received 收到时间; a receipt prints 优惠 and 实收). The
words are read with the receipt language switched on, and a test holds every one of them to a Chinese
translation in the compiled catalogue, so a Chinese receipt never comes out half translated.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

# The message context of every receipt word. The calls below spell it out each time: makemessages only
# sees a context written into the call itself.
CONTEXT = "receipt"

# key -> the word, translated through the catalogue in the receipt's language
TERMS: dict[str, Promise] = {
    # receipts
    "bill_number": pgettext_lazy("receipt", "Bill no."),
    "time": pgettext_lazy("receipt", "Time"),
    "cashier": pgettext_lazy("receipt", "Cashier"),
    "client": pgettext_lazy("receipt", "Client"),
    "walk_in": pgettext_lazy("receipt", "Walk-in"),
    "phone": pgettext_lazy("receipt", "Tel."),
    "staff": pgettext_lazy("receipt", "Staff"),
    "guest": pgettext_lazy("receipt", "Guest"),
    "discount": pgettext_lazy("receipt", "Discount"),
    "subtotal": pgettext_lazy("receipt", "Subtotal"),
    "total": pgettext_lazy("receipt", "Total"),
    "received": pgettext_lazy("receipt", "Received"),
    "change": pgettext_lazy("receipt", "Change"),
    "refunded": pgettext_lazy("receipt", "Refunded"),
    "points_earned": pgettext_lazy("receipt", "Points earned"),
    "points_balance": pgettext_lazy("receipt", "Points balance"),
    "stored_value_balance": pgettext_lazy("receipt", "Stored value left"),
    "points_used": pgettext_lazy("receipt", "%(points)s pts"),
    "copy": pgettext_lazy("receipt", "COPY"),
    "thanks": pgettext_lazy("receipt", "Thank you, see you again soon!"),
    "e_receipt": pgettext_lazy("receipt", "Your receipt"),
    # tenders, as printed
    "cash": pgettext_lazy("receipt", "Cash"),
    "wechat": pgettext_lazy("receipt", "WeChat Pay"),
    "alipay": pgettext_lazy("receipt", "Alipay"),
    "stored_value": pgettext_lazy("receipt", "Stored value"),
    "points": pgettext_lazy("receipt", "Points"),
    "course_card": pgettext_lazy("receipt", "Course card"),
    # handover reports
    "handover_report": pgettext_lazy("receipt", "Cash handover report"),
    "location": pgettext_lazy("receipt", "Location"),
    "opened": pgettext_lazy("receipt", "Opened"),
    "closed": pgettext_lazy("receipt", "Closed"),
    "still_open": pgettext_lazy("receipt", "Still open"),
    "closed_by": pgettext_lazy("receipt", "Closed by"),
    "float": pgettext_lazy("receipt", "Float"),
    "cash_sales": pgettext_lazy("receipt", "Cash taken"),
    "cash_refunds": pgettext_lazy("receipt", "Cash refunded"),
    "pay_ins": pgettext_lazy("receipt", "Paid in"),
    "pay_outs": pgettext_lazy("receipt", "Paid out"),
    "expected_cash": pgettext_lazy("receipt", "Expected cash"),
    "counted_cash": pgettext_lazy("receipt", "Counted cash"),
    "difference": pgettext_lazy("receipt", "Difference"),
    "by_tender": pgettext_lazy("receipt", "By payment method"),
    # Translators: a count of payments on the handover report: "Cash taken (3 payments)".
    "payments": pgettext_lazy("receipt", "%(count)s payments"),
    "bills": pgettext_lazy("receipt", "Bills paid"),
    "takings": pgettext_lazy("receipt", "Takings"),
    "movements": pgettext_lazy("receipt", "Pay-ins and pay-outs"),
    "expected": pgettext_lazy("receipt", "Expected"),
    "counted": pgettext_lazy("receipt", "Counted"),
    "signature": pgettext_lazy("receipt", "Signature"),
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
    """Every receipt word in ``language`` (one of ``receipt_language``'s), plus ``colon`` (full-width in
    Chinese), whatever language is active around the call."""
    with translation.override(language):
        words = {key: str(word) for key, word in TERMS.items()}
    words["colon"] = COLON["zh" if language.startswith("zh") else "other"]
    return words

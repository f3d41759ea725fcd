"""The till's settings: one row per salon schema (id 1)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReceiptWidth(models.IntegerChoices):
    NARROW = 58, _("58 mm")
    WIDE = 80, _("80 mm")


class PosSettings(models.Model):
    """Which tenders the salon takes and how its bills and receipts look (POS-1…3).

    Exactly one row (id 1), created with defaults on first read by ``selectors.pos_settings``.
    """

    id = models.BigIntegerField(primary_key=True, default=1, editable=False)
    accepts_cash = models.BooleanField(_("cash"), default=True)
    accepts_wechat = models.BooleanField(_("WeChat Pay"), default=False)
    accepts_alipay = models.BooleanField(_("Alipay"), default=False)
    accepts_stored_value = models.BooleanField(_("stored value"), default=True)
    accepts_points = models.BooleanField(_("points"), default=True)
    accepts_course_card = models.BooleanField(_("course-card sessions"), default=True)
    receipt_width = models.PositiveSmallIntegerField(
        _("receipt paper width"), choices=ReceiptWidth.choices, default=ReceiptWidth.WIDE
    )
    receipt_header = models.CharField(_("receipt header"), max_length=200, blank=True)
    receipt_footer = models.CharField(_("receipt footer"), max_length=200, blank=True)
    send_e_receipt = models.BooleanField(
        _("send an e-receipt"), default=True, help_text=_("Message the client a receipt when a bill is paid.")
    )
    auto_print_receipt = models.BooleanField(
        _("print the receipt on payment"),
        default=False,
        help_text=_("Queue the receipt for the front-desk printer as soon as a bill is paid."),
    )
    cash_session_required = models.BooleanField(
        _("cash only in an open cash session"),
        default=False,
        help_text=_("Refuse cash payments at a location whose drawer has no open cash session."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("till settings")
        verbose_name_plural = _("till settings")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="pos_settings_singleton")]

    def __str__(self) -> str:
        return str(_("till settings"))

"""Tenders and refunds (POS-2, POS-4): how a bill was paid, and what was given back to which tender.

A tender row is written before money moves (status pending) and settled afterwards, so a payment whose
answer was lost is never forgotten; its ``idempotency_key`` is unique, so a retried request never pays
twice. Refunds go back to the tenders that paid, never above what each tender took.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class TenderMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    STORED_VALUE = "stored_value", _("Stored value")
    POINTS = "points", _("Points")
    COURSE_CARD = "course_card", _("Course-card session")
    DEPOSIT = "deposit", _("Booking deposit")


class TenderStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the client")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Tender(models.Model):
    """One payment towards a bill. ``amount`` is what it pays off the bill; for cash, ``tendered`` is what
    the client handed over and ``change`` what was given back (``tendered − amount``)."""

    id = models.BigAutoField(primary_key=True)
    bill = models.ForeignKey("pos.Bill", on_delete=models.PROTECT, related_name="tenders")
    method = models.CharField(_("method"), max_length=20, choices=TenderMethod.choices)
    amount = models.BigIntegerField(_("amount"))
    status = models.CharField(_("status"), max_length=10, choices=TenderStatus.choices, default=TenderStatus.PENDING)
    tendered = models.BigIntegerField(_("handed over"), default=0)
    change = models.BigIntegerField(_("change"), default=0)
    points = models.BigIntegerField(_("points used"), default=0)
    # A course-card session pays for one service line with one session of one card.
    course_card = models.ForeignKey(
        "loyalty.CourseCard", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bill_line = models.ForeignKey(
        "pos.BillLine", on_delete=models.PROTECT, null=True, blank=True, related_name="session_tenders"
    )
    # A booking deposit applied to the visit's bill (scheduling holds it until then).
    deposit = models.ForeignKey("scheduling.Deposit", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The gateway's own numbers, for WeChat Pay and Alipay (out_trade_no is ours, sent to the gateway).
    out_trade_no = models.CharField(max_length=64, null=True, blank=True, unique=True)
    provider_transaction_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    refunded_amount = models.BigIntegerField(_("refunded"), default=0)
    idempotency_key = models.CharField(max_length=120, unique=True)
    failure_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tender")
        verbose_name_plural = _("tenders")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="tender_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="tender_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(method="cash", tendered__gte=F("amount"), change=F("tendered") - F("amount"))
                | (~Q(method="cash") & Q(tendered=0, change=0)),
                name="tender_cash_change",
            ),
            models.CheckConstraint(
                condition=Q(method="points", points__gt=0) | (~Q(method="points") & Q(points=0)),
                name="tender_points_only_for_points",
            ),
            models.CheckConstraint(
                condition=Q(method="course_card", course_card__isnull=False, bill_line__isnull=False)
                | (~Q(method="course_card") & Q(course_card__isnull=True, bill_line__isnull=True)),
                name="tender_course_card_names_line",
            ),
            models.CheckConstraint(
                condition=Q(method="deposit", deposit__isnull=False) | (~Q(method="deposit") & Q(deposit__isnull=True)),
                name="tender_deposit_names_deposit",
            ),
            # A deposit pays one bill once.
            models.UniqueConstraint(fields=["deposit"], name="tender_deposit_once"),
            models.CheckConstraint(
                condition=Q(method__in=["wechat", "alipay"]) | Q(out_trade_no__isnull=True),
                name="tender_trade_no_only_for_gateways",
            ),
        ]
        indexes = [
            models.Index(fields=["bill", "status"], name="tender_bill_status_idx"),
            models.Index(fields=["method", "created_at"], name="tender_method_time_idx"),
            # The tender mix of a sales report (POS-7) from the index alone, bill by bill.
            models.Index(fields=["bill", "status"], include=["method", "amount"], name="tender_report_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("In progress")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    """A refund of a paid bill, whole or in part, approved by someone allowed to (``issue_refunds``).
    Its lines say what came back (and so which stock and commission are reversed); its tender parts
    say where the money went."""

    id = models.BigAutoField(primary_key=True)
    bill = models.ForeignKey("pos.Bill", on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField(_("amount"))
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="refund_has_reason"),
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} of bill {self.bill_id}"


class RefundLine(models.Model):
    id = models.BigAutoField(primary_key=True)
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    bill_line = models.ForeignKey("pos.BillLine", on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.PositiveIntegerField(_("quantity"))
    amount = models.BigIntegerField(_("amount"))

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="refund_line_quantity"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_line_amount"),
            models.UniqueConstraint(fields=["refund", "bill_line"], name="refund_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.bill_line_id} ×{self.quantity}"


class RefundTender(models.Model):
    """The part of a refund given back to one tender (gateway refund, wallet credit, points, session, cash)."""

    id = models.BigAutoField(primary_key=True)
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="tender_parts")
    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="refund_parts")
    amount = models.BigIntegerField(_("amount"))
    status = models.CharField(max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    out_refund_no = models.CharField(max_length=64, null=True, blank=True, unique=True)
    failure_message = models.CharField(max_length=255, blank=True)
    # A WeChat Pay / Alipay part the gateway refused is settled by a person: sent again under a new refund
    # number (``attempts`` counts the numbers used), or given back in cash out of the drawer (it stays
    # failed at the gateway; the drawer's pay-out records the cash).
    attempts = models.PositiveSmallIntegerField(default=1)
    given_in_cash_at = models.DateTimeField(null=True, blank=True)
    given_in_cash_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_tender_amount_positive"),
            models.UniqueConstraint(fields=["refund", "tender"], name="refund_tender_unique"),
            models.CheckConstraint(
                condition=Q(given_in_cash_at__isnull=True) | Q(status="failed"),
                name="refund_tender_cash_only_when_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tender_id} {self.amount}"

"""Invoice (发票) requests (POS-10): a client asks for an invoice for a paid bill; the accountant issues
it (number, date, the PDF or a photo) or rejects it with a reason; the requester may cancel it before.

What is invoiced for one bill never exceeds what the bill was paid, net of refunds: the service checks
it under a lock on the bill, so two requests made at once cannot both take the last yuan.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.uploads import TenantUploadTo


class InvoiceType(models.TextChoices):
    GENERAL = "general", _("General VAT invoice (普通发票)")
    SPECIAL = "special", _("Special VAT invoice (专用发票)")


class InvoiceStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("invoice request status", "Requested")
    ISSUED = "issued", pgettext_lazy("invoice request status", "Issued")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


# Requests that hold part of a bill's invoiceable amount.
HOLDING_STATUSES = (InvoiceStatus.REQUESTED, InvoiceStatus.ISSUED)


class InvoiceRequest(models.Model):
    id = models.BigAutoField(primary_key=True)
    bill = models.ForeignKey(
        "pos.Bill", on_delete=models.PROTECT, related_name="invoice_requests", verbose_name=_("bill")
    )
    invoice_type = models.CharField(
        _("invoice type"), max_length=10, choices=InvoiceType.choices, default=InvoiceType.GENERAL
    )
    title = models.CharField(_("invoice title (抬头)"), max_length=200)
    buyer_tax_id = models.CharField(_("buyer's tax ID"), max_length=20, blank=True)
    buyer_address = models.CharField(_("buyer's address and phone"), max_length=200, blank=True)
    buyer_bank = models.CharField(_("buyer's bank and account number"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail for the invoice"), blank=True)
    amount = models.BigIntegerField(_("amount"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.REQUESTED
    )
    invoice_number = models.CharField(_("invoice number"), max_length=40, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    file = models.FileField(_("invoice file"), upload_to=TenantUploadTo("pos/invoices"), blank=True, max_length=200)
    file_name = models.CharField(max_length=200, blank=True)
    file_type = models.CharField(max_length=60, blank=True)
    reject_reason = models.CharField(_("reason"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(pgettext_lazy("when an invoice was requested", "requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("handled by")
    )
    decided_at = models.DateTimeField(_("handled"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice request")
        verbose_name_plural = _("invoice requests")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(condition=~Q(title=""), name="invoice_has_title"),
            models.CheckConstraint(
                condition=~Q(invoice_type="special") | (~Q(buyer_tax_id="") & ~Q(buyer_address="") & ~Q(buyer_bank="")),
                name="invoice_special_has_buyer_details",
            ),
            models.CheckConstraint(
                condition=~Q(status="issued") | (~Q(invoice_number="") & Q(issued_on__isnull=False)),
                name="invoice_issued_has_number",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""), name="invoice_rejected_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(status="requested") | Q(decided_at__isnull=False), name="invoice_decided_has_time"
            ),
            models.UniqueConstraint(
                fields=["invoice_number"], condition=Q(status="issued"), name="invoice_number_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-requested_at"], name="invoice_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.bill_id} {self.amount}"

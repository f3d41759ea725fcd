"""E-receipts (POS-3): each message of a receipt sent to a client, kept so the automatic one on payment
goes out once whatever retries or repeats happen, and so a resend can be told from the first."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EReceiptTrigger(models.TextChoices):
    PAID = "paid", _("On payment")
    MANUAL = "manual", _("Sent by staff")


class EReceipt(models.Model):
    id = models.BigAutoField(primary_key=True)
    bill = models.ForeignKey("pos.Bill", on_delete=models.PROTECT, related_name="e_receipts")
    trigger = models.CharField(_("sent"), max_length=10, choices=EReceiptTrigger.choices)
    channel = models.CharField(_("channel"), max_length=16)
    delivery = models.ForeignKey(
        "messaging.Delivery", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # "bill:<id>:paid" for the automatic one (so it exists once per bill); a staff resend brings its own.
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_by = models.ForeignKey("core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    # Not stored: set on a row returned for a send that had already happened (nothing went out again).
    is_replay = False

    class Meta:
        verbose_name = _("e-receipt")
        verbose_name_plural = _("e-receipts")
        ordering = ["bill", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bill"], condition=Q(trigger="paid"), name="e_receipt_once_on_payment"),
            models.CheckConstraint(condition=Q(trigger__in=["paid", "manual"]), name="e_receipt_trigger_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.bill_id} {self.trigger} {self.channel}"

"""Points (LOY-2): lots that expire first in, first out, and an append-only ledger.

The wallet row holds the balance (``Wallet.points``); each earning opens a lot with what is left of
it, and redemptions and expiries draw the oldest lots first. The balance always equals the sum of
what is left in the lots, and the sum of the ledger."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class PointsEntryKind(models.TextChoices):
    EARN_SPEND = "earn_spend", _("Earned by spending")
    EARN_CHECK_IN = "earn_check_in", _("Check-in")
    EARN_REFERRAL = "earn_referral", _("Referral")
    EARN_BIRTHDAY = "earn_birthday", _("Birthday")
    REDEEM = "redeem", _("Redeemed")
    REDEEM_REVERSAL = "redeem_reversal", _("Redemption given back")
    EARN_REVERSAL = "earn_reversal", _("Earning reversed")
    EXPIRE = "expire", _("Expired")
    ADJUSTMENT = "adjustment", _("Adjustment")


EARNING_KINDS = [
    PointsEntryKind.EARN_SPEND,
    PointsEntryKind.EARN_CHECK_IN,
    PointsEntryKind.EARN_REFERRAL,
    PointsEntryKind.EARN_BIRTHDAY,
]


class PointsEntry(models.Model):
    id = models.BigAutoField(primary_key=True)
    wallet = models.ForeignKey("loyalty.Wallet", on_delete=models.PROTECT, related_name="points_entries")
    kind = models.CharField(_("kind"), max_length=20, choices=PointsEntryKind.choices)
    points = models.BigIntegerField(_("points"), help_text=_("Negative when points leave the account."))
    balance_after = models.BigIntegerField(_("balance after"))
    # Redeemed as: what the points bought (a gift, a service, money off).
    description = models.CharField(_("description"), max_length=200, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=100)
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    actor = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint("idempotency_key", name="points_entry_idempotency_unique"),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="points_entry_key_present"),
            models.CheckConstraint(condition=~Q(points=0), name="points_entry_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="points_entry_after_not_negative"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in PointsEntryKind]), name="points_entry_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["wallet", "-id"], name="points_entry_wallet_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.points}"


class PointsLot(models.Model):
    """Points earned together, with what is left of them and when they expire."""

    id = models.BigAutoField(primary_key=True)
    wallet = models.ForeignKey("loyalty.Wallet", on_delete=models.PROTECT, related_name="points_lots")
    entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="lot")
    earned_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    points = models.BigIntegerField()
    remaining = models.BigIntegerField()

    class Meta:
        ordering = ["earned_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="points_lot_positive"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("points")), name="points_lot_remaining_range"
            ),
        ]
        indexes = [
            models.Index(
                fields=["wallet", "earned_on", "id"], name="points_lot_open_idx", condition=Q(remaining__gt=0)
            ),
            models.Index(fields=["expires_on"], name="points_lot_expiry_idx", condition=Q(remaining__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.points}"

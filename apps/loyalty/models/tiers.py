"""Tier benefits and automatic moves (LOY-1), and referral rewards (LOY-7).

Tiers themselves (name, rank, colour) live in crm, where the client's current tier is kept and where
the catalogue's price rules can refer to them; loyalty adds what a tier gives and how it is reached."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class TierBenefit(models.Model):
    id = models.BigAutoField(primary_key=True)
    tier = models.OneToOneField("crm.MembershipTier", on_delete=models.CASCADE, related_name="benefit")
    price_percent = models.PositiveSmallIntegerField(
        _("price paid (%)"),
        default=100,
        help_text=_("90 means members of this tier pay 90% (九折) where no tier price applies; 100: no discount."),
    )
    points_multiplier = models.DecimalField(_("points multiplier"), max_digits=4, decimal_places=2, default=Decimal(1))
    perks = models.TextField(_("perks"), blank=True, help_text=_("One per line, shown to members."))
    # Reaching either threshold (by the salon's tier basis) qualifies; 0 on both: never automatic.
    min_spend = models.BigIntegerField(_("spend in 12 months to qualify (fen)"), default=0)
    min_points = models.BigIntegerField(_("points in 12 months to qualify"), default=0)
    is_automatic = models.BooleanField(
        _("reached automatically"), default=True, help_text=_("Off: only staff put clients in this tier.")
    )

    class Meta:
        verbose_name = _("tier benefits")
        verbose_name_plural = _("tier benefits")
        constraints = [
            models.CheckConstraint(condition=Q(price_percent__range=(1, 100)), name="tier_benefit_percent_range"),
            models.CheckConstraint(
                condition=Q(points_multiplier__gte=0) & Q(points_multiplier__lte=20), name="tier_benefit_multiplier"
            ),
            models.CheckConstraint(
                condition=Q(min_spend__gte=0) & Q(min_points__gte=0), name="tier_benefit_thresholds_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return str(self.tier_id)


class TierChangeReason(models.TextChoices):
    UPGRADE = "upgrade", _("Upgraded automatically")
    DOWNGRADE = "downgrade", _("Downgraded automatically")
    MANUAL = "manual", _("Changed by staff")


class TierChange(models.Model):
    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="tier_changes")
    from_tier = models.ForeignKey(
        "crm.MembershipTier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_tier = models.ForeignKey(
        "crm.MembershipTier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_name = models.CharField(max_length=50, blank=True)
    to_name = models.CharField(max_length=50, blank=True)
    reason = models.CharField(_("reason"), max_length=10, choices=TierChangeReason.choices)
    basis_value = models.BigIntegerField(
        _("qualifying figure"), null=True, blank=True, help_text=_("Spend (fen) or points over the 12 months")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-id"]
        indexes = [models.Index(fields=["client", "-id"], name="tier_change_client_idx")]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.from_name} → {self.to_name}"


class ReferralReward(models.Model):
    """The referrer's reward for one referred client, given once (the unique ``referred`` is the guard)."""

    id = models.BigAutoField(primary_key=True)
    referrer = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="referral_rewards")
    referred = models.OneToOneField("crm.Client", on_delete=models.PROTECT, related_name="referral_reward_given")
    reference = models.CharField(max_length=100, help_text="The first paid visit, e.g. bill:123")
    points = models.BigIntegerField(default=0)
    bonus = models.BigIntegerField(default=0)
    coupon = models.ForeignKey("loyalty.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=models.F("referred")), name="referral_reward_two_clients"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} ← {self.referred_id}"

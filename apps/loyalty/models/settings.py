"""The salon's loyalty settings: one row per salon schema."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ConsumptionOrder(models.TextChoices):
    PROPORTIONAL = "proportional", _("Principal and bonus in proportion")
    PRINCIPAL_FIRST = "principal_first", _("Principal first, then bonus")
    BONUS_FIRST = "bonus_first", _("Bonus first, then principal")


class TierBasis(models.TextChoices):
    SPEND = "spend", _("Spend in the last 12 months")
    POINTS = "points", _("Points earned in the last 12 months")


class LoyaltySettings(models.Model):
    """How the salon runs stored value, points, tiers and redemption safety (LOY-1…3, LOY-7, LOY-8).

    Exactly one row (id 1), created with defaults on first read by ``selectors.loyalty_settings``.
    """

    id = models.BigIntegerField(primary_key=True, default=1, editable=False)
    # Stored value (LOY-3)
    consumption_order = models.CharField(
        _("consumption order"),
        max_length=20,
        choices=ConsumptionOrder.choices,
        default=ConsumptionOrder.PROPORTIONAL,
        help_text=_("How a payment by stored value draws on principal (本金) and bonus (赠金)."),
    )
    max_transaction_amount = models.BigIntegerField(
        _("largest single top-up or payment (fen)"),
        default=5_000_000,
        help_text=_("A top-up or a stored-value payment above this is refused."),
    )
    low_balance_threshold = models.BigIntegerField(
        _("low-balance alert below (fen)"),
        default=10_000,
        help_text=_("The client is told once when a payment takes the balance below this; 0 turns alerts off."),
    )
    # Points (LOY-2)
    points_per_yuan = models.PositiveIntegerField(
        _("points per yuan spent"), default=1, help_text=_("Before the tier's multiplier; 0 turns earning off.")
    )
    points_value_fen = models.PositiveIntegerField(
        _("value of 100 points (fen)"),
        default=100,
        help_text=_("What 100 points take off a bill when redeemed as money off."),
    )
    points_validity_months = models.PositiveSmallIntegerField(
        _("points expire after (months)"),
        default=24,
        help_text=_("Points expire first in, first out, this many months after they were earned; 0: never."),
    )
    check_in_points = models.PositiveIntegerField(_("points for a check-in"), default=0)
    birthday_points = models.PositiveIntegerField(_("points on the client's birthday"), default=0)
    referral_points = models.PositiveIntegerField(
        _("points for the referrer"), default=0, help_text=_("Given once, when the referred client first pays.")
    )
    referral_bonus = models.BigIntegerField(
        _("stored-value bonus for the referrer (fen)"),
        default=0,
        help_text=_("Credited as bonus (赠金) once, when the referred client first pays."),
    )
    referral_coupon = models.ForeignKey(
        "loyalty.CouponTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("coupon for the referrer"),
    )
    # Tiers (LOY-1)
    tier_basis = models.CharField(_("tiers follow"), max_length=10, choices=TierBasis.choices, default=TierBasis.SPEND)
    tier_auto_downgrade = models.BooleanField(
        _("downgrade automatically"),
        default=True,
        help_text=_("When off, tiers only ever go up by themselves; staff may still lower one."),
    )
    # Redemption safety (LOY-8)
    require_redemption_code = models.BooleanField(
        _("require a code sent to the client's phone"),
        default=False,
        help_text=_("Before stored value, points or course sessions are deducted; a manager may override."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("loyalty settings")
        verbose_name_plural = _("loyalty settings")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="loyalty_settings_singleton"),
            models.CheckConstraint(
                condition=Q(consumption_order__in=[c.value for c in ConsumptionOrder]),
                name="loyalty_settings_order_valid",
            ),
            models.CheckConstraint(condition=Q(max_transaction_amount__gt=0), name="loyalty_settings_max_positive"),
            models.CheckConstraint(condition=Q(low_balance_threshold__gte=0), name="loyalty_settings_low_not_negative"),
            models.CheckConstraint(condition=Q(referral_bonus__gte=0), name="loyalty_settings_referral_not_negative"),
            models.CheckConstraint(condition=Q(points_value_fen__gt=0), name="loyalty_settings_points_value_positive"),
        ]

    def __str__(self) -> str:
        return str(_("loyalty settings"))

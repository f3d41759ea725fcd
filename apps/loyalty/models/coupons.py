"""Coupons (LOY-6): templates the salon defines, coupons issued to clients, and rules that issue them."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class CouponKind(models.TextChoices):
    MONEY_OFF = "money_off", _("Money off over a threshold (满减)")
    PERCENTAGE = "percentage", _("Percentage off")
    SERVICE_TRIAL = "service_trial", _("Service trial voucher")
    PRODUCT_DISCOUNT = "product_discount", _("Product discount")
    GIFT = "gift", _("Gift")


class CouponTemplate(models.Model):
    """What a coupon gives and when it applies.

    ``value`` means, by kind: money off — fen taken off; percentage — percent taken off (20 = 20% off,
    i.e. 八折); service trial — the price the client pays for one eligible service (0: free);
    product discount — percent off the eligible products; gift — not used (``gift`` names the gift).
    """

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=CouponKind.choices)
    value = models.BigIntegerField(_("value"), default=0)
    gift = models.CharField(_("gift"), max_length=100, blank=True)
    min_spend = models.BigIntegerField(_("minimum spend (fen)"), default=0)
    max_discount = models.BigIntegerField(
        _("largest discount (fen)"), null=True, blank=True, help_text=_("Caps a percentage coupon; empty: no cap.")
    )
    eligible_services = models.ManyToManyField(
        "catalog.Service", blank=True, related_name="+", verbose_name=_("eligible services")
    )
    eligible_products = models.ManyToManyField(
        "catalog.Product", blank=True, related_name="+", verbose_name=_("eligible products")
    )
    # Validity of issued coupons: a fixed window, or so many days from issue.
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(_("valid for (days after issue)"), null=True, blank=True)
    one_per_bill = models.BooleanField(_("one per bill"), default=True)
    stackable = models.BooleanField(_("combines with other coupons"), default=False)
    max_issued = models.PositiveIntegerField(_("most that may be issued"), null=True, blank=True)
    issued_count = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in CouponKind]), name="coupon_kind_valid"),
            models.CheckConstraint(condition=Q(value__gte=0), name="coupon_value_not_negative"),
            models.CheckConstraint(condition=Q(min_spend__gte=0), name="coupon_min_spend_not_negative"),
            models.CheckConstraint(
                condition=~Q(kind__in=["percentage", "product_discount"]) | Q(value__range=(1, 99)),
                name="coupon_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="coupon_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(max_issued__isnull=True) | Q(issued_count__lte=F("max_issued")),
                name="coupon_issued_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CouponStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    REDEEMED = "redeemed", _("Redeemed")
    VOIDED = "voided", _("Voided")


class CouponSource(models.TextChoices):
    MANUAL = "manual", _("Issued by staff")
    BULK = "bulk", _("Issued to a list")
    RULE = "rule", _("Issued by a rule")
    REFERRAL = "referral", _("Referral reward")
    CAMPAIGN = "campaign", _("Campaign")


class Coupon(models.Model):
    """One coupon held by one client. Expiry is read from ``valid_until`` (no nightly flip needed)."""

    id = models.BigAutoField(primary_key=True)
    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="coupons")
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="coupons")
    code = models.CharField(_("code"), max_length=16)
    status = models.CharField(_("status"), max_length=10, choices=CouponStatus.choices, default=CouponStatus.AVAILABLE)
    source = models.CharField(_("source"), max_length=10, choices=CouponSource.choices, default=CouponSource.MANUAL)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)
    issued_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Makes issuing idempotent (a rule firing twice, a bulk issue resubmitted).
    issue_key = models.CharField(max_length=100)
    redeemed_at = models.DateTimeField(_("redeemed"), null=True, blank=True)
    redeemed_reference = models.CharField(_("redeemed on"), max_length=100, blank=True)
    discount = models.BigIntegerField(_("discount given (fen)"), default=0)
    redeemed_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint("code", name="coupon_code_unique"),
            models.UniqueConstraint("issue_key", name="coupon_issue_key_unique"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in CouponStatus]), name="coupon_status_valid"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="coupon_discount_not_negative"),
            models.CheckConstraint(
                condition=Q(status=CouponStatus.REDEEMED, redeemed_at__isnull=False)
                | (~Q(status=CouponStatus.REDEEMED) & Q(redeemed_at__isnull=True)),
                name="coupon_redeemed_has_time",
            ),
        ]
        indexes = [models.Index(fields=["client", "status"], name="coupon_client_status_idx")]

    def __str__(self) -> str:
        return self.code


class CouponRuleTrigger(models.TextChoices):
    NEW_MEMBER = "new_member", _("A member card is issued")
    BIRTHDAY = "birthday", _("The client's birthday month begins")
    TIER_REACHED = "tier_reached", _("The client reaches a tier")
    TOP_UP = "top_up", _("A top-up of at least an amount")


class CouponIssueRule(models.Model):
    """Issues a coupon of ``template`` when ``trigger`` happens, at most once per client and occasion."""

    id = models.BigAutoField(primary_key=True)
    template = models.ForeignKey(CouponTemplate, on_delete=models.CASCADE, related_name="rules")
    trigger = models.CharField(_("when"), max_length=20, choices=CouponRuleTrigger.choices)
    tier = models.ForeignKey(
        "crm.MembershipTier", null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("tier")
    )
    min_top_up = models.BigIntegerField(_("top-up of at least (fen)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("coupon rule")
        verbose_name_plural = _("coupon rules")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(trigger__in=[t.value for t in CouponRuleTrigger]), name="coupon_rule_trigger_valid"
            ),
            models.CheckConstraint(
                condition=~Q(trigger="tier_reached") | Q(tier__isnull=False), name="coupon_rule_tier_needs_tier"
            ),
            models.CheckConstraint(condition=Q(min_top_up__gte=0), name="coupon_rule_min_top_up_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.trigger} → {self.template_id}"

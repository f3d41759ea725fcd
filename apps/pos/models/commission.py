"""Commission (POS-6): the salon's rules for what staff earn on what they sell and perform, and the ledger
of what each staff member earned on each paid bill line, given back when the line is refunded.

Rates are basis points (1 % = 100), money is integer fen. docs/till-commission.md says which rule wins
and how every figure is worked out; PostgreSQL keeps the shape of each rule and the ledger's invariants.
"""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from apps.pos.models.bills import LineKind

MAX_RATE = 10_000  # 100 %


class DateRangeFunc(Func):
    function = "DATERANGE"
    output_field = DateRangeField()


class CommissionScope(models.TextChoices):
    """What a rule applies to, from the most specific to the least (docs/till-commission.md)."""

    SERVICE = "service", _("One service")
    PRODUCT = "product", _("One product")
    SERVICE_CATEGORY = "service_category", _("A service category")
    PRODUCT_CATEGORY = "product_category", _("A product category")
    KIND = "kind", _("Everything of one kind")
    DEFAULT = "default", _("Everything (salon default)")


class CommissionMethod(models.TextChoices):
    PERCENTAGE = "percentage", _("Percentage of the amount")
    FIXED = "fixed", _("Fixed amount per unit")
    TIERED = "tiered", _("Percentage by monthly volume")


class CommissionRule(models.Model):
    """How much a staff member earns on a bill line: a percentage of their share of the line's amount, a
    fixed amount per unit, or a percentage that rises with their volume in the month (tiers).

    A rule names what it applies to (its scope and target) and, optionally, the staff level it is for; a
    requested (点钟) bonus is added when the client asked for that staff member. Rules are deactivated, never
    deleted: ledger entries name the rule they used.
    """

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    scope = models.CharField(_("applies to"), max_length=20, choices=CommissionScope.choices)
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("service")
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    service_category = models.ForeignKey(
        "catalog.ServiceCategory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service category"),
    )
    product_category = models.ForeignKey(
        "catalog.ProductCategory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product category"),
    )
    line_kind = models.CharField(_("kind of line"), max_length=12, choices=LineKind.choices, blank=True)
    staff_level = models.ForeignKey(
        "core.StaffLevel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff level"),
        help_text=_("Leave empty for every level."),
    )
    method = models.CharField(_("commission"), max_length=12, choices=CommissionMethod.choices)
    rate_bp = models.PositiveIntegerField(_("rate (basis points)"), null=True, blank=True)
    fixed_amount = models.BigIntegerField(_("amount per unit (fen)"), null=True, blank=True)
    requested_bonus_bp = models.PositiveIntegerField(
        _("requested bonus (basis points)"),
        default=0,
        help_text=_("Added to the rate when the client asked for this staff member (点钟)."),
    )
    requested_bonus_amount = models.BigIntegerField(
        _("requested bonus per unit (fen)"),
        default=0,
        help_text=_("Added per unit when the client asked for this staff member (点钟)."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        ordering = ["scope", "id"]
        constraints = [
            # The target matches the scope: exactly the one column the scope names is filled.
            models.CheckConstraint(
                condition=(
                    Q(
                        scope="service",
                        service__isnull=False,
                        product__isnull=True,
                        service_category__isnull=True,
                        product_category__isnull=True,
                        line_kind="",
                    )
                    | Q(
                        scope="product",
                        product__isnull=False,
                        service__isnull=True,
                        service_category__isnull=True,
                        product_category__isnull=True,
                        line_kind="",
                    )
                    | Q(
                        scope="service_category",
                        service_category__isnull=False,
                        service__isnull=True,
                        product__isnull=True,
                        product_category__isnull=True,
                        line_kind="",
                    )
                    | Q(
                        scope="product_category",
                        product_category__isnull=False,
                        service__isnull=True,
                        product__isnull=True,
                        service_category__isnull=True,
                        line_kind="",
                    )
                    | (
                        Q(
                            scope="kind",
                            service__isnull=True,
                            product__isnull=True,
                            service_category__isnull=True,
                            product_category__isnull=True,
                        )
                        & Q(line_kind__in=[k.value for k in LineKind])
                    )
                    | Q(
                        scope="default",
                        service__isnull=True,
                        product__isnull=True,
                        service_category__isnull=True,
                        product_category__isnull=True,
                        line_kind="",
                    )
                ),
                name="commission_rule_target_matches_scope",
            ),
            # The figures match the method: a rate for a percentage, an amount for a fixed rule, neither
            # for tiers (their rates are in CommissionTier rows).
            models.CheckConstraint(
                condition=Q(method="percentage", rate_bp__isnull=False, fixed_amount__isnull=True)
                | Q(method="fixed", rate_bp__isnull=True, fixed_amount__isnull=False)
                | Q(method="tiered", rate_bp__isnull=True, fixed_amount__isnull=True),
                name="commission_rule_figures_match_method",
            ),
            models.CheckConstraint(
                condition=Q(rate_bp__isnull=True) | Q(rate_bp__lte=MAX_RATE), name="commission_rule_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(fixed_amount__isnull=True) | Q(fixed_amount__gte=0),
                name="commission_rule_fixed_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(requested_bonus_bp__lte=MAX_RATE), name="commission_rule_requested_bonus_range"
            ),
            models.CheckConstraint(
                condition=Q(requested_bonus_amount__gte=0), name="commission_rule_requested_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="commission_rule_window_ordered",
            ),
            # One answer per line: two active rules for the same target and level may not be valid on the
            # same day. NULL targets are compared as 0 / "" (plain equality never matches NULL), and an open
            # end of the window is an unbounded range.
            ExclusionConstraint(
                name="commission_rule_no_overlap",
                expressions=[
                    ("scope", RangeOperators.EQUAL),
                    (Coalesce("service", Value(0)), RangeOperators.EQUAL),
                    (Coalesce("product", Value(0)), RangeOperators.EQUAL),
                    (Coalesce("service_category", Value(0)), RangeOperators.EQUAL),
                    (Coalesce("product_category", Value(0)), RangeOperators.EQUAL),
                    ("line_kind", RangeOperators.EQUAL),
                    (Coalesce("staff_level", Value(0)), RangeOperators.EQUAL),
                    (DateRangeFunc("valid_from", "valid_until", RangeBoundary(True, True)), RangeOperators.OVERLAPS),
                ],
                condition=Q(is_active=True),
            ),
        ]
        indexes = [
            models.Index(fields=["scope", "is_active"], name="commission_rule_scope_idx"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.get_scope_display()} #{self.pk}"


class CommissionTier(models.Model):
    """One step of a tiered rule: from ``from_volume`` fen of the staff member's volume in the month, the
    rate is ``rate_bp``. The step reached applies to the whole line (not only to the part above it)."""

    id = models.BigAutoField(primary_key=True)
    rule = models.ForeignKey(CommissionRule, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("rule"))
    from_volume = models.BigIntegerField(_("from monthly volume (fen)"))
    rate_bp = models.PositiveIntegerField(_("rate (basis points)"))

    class Meta:
        verbose_name = _("commission tier")
        verbose_name_plural = _("commission tiers")
        ordering = ["rule", "from_volume"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "from_volume"], name="commission_tier_unique_step"),
            models.CheckConstraint(condition=Q(from_volume__gte=0), name="commission_tier_volume_not_negative"),
            models.CheckConstraint(condition=Q(rate_bp__lte=MAX_RATE), name="commission_tier_rate_range"),
        ]

    def __str__(self) -> str:
        return f"≥ {self.from_volume}: {self.rate_bp}"


class CommissionEntryKind(models.TextChoices):
    EARNED = "earned", _("Earned")
    REVERSED = "reversed", _("Reversed (refund)")


class CommissionEntry(models.Model):
    """What one staff member earned on their share of one paid bill line (``earned``), or gave back when
    the line was refunded (``reversed``, negative figures). Append-only: PostgreSQL refuses to change or
    delete a row.

    Every share of a paid bill gets one earned entry, with amount 0 when no rule applies, so the ledger is
    also the record of each staff member's volume: ``basis`` is their share of the line's amount. The
    figures the rule used are copied onto the entry (a rule changed later does not change them)."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=10, choices=CommissionEntryKind.choices)
    # Indexed with the month below (commission_entry_staff_month).
    staff = models.ForeignKey(
        "core.User",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="commission_entries",
        verbose_name=_("staff member"),
    )
    bill = models.ForeignKey("pos.Bill", on_delete=models.PROTECT, related_name="commission_entries")
    line = models.ForeignKey("pos.BillLine", on_delete=models.PROTECT, related_name="commission_entries")
    line_staff = models.ForeignKey("pos.BillLineStaff", on_delete=models.PROTECT, related_name="commission_entries")
    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    line_kind = models.CharField(_("kind of line"), max_length=12, choices=LineKind.choices)
    share = models.PositiveIntegerField(_("share (basis points)"))
    is_requested = models.BooleanField(_("requested (点钟)"), default=False)
    quantity = models.IntegerField(_("quantity"))
    basis = models.BigIntegerField(_("volume (fen)"), help_text=_("The staff member's share of the line's amount."))
    amount = models.BigIntegerField(_("commission (fen)"))
    rule = models.ForeignKey(
        CommissionRule, on_delete=models.PROTECT, null=True, blank=True, related_name="entries", verbose_name=_("rule")
    )
    method = models.CharField(max_length=12, choices=CommissionMethod.choices, blank=True)
    rate_bp = models.PositiveIntegerField(null=True, blank=True)  # the rate used, requested bonus included
    unit_amount = models.BigIntegerField(null=True, blank=True)  # the amount per unit used, bonus included
    volume = models.BigIntegerField(null=True, blank=True)  # tiered: the month's volume with this line
    refund = models.ForeignKey(
        "pos.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="commission_entries"
    )
    reverses = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals")
    occurred_at = models.DateTimeField(_("when"))  # the bill's payment, or the refund
    month = models.DateField(_("month"))  # first day of the salon-local month of ``occurred_at``
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("commission entry")
        verbose_name_plural = _("commission entries")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            # Idempotency: one earned entry per share, one reversal per share and refund.
            models.UniqueConstraint(
                fields=["line_staff"], condition=Q(kind="earned"), name="commission_entry_earned_once"
            ),
            models.UniqueConstraint(
                fields=["refund", "line_staff"], condition=Q(kind="reversed"), name="commission_entry_reversed_once"
            ),
            models.CheckConstraint(
                condition=Q(
                    kind="earned",
                    basis__gte=0,
                    amount__gte=0,
                    quantity__gte=0,
                    refund__isnull=True,
                    reverses__isnull=True,
                )
                | Q(
                    kind="reversed",
                    basis__lte=0,
                    amount__lte=0,
                    quantity__lte=0,
                    refund__isnull=False,
                    reverses__isnull=False,
                ),
                name="commission_entry_signs_match_kind",
            ),
            models.CheckConstraint(
                condition=Q(rule__isnull=False) | Q(amount=0), name="commission_entry_amount_needs_rule"
            ),
            models.CheckConstraint(condition=Q(share__gte=1, share__lte=MAX_RATE), name="commission_entry_share"),
            models.CheckConstraint(condition=Q(month__day=1), name="commission_entry_month_first_day"),
        ]
        indexes = [
            models.Index(fields=["staff", "month"], name="commission_entry_staff_month"),
            models.Index(fields=["occurred_at"], name="commission_entry_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.staff_id} {self.amount}"

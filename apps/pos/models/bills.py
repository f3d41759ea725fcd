"""Bills (POS-1, POS-11): what a client buys at one visit, line by line, with the staff who earned each
line and the coupons applied.

Amounts are integer fen. The arithmetic of a bill is PostgreSQL's to keep, not only the service's: a
line's ``amount`` is ``unit_price × quantity − discount``, a bill's ``total`` is ``subtotal −
discount_total``, and nothing is refunded beyond what was paid.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class BillKind(models.TextChoices):
    STANDARD = "standard", _("Standard")
    GROUP = "group", _("Group bill")  # 团队单: several guests, one payer
    ROOM = "room", _("Room bill")  # 房间单: everything consumed in one room, paid at the end


class BillStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    VOIDED = "voided", _("Voided")
    REFUNDED = "refunded", _("Refunded")


class BillDayCounter(models.Model):
    """The last bill number given on a salon day; bills are numbered ``YYYYMMDD-NNNN`` per day. One
    ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` takes the next number, so two tills never share one."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("bill number counter")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Bill(models.Model):
    """A bill: open while lines are added, then paid once (by one or several tenders), voided, or refunded.

    ``paid_total`` counts succeeded tenders; the bill becomes paid when it reaches ``total``.
    """

    id = models.BigAutoField(primary_key=True)
    number = models.CharField(_("number"), max_length=20, unique=True)
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="bills", verbose_name=_("location")
    )
    client = models.ForeignKey(
        "crm.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
        verbose_name=_("client"),
        help_text=_("Empty for a walk-in who is not a client."),
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
        verbose_name=_("appointment"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=BillKind.choices, default=BillKind.STANDARD)
    room = models.ForeignKey(
        "scheduling.Resource",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
        verbose_name=_("room"),
    )
    status = models.CharField(_("status"), max_length=10, choices=BillStatus.choices, default=BillStatus.OPEN)
    subtotal = models.BigIntegerField(_("subtotal"), default=0)
    discount_total = models.BigIntegerField(_("discounts"), default=0)
    total = models.BigIntegerField(_("total"), default=0)
    paid_total = models.BigIntegerField(_("paid"), default=0)
    refunded_total = models.BigIntegerField(_("refunded"), default=0)
    change_given = models.BigIntegerField(_("change given"), default=0)
    # The client's tier is read once per bill (when the first priced line is added) and kept, so every
    # line of the bill is priced alike even if the tier changes while the bill is open.
    tier = models.ForeignKey(
        "crm.MembershipTier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tier"),
    )
    guest_count = models.PositiveSmallIntegerField(_("guests"), default=1)
    notes = models.TextField(_("notes"), blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    opened_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("opened by")
    )
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    closed_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("closed by")
    )
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        constraints = [
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="bill_subtotal_not_negative"),
            models.CheckConstraint(condition=Q(discount_total__gte=0), name="bill_discount_not_negative"),
            models.CheckConstraint(condition=Q(total=F("subtotal") - F("discount_total")), name="bill_total_sum"),
            models.CheckConstraint(condition=Q(total__gte=0), name="bill_total_not_negative"),
            models.CheckConstraint(
                condition=Q(paid_total__gte=0) & Q(paid_total__lte=F("total")), name="bill_paid_within_total"
            ),
            models.CheckConstraint(
                condition=Q(refunded_total__gte=0) & Q(refunded_total__lte=F("paid_total")),
                name="bill_refund_within_paid",
            ),
            models.CheckConstraint(condition=Q(change_given__gte=0), name="bill_change_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_total=F("total")), name="bill_paid_means_settled"
            ),
            models.CheckConstraint(condition=Q(kind="room") | Q(room__isnull=True), name="bill_room_only_on_room_bill"),
            # One live bill per appointment: a second till opening the same visit gets the first bill.
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(appointment__isnull=False) & ~Q(status="voided"),
                name="bill_one_live_per_appointment",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-opened_at"], name="bill_status_opened_idx"),
            models.Index(fields=["paid_at"], name="bill_paid_at_idx", condition=Q(paid_at__isnull=False)),
            models.Index(fields=["client", "-opened_at"], name="bill_client_idx"),
            # Sales reports (POS-7) read the bills paid in a period from this index alone (no table reads).
            models.Index(
                fields=["paid_at"],
                include=["id", "status", "location", "client", "total"],
                condition=Q(paid_at__isnull=False),
                name="bill_paid_report_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class LineKind(models.TextChoices):
    SERVICE = "service", _("Service")
    PRODUCT = "product", _("Product")
    PACKAGE = "package", _("Package")
    COURSE_CARD = "course_card", _("Course card")
    TOP_UP = "top_up", _("Stored-value top-up")


class BillLine(models.Model):
    """One line of a bill. ``list_price`` is the catalogue's price, ``unit_price`` what is charged per
    unit after tier, staff-level and member rules (or a manual price, with a reason and an audit entry),
    ``discount`` the share of coupons and points money-off given to this line."""

    id = models.BigAutoField(primary_key=True)
    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines", verbose_name=_("bill"))
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=12, choices=LineKind.choices)
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("service")
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    package = models.ForeignKey(
        "catalog.Package", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("package")
    )
    course_template = models.ForeignKey(
        "catalog.CourseCardTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("course card"),
    )
    appointment_line = models.ForeignKey(
        "scheduling.AppointmentLine", on_delete=models.PROTECT, null=True, blank=True, related_name="bill_lines"
    )
    # On a group bill, whose line this is (a client, or a label for a guest who is not one).
    guest = models.ForeignKey(
        "crm.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("guest")
    )
    guest_label = models.CharField(_("guest"), max_length=60, blank=True)
    name = models.CharField(_("item"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    list_price = models.BigIntegerField(_("list price"))
    unit_price = models.BigIntegerField(_("unit price"))
    price_rule = models.CharField(
        _("price rule"), max_length=40, blank=True, help_text=_("Which rule set the unit price: tier, level, member…")
    )
    is_manual_price = models.BooleanField(_("price changed by hand"), default=False)
    price_reason = models.CharField(_("reason for the price"), max_length=200, blank=True)
    discount = models.BigIntegerField(_("discount"), default=0)
    amount = models.BigIntegerField(_("amount"))
    # A top-up line: the bonus the salon's top-up rule gives on top of ``amount`` (decided at payment).
    top_up_bonus = models.BigIntegerField(_("bonus"), default=0)
    # What a paid line created elsewhere (the course card sold, a package's card of its services), filled
    # in when the bill is paid.
    course_card = models.ForeignKey(
        "loyalty.CourseCard", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A package line: the products one unit of the package held when the bill was paid, as
    # [[product id, pieces], ...], so stock taken at the sale is given back by the same list on a refund
    # even when the package is changed in the catalogue afterwards.
    package_products = models.JSONField(default=list, blank=True, editable=False)
    refunded_quantity = models.PositiveIntegerField(_("refunded quantity"), default=0)
    refunded_amount = models.BigIntegerField(_("refunded"), default=0)
    notes = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("bill line")
        verbose_name_plural = _("bill lines")
        ordering = ["bill", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bill_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(list_price__gte=0) & Q(unit_price__gte=0), name="bill_line_prices_not_negative"
            ),
            models.CheckConstraint(condition=Q(discount__gte=0), name="bill_line_discount_not_negative"),
            models.CheckConstraint(
                condition=Q(amount=F("unit_price") * F("quantity") - F("discount")), name="bill_line_amount_sum"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="bill_line_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="bill_line_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunded_quantity__lte=F("quantity")), name="bill_line_refund_within_quantity"
            ),
            models.CheckConstraint(condition=Q(top_up_bonus__gte=0), name="bill_line_bonus_not_negative"),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="service",
                        service__isnull=False,
                        product__isnull=True,
                        package__isnull=True,
                        course_template__isnull=True,
                    )
                    | Q(
                        kind="product",
                        product__isnull=False,
                        service__isnull=True,
                        package__isnull=True,
                        course_template__isnull=True,
                    )
                    | Q(
                        kind="package",
                        package__isnull=False,
                        service__isnull=True,
                        product__isnull=True,
                        course_template__isnull=True,
                    )
                    | Q(
                        kind="course_card",
                        course_template__isnull=False,
                        service__isnull=True,
                        product__isnull=True,
                        package__isnull=True,
                    )
                    | Q(
                        kind="top_up",
                        service__isnull=True,
                        product__isnull=True,
                        package__isnull=True,
                        course_template__isnull=True,
                    )
                ),
                name="bill_line_item_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(is_manual_price=False) | ~Q(price_reason=""), name="bill_line_manual_price_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["service"], name="bill_line_service_idx", condition=Q(service__isnull=False)),
            models.Index(fields=["product"], name="bill_line_product_idx", condition=Q(product__isnull=False)),
            # Sales reports (POS-7) read a period's lines from this index alone (an index-only scan per bill),
            # so a month's report reads that month's lines, not the whole table.
            models.Index(
                fields=["bill"],
                include=["kind", "service", "product", "amount", "quantity"],
                name="bill_line_report_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BillLineStaff(models.Model):
    """Who earned a line, and their share of it in basis points (1–10000). A line's shares sum to 10000;
    the service that writes them keeps that, and commission is computed per share."""

    id = models.BigAutoField(primary_key=True)
    line = models.ForeignKey(BillLine, on_delete=models.CASCADE, related_name="staff_shares")
    staff = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="bill_line_shares")
    share = models.PositiveIntegerField(_("share (basis points)"), default=10000)
    is_requested = models.BooleanField(_("requested by the client (点钟)"), default=False)

    class Meta:
        verbose_name = _("staff share")
        verbose_name_plural = _("staff shares")
        constraints = [
            models.UniqueConstraint(fields=["line", "staff"], name="bill_line_staff_unique"),
            models.CheckConstraint(condition=Q(share__gte=1) & Q(share__lte=10000), name="bill_line_share_range"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.share / 100:g}%"


class BillCoupon(models.Model):
    """A coupon applied to a bill, with the money it takes off. Redeemed in loyalty when the bill is paid."""

    id = models.BigAutoField(primary_key=True)
    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="coupons")
    coupon = models.ForeignKey("loyalty.Coupon", on_delete=models.PROTECT, related_name="+")
    discount = models.BigIntegerField(_("discount"))

    class Meta:
        verbose_name = _("applied coupon")
        verbose_name_plural = _("applied coupons")
        constraints = [
            models.UniqueConstraint(fields=["bill", "coupon"], name="bill_coupon_unique"),
            models.CheckConstraint(condition=Q(discount__gt=0), name="bill_coupon_discount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.coupon_id} −{self.discount}"

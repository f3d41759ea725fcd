"""The documents behind stock movements: purchase orders and their receipts, transfers between
locations, and stocktakes (count sheets)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.inventory.models.stock import ZERO


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ORDERED = "ordered", _("Ordered")
    PARTIALLY_RECEIVED = "partially_received", _("Partially received")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


# Statuses in which the goods may still arrive.
RECEIVABLE = (PurchaseOrderStatus.ORDERED, PurchaseOrderStatus.PARTIALLY_RECEIVED)


class PurchaseOrder(models.Model):
    """An order to a supplier (catalogue's suppliers) for delivery to one location.

    draft → ordered → partially received → received; a draft, ordered or partially received order can be
    cancelled (what has arrived stays). Lines change only while it is a draft."""

    id = models.BigAutoField(primary_key=True)
    supplier = models.ForeignKey(
        "catalog.Supplier", on_delete=models.PROTECT, related_name="purchase_orders", verbose_name=_("supplier")
    )
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="purchase_orders", verbose_name=_("deliver to")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.DRAFT
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    expected_on = models.DateField(_("expected on"), null=True, blank=True)
    created_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    ordered_at = models.DateTimeField(_("ordered"), null=True, blank=True)
    received_at = models.DateTimeField(_("fully received"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in PurchaseOrderStatus]), name="purchase_order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=PurchaseOrderStatus.DRAFT, ordered_at__isnull=True)
                | Q(status=PurchaseOrderStatus.CANCELLED)
                | (
                    ~Q(status__in=[PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.CANCELLED])
                    & Q(ordered_at__isnull=False)
                ),
                name="purchase_order_ordered_at",
            ),
            models.CheckConstraint(
                condition=Q(status=PurchaseOrderStatus.RECEIVED, received_at__isnull=False)
                | (~Q(status=PurchaseOrderStatus.RECEIVED) & Q(received_at__isnull=True)),
                name="purchase_order_received_at",
            ),
            models.CheckConstraint(
                condition=Q(status=PurchaseOrderStatus.CANCELLED, cancelled_at__isnull=False)
                | (~Q(status=PurchaseOrderStatus.CANCELLED) & Q(cancelled_at__isnull=True)),
                name="purchase_order_cancelled_at",
            ),
        ]
        indexes = [models.Index(fields=["status", "-id"], name="purchase_order_status_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"PO-{self.pk:05d}" if self.pk else "PO"


class PurchaseOrderLine(models.Model):
    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity_ordered = models.DecimalField(_("ordered"), max_digits=12, decimal_places=3)
    quantity_received = models.DecimalField(_("received"), default=ZERO, max_digits=12, decimal_places=3)
    unit_cost = models.BigIntegerField(_("unit cost (fen)"), default=0)

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="purchase_order_line_unique"),
            models.CheckConstraint(condition=Q(quantity_ordered__gt=0), name="purchase_order_line_ordered_positive"),
            models.CheckConstraint(
                condition=Q(quantity_received__gte=0) & Q(quantity_received__lte=F("quantity_ordered")),
                name="purchase_order_line_received_within_ordered",
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="purchase_order_line_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity_ordered}"

    @property
    def quantity_outstanding(self) -> Decimal:
        return self.quantity_ordered - self.quantity_received

    @property
    def amount(self) -> int:
        """The line's value in fen at the ordered quantity (rounded to the fen)."""
        return int((self.quantity_ordered * self.unit_cost).quantize(1, rounding=ROUND_HALF_UP))


class StockTransfer(models.Model):
    """Stock moved from one location to another, out and in within one transaction."""

    id = models.BigAutoField(primary_key=True)
    from_location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    to_location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("to"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=120)
    created_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="stock_transfer_key_unique"),
            models.CheckConstraint(condition=~Q(from_location=F("to_location")), name="stock_transfer_two_places"),
        ]

    def __str__(self) -> str:
        return f"TR-{self.pk:05d}" if self.pk else "TR"

    @property
    def number(self) -> str:
        return str(self)


class StockTransferLine(models.Model):
    id = models.BigAutoField(primary_key=True)
    transfer = models.ForeignKey(StockTransfer, on_delete=models.PROTECT, related_name="lines")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "product"], name="stock_transfer_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="stock_transfer_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"


class StocktakeStatus(models.TextChoices):
    OPEN = "open", _("Counting")
    POSTED = "posted", _("Posted")
    CANCELLED = "cancelled", _("Cancelled")


class Stocktake(models.Model):
    """A count sheet for one location. Opening it lists every active product with the quantity on the
    books; counting fills in what is on the shelf; posting turns each difference into a movement."""

    id = models.BigAutoField(primary_key=True)
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="stocktakes", verbose_name=_("location")
    )
    status = models.CharField(_("status"), max_length=10, choices=StocktakeStatus.choices, default=StocktakeStatus.OPEN)
    note = models.CharField(_("note"), max_length=200, blank=True)
    opened_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("opened by")
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    posted_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("posted by")
    )
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("stocktake")
        verbose_name_plural = _("stocktakes")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in StocktakeStatus]), name="stocktake_status_valid"
            ),
            # One count sheet at a time per location: two would post the same difference twice.
            models.UniqueConstraint(
                fields=["location"], condition=Q(status=StocktakeStatus.OPEN), name="stocktake_one_open_per_location"
            ),
            models.CheckConstraint(
                condition=Q(status=StocktakeStatus.POSTED, posted_at__isnull=False)
                | (~Q(status=StocktakeStatus.POSTED) & Q(posted_at__isnull=True)),
                name="stocktake_posted_at",
            ),
            models.CheckConstraint(
                condition=Q(status=StocktakeStatus.CANCELLED, cancelled_at__isnull=False)
                | (~Q(status=StocktakeStatus.CANCELLED) & Q(cancelled_at__isnull=True)),
                name="stocktake_cancelled_at",
            ),
        ]

    def __str__(self) -> str:
        return f"ST-{self.pk:05d}" if self.pk else "ST"

    @property
    def number(self) -> str:
        return str(self)


class StocktakeLine(models.Model):
    """One product on a count sheet. ``expected`` is the quantity on the books when the sheet was opened,
    and again at the moment the line is counted, so that sales recorded between opening and counting
    do not show up as a difference."""

    id = models.BigAutoField(primary_key=True)
    stocktake = models.ForeignKey(Stocktake, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    expected = models.DecimalField(_("on the books"), max_digits=12, decimal_places=3)
    counted = models.DecimalField(_("counted"), null=True, blank=True, max_digits=12, decimal_places=3)
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    counted_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("counted by")
    )

    class Meta:
        verbose_name = _("stocktake line")
        verbose_name_plural = _("stocktake lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["stocktake", "product"], name="stocktake_line_unique"),
            models.CheckConstraint(
                condition=Q(counted__isnull=True) | Q(counted__gte=0), name="stocktake_counted_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(counted__isnull=True) | Q(counted_at__isnull=False), name="stocktake_counted_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.counted} / {self.expected}"

    @property
    def variance(self) -> Decimal | None:
        return None if self.counted is None else self.counted - self.expected

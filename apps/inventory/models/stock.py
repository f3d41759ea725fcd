"""Stock per location and the movement ledger (POS-8).

A ``StockLevel`` is what one location holds of one product; it changes only together with a
``StockMovement`` that records the change and the figure after it. The ledger is append-only (a
PostgreSQL trigger refuses UPDATE and DELETE, migration 0002), so the history of every level can be
replayed and checked against the level at any time."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Quantities are in the product's own unit (a bottle, a tube, a box), with three decimals so that
# materials used by a service (90 ml of a 1,000 ml bottle = 0.090) can be taken off exactly.
MAX_QUANTITY = Decimal("1000000")
ZERO = Decimal("0")


class MovementKind(models.TextChoices):
    PURCHASE_RECEIPT = "purchase_receipt", _("Purchase receipt")
    SALE = "sale", _("Sale")
    SALE_REVERSAL = "sale_reversal", _("Sale refunded")
    CONSUMPTION = "consumption", _("Used by a service")
    CONSUMPTION_REVERSAL = "consumption_reversal", _("Service use reversed")
    ADJUSTMENT = "adjustment", _("Adjustment")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    STOCKTAKE = "stocktake", _("Stocktake")


# The sign each kind must have; adjustments and stocktakes go either way.
INCREASING_KINDS = (
    MovementKind.PURCHASE_RECEIPT,
    MovementKind.SALE_REVERSAL,
    MovementKind.CONSUMPTION_REVERSAL,
    MovementKind.TRANSFER_IN,
)
DECREASING_KINDS = (MovementKind.SALE, MovementKind.CONSUMPTION, MovementKind.TRANSFER_OUT)


class AdjustmentReason(models.TextChoices):
    DAMAGED = "damaged", _("Damaged")
    EXPIRED = "expired", _("Expired")
    LOST = "lost", _("Lost or stolen")
    FOUND = "found", _("Found")
    SALON_USE = "salon_use", _("Used in the salon")
    GIFT = "gift", _("Given away")
    CORRECTION = "correction", _("Correction")
    COUNT = "count", _("Counted")
    OTHER = "other", _("Other")


class StockLevel(models.Model):
    """What one location holds of one product.

    ``quantity`` may be below zero only when the salon allows negative stock; such a level carries
    ``negative_since`` (the flag), and the CHECKs tie the two together so that no write can leave a
    negative figure unflagged. A trigger (migration 0002) also refuses to take a level further below
    zero while the salon's setting forbids it."""

    id = models.BigAutoField(primary_key=True)
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("location")
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("product")
    )
    quantity = models.DecimalField(_("on hand"), default=ZERO, max_digits=12, decimal_places=3)
    reorder_level = models.DecimalField(
        _("low-stock alert at"),
        null=True,
        blank=True,
        help_text=_("Listed as low when the quantity on hand is at or below this; empty: no alert."),
        max_digits=12,
        decimal_places=3,
    )
    negative_since = models.DateTimeField(_("negative since"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["location_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["location", "product"], name="stock_level_unique"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0) | Q(negative_since__isnull=False), name="stock_level_negative_flagged"
            ),
            models.CheckConstraint(
                condition=Q(negative_since__isnull=True) | Q(quantity__lt=0), name="stock_level_flag_only_negative"
            ),
            models.CheckConstraint(
                condition=Q(reorder_level__isnull=True) | Q(reorder_level__gte=0),
                name="stock_level_reorder_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["product", "location"], name="stock_level_product_idx")]

    def __str__(self) -> str:
        return f"{self.location_id}/{self.product_id}: {self.quantity}"

    @property
    def is_negative(self) -> bool:
        return self.quantity < 0

    @property
    def is_low(self) -> bool:
        return self.reorder_level is not None and self.quantity <= self.reorder_level


class StockMovement(models.Model):
    """One change of one stock level: signed ``quantity`` and the level's ``quantity_after``.

    An operation (a sale of a bill, a transfer, a receipt) writes one row per level it changes, all with
    the caller's idempotency key and a line number; (key, line) is unique, so the same key can never be
    applied twice, and a replay finds the rows the first call wrote."""

    id = models.BigAutoField(primary_key=True)
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="stock_movements", verbose_name=_("product")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=MovementKind.choices)
    quantity = models.DecimalField(
        _("quantity"), help_text=_("Negative when stock leaves."), max_digits=12, decimal_places=3
    )
    quantity_after = models.DecimalField(_("on hand after"), max_digits=12, decimal_places=3)
    went_negative = models.BooleanField(_("left the stock negative"), default=False)
    unit_cost = models.BigIntegerField(_("unit cost (fen)"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=16, choices=AdjustmentReason.choices, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True, help_text="e.g. bill:123")
    idempotency_key = models.CharField(max_length=120)
    line = models.PositiveSmallIntegerField(default=0)
    purchase_order = models.ForeignKey(
        "inventory.PurchaseOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="movements",
        verbose_name=_("purchase order"),
    )
    transfer = models.ForeignKey(
        "inventory.StockTransfer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="movements",
        verbose_name=_("transfer"),
    )
    stocktake = models.ForeignKey(
        "inventory.Stocktake",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="movements",
        verbose_name=_("stocktake"),
    )
    actor = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key", "line"], name="stock_movement_key_unique"),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="stock_movement_key_present"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in MovementKind]), name="stock_movement_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(quantity=0), name="stock_movement_not_zero"),
            models.CheckConstraint(
                condition=~Q(kind__in=[k.value for k in INCREASING_KINDS]) | Q(quantity__gt=0),
                name="stock_movement_increase_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[k.value for k in DECREASING_KINDS]) | Q(quantity__lt=0),
                name="stock_movement_decrease_negative",
            ),
            models.CheckConstraint(
                condition=Q(went_negative=True, quantity_after__lt=0) | Q(went_negative=False, quantity_after__gte=0),
                name="stock_movement_negative_flagged",
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__isnull=True) | Q(unit_cost__gte=0), name="stock_movement_cost_not_negative"
            ),
            # An adjustment always says why; other kinds carry no reason code.
            models.CheckConstraint(
                condition=Q(kind=MovementKind.ADJUSTMENT, reason__gt="")
                | (~Q(kind=MovementKind.ADJUSTMENT) & Q(reason="")),
                name="stock_movement_reason_for_adjustments",
            ),
            # Each document kind points at its document, and only it.
            models.CheckConstraint(
                condition=Q(kind=MovementKind.PURCHASE_RECEIPT, purchase_order__isnull=False)
                | (~Q(kind=MovementKind.PURCHASE_RECEIPT) & Q(purchase_order__isnull=True)),
                name="stock_movement_receipt_has_order",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[MovementKind.TRANSFER_OUT, MovementKind.TRANSFER_IN], transfer__isnull=False)
                | (~Q(kind__in=[MovementKind.TRANSFER_OUT, MovementKind.TRANSFER_IN]) & Q(transfer__isnull=True)),
                name="stock_movement_transfer_has_transfer",
            ),
            models.CheckConstraint(
                condition=Q(kind=MovementKind.STOCKTAKE, stocktake__isnull=False)
                | (~Q(kind=MovementKind.STOCKTAKE) & Q(stocktake__isnull=True)),
                name="stock_movement_stocktake_has_sheet",
            ),
        ]
        indexes = [
            models.Index(fields=["product", "location", "-id"], name="stock_movement_history_idx"),
            models.Index(fields=["location", "-created_at"], name="stock_movement_location_idx"),
            models.Index(fields=["reference", "location", "product"], name="stock_movement_reference_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} → {self.quantity_after}"


class MaterialUnit(models.Model):
    """How much of a material unit one unit of a product holds: one bottle of developer holds 1,000 ml.

    Services list their materials in the unit the technician measures (CAT-1: 90 ml); stock is kept in
    the product's own unit, so a service's use is converted through this (or through the product's
    specification when it reads "1000 ml")."""

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="material_units", verbose_name=_("product")
    )
    unit = models.CharField(_("unit"), max_length=16, help_text=_("As written on the service's materials, e.g. ml"))
    per_stock_unit = models.DecimalField(
        _("amount in one unit of the product"),
        help_text=_("e.g. 1000 for a 1,000 ml bottle"),
        max_digits=12,
        decimal_places=3,
    )

    class Meta:
        verbose_name = _("material unit")
        verbose_name_plural = _("material units")
        ordering = ["product_id", "unit"]
        constraints = [
            models.UniqueConstraint(F("product"), Lower("unit"), name="material_unit_unique_ci"),
            models.CheckConstraint(condition=Q(per_stock_unit__gt=0), name="material_unit_positive"),
            models.CheckConstraint(condition=~Q(unit=""), name="material_unit_named"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.per_stock_unit} {self.unit}"

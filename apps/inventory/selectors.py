"""Reads of inventory: stock levels and what is low, the movement history, purchase orders, transfers,
stocktakes with their variance, and the materials whose unit is not yet known."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from apps.catalog.models import Product, ServiceMaterial
from apps.core.db import salon_timezone
from apps.core.models import Location
from apps.inventory.models import (
    ZERO,
    InventorySettings,
    MaterialUnit,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    StockMovement,
    Stocktake,
    StocktakeLine,
    StockTransfer,
)
from apps.inventory.services._common import inventory_settings as _settings
from apps.inventory.units import per_stock_unit

LOW = Q(reorder_level__isnull=False, quantity__lte=F("reorder_level"))


def inventory_settings() -> InventorySettings:
    return _settings()


def open_locations() -> QuerySet[Location]:
    return Location.objects.filter(is_active=True).order_by("pk")


def stock_levels(
    *,
    location: Location | int | None = None,
    product: Product | int | None = None,
    low_only: bool = False,
    negative_only: bool = False,
    search: str = "",
    category: int | None = None,
) -> QuerySet[StockLevel]:
    """Stock per location and product, with location and product loaded (one query a page)."""
    rows = StockLevel.objects.select_related("location", "product", "product__category").order_by(
        "location_id", "product__name", "product_id"
    )
    if location is not None:
        rows = rows.filter(location=location)
    if product is not None:
        rows = rows.filter(product=product)
    if low_only:
        rows = rows.filter(LOW)
    if negative_only:
        rows = rows.filter(quantity__lt=0)
    if search:
        rows = rows.filter(
            Q(product__name__icontains=search) | Q(product__brand__icontains=search) | Q(product__barcode=search)
        )
    if category is not None:
        rows = rows.filter(product__category_id=category)
    return rows


def low_stock_levels(*, location: Location | int | None = None) -> QuerySet[StockLevel]:
    """Levels at or below their alert level, active products only, most urgent (furthest below) first."""
    rows = stock_levels(location=location, low_only=True).filter(product__is_active=True)
    return rows.annotate(
        shortfall=ExpressionWrapper(F("reorder_level") - F("quantity"), output_field=DecimalField())
    ).order_by("location_id", "-shortfall", "product__name", "pk")


def low_stock_count() -> int:
    return StockLevel.objects.filter(LOW, product__is_active=True).count()


def product_levels(product: Product, *, locations: list[Location] | None = None) -> list[StockLevel]:
    """The product's level at every open location (an unsaved zero level where it has none yet), plus
    closed locations that still hold some. ``locations``: all of them, when the caller has them."""
    levels = {
        level.location_id: level for level in StockLevel.objects.filter(product=product).select_related("location")
    }
    rows = []
    for location in locations if locations is not None else Location.objects.order_by("pk"):
        level = levels.get(location.pk)
        if level is None and location.is_active:
            level = StockLevel(location=location, product=product)
        if level is not None and (location.is_active or level.quantity != 0):
            rows.append(level)
    return rows


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=salon_timezone())


def movements(
    *,
    product: Product | int | None = None,
    location: Location | int | None = None,
    kind: str | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[StockMovement]:
    """The ledger, newest first; ``since``/``until`` are days of the salon's calendar, both included."""
    rows = StockMovement.objects.select_related(
        "location", "product", "actor", "purchase_order", "transfer", "stocktake"
    ).order_by("-id")
    if product is not None:
        rows = rows.filter(product=product)
    if location is not None:
        rows = rows.filter(location=location)
    if kind:
        rows = rows.filter(kind=kind)
    if since is not None:
        rows = rows.filter(created_at__gte=_day_start(since))
    if until is not None:
        rows = rows.filter(created_at__lt=_day_start(until + datetime.timedelta(days=1)))
    return rows


def purchase_orders(
    *, status: str | None = None, supplier: int | None = None, location: int | None = None
) -> QuerySet[PurchaseOrder]:
    rows = PurchaseOrder.objects.select_related("supplier", "location").annotate(
        total=Coalesce(
            Sum(F("lines__quantity_ordered") * F("lines__unit_cost"), output_field=DecimalField()),
            Decimal(0),
            output_field=DecimalField(),
        )
    )
    if status:
        rows = rows.filter(status=status)
    if supplier is not None:
        rows = rows.filter(supplier_id=supplier)
    if location is not None:
        rows = rows.filter(location_id=location)
    return rows.order_by("-id")


def order_lines(order: PurchaseOrder) -> list[PurchaseOrderLine]:
    return list(order.lines.select_related("product").order_by("pk"))


def order_total(lines: list[PurchaseOrderLine]) -> int:
    return sum(line.amount for line in lines)


def order_receipts(order: PurchaseOrder) -> list[StockMovement]:
    return list(order.movements.select_related("product", "actor").order_by("id"))


def transfers() -> QuerySet[StockTransfer]:
    return StockTransfer.objects.select_related("from_location", "to_location", "created_by").prefetch_related(
        "lines__product"
    )


def stocktakes(*, location: int | None = None) -> QuerySet[Stocktake]:
    rows = Stocktake.objects.select_related("location", "opened_by", "posted_by")
    if location is not None:
        rows = rows.filter(location_id=location)
    return rows.order_by("-id")


def stocktake_lines(stocktake: Stocktake, *, search: str = "", uncounted_only: bool = False) -> QuerySet[StocktakeLine]:
    rows = stocktake.lines.select_related("product", "product__category").order_by(
        "product__category__sort_order", "product__category__name", "product__name", "pk"
    )
    if search:
        rows = rows.filter(
            Q(product__name__icontains=search) | Q(product__brand__icontains=search) | Q(product__barcode=search)
        )
    if uncounted_only:
        rows = rows.filter(counted__isnull=True)
    return rows


@dataclass(frozen=True)
class VarianceRow:
    line: StocktakeLine
    variance: Decimal
    value: int  # fen at the product's cost; negative for a shortage


@dataclass(frozen=True)
class VarianceReport:
    rows: list[VarianceRow]  # counted lines with a difference, largest value first
    lines: int
    counted: int
    shortage_value: int
    surplus_value: int

    @property
    def net_value(self) -> int:
        return self.surplus_value + self.shortage_value


def stocktake_variance(stocktake: Stocktake) -> VarianceReport:
    """Counted against the books, per product and in money at the catalogue's cost."""
    lines = list(stocktake.lines.select_related("product").order_by("product__name", "pk"))
    rows = []
    for line in lines:
        if line.counted is None or line.counted == line.expected:
            continue
        variance = line.counted - line.expected
        value = int((variance * line.product.cost).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        rows.append(VarianceRow(line, variance, value))
    rows.sort(key=lambda row: (abs(row.value), abs(row.variance)), reverse=True)
    return VarianceReport(
        rows=rows,
        lines=len(lines),
        counted=sum(1 for line in lines if line.counted is not None),
        shortage_value=sum(row.value for row in rows if row.value < 0),
        surplus_value=sum(row.value for row in rows if row.value > 0),
    )


def materials_without_unit() -> list[ServiceMaterial]:
    """Materials of active services whose unit cannot be turned into units of their product yet: the
    till would refuse to record those services until a material unit is set."""
    materials = list(
        ServiceMaterial.objects.filter(service__is_active=True)
        .select_related("service", "product")
        .order_by("product__name", "service__name", "pk")
    )
    units = {
        (row.product_id, row.unit.strip().lower()): row.per_stock_unit
        for row in MaterialUnit.objects.filter(product_id__in={m.product_id for m in materials})
    }
    return [m for m in materials if per_stock_unit(m.product, m.unit, units) is None]


def material_units() -> QuerySet[MaterialUnit]:
    return MaterialUnit.objects.select_related("product").order_by("product__name", "unit")


def totals_per_product() -> dict[int, Decimal]:
    """Σ quantity over locations per product (for checks against the catalogue's figure)."""
    return {
        row["product_id"]: row["total"] or ZERO
        for row in StockLevel.objects.values("product_id").annotate(total=Sum("quantity"))
    }

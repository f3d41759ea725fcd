"""The demo inventory (apps.inventory.demo): stock at two stores, a partly received purchase order, sales,
materials used and an adjustment; the catalogue's figure stays the total; safe to seed twice."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from apps.catalog import demo as catalog_demo
from apps.catalog.models import Product
from apps.core.services import location_create
from apps.crm import demo as crm_demo
from apps.inventory import demo, selectors
from apps.inventory.models import MovementKind, PurchaseOrder, PurchaseOrderStatus, StockLevel, StockMovement


def _counts() -> tuple[int, ...]:
    return (
        StockMovement.objects.count(),
        StockLevel.objects.count(),
        PurchaseOrder.objects.count(),
        int(StockLevel.objects.aggregate(total=Sum("quantity"))["total"] * 1000),
    )


def test_demo_inventory_twice(in_alpha):
    # given the demo catalogue and a second store
    location_create(name="南山分店")
    crm_demo.seed()
    catalog_demo.seed()
    # when the demo inventory is seeded twice
    demo.seed()
    first = _counts()
    demo.seed()
    # then the second run changed nothing
    assert _counts() == first
    kinds = set(StockMovement.objects.values_list("kind", flat=True))
    assert {
        MovementKind.ADJUSTMENT,
        MovementKind.TRANSFER_OUT,
        MovementKind.TRANSFER_IN,
        MovementKind.PURCHASE_RECEIPT,
        MovementKind.SALE,
        MovementKind.CONSUMPTION,
    } <= kinds
    assert PurchaseOrder.objects.get().status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    low = {(level.location.name, level.product.name) for level in selectors.low_stock_levels()}
    assert ("南山分店", "丝泉滋养洗发露") in low
    masks = Product.objects.get(name=demo.MASKS)
    assert StockLevel.objects.get(location__name="南山分店", product=masks).quantity == Decimal(5)
    # the catalogue's figure is the whole units over both stores for every product
    for product in Product.objects.all():
        levels = StockLevel.objects.filter(product=product).values_list("quantity", flat=True)
        assert product.stock == sum(int(q) for q in levels if q > 0), product.name

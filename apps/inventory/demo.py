"""Demo inventory: the demo catalogue's products (their opening stock is at the main store) get alert
levels, a material unit for the face masks, a transfer to the second store, a purchase order from the
demo supplier that has partly arrived, a few sales, two colours' materials and a broken jar. Run after
the catalogue's demo (apps.catalog.demo) and after the second location exists.

Safe to call twice: every stock operation has a fixed idempotency key, so a second run replays it, and
the purchase order is looked up by its note."""

from __future__ import annotations

from decimal import Decimal

from apps.catalog.models import Product, Service, Supplier
from apps.core.models import Location, User
from apps.inventory.models import PurchaseOrder
from apps.inventory.services import (
    OrderLineSpec,
    material_unit_set,
    purchase_order_create,
    purchase_order_place,
    purchase_order_receive,
    stock_adjust,
    stock_consume_for_services,
    stock_reorder_level_set,
    stock_sale_record,
    stock_transfer_create,
)

MASKS = "补水修护面膜（5 片装）"
# product -> (alert at the main store, alert at the second store)
ALERTS = {
    "丝泉滋养洗发露": (8, 8),
    "保丽修护发膜": (5, 3),
    "元气姜头皮精华": (8, None),
    "OSiS+ 定型喷雾": (4, 2),
    "专业染发膏": (30, None),
    "双氧乳 6%": (4, None),
    MASKS: (10, 5),
}
TRANSFER = [("丝泉滋养洗发露", 6), ("保丽修护发膜", 4), (MASKS, 5), ("OSiS+ 定型喷雾", 3)]
ORDER_NOTE = "每周补货（演示）"
# product, ordered, unit cost (fen), arrived so far
ORDER = [("专业染发膏", 40, 1800, 20), ("双氧乳 6%", 10, 3500, 10), ("元气姜头皮精华", 6, 21000, 0)]


def seed(*, acting_user: User | None = None) -> None:
    products = {p.name: p for p in Product.objects.filter(name__in=[*ALERTS])}
    locations = list(Location.objects.filter(is_active=True).order_by("pk")[:2])
    if len(products) < len(ALERTS) or not locations:
        return  # the demo catalogue (or a location) is missing: nothing to stock
    main = locations[0]
    branch = locations[1] if len(locations) > 1 else None
    material_unit_set(product=products[MASKS], unit="片", per_stock_unit=Decimal(5), acting_user=acting_user)
    for name, (at_main, at_branch) in ALERTS.items():
        stock_reorder_level_set(location=main, product=products[name], reorder_level=at_main, acting_user=acting_user)
        if branch is not None and at_branch is not None:
            stock_reorder_level_set(
                location=branch, product=products[name], reorder_level=at_branch, acting_user=acting_user
            )
    if branch is not None:
        stock_transfer_create(
            from_location=main,
            to_location=branch,
            lines=[(products[name], quantity) for name, quantity in TRANSFER],
            note="开业备货（演示）",
            idempotency_key="demo:transfer-1",
            acting_user=acting_user,
        )
    _purchase_order(main, products, acting_user)
    stock_sale_record(
        location=main,
        items=[(products["丝泉滋养洗发露"], 2), (products["OSiS+ 定型喷雾"], 1)],
        reference="demo:bill-1",
        idempotency_key="demo:bill-1",
        acting_user=acting_user,
    )
    colour = Service.objects.filter(name="时尚染发").first()
    facial = Service.objects.filter(name="补水保湿面部护理").first()
    performed = [(service, 2) for service in (colour, facial) if service is not None]
    if performed:
        stock_consume_for_services(
            location=main,
            services=performed,
            reference="demo:bill-2",
            idempotency_key="demo:bill-2",
            acting_user=acting_user,
        )
    stock_adjust(
        location=main,
        product=products["保丽修护发膜"],
        quantity=-1,
        reason="damaged",
        note="搬运时摔破一瓶",
        idempotency_key="demo:adjust-1",
        acting_user=acting_user,
    )


def _purchase_order(main: Location, products: dict[str, Product], acting_user: User | None) -> None:
    supplier = Supplier.objects.filter(products__in=list(products.values())).order_by("pk").first()
    if supplier is None or not supplier.is_active or PurchaseOrder.objects.filter(note=ORDER_NOTE).exists():
        return
    order = purchase_order_create(
        supplier=supplier,
        location=main,
        note=ORDER_NOTE,
        lines=[OrderLineSpec(products[name], ordered, cost) for name, ordered, cost, _arrived in ORDER],
        acting_user=acting_user,
    )
    purchase_order_place(order=order, acting_user=acting_user)
    lines = {line.product_id: line for line in order.lines.all()}
    arrived = [(lines[products[name].pk], quantity) for name, _o, _c, quantity in ORDER if quantity]
    purchase_order_receive(order=order, lines=arrived, idempotency_key="demo:po-1", acting_user=acting_user)

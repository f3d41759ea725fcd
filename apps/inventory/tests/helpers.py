"""Arranging stock the way the product does: products and services through the catalogue's services,
stock through inventory's."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from apps.catalog import services as catalog
from apps.catalog.models import Product, Service
from apps.core.models import Location
from apps.core.services import location_create
from apps.inventory.models import InventorySettings, StockLevel
from apps.inventory.services import stock_adjust

_seq = itertools.count(1)


def main_location() -> Location:
    return Location.objects.order_by("pk").first()  # type: ignore[return-value]


def second_location(name: str = "Branch") -> Location:
    return Location.objects.filter(name=name).first() or location_create(name=name)


def product(
    name: str = "Shampoo", *, cost: int = 4000, price: int = 9800, spec: str = "500 ml", **extra: Any
) -> Product:
    n = next(_seq)
    return catalog.product_create(name=f"{name}", spec=spec, cost=cost, price=price, barcode=f"69{n:011d}", **extra)


def service(name: str = "Colour", *, materials: list[tuple[Product, str, str]] = ()) -> Service:  # type: ignore[assignment]
    return catalog.service_create(
        name=name,
        duration_minutes=60,
        price=30000,
        materials=[catalog.MaterialSpec(product=p, quantity=q, unit=u) for p, q, u in materials],
    )


def stock_in(location: Location, item: Product, quantity: Any, *, key: str | None = None) -> None:
    """Put stock on the shelf by hand (a found-stock adjustment)."""
    stock_adjust(
        location=location,
        product=item,
        quantity=Decimal(str(quantity)),
        reason="found",
        idempotency_key=key or f"arrange:{next(_seq)}",
        acting_user=None,
    )


def on_hand(location: Location, item: Product) -> Decimal:
    level = StockLevel.objects.filter(location=location, product=item).first()
    return level.quantity if level else Decimal(0)


def allow_negative(allowed: bool = True) -> None:
    InventorySettings.objects.filter(id=1).update(allow_negative_stock=allowed)


def catalogue_stock(item: Product) -> int:
    return Product.objects.get(pk=item.pk).stock

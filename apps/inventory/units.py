"""Turning a service's material (CAT-1: "90 ml" of developer) into units of the product kept in stock
(0.090 of a 1,000 ml bottle).

The catalogue lists materials in the unit the technician measures; inventory counts the product in its
own unit (a bottle, a tube, a box). A material converts, in this order:

1. through a ``MaterialUnit`` row of the product for that unit (one box of masks holds 5 片);
2. without a unit, or in a unit named like a piece (件, 个, 支, 瓶, piece …): its quantity is in units of
   the product already;
3. through the product's specification when it reads "<amount> <unit>" in the same unit ("1000 ml",
   "60 g");
4. otherwise it cannot be converted, and recording the service is refused until a material unit is set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from apps.catalog.models import Product, ServiceMaterial

# Units that mean "one of the product itself".
PIECE_UNITS = {"", "piece", "pieces", "pc", "pcs", "unit", "units", "件", "个", "支", "瓶", "盒", "罐", "袋", "套"}

_SPEC = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([^\d\s.,×x*][^\d]*?)\s*$", re.IGNORECASE)


def normal_unit(unit: str) -> str:
    return (unit or "").strip().lower()


def spec_amount(product: Product, unit: str) -> Decimal | None:
    """How much of ``unit`` one unit of ``product`` holds by its specification ("500 ml" → 500 for ml);
    None when the specification does not read as one amount of that unit."""
    match = _SPEC.match(product.spec or "")
    if match is None or normal_unit(match.group(2)) != normal_unit(unit):
        return None
    try:
        amount = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        return None
    return amount if amount > 0 else None


def per_stock_unit(product: Product, unit: str, units: Mapping[tuple[int, str], Decimal]) -> Decimal | None:
    """How much of ``unit`` one unit of ``product`` holds: the salon's material unit, else 1 for piece
    units, else the specification; None when unknown. ``units``: {(product id, normal unit): amount}."""
    name = normal_unit(unit)
    if (product.pk, name) in units:
        return units[(product.pk, name)]
    if name in PIECE_UNITS:
        return Decimal(1)
    return spec_amount(product, unit)


def material_in_stock_units(material: ServiceMaterial, units: Mapping[tuple[int, str], Decimal]) -> Decimal | None:
    """The material's quantity in units of its product (exact, not yet rounded), or None if unknown."""
    amount = per_stock_unit(material.product, material.unit, units)
    if amount is None:
        return None
    return material.quantity / amount

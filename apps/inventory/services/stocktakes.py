"""Stocktakes (盘点): a count sheet per location. Opening it lists every active product with the quantity
on the books; counting records what is on the shelf (and the books' figure at that moment); posting
turns every difference into a stocktake movement, so the books match the shelf."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.catalog.models import Product
from apps.core.models import Location, User
from apps.core.services import audit_record
from apps.inventory.errors import InventoryError, inventory_error
from apps.inventory.models import ZERO, MovementKind, StockLevel, Stocktake, StocktakeLine, StocktakeStatus
from apps.inventory.services import _common as check
from apps.inventory.services._common import operation
from apps.inventory.services._ledger import Change, StockResult, record


@operation
def stocktake_open(*, location: Location, acting_user: User | None, note: str = "") -> Stocktake:
    """Open a count sheet at ``location`` listing every active product (and any inactive one still in
    stock there) with the quantity on the books. One sheet at a time per location."""
    check.require_permission(acting_user)
    check.open_location(location)
    note = check.text(note, field="note")
    if Stocktake.objects.filter(location=location, status=StocktakeStatus.OPEN).exists():
        raise inventory_error(InventoryError.STOCKTAKE_ALREADY_OPEN)
    stocktake = Stocktake.objects.create(location=location, note=note, opened_by=check.actor(acting_user))
    books = dict(StockLevel.objects.filter(location=location).values_list("product_id", "quantity"))
    products = Product.objects.filter(is_active=True).values_list("pk", flat=True)
    held = {pk for pk, quantity in books.items() if quantity != 0}
    StocktakeLine.objects.bulk_create(
        [
            StocktakeLine(stocktake=stocktake, product_id=pk, expected=books.get(pk, ZERO))
            for pk in sorted(set(products) | held)
        ]
    )
    audit_record(
        action="inventory.stocktake_opened", actor=acting_user, target=stocktake, data={"location": location.pk}
    )
    return stocktake


def _locked_open(stocktake: Stocktake) -> Stocktake:
    stocktake = Stocktake.objects.select_for_update().get(pk=stocktake.pk)
    if stocktake.status != StocktakeStatus.OPEN:
        raise inventory_error(InventoryError.STOCKTAKE_NOT_OPEN)
    return stocktake


@operation
def stocktake_count(
    *, stocktake: Stocktake, counts: Sequence[tuple[Product | int, Any]], acting_user: User | None
) -> list[StocktakeLine]:
    """Record what was counted on the shelf: ``counts`` are (product or its id, quantity counted, or None
    to clear a count). Each counted line also takes the quantity on the books at this moment as its
    expected figure, so sales between opening the sheet and counting are not a difference; a line given
    the count it already has is left as it was (saving the whole sheet again changes nothing)."""
    check.require_permission(acting_user)
    stocktake = _locked_open(stocktake)
    wanted: dict[int, Decimal | None] = {}
    for product, quantity in counts:
        pk = product.pk if isinstance(product, Product) else product
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise inventory_error(InventoryError.NOT_ON_SHEET)
        wanted[pk] = None if quantity is None or quantity == "" else check.count(quantity)
    lines = {line.product_id: line for line in stocktake.lines.filter(product_id__in=list(wanted)).order_by("pk")}
    if set(wanted) - set(lines):
        raise inventory_error(InventoryError.NOT_ON_SHEET)
    books = dict(
        StockLevel.objects.filter(location_id=stocktake.location_id, product_id__in=list(wanted)).values_list(
            "product_id", "quantity"
        )
    )
    now = timezone.now()
    user = check.actor(acting_user)
    changed = []
    for pk, counted in wanted.items():
        line = lines[pk]
        if line.counted == counted:
            continue  # the same count again keeps the moment it was taken
        changed.append(line)
        line.counted = counted
        line.counted_at = now if counted is not None else None
        line.counted_by = user if counted is not None else None
        if counted is not None:
            line.expected = books.get(pk, ZERO)
    if changed:
        StocktakeLine.objects.bulk_update(changed, ["counted", "counted_at", "counted_by", "expected"])
    return [lines[pk] for pk in wanted]


@operation
def stocktake_post(*, stocktake: Stocktake, acting_user: User | None) -> StockResult:
    """Post the counted lines: each difference (counted − on the books when counted) becomes a stocktake
    movement on the level as it is now. Lines left uncounted change nothing. A difference that would take
    a level below zero follows the salon's negative-stock rule. Audited with the variance."""
    check.require_permission(acting_user)
    stocktake = _locked_open(stocktake)
    lines = list(stocktake.lines.filter(counted__isnull=False).order_by("product_id"))
    if not lines:
        raise inventory_error(InventoryError.NOTHING_COUNTED)
    location = stocktake.location

    def build(products: dict[int, Product]) -> list[Change]:
        return [
            Change(
                location.pk,
                line.product_id,
                MovementKind.STOCKTAKE,
                line.counted - line.expected,  # type: ignore[operator]
                unit_cost=products[line.product_id].cost or None,
                stocktake_id=stocktake.pk,
            )
            for line in lines
            if line.counted != line.expected
        ]

    result = record(
        operation="stocktake",
        key=str(stocktake.pk),
        product_ids=[line.product_id for line in lines],
        build=build,
        reference=stocktake.number,
        acting_user=acting_user,
        matches=lambda earlier: all(m.stocktake_id == stocktake.pk for m in earlier),
        locations={location.pk: location},
    )
    stocktake.status = StocktakeStatus.POSTED
    stocktake.posted_at = timezone.now()
    stocktake.posted_by = check.actor(acting_user)
    stocktake.save(update_fields=["status", "posted_at", "posted_by"])
    audit_record(
        action="inventory.stocktake_posted",
        actor=acting_user,
        target=stocktake,
        data={
            "counted": len(lines),
            "differences": [[m.product_id, str(m.quantity)] for m in result.movements],
        },
    )
    return result


@operation
def stocktake_cancel(*, stocktake: Stocktake, acting_user: User | None) -> Stocktake:
    """Throw away an open count sheet; the books are not touched."""
    check.require_permission(acting_user)
    stocktake = _locked_open(stocktake)
    stocktake.status = StocktakeStatus.CANCELLED
    stocktake.cancelled_at = timezone.now()
    stocktake.save(update_fields=["status", "cancelled_at"])
    audit_record(action="inventory.stocktake_cancelled", actor=acting_user, target=stocktake)
    return stocktake

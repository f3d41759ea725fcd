"""Transfers of stock between two locations of the salon (UX-5 chains): out of one and into the other in
one transaction, so stock is never in both places or in neither."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from apps.catalog.models import Product
from apps.core.models import Location, User
from apps.core.services import audit_record
from apps.inventory.errors import InventoryError, inventory_error
from apps.inventory.models import MovementKind, StockMovement, StockTransfer, StockTransferLine
from apps.inventory.services import _common as check
from apps.inventory.services._common import operation
from apps.inventory.services._ledger import Change, record


def _lines(lines: Sequence[tuple[Product, Any]]) -> dict[int, Decimal]:
    wanted: dict[int, Decimal] = {}
    for product, quantity in lines:
        if not isinstance(product, Product) or product.pk is None:
            raise inventory_error(InventoryError.NOT_FOUND)
        if product.pk in wanted:
            raise inventory_error(InventoryError.DUPLICATE_PRODUCT)
        wanted[product.pk] = check.quantity(quantity)
    if not wanted:
        raise inventory_error(InventoryError.NO_LINES)
    return wanted


@operation
def stock_transfer_create(
    *,
    from_location: Location,
    to_location: Location,
    lines: Sequence[tuple[Product, Any]],
    idempotency_key: str,
    acting_user: User | None,
    note: str = "",
) -> StockTransfer:
    """Move ``lines`` (product, quantity) from one location to another. The source follows the salon's
    negative-stock rule; either every line moves or none does. Replaying the key returns the transfer
    the first call made (``replayed`` set on it)."""
    check.require_permission(acting_user)
    key = check.key(idempotency_key)
    note = check.text(note, field="note")
    if from_location.pk == to_location.pk:
        raise inventory_error(InventoryError.SAME_LOCATION)
    check.open_location(from_location, field="from_location")
    check.open_location(to_location, field="to_location")
    wanted = _lines(lines)
    made: list[StockTransfer] = []

    def build(products: dict[int, Product]) -> list[Change]:
        transfer = StockTransfer.objects.create(
            from_location=from_location,
            to_location=to_location,
            note=note,
            idempotency_key=key,
            created_by=check.actor(acting_user),
        )
        StockTransferLine.objects.bulk_create(
            [StockTransferLine(transfer=transfer, product_id=pk, quantity=q) for pk, q in sorted(wanted.items())]
        )
        made.append(transfer)
        cost = {pk: products[pk].cost or None for pk in wanted}
        out = [
            Change(from_location.pk, pk, MovementKind.TRANSFER_OUT, -q, unit_cost=cost[pk], transfer_id=transfer.pk)
            for pk, q in sorted(wanted.items())
        ]
        into = [
            Change(to_location.pk, pk, MovementKind.TRANSFER_IN, q, unit_cost=cost[pk], transfer_id=transfer.pk)
            for pk, q in sorted(wanted.items())
        ]
        return out + into

    expected = {(from_location.pk, pk, MovementKind.TRANSFER_OUT): -q for pk, q in wanted.items()} | {
        (to_location.pk, pk, MovementKind.TRANSFER_IN): q for pk, q in wanted.items()
    }

    def matches(earlier: list[StockMovement]) -> bool:
        return {(m.location_id, m.product_id, m.kind): m.quantity for m in earlier} == expected

    result = record(
        operation="transfer",
        key=key,
        product_ids=wanted,
        build=build,
        reference="",
        acting_user=acting_user,
        note=note,
        matches=matches,
        locations={from_location.pk: from_location, to_location.pk: to_location},
    )
    if result.replayed:
        transfer = StockTransfer.objects.get(movements=result.movements[0])
        transfer.replayed = True  # type: ignore[attr-defined]
        return transfer
    transfer = made[0]
    audit_record(
        action="inventory.stock_transferred",
        actor=acting_user,
        target=transfer,
        data={
            "from": from_location.pk,
            "to": to_location.pk,
            "lines": [[pk, str(q)] for pk, q in sorted(wanted.items())],
        },
    )
    transfer.replayed = False  # type: ignore[attr-defined]
    return transfer

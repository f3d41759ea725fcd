"""Purchase orders to the catalogue's suppliers: draft → ordered → partially received → received, or
cancelled. Receiving may come in several deliveries; each one is a purchase-receipt movement per line at
the order's location, at the line's unit cost, and never more than was ordered (a CHECK backs it)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.models import Product, Supplier
from apps.catalog.services import UNSET
from apps.core.models import Location, User
from apps.core.services import audit_record
from apps.inventory.errors import InventoryError, inventory_error
from apps.inventory.models import (
    RECEIVABLE,
    ZERO,
    MovementKind,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    StockMovement,
)
from apps.inventory.services import _common as check
from apps.inventory.services._common import operation
from apps.inventory.services._ledger import Change, fmt, record


@dataclass(frozen=True)
class OrderLineSpec:
    """One product to order; ``unit_cost`` in fen (the product's catalogue cost when left out)."""

    product: Product
    quantity: Any
    unit_cost: int | None = None


@dataclass
class ReceiptResult:
    order: PurchaseOrder
    movements: list[StockMovement] = field(default_factory=list)
    replayed: bool = False


def _clean_lines(lines: Sequence[OrderLineSpec | tuple[Any, ...]]) -> list[OrderLineSpec]:
    cleaned: list[OrderLineSpec] = []
    seen: set[int] = set()
    for raw in lines:
        spec = raw if isinstance(raw, OrderLineSpec) else OrderLineSpec(*raw)
        if not isinstance(spec.product, Product) or spec.product.pk is None:
            raise inventory_error(InventoryError.NOT_FOUND)
        if spec.product.pk in seen:
            raise inventory_error(InventoryError.DUPLICATE_PRODUCT)
        seen.add(spec.product.pk)
        cost = spec.product.cost if spec.unit_cost is None else check.unit_cost(spec.unit_cost)
        cleaned.append(OrderLineSpec(spec.product, check.quantity(spec.quantity), cost))
    return cleaned


def _write_lines(order: PurchaseOrder, lines: list[OrderLineSpec]) -> None:
    PurchaseOrderLine.objects.bulk_create(
        [
            PurchaseOrderLine(
                order=order, product=spec.product, quantity_ordered=spec.quantity, unit_cost=spec.unit_cost or 0
            )
            for spec in lines
        ]
    )


def _active_supplier(supplier: Supplier) -> Supplier:
    if not supplier.is_active:
        raise inventory_error(InventoryError.SUPPLIER_INACTIVE)
    return supplier


def _locked(order: PurchaseOrder) -> PurchaseOrder:
    return PurchaseOrder.objects.select_for_update().get(pk=order.pk)


@operation
def purchase_order_create(
    *,
    supplier: Supplier,
    location: Location,
    acting_user: User | None,
    lines: Sequence[OrderLineSpec | tuple[Any, ...]] = (),
    note: str = "",
    expected_on: datetime.date | None = None,
) -> PurchaseOrder:
    """Start a draft order to ``supplier`` for delivery to ``location``; lines may be added until it is
    placed. Each product appears once."""
    check.require_permission(acting_user)
    _active_supplier(supplier)
    check.open_location(location)
    cleaned = _clean_lines(lines)
    order = PurchaseOrder.objects.create(
        supplier=supplier,
        location=location,
        note=check.text(note, field="note"),
        expected_on=expected_on,
        created_by=check.actor(acting_user),
    )
    _write_lines(order, cleaned)
    audit_record(
        action="inventory.purchase_order_created",
        actor=acting_user,
        target=order,
        data={"supplier": supplier.pk, "location": location.pk, "lines": len(cleaned)},
    )
    return order


@operation
def purchase_order_update(
    *,
    order: PurchaseOrder,
    acting_user: User | None,
    supplier: Any = UNSET,
    location: Any = UNSET,
    lines: Any = UNSET,
    note: Any = UNSET,
    expected_on: Any = UNSET,
) -> PurchaseOrder:
    """Change a draft: its supplier, location, note, expected date, or all its lines at once."""
    check.require_permission(acting_user)
    order = _locked(order)
    if order.status != PurchaseOrderStatus.DRAFT:
        raise inventory_error(InventoryError.ORDER_NOT_DRAFT)
    fields: list[str] = []
    if supplier is not UNSET:
        order.supplier = _active_supplier(supplier)
        fields.append("supplier")
    if location is not UNSET:
        order.location = check.open_location(location)
        fields.append("location")
    if note is not UNSET:
        order.note = check.text(note, field="note")
        fields.append("note")
    if expected_on is not UNSET:
        order.expected_on = expected_on
        fields.append("expected_on")
    if lines is not UNSET:
        cleaned = _clean_lines(lines)
        order.lines.all().delete()
        _write_lines(order, cleaned)
    if fields:
        order.save(update_fields=fields)
    return order


@operation
def purchase_order_place(*, order: PurchaseOrder, acting_user: User | None) -> PurchaseOrder:
    """Send a draft to the supplier (it can no longer be changed, only received or cancelled)."""
    check.require_permission(acting_user)
    order = _locked(order)
    if order.status != PurchaseOrderStatus.DRAFT:
        raise inventory_error(InventoryError.ORDER_NOT_DRAFT)
    if not order.lines.exists():
        raise inventory_error(InventoryError.NO_LINES)
    _active_supplier(order.supplier)
    order.status = PurchaseOrderStatus.ORDERED
    order.ordered_at = timezone.now()
    order.save(update_fields=["status", "ordered_at"])
    audit_record(action="inventory.purchase_order_placed", actor=acting_user, target=order)
    return order


@operation
def purchase_order_receive(
    *,
    order: PurchaseOrder,
    lines: Sequence[tuple[PurchaseOrderLine | int, Any]],
    idempotency_key: str,
    acting_user: User | None,
    note: str = "",
) -> ReceiptResult:
    """Book a delivery against a placed order: ``lines`` are (order line or its id, quantity arrived).
    Each line may come in several deliveries, never more than ordered in all (RECEIVE_TOO_MUCH names
    what is still outstanding). The order becomes partially received, or received when every line is
    complete. Replaying the key returns the first call's movements."""
    check.require_permission(acting_user)
    key = check.key(idempotency_key)
    note = check.text(note, field="note")
    # The order's row lock serialises deliveries of one order; products and levels are locked after it.
    order = _locked(order)
    order_lines = {line.pk: line for line in order.lines.select_related("product").order_by("pk")}
    arriving: dict[int, Decimal] = {}
    for line, quantity in lines:
        line_id = line.pk if isinstance(line, PurchaseOrderLine) else line
        if isinstance(line_id, bool) or not isinstance(line_id, int) or line_id not in order_lines:
            raise inventory_error(InventoryError.LINE_NOT_ON_ORDER)
        if line_id in arriving:
            raise inventory_error(InventoryError.DUPLICATE_PRODUCT)
        arriving[line_id] = check.quantity(quantity)
    if not arriving:
        raise inventory_error(InventoryError.NO_LINES)

    def build(products: dict[int, Product]) -> list[Change]:
        if order.status not in RECEIVABLE:
            raise inventory_error(InventoryError.ORDER_NOT_RECEIVABLE)
        changed = []
        for line_id, quantity in sorted(arriving.items()):
            line = order_lines[line_id]
            if quantity > line.quantity_outstanding:
                raise inventory_error(
                    InventoryError.RECEIVE_TOO_MUCH,
                    message=_("%(product)s: only %(left)s are still to come on this order.")
                    % {"product": line.product, "left": fmt(line.quantity_outstanding)},
                    extra={"line": line.pk, "outstanding": str(line.quantity_outstanding)},
                )
            line.quantity_received += quantity
            changed.append(line)
        PurchaseOrderLine.objects.bulk_update(changed, ["quantity_received"])
        complete = all(line.quantity_received >= line.quantity_ordered for line in order_lines.values())
        order.status = PurchaseOrderStatus.RECEIVED if complete else PurchaseOrderStatus.PARTIALLY_RECEIVED
        order.received_at = timezone.now() if complete else None
        order.save(update_fields=["status", "received_at"])
        return [
            Change(
                order.location_id,
                order_lines[line_id].product_id,
                MovementKind.PURCHASE_RECEIPT,
                quantity,
                unit_cost=order_lines[line_id].unit_cost,
                purchase_order_id=order.pk,
            )
            for line_id, quantity in sorted(arriving.items())
        ]

    result = record(
        operation="receipt",
        key=key,
        product_ids=[order_lines[line_id].product_id for line_id in arriving],
        build=build,
        reference=order.number,
        acting_user=acting_user,
        note=note,
        matches=lambda earlier: all(m.purchase_order_id == order.pk for m in earlier),
    )
    if not result.replayed:
        audit_record(
            action="inventory.purchase_order_received",
            actor=acting_user,
            target=order,
            data={"lines": [[pk, str(q)] for pk, q in sorted(arriving.items())], "status": order.status},
        )
    return ReceiptResult(order=order, movements=result.movements, replayed=result.replayed)


@operation
def purchase_order_cancel(*, order: PurchaseOrder, acting_user: User | None, reason: str = "") -> PurchaseOrder:
    """Close an order that will not (fully) arrive. Whatever was received stays in stock."""
    check.require_permission(acting_user)
    reason = check.text(reason, field="reason")
    order = _locked(order)
    if order.status in (PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.CANCELLED):
        raise inventory_error(InventoryError.ORDER_CLOSED)
    order.status = PurchaseOrderStatus.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancel_reason = reason
    order.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    received = sum((line.quantity_received for line in order.lines.all()), ZERO)
    audit_record(
        action="inventory.purchase_order_cancelled",
        actor=acting_user,
        target=order,
        data={"reason": reason, "received": str(received)},
    )
    return order

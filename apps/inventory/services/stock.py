"""Stock out and back in at the till (sales, refunds, the materials services use up), adjustments by
hand, low-stock alert levels, and counts entered in the catalogue.

The till calls ``stock_sale_record`` / ``stock_sale_reverse`` and ``stock_consume_for_services`` /
``stock_consume_for_services_reverse`` inside its own transaction, with the bill's reference and key;
each costs a fixed handful of statements whatever the number of lines."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from decimal import ROUND_UP, Decimal
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext as _

from apps.catalog.models import Product, Service, ServiceMaterial
from apps.core.models import Location, User
from apps.core.services import audit_record
from apps.inventory.errors import InventoryError, inventory_error
from apps.inventory.models import (
    ZERO,
    AdjustmentReason,
    MaterialUnit,
    MovementKind,
    StockLevel,
    StockMovement,
)
from apps.inventory.services import _common as check
from apps.inventory.services._common import operation
from apps.inventory.services._ledger import Change, StockResult, fmt, lock_products, record, whole_units
from apps.inventory.units import material_in_stock_units


def _known_cost(product: Product) -> int | None:
    """A product's cost as the catalogue knows it; 0 means nobody entered one."""
    return product.cost or None


def _aggregate(items: Iterable[tuple[Product, Any]], *, field: str = "items") -> dict[int, Decimal]:
    """{product id: pieces} with each product once (a bill may list one product on two lines)."""
    wanted: dict[int, Decimal] = {}
    for product, pieces in items:
        if not isinstance(product, Product) or product.pk is None:
            raise inventory_error(InventoryError.NOT_FOUND)
        wanted[product.pk] = wanted.get(product.pk, ZERO) + check.whole_quantity(pieces, field=field)
    return wanted


def _same_lines(expected: dict[tuple[int, int, str], Decimal]) -> Any:
    """A replay check for operations whose lines the caller states exactly."""

    def matches(earlier: list[StockMovement]) -> bool:
        return {(m.location_id, m.product_id, m.kind): m.quantity for m in earlier} == expected

    return matches


def _same_kind(location: Location, kind: str, product_ids: Iterable[int]) -> Any:
    """A replay check for computed lines (materials): same kind and place, products among those asked."""
    allowed = set(product_ids)

    def matches(earlier: list[StockMovement]) -> bool:
        return all(m.kind == kind and m.location_id == location.pk and m.product_id in allowed for m in earlier)

    return matches


def _taken_under(
    reference: str, location: Location, product_ids: Iterable[int], kinds: tuple[str, str]
) -> dict[int, Decimal]:
    """What was taken out under ``reference`` at ``location`` and not yet given back, per product."""
    rows = (
        StockMovement.objects.filter(
            reference=reference, location=location, product_id__in=list(product_ids), kind__in=kinds
        )
        .values("product_id")
        .annotate(total=Sum("quantity"))
    )
    return {row["product_id"]: -row["total"] for row in rows}


# --- sales -----------------------------------------------------------------------------------------


@operation
def stock_sale_record(
    *,
    location: Location,
    items: Sequence[tuple[Product, int]],
    reference: str,
    idempotency_key: str,
    acting_user: User | None,
) -> StockResult:
    """Take the products of a paid bill out of ``location``'s stock: ``items`` are (product, pieces).

    Refused with INSUFFICIENT_STOCK (naming the product and what is on hand), nothing written, when a
    product would go below zero and the salon forbids negative stock; when it allows it, the movement
    and the level are flagged. Replaying the key returns the first call's movements."""
    key = check.key(idempotency_key)
    reference = check.reference(reference)
    wanted = _aggregate(items)
    if not wanted:
        return StockResult([])
    return record(
        operation="sale",
        key=key,
        product_ids=wanted,
        build=lambda products: [
            Change(location.pk, pk, MovementKind.SALE, -pieces, unit_cost=_known_cost(products[pk]))
            for pk, pieces in sorted(wanted.items())
        ],
        reference=reference,
        acting_user=acting_user,
        matches=_same_lines({(location.pk, pk, MovementKind.SALE): -q for pk, q in wanted.items()}),
        locations={location.pk: location},
    )


@operation
def stock_sale_reverse(
    *,
    location: Location,
    items: Sequence[tuple[Product, int]],
    reference: str,
    idempotency_key: str,
    acting_user: User | None,
) -> StockResult:
    """Put refunded products back into ``location``'s stock. Never more than the sales recorded under the
    same ``reference`` at that location took out (less what earlier refunds put back): REVERSAL_TOO_LARGE
    names the product and what is left; NOTHING_TO_REVERSE when nothing was sold under it."""
    key = check.key(idempotency_key)
    reference = check.reference(reference)
    wanted = _aggregate(items)
    if not wanted:
        return StockResult([])

    def build(products: dict[int, Product]) -> list[Change]:
        left = _taken_under(reference, location, wanted, (MovementKind.SALE, MovementKind.SALE_REVERSAL))
        if not left:  # no sale of these products under this reference here at all
            raise inventory_error(InventoryError.NOTHING_TO_REVERSE)
        for pk, pieces in sorted(wanted.items()):
            if pieces > left.get(pk, ZERO):
                raise inventory_error(
                    InventoryError.REVERSAL_TOO_LARGE,
                    message=_("Only %(left)s of %(product)s can be given back under this reference.")
                    % {"left": fmt(left.get(pk, ZERO)), "product": products[pk]},
                    extra={"product": pk, "left": str(left.get(pk, ZERO))},
                )
        return [
            Change(location.pk, pk, MovementKind.SALE_REVERSAL, pieces, unit_cost=_known_cost(products[pk]))
            for pk, pieces in sorted(wanted.items())
        ]

    return record(
        operation="sale-reversal",
        key=key,
        product_ids=wanted,
        build=build,
        reference=reference,
        acting_user=acting_user,
        matches=_same_lines({(location.pk, pk, MovementKind.SALE_REVERSAL): q for pk, q in wanted.items()}),
        locations={location.pk: location},
    )


# --- materials used by services (CAT-1) ------------------------------------------------------------


def _materials_needed(services: Sequence[tuple[Service, int]]) -> dict[int, Decimal]:
    """{product id: quantity in the product's own unit} that ``services`` (service, times performed) use
    up, by the catalogue's materials, each product's total rounded up to the thousandth."""
    times: dict[int, int] = {}
    for service, performed in services:
        if not isinstance(service, Service) or service.pk is None:
            raise inventory_error(InventoryError.NOT_FOUND)
        times[service.pk] = times.get(service.pk, 0) + int(check.whole_quantity(performed, field="services"))
    if not times:
        return {}
    materials = list(
        ServiceMaterial.objects.filter(service_id__in=list(times))
        .select_related("product")
        .only("service_id", "quantity", "unit", "product__id", "product__name", "product__brand", "product__spec")
        .order_by("pk")
    )
    if not materials:
        return {}
    units = {
        (row.product_id, row.unit.strip().lower()): row.per_stock_unit
        for row in MaterialUnit.objects.filter(product_id__in={m.product_id for m in materials})
    }
    exact: dict[int, Decimal] = {}
    for material in materials:
        per_unit = material_in_stock_units(material, units)
        if per_unit is None:
            raise inventory_error(
                InventoryError.MATERIAL_UNIT_UNKNOWN,
                message=_(
                    "%(product)s is used in %(unit)s: say how many %(unit)s one unit of it holds "
                    "(Inventory → Material units) before services that use it can be recorded."
                )
                % {"product": material.product, "unit": material.unit},
                extra={"product": material.product_id, "unit": material.unit},
            )
        exact[material.product_id] = exact.get(material.product_id, ZERO) + per_unit * times[material.service_id]
    # Rounded up: a service that used some of a bottle never takes nothing off.
    return {pk: amount.quantize(check.THOUSANDTH, rounding=ROUND_UP) for pk, amount in exact.items()}


def stock_consume_for_services(
    *,
    location: Location,
    services: Sequence[tuple[Service, int]],
    reference: str,
    idempotency_key: str,
    acting_user: User | None,
) -> StockResult:
    """Take the materials of the services performed (the catalogue's materials per service, times the
    number of times each was done) out of ``location``'s stock. Same negative-stock rule as a sale;
    MATERIAL_UNIT_UNKNOWN when a material's unit cannot be turned into units of its product.

    The materials are read before the transaction opens: services that use none (most cuts) cost the
    checkout one read and no savepoint."""
    key = check.key(idempotency_key)
    reference = check.reference(reference)
    needed = _materials_needed(services)
    if not needed:
        return StockResult([])
    return _consume(location=location, needed=needed, key=key, reference=reference, acting_user=acting_user)


@operation
def _consume(
    *, location: Location, needed: dict[int, Decimal], key: str, reference: str, acting_user: User | None
) -> StockResult:
    return record(
        operation="consumption",
        key=key,
        product_ids=needed,
        build=lambda products: [
            Change(location.pk, pk, MovementKind.CONSUMPTION, -amount, unit_cost=_known_cost(products[pk]))
            for pk, amount in sorted(needed.items())
        ],
        reference=reference,
        acting_user=acting_user,
        matches=_same_kind(location, MovementKind.CONSUMPTION, needed),
        locations={location.pk: location},
    )


@operation
def stock_consume_for_services_reverse(
    *,
    location: Location,
    services: Sequence[tuple[Service, int]],
    reference: str,
    idempotency_key: str,
    acting_user: User | None,
) -> StockResult:
    """Put back the materials of refunded services, worked out as ``stock_consume_for_services`` does,
    but never more of a product than the consumption under the same ``reference`` at that location took
    (less what was already put back): if the service's materials changed since, the refund restores at
    most what was really used. NOTHING_TO_REVERSE when nothing is left to put back."""
    key = check.key(idempotency_key)
    reference = check.reference(reference)
    needed = _materials_needed(services)
    if not needed:
        return StockResult([])

    def build(products: dict[int, Product]) -> list[Change]:
        left = _taken_under(reference, location, needed, (MovementKind.CONSUMPTION, MovementKind.CONSUMPTION_REVERSAL))
        changes = [
            Change(
                location.pk,
                pk,
                MovementKind.CONSUMPTION_REVERSAL,
                min(amount, left.get(pk, ZERO)),
                unit_cost=_known_cost(products[pk]),
            )
            for pk, amount in sorted(needed.items())
            if left.get(pk, ZERO) > 0
        ]
        if not changes:
            raise inventory_error(InventoryError.NOTHING_TO_REVERSE)
        return changes

    return record(
        operation="consumption-reversal",
        key=key,
        product_ids=needed,
        build=build,
        reference=reference,
        acting_user=acting_user,
        matches=_same_kind(location, MovementKind.CONSUMPTION_REVERSAL, needed),
        locations={location.pk: location},
    )


# --- adjustments -----------------------------------------------------------------------------------


@operation
def stock_adjust(
    *,
    location: Location,
    product: Product,
    quantity: Any,
    reason: str,
    idempotency_key: str,
    acting_user: User | None,
    note: str = "",
) -> StockResult:
    """Change a location's stock of a product by hand (``quantity`` signed: broken, found, used in the
    salon), with a reason; "other" needs a note. The negative-stock rule applies to a decrease. Audited."""
    check.require_permission(acting_user)
    key = check.key(idempotency_key)
    change = check.signed_quantity(quantity)
    if not reason:
        raise inventory_error(InventoryError.REASON_REQUIRED)
    if reason not in AdjustmentReason.values:
        raise inventory_error(InventoryError.INVALID_REASON)
    note = check.text(note, field="note")
    if reason == AdjustmentReason.OTHER and not note:
        raise inventory_error(InventoryError.REASON_REQUIRED, field="note", message=_("Say what happened."))
    check.open_location(location)
    result = record(
        operation="adjustment",
        key=key,
        product_ids=[product.pk],
        build=lambda products: [
            Change(
                location.pk,
                product.pk,
                MovementKind.ADJUSTMENT,
                change,
                unit_cost=_known_cost(products[product.pk]),
                reason=reason,
            )
        ],
        reference=f"adjustment:{key}"[:100],
        acting_user=acting_user,
        note=note,
        matches=_same_lines({(location.pk, product.pk, MovementKind.ADJUSTMENT): change}),
        locations={location.pk: location},
    )
    if not result.replayed:
        movement = result.movements[0]
        audit_record(
            action="inventory.stock_adjusted",
            actor=acting_user,
            target=product,
            data={
                "location": location.pk,
                "quantity": str(change),
                "after": str(movement.quantity_after),
                "reason": reason,
                "note": note,
            },
        )
    return result


# --- low-stock alert levels ------------------------------------------------------------------------


@operation
def stock_reorder_level_set(
    *, location: Location, product: Product, reorder_level: Any, acting_user: User | None
) -> StockLevel:
    """Set the quantity at or below which ``product`` is listed as low at ``location`` (None: no alert)."""
    check.require_permission(acting_user)
    level_value = check.threshold(reorder_level)
    # The product lock is the one every stock writer takes first (see _ledger): the level row is created
    # here or there, never by both at once.
    lock_products([product.pk])
    level = StockLevel.objects.select_for_update().filter(location=location, product=product).first()
    if level is None:
        return StockLevel.objects.create(location=location, product=product, reorder_level=level_value)
    if level.reorder_level != level_value:
        level.reorder_level = level_value
        level.save(update_fields=["reorder_level"])
    return level


# --- counts entered in the catalogue ----------------------------------------------------------------


def main_location() -> Location | None:
    """The salon's first open location (the one it signed up with, unless closed since)."""
    return Location.objects.filter(is_active=True).order_by("pk").first()


def stock_count_from_catalogue(*, product: Product, stock: int, acting_user: User | None, reason: str = "") -> None:
    """Keep a whole-product figure typed in the catalogue (opening stock, the product page's stock
    field, ``PATCH /api/v1/products/{id}/ {"stock"}``) true per location: the difference lands at the
    main location as a counted adjustment, so that the whole units over all locations equal ``stock``.

    Refused (on the ``stock`` field) when the other locations already hold more than ``stock``: such a
    count has to be taken per location, under Inventory. Runs inside the catalogue's transaction, which
    already holds the product's row lock (the lock every stock writer takes first)."""
    location = main_location()
    if location is None:
        raise inventory_error(InventoryError.NO_LOCATION)
    levels = {level.location_id: level.quantity for level in StockLevel.objects.filter(product=product)}
    elsewhere = sum(whole_units(q) for loc, q in levels.items() if loc != location.pk)
    if stock < elsewhere:
        raise inventory_error(
            InventoryError.COUNT_BELOW_OTHER_LOCATIONS,
            message=_("Other locations hold %(elsewhere)s of this product: count it per location under Inventory.")
            % {"elsewhere": elsewhere},
        )
    difference = Decimal(stock - elsewhere) - levels.get(location.pk, ZERO)
    record(
        operation="catalogue-count",
        key=uuid.uuid4().hex,
        product_ids=[product.pk],
        build=lambda products: [
            Change(
                location.pk,
                product.pk,
                MovementKind.ADJUSTMENT,
                difference,
                unit_cost=_known_cost(products[product.pk]),
                reason=AdjustmentReason.COUNT,
            )
        ],
        reference=f"product:{product.pk}",
        acting_user=acting_user,
        note=str(reason or "")[:200],
        matches=lambda earlier: False,
        locations={location.pk: location},
    )

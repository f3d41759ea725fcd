"""Adjustments, transfers, purchase orders (partial receipts), stocktakes (variance → movements), alert
levels, and counts typed in the catalogue — each through its service, with two salons."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from apps.catalog import services as catalog
from apps.catalog.models import Product
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.inventory import selectors
from apps.inventory.errors import InventoryError
from apps.inventory.models import (
    MovementKind,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    StockLevel,
    StockMovement,
    StocktakeStatus,
    StockTransfer,
)
from apps.inventory.services import (
    OrderLineSpec,
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_place,
    purchase_order_receive,
    purchase_order_update,
    stock_adjust,
    stock_reorder_level_set,
    stock_sale_record,
    stock_transfer_create,
    stocktake_count,
    stocktake_open,
    stocktake_post,
)
from apps.inventory.tests.helpers import (
    allow_negative,
    catalogue_stock,
    main_location,
    on_hand,
    product,
    second_location,
    stock_in,
)
from tests.fixtures import make_staff, owner_of

D = Decimal


@pytest.fixture
def salon(in_alpha):
    main, branch = main_location(), second_location()
    shampoo, mask = product("Shampoo"), product("Mask", cost=2500, spec="200 ml")
    supplier = catalog.supplier_create(name="Guangzhou Beauty Supply")
    return {
        "main": main,
        "branch": branch,
        "shampoo": shampoo,
        "mask": mask,
        "supplier": supplier,
        "owner": owner_of(in_alpha),
        "info": in_alpha,
    }


# --- adjustments -----------------------------------------------------------------------------------


def test_an_adjustment_needs_a_reason_and_is_audited(salon):
    main, shampoo, owner = salon["main"], salon["shampoo"], salon["owner"]
    stock_in(main, shampoo, 5)
    # when two bottles broke
    result = stock_adjust(
        location=main,
        product=shampoo,
        quantity=-2,
        reason="damaged",
        note="dropped",
        idempotency_key="a1",
        acting_user=owner,
    )
    # then
    movement = result.movements[0]
    assert (movement.kind, movement.quantity, movement.quantity_after, movement.reason, movement.note) == (
        MovementKind.ADJUSTMENT,
        D("-2"),
        D("3"),
        "damaged",
        "dropped",
    )
    entry = AuditEntry.objects.filter(action="inventory.stock_adjusted").latest("id")
    assert entry.data == {
        "location": main.pk,
        "quantity": "-2.000",
        "after": "3.000",
        "reason": "damaged",
        "note": "dropped",
    }
    assert catalogue_stock(shampoo) == 3
    # and bad input is refused with nothing written
    cases = [
        ({"reason": ""}, InventoryError.REASON_REQUIRED, "reason"),
        ({"reason": "bored"}, InventoryError.INVALID_REASON, "reason"),
        ({"reason": "other", "note": ""}, InventoryError.REASON_REQUIRED, "note"),
        ({"quantity": 0}, InventoryError.INVALID_QUANTITY, "quantity"),
        ({"quantity": "0.0001"}, InventoryError.INVALID_QUANTITY, "quantity"),
        ({"quantity": "1e9"}, InventoryError.INVALID_QUANTITY, "quantity"),
        ({"quantity": "abc"}, InventoryError.INVALID_QUANTITY, "quantity"),
        ({"quantity": -9}, InventoryError.INSUFFICIENT_STOCK, None),
    ]
    for change, code, field in cases:
        values = {"quantity": -1, "reason": "lost", "note": ""} | change
        with pytest.raises(ServiceError) as refused:
            stock_adjust(location=main, product=shampoo, idempotency_key=f"bad{code}", acting_user=owner, **values)
        assert refused.value.code == code, change
        assert (list(refused.value.errors) == [field]) if field else not refused.value.errors
    assert on_hand(main, shampoo) == D("3")
    assert StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).count() == 2


def test_staff_without_the_permission_cannot_adjust(salon):
    desk = make_staff(salon["info"], role="front_desk", username="desk")
    with pytest.raises(ServiceError) as refused:
        stock_adjust(
            location=salon["main"],
            product=salon["shampoo"],
            quantity=1,
            reason="found",
            idempotency_key="x",
            acting_user=desk,
        )
    assert (refused.value.code, refused.value.status) == (InventoryError.PERMISSION_DENIED, 403)
    assert not StockMovement.objects.exists()


def test_alert_levels_mark_low_stock(salon):
    main, branch, shampoo, mask = salon["main"], salon["branch"], salon["shampoo"], salon["mask"]
    stock_in(main, shampoo, 5)
    stock_in(branch, shampoo, 2)
    stock_in(main, mask, 1)
    stock_reorder_level_set(location=main, product=shampoo, reorder_level=D("5"), acting_user=salon["owner"])
    stock_reorder_level_set(location=branch, product=shampoo, reorder_level=D("1"), acting_user=salon["owner"])
    level = stock_reorder_level_set(location=branch, product=mask, reorder_level="2", acting_user=salon["owner"])
    assert level.quantity == 0  # a level met for the first time
    low = [(lv.location_id, lv.product_id) for lv in selectors.low_stock_levels()]
    assert low == [(main.pk, shampoo.pk), (branch.pk, mask.pk)]
    assert selectors.low_stock_count() == 2
    # cleared with None; refused below zero
    stock_reorder_level_set(location=main, product=shampoo, reorder_level=None, acting_user=salon["owner"])
    assert selectors.low_stock_count() == 1
    with pytest.raises(ServiceError) as refused:
        stock_reorder_level_set(location=main, product=shampoo, reorder_level="-1", acting_user=salon["owner"])
    assert refused.value.code == InventoryError.INVALID_THRESHOLD


# --- transfers -------------------------------------------------------------------------------------


def test_a_transfer_moves_every_line_at_once(salon):
    main, branch, shampoo, mask, owner = salon["main"], salon["branch"], salon["shampoo"], salon["mask"], salon["owner"]
    stock_in(main, shampoo, 5)
    stock_in(main, mask, 2)
    # when 3 shampoos and 2 masks go to the branch
    transfer = stock_transfer_create(
        from_location=main,
        to_location=branch,
        lines=[(shampoo, 3), (mask, "2")],
        note="weekly top-up",
        idempotency_key="t1",
        acting_user=owner,
    )
    # then both leave and arrive, and the catalogue's total is unchanged
    assert [
        (m.location_id, m.product_id, m.kind, m.quantity, m.quantity_after) for m in transfer.movements.order_by("line")
    ] == [
        (main.pk, shampoo.pk, MovementKind.TRANSFER_OUT, D("-3"), D("2")),
        (main.pk, mask.pk, MovementKind.TRANSFER_OUT, D("-2"), D("0")),
        (branch.pk, shampoo.pk, MovementKind.TRANSFER_IN, D("3"), D("3")),
        (branch.pk, mask.pk, MovementKind.TRANSFER_IN, D("2"), D("2")),
    ]
    assert (catalogue_stock(shampoo), catalogue_stock(mask)) == (5, 2)
    assert [(line.product_id, line.quantity) for line in transfer.lines.order_by("pk")] == [
        (shampoo.pk, D("3")),
        (mask.pk, D("2")),
    ]
    # a replay returns the same transfer
    again = stock_transfer_create(
        from_location=main,
        to_location=branch,
        lines=[(shampoo, 3), (mask, "2")],
        idempotency_key="t1",
        acting_user=owner,
    )
    assert (again.pk, again.replayed) == (transfer.pk, True)
    assert StockTransfer.objects.count() == 1


def test_a_transfer_short_on_one_line_moves_nothing(salon):
    main, branch, shampoo, mask = salon["main"], salon["branch"], salon["shampoo"], salon["mask"]
    stock_in(main, shampoo, 5)
    stock_in(main, mask, 1)
    with pytest.raises(ServiceError) as refused:
        stock_transfer_create(
            from_location=main,
            to_location=branch,
            lines=[(shampoo, 3), (mask, 2)],
            idempotency_key="t",
            acting_user=None,
        )
    assert refused.value.message == f"Not enough {mask} at {main.name}: 1 on hand, 2 needed."
    assert (on_hand(main, shampoo), on_hand(branch, shampoo), on_hand(main, mask)) == (D("5"), D("0"), D("1"))
    assert not StockTransfer.objects.exists()
    assert not StockMovement.objects.filter(kind__in=[MovementKind.TRANSFER_IN, MovementKind.TRANSFER_OUT]).exists()
    for lines, to, code in (
        ([(shampoo, 1)], main, InventoryError.SAME_LOCATION),
        ([], branch, InventoryError.NO_LINES),
        ([(shampoo, 1), (shampoo, 1)], branch, InventoryError.DUPLICATE_PRODUCT),
        ([(shampoo, 0)], branch, InventoryError.INVALID_QUANTITY),
    ):
        with pytest.raises(ServiceError) as bad:
            stock_transfer_create(
                from_location=main, to_location=to, lines=lines, idempotency_key="t", acting_user=None
            )
        assert bad.value.code == code


# --- purchase orders -------------------------------------------------------------------------------


def test_a_purchase_order_is_received_in_two_deliveries(salon):
    main, shampoo, mask, owner = salon["main"], salon["shampoo"], salon["mask"], salon["owner"]
    # given a draft for 10 shampoos at ¥38.00 and 4 masks at the catalogue's cost
    order = purchase_order_create(
        supplier=salon["supplier"],
        location=main,
        lines=[OrderLineSpec(shampoo, 10, 3800), OrderLineSpec(mask, "4")],
        acting_user=owner,
    )
    lines = {line.product_id: line for line in order.lines.all()}
    assert (order.status, lines[mask.pk].unit_cost) == (PurchaseOrderStatus.DRAFT, 2500)
    # a draft receives nothing
    with pytest.raises(ServiceError) as early:
        purchase_order_receive(order=order, lines=[(lines[shampoo.pk], 1)], idempotency_key="early", acting_user=owner)
    assert early.value.code == InventoryError.ORDER_NOT_RECEIVABLE
    purchase_order_place(order=order, acting_user=owner)
    # when 6 shampoos arrive first
    first = purchase_order_receive(
        order=order, lines=[(lines[shampoo.pk].pk, 6)], idempotency_key="d1", acting_user=owner
    )
    # then stock rises and the order is partially received
    assert first.order.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert [(m.kind, m.quantity, m.unit_cost, m.reference) for m in first.movements] == [
        (MovementKind.PURCHASE_RECEIPT, D("6"), 3800, order.number)
    ]
    assert (on_hand(main, shampoo), catalogue_stock(shampoo)) == (D("6"), 6)
    # more than outstanding is refused, naming what is still to come
    with pytest.raises(ServiceError) as too_much:
        purchase_order_receive(order=order, lines=[(lines[shampoo.pk], 5)], idempotency_key="d2", acting_user=owner)
    assert too_much.value.code == InventoryError.RECEIVE_TOO_MUCH
    assert too_much.value.message == f"{shampoo}: only 4 are still to come on this order."
    assert on_hand(main, shampoo) == D("6")
    # when the rest arrives, the order is received
    second = purchase_order_receive(
        order=order, lines=[(lines[shampoo.pk], 4), (lines[mask.pk], "4")], idempotency_key="d2", acting_user=owner
    )
    order.refresh_from_db()
    assert (order.status, order.received_at is not None) == (PurchaseOrderStatus.RECEIVED, True)
    assert [line.quantity_received for line in order.lines.order_by("pk")] == [D("10"), D("4")]
    assert (on_hand(main, shampoo), on_hand(main, mask)) == (D("10"), D("4"))
    # a replayed delivery changes nothing
    again = purchase_order_receive(
        order=order, lines=[(lines[shampoo.pk], 4), (lines[mask.pk], "4")], idempotency_key="d2", acting_user=owner
    )
    assert again.replayed and [m.pk for m in again.movements] == [m.pk for m in second.movements]
    assert on_hand(main, shampoo) == D("10")
    # a received order can no longer be cancelled
    with pytest.raises(ServiceError) as closed:
        purchase_order_cancel(order=order, acting_user=owner)
    assert closed.value.code == InventoryError.ORDER_CLOSED


def test_the_database_keeps_received_within_ordered(salon):
    order = purchase_order_create(
        supplier=salon["supplier"], location=salon["main"], lines=[OrderLineSpec(salon["shampoo"], 2)], acting_user=None
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseOrderLine.objects.filter(order=order).update(quantity_received=D("3"))


def test_cancelling_a_partly_received_order_keeps_what_arrived(salon):
    main, shampoo = salon["main"], salon["shampoo"]
    order = purchase_order_create(
        supplier=salon["supplier"], location=main, lines=[OrderLineSpec(shampoo, 5)], acting_user=None
    )
    purchase_order_place(order=order, acting_user=None)
    purchase_order_receive(order=order, lines=[(order.lines.get(), 2)], idempotency_key="d", acting_user=None)
    purchase_order_cancel(order=order, reason="discontinued", acting_user=None)
    order.refresh_from_db()
    assert (order.status, order.cancel_reason, on_hand(main, shampoo)) == (
        PurchaseOrderStatus.CANCELLED,
        "discontinued",
        D("2"),
    )
    with pytest.raises(ServiceError) as refused:
        purchase_order_receive(order=order, lines=[(order.lines.get(), 1)], idempotency_key="late", acting_user=None)
    assert refused.value.code == InventoryError.ORDER_NOT_RECEIVABLE


def test_only_a_draft_changes_and_a_placed_order_needs_lines(salon):
    owner = salon["owner"]
    order = purchase_order_create(supplier=salon["supplier"], location=salon["main"], acting_user=owner)
    with pytest.raises(ServiceError) as empty:
        purchase_order_place(order=order, acting_user=owner)
    assert empty.value.code == InventoryError.NO_LINES
    purchase_order_update(order=order, lines=[OrderLineSpec(salon["mask"], 3, 2000)], note="rush", acting_user=owner)
    purchase_order_place(order=order, acting_user=owner)
    with pytest.raises(ServiceError) as placed:
        purchase_order_update(order=order, note="later", acting_user=owner)
    assert placed.value.code == InventoryError.ORDER_NOT_DRAFT
    order.refresh_from_db()
    assert (order.note, [(line.quantity_ordered, line.unit_cost) for line in order.lines.all()]) == (
        "rush",
        [(D("3"), 2000)],
    )
    # a deactivated supplier takes no new orders
    supplier = catalog.supplier_deactivate(supplier=salon["supplier"], acting_user=None)
    with pytest.raises(ServiceError) as inactive:
        purchase_order_create(supplier=supplier, location=salon["main"], acting_user=owner)
    assert inactive.value.code == InventoryError.SUPPLIER_INACTIVE


# --- stocktakes ------------------------------------------------------------------------------------


def test_a_stocktake_turns_differences_into_movements(salon):
    main, shampoo, mask, owner = salon["main"], salon["shampoo"], salon["mask"], salon["owner"]
    stock_in(main, shampoo, 10)
    stock_in(main, mask, 4)
    third = product("Spray")
    # when the sheet is opened, 2 shampoos are sold, then the shelf is counted: 7 shampoos, 5 masks
    sheet = stocktake_open(location=main, acting_user=owner)
    assert {(line.product_id, line.expected) for line in sheet.lines.all()} == {
        (shampoo.pk, D("10")),
        (mask.pk, D("4")),
        (third.pk, D("0")),
    }
    stock_sale_record(location=main, items=[(shampoo, 2)], reference="bill", idempotency_key="bill", acting_user=None)
    stocktake_count(stocktake=sheet, counts=[(shampoo, "7"), (mask.pk, 5)], acting_user=owner)
    # then the variance is counted against the books at the moment of counting (8 after the sale)
    report = selectors.stocktake_variance(sheet)
    assert [(row.line.product_id, row.variance, row.value) for row in report.rows] == [
        (shampoo.pk, D("-1"), -4000),  # the largest value first
        (mask.pk, D("1"), 2500),
    ]
    assert (report.counted, report.lines, report.shortage_value, report.surplus_value) == (2, 3, -4000, 2500)
    # when posted, each difference is a stocktake movement and uncounted lines change nothing
    result = stocktake_post(stocktake=sheet, acting_user=owner)
    assert sorted((m.product_id, m.kind, m.quantity, m.quantity_after) for m in result.movements) == sorted(
        [(shampoo.pk, MovementKind.STOCKTAKE, D("-1"), D("7")), (mask.pk, MovementKind.STOCKTAKE, D("1"), D("5"))]
    )
    sheet.refresh_from_db()
    assert sheet.status == StocktakeStatus.POSTED
    assert (catalogue_stock(shampoo), catalogue_stock(mask), on_hand(main, third)) == (7, 5, D("0"))
    with pytest.raises(ServiceError) as posted:
        stocktake_post(stocktake=sheet, acting_user=owner)
    assert posted.value.code == InventoryError.STOCKTAKE_NOT_OPEN


def test_one_open_sheet_per_location_and_counts_must_be_on_it(salon):
    main, owner = salon["main"], salon["owner"]
    sheet = stocktake_open(location=main, acting_user=owner)
    with pytest.raises(ServiceError) as twice:
        stocktake_open(location=main, acting_user=owner)
    assert twice.value.code == InventoryError.STOCKTAKE_ALREADY_OPEN
    stocktake_open(location=salon["branch"], acting_user=owner)  # another location may count at the same time
    with pytest.raises(ServiceError) as unknown:
        stocktake_count(stocktake=sheet, counts=[(999999, 1)], acting_user=owner)
    assert unknown.value.code == InventoryError.NOT_ON_SHEET
    with pytest.raises(ServiceError) as negative:
        stocktake_count(stocktake=sheet, counts=[(salon["shampoo"], "-1")], acting_user=owner)
    assert negative.value.code == InventoryError.INVALID_COUNT
    with pytest.raises(ServiceError) as nothing:
        stocktake_post(stocktake=sheet, acting_user=owner)
    assert nothing.value.code == InventoryError.NOTHING_COUNTED


def test_a_count_below_what_was_sold_since_follows_the_negative_rule(salon):
    # given 5 on the books, counted 1, then 2 sold (negatives allowed at the till for the sale)
    main, shampoo, owner = salon["main"], salon["shampoo"], salon["owner"]
    stock_in(main, shampoo, 5)
    sheet = stocktake_open(location=main, acting_user=owner)
    stocktake_count(stocktake=sheet, counts=[(shampoo, 1)], acting_user=owner)
    stock_sale_record(location=main, items=[(shampoo, 2)], reference="b", idempotency_key="b", acting_user=None)
    # when posted: 3 − 4 would be −1 → refused while forbidden, nothing written
    with pytest.raises(ServiceError) as refused:
        stocktake_post(stocktake=sheet, acting_user=owner)
    assert refused.value.code == InventoryError.INSUFFICIENT_STOCK
    sheet.refresh_from_db()
    assert (sheet.status, on_hand(main, shampoo)) == (StocktakeStatus.OPEN, D("3"))
    allow_negative()
    stocktake_post(stocktake=sheet, acting_user=owner)
    level = StockLevel.objects.get(location=main, product=shampoo)
    assert (level.quantity, level.negative_since is not None) == (D("-1"), True)


# --- the catalogue's figure ------------------------------------------------------------------------


def test_a_count_typed_in_the_catalogue_lands_at_the_main_location(salon, beta):
    main, branch, owner = salon["main"], salon["branch"], salon["owner"]
    # given a product created with 12 in stock through the catalogue
    spray = catalog.product_create(name="Spray", price=6800, stock=12, acting_user=owner)
    assert (on_hand(main, spray), catalogue_stock(spray)) == (D("12"), 12)
    # and 3 moved to the branch
    stock_transfer_create(
        from_location=main, to_location=branch, lines=[(spray, 3)], idempotency_key="t", acting_user=owner
    )
    # when the product page says 10 in stock
    catalog.product_update(product=spray, stock=10, acting_user=owner)
    # then the branch keeps its 3 and the main store holds 7
    assert (on_hand(main, spray), on_hand(branch, spray), catalogue_stock(spray)) == (D("7"), D("3"), 10)
    counted = StockMovement.objects.filter(product=spray, kind=MovementKind.ADJUSTMENT).order_by("id")
    assert [(m.reason, m.quantity, m.note) for m in counted] == [
        ("count", D("12"), "opening stock"),
        ("count", D("-2"), "count"),
    ]
    # a figure below what the other locations hold has to be counted per location
    with pytest.raises(ServiceError) as refused:
        catalog.product_update(product=spray, stock=2, acting_user=owner)
    assert (refused.value.code, list(refused.value.errors)) == (InventoryError.COUNT_BELOW_OTHER_LOCATIONS, ["stock"])
    assert catalogue_stock(spray) == 10
    with schema_context(beta.schema):
        assert not Product.objects.filter(name="Spray").exists()


def test_the_catalogue_figure_is_the_whole_units_over_locations(salon):
    main, branch, shampoo = salon["main"], salon["branch"], salon["shampoo"]
    stock_in(main, shampoo, "2.5")
    stock_in(branch, shampoo, "1.6")
    assert catalogue_stock(shampoo) == 3  # 2 + 1 whole bottles; the opened ones are not units
    totals = selectors.totals_per_product()
    assert totals[shampoo.pk] == D("4.1")


def test_levels_and_movements_stay_in_step(salon):
    """Every level equals the sum of its movements, and each movement's figure after is the running sum."""
    main, branch, shampoo, mask = salon["main"], salon["branch"], salon["shampoo"], salon["mask"]
    stock_in(main, shampoo, 9)
    stock_in(main, mask, 3)
    stock_transfer_create(
        from_location=main, to_location=branch, lines=[(shampoo, 4)], idempotency_key="t", acting_user=None
    )
    stock_sale_record(location=branch, items=[(shampoo, 1)], reference="b", idempotency_key="b", acting_user=None)
    stock_adjust(location=main, product=mask, quantity=-1, reason="expired", idempotency_key="x", acting_user=None)
    for level in StockLevel.objects.all():
        running = D(0)
        for movement in StockMovement.objects.filter(location=level.location, product=level.product).order_by("id"):
            running += movement.quantity
            assert movement.quantity_after == running
        assert level.quantity == running
    assert PurchaseOrder.objects.count() == 0

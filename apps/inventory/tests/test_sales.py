"""Stock out at the till and back in on a refund: sales, reversals, the negative-stock rule, replays, and
what a sale costs in statements (the till's checkout has a budget)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.catalog.models import Product
from apps.core.errors import ServiceError
from apps.inventory.errors import InventoryError
from apps.inventory.models import MovementKind, StockLevel, StockMovement
from apps.inventory.services import stock_sale_record, stock_sale_reverse
from apps.inventory.tests.helpers import (
    allow_negative,
    catalogue_stock,
    main_location,
    on_hand,
    product,
    second_location,
    stock_in,
)
from tests.fixtures import owner_of

D = Decimal


@pytest.fixture
def shelf(in_alpha):
    """Shampoo 5 and conditioner 3 (no cost entered) at alpha's main store."""
    main = main_location()
    shampoo, conditioner = product("Shampoo"), product("Conditioner", cost=0)
    stock_in(main, shampoo, 5)
    stock_in(main, conditioner, 3)
    return {"main": main, "shampoo": shampoo, "conditioner": conditioner, "owner": owner_of(in_alpha)}


def test_a_sale_takes_exactly_what_was_sold_and_keeps_the_catalogue_total(shelf, beta):
    # given
    main, shampoo, conditioner = shelf["main"], shelf["shampoo"], shelf["conditioner"]
    with schema_context(beta.schema):
        theirs = product("Shampoo")
        stock_in(main_location(), theirs, 7)
    # when one bill sells 2 shampoos (on two lines) and 1 conditioner
    result = stock_sale_record(
        location=main,
        items=[(shampoo, 1), (conditioner, 1), (shampoo, 1)],
        reference="bill:1",
        idempotency_key="bill:1",
        acting_user=shelf["owner"],
    )
    # then
    assert not result.replayed and result.flagged == []
    assert [(m.product_id, m.kind, m.quantity, m.quantity_after, m.unit_cost) for m in result.movements] == [
        (shampoo.pk, MovementKind.SALE, D("-2"), D("3"), 4000),
        (conditioner.pk, MovementKind.SALE, D("-1"), D("2"), None),
    ]
    assert (on_hand(main, shampoo), on_hand(main, conditioner)) == (D("3"), D("2"))
    assert (catalogue_stock(shampoo), catalogue_stock(conditioner)) == (3, 2)
    stored = StockMovement.objects.get(kind=MovementKind.SALE, product=shampoo)
    assert (stored.reference, stored.idempotency_key, stored.actor_id) == ("bill:1", "sale:bill:1", shelf["owner"].pk)
    with schema_context(beta.schema):  # the other salon's stock is its own
        assert (on_hand(main_location(), theirs), catalogue_stock(theirs)) == (D("7"), 7)
        assert not StockMovement.objects.filter(kind=MovementKind.SALE).exists()


def test_a_refund_puts_back_what_the_bill_took(shelf):
    # given a bill that sold 2 shampoos
    main, shampoo = shelf["main"], shelf["shampoo"]
    stock_sale_record(location=main, items=[(shampoo, 2)], reference="bill:9", idempotency_key="k9", acting_user=None)
    # when one is refunded, then the other
    first = stock_sale_reverse(
        location=main, items=[(shampoo, 1)], reference="bill:9", idempotency_key="r1", acting_user=None
    )
    second = stock_sale_reverse(
        location=main, items=[(shampoo, 1)], reference="bill:9", idempotency_key="r2", acting_user=None
    )
    # then the shelf is back where it was, and a third refund is refused with nothing written
    assert [m.quantity_after for m in (first.movements + second.movements)] == [D("4"), D("5")]
    assert (on_hand(main, shampoo), catalogue_stock(shampoo)) == (D("5"), 5)
    with pytest.raises(ServiceError) as refused:
        stock_sale_reverse(
            location=main, items=[(shampoo, 1)], reference="bill:9", idempotency_key="r3", acting_user=None
        )
    assert refused.value.code == InventoryError.REVERSAL_TOO_LARGE
    assert refused.value.status == 409
    assert "Only 0 of" in refused.value.message
    assert StockMovement.objects.filter(kind=MovementKind.SALE_REVERSAL).count() == 2
    with pytest.raises(ServiceError) as unknown:
        stock_sale_reverse(
            location=main, items=[(shampoo, 1)], reference="bill:404", idempotency_key="r4", acting_user=None
        )
    assert unknown.value.code == InventoryError.NOTHING_TO_REVERSE


def test_a_refund_cannot_return_more_than_was_sold(shelf):
    main, shampoo = shelf["main"], shelf["shampoo"]
    stock_sale_record(location=main, items=[(shampoo, 1)], reference="bill:2", idempotency_key="k2", acting_user=None)
    with pytest.raises(ServiceError) as refused:
        stock_sale_reverse(
            location=main, items=[(shampoo, 2)], reference="bill:2", idempotency_key="r", acting_user=None
        )
    assert refused.value.code == InventoryError.REVERSAL_TOO_LARGE
    assert refused.value.as_dict()["left"] == "1.000"
    assert on_hand(main, shampoo) == D("4")


def test_selling_more_than_is_on_hand_is_refused_and_writes_nothing(shelf):
    # given negative stock is forbidden (the default) and 5 shampoos, 3 conditioners
    main, shampoo, conditioner = shelf["main"], shelf["shampoo"], shelf["conditioner"]
    before = StockMovement.objects.count()
    # when a bill asks for 1 shampoo and 4 conditioners
    with pytest.raises(ServiceError) as refused:
        stock_sale_record(
            location=main,
            items=[(shampoo, 1), (conditioner, 4)],
            reference="bill:3",
            idempotency_key="k3",
            acting_user=None,
        )
    # then it names the product and what is on hand, and nothing changed (not even the shampoo)
    error = refused.value
    assert (error.code, error.status) == (InventoryError.INSUFFICIENT_STOCK, 409)
    assert error.message == f"Not enough {conditioner} at {main.name}: 3 on hand, 4 needed."
    assert error.as_dict() | {"detail": ""} == {
        "detail": "",
        "code": "insufficient_stock",
        "product": conditioner.pk,
        "location": main.pk,
        "on_hand": "3.000",
        "needed": "4.000",
    }
    assert StockMovement.objects.count() == before
    assert (on_hand(main, shampoo), on_hand(main, conditioner)) == (D("5"), D("3"))
    assert (catalogue_stock(shampoo), catalogue_stock(conditioner)) == (5, 3)


def test_a_product_never_stocked_here_cannot_be_sold_here(shelf):
    branch = second_location()
    with pytest.raises(ServiceError) as refused:
        stock_sale_record(
            location=branch, items=[(shelf["shampoo"], 1)], reference="b", idempotency_key="k", acting_user=None
        )
    assert "0 on hand, 1 needed" in refused.value.message
    assert not StockLevel.objects.filter(location=branch).exists()


def test_when_allowed_a_sale_below_zero_goes_through_flagged(shelf):
    # given the salon allows negative stock
    allow_negative()
    main, conditioner = shelf["main"], shelf["conditioner"]
    # when 4 conditioners are sold with 3 on the shelf
    result = stock_sale_record(
        location=main, items=[(conditioner, 4)], reference="b4", idempotency_key="k4", acting_user=None
    )
    # then the movement and the level are flagged, and the catalogue counts nothing on the shelf
    movement = result.movements[0]
    assert (movement.quantity_after, movement.went_negative) == (D("-1"), True)
    assert result.flagged == [movement]
    level = StockLevel.objects.get(location=main, product=conditioner)
    assert (level.quantity, level.is_negative, level.negative_since is not None) == (D("-1"), True, True)
    assert catalogue_stock(conditioner) == 0
    # when two arrive, the flag clears
    stock_in(main, conditioner, 2)
    level.refresh_from_db()
    assert (level.quantity, level.negative_since, catalogue_stock(conditioner)) == (D("1"), None, 1)


def test_the_database_refuses_a_negative_level_when_forbidden(shelf):
    # given a writer that bypasses the services
    level = StockLevel.objects.get(location=shelf["main"], product=shelf["shampoo"])
    from django.db import IntegrityError, transaction

    # then PostgreSQL refuses a negative quantity without the flag, and with it while forbidden
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(pk=level.pk).update(quantity=-1)
    from django.utils import timezone

    with pytest.raises(IntegrityError, match="cannot go negative"), transaction.atomic():
        StockLevel.objects.filter(pk=level.pk).update(quantity=-1, negative_since=timezone.now())
    allow_negative()
    StockLevel.objects.filter(pk=level.pk).update(quantity=-1, negative_since=timezone.now())
    assert StockLevel.objects.get(pk=level.pk).quantity == D("-1")


def test_the_ledger_refuses_changes_and_deletions(shelf):
    from django.db import IntegrityError, InternalError, ProgrammingError, transaction

    movement = StockMovement.objects.filter(product=shelf["shampoo"]).first()
    for attempt in (
        lambda: StockMovement.objects.filter(pk=movement.pk).update(quantity=D("9")),
        lambda: StockMovement.objects.filter(pk=movement.pk).delete(),
    ):
        with pytest.raises((IntegrityError, InternalError, ProgrammingError)), transaction.atomic():
            attempt()
    assert StockMovement.objects.get(pk=movement.pk).quantity == D("5")


def test_replaying_a_sale_returns_the_first_movements_and_changes_nothing(shelf):
    main, shampoo = shelf["main"], shelf["shampoo"]
    first = stock_sale_record(
        location=main, items=[(shampoo, 2)], reference="b5", idempotency_key="k5", acting_user=None
    )
    again = stock_sale_record(
        location=main, items=[(shampoo, 2)], reference="b5", idempotency_key="k5", acting_user=None
    )
    assert again.replayed and [m.pk for m in again.movements] == [m.pk for m in first.movements]
    assert (on_hand(main, shampoo), catalogue_stock(shampoo)) == (D("3"), 3)
    # the same key for another sale is refused
    with pytest.raises(ServiceError) as reused:
        stock_sale_record(location=main, items=[(shampoo, 1)], reference="b5", idempotency_key="k5", acting_user=None)
    assert (reused.value.code, reused.value.status) == (InventoryError.KEY_REUSED, 409)
    assert on_hand(main, shampoo) == D("3")


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([("shampoo", 0)], "items"),
        ([("shampoo", -1)], "items"),
        ([("shampoo", 1.5)], "items"),
        ([("shampoo", True)], "items"),
    ],
)
def test_bad_quantities_are_refused(shelf, items, field):
    with pytest.raises(ServiceError) as refused:
        stock_sale_record(
            location=shelf["main"],
            items=[(shelf[name], q) for name, q in items],
            reference="b",
            idempotency_key="k",
            acting_user=None,
        )
    assert (refused.value.code, list(refused.value.errors)) == (InventoryError.INVALID_QUANTITY, [field])


def test_a_key_and_a_reference_are_required(shelf):
    for reference, key, code in (("b", " ", InventoryError.KEY_REQUIRED), ("", "k", InventoryError.REFERENCE_REQUIRED)):
        with pytest.raises(ServiceError) as refused:
            stock_sale_record(
                location=shelf["main"],
                items=[(shelf["shampoo"], 1)],
                reference=reference,
                idempotency_key=key,
                acting_user=None,
            )
        assert refused.value.code == code


def test_a_sale_of_three_products_costs_a_fixed_handful_of_statements(shelf):
    # given three products on the shelf
    main = shelf["main"]
    third = product("Hair oil")
    stock_in(main, third, 4)
    items = [(shelf["shampoo"], 1), (shelf["conditioner"], 1), (third, 2)]
    # when the till records the bill's products
    with CaptureQueriesContext(connection) as queries:
        stock_sale_record(location=main, items=items, reference="bill:q", idempotency_key="q", acting_user=None)
    # then: savepoint, lock products, replay check, lock levels, update levels, insert movements,
    # update the catalogue's figure, release — whatever the number of lines
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SET ")]
    assert len(statements) <= 8, "\n".join(statements)
    with CaptureQueriesContext(connection) as one:
        stock_sale_record(location=main, items=[(third, 1)], reference="bill:r", idempotency_key="r", acting_user=None)
    assert len([q for q in one.captured_queries if not q["sql"].startswith("SET ")]) == len(statements)


def test_an_empty_bill_touches_nothing(shelf):
    with CaptureQueriesContext(connection) as queries:
        result = stock_sale_record(
            location=shelf["main"], items=[], reference="b", idempotency_key="k", acting_user=None
        )
    assert result.movements == [] and not result.replayed
    assert [q["sql"] for q in queries.captured_queries if "inventory_" in q["sql"] or "catalog_" in q["sql"]] == []


def test_inactive_products_can_still_be_sold_from_stock(shelf):
    Product.objects.filter(pk=shelf["shampoo"].pk).update(is_active=False)
    stock_sale_record(
        location=shelf["main"], items=[(shelf["shampoo"], 1)], reference="b", idempotency_key="k", acting_user=None
    )
    assert on_hand(shelf["main"], shelf["shampoo"]) == D("4")

"""Stock under real concurrency (threads, committed transactions, the real database), in a salon made
for the race and removed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django_tenants.utils import schema_context

from apps.catalog.models import Product
from apps.core.errors import ServiceError
from apps.inventory.errors import InventoryError
from apps.inventory.models import MovementKind, StockLevel, StockMovement
from apps.inventory.services import StockResult, stock_sale_record, stock_transfer_create
from apps.inventory.tests.helpers import main_location, product, second_location, stock_in
from tests.races import race, salon_for_races


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("stock-race") as schema:
        yield schema


def test_two_tills_selling_the_last_unit_one_wins(race_salon):
    # given one bottle on the shelf and negative stock forbidden
    with schema_context(race_salon):
        main = main_location()
        shampoo = product("Shampoo")
        stock_in(main, shampoo, 1)

    # when two cashiers sell it at the same moment
    outcomes = race(
        race_salon,
        2,
        lambda i: stock_sale_record(
            location=main, items=[(shampoo, 1)], reference=f"bill:{i}", idempotency_key=f"bill:{i}", acting_user=None
        ),
    )

    # then exactly one sale goes through and the other is refused by name, never a database error
    sold = [o for o in outcomes if isinstance(o, StockResult)]
    refused = [o for o in outcomes if not isinstance(o, StockResult)]
    assert len(sold) == 1, outcomes
    assert len(refused) == 1 and isinstance(refused[0], ServiceError), refused
    assert refused[0].code == InventoryError.INSUFFICIENT_STOCK
    assert "0 on hand, 1 needed" in refused[0].message
    with schema_context(race_salon):
        assert StockLevel.objects.get(location=main, product=shampoo).quantity == Decimal(0)
        assert StockMovement.objects.filter(kind=MovementKind.SALE).count() == 1
        assert Product.objects.get(pk=shampoo.pk).stock == 0


def test_sales_and_transfers_at_once_keep_every_figure_right(race_salon):
    # given 20 shampoos and 30 masks at the main store
    with schema_context(race_salon):
        main, branch = main_location(), second_location()
        shampoo, mask = product("Shampoo"), product("Mask")
        stock_in(main, shampoo, 20)
        stock_in(main, mask, 30)

    # when 9 tills sell both (in opposite orders on alternate bills) while 5 transfers move both to the branch
    def work(i: int) -> Any:
        if i % 3 == 0:
            return stock_transfer_create(
                from_location=main,
                to_location=branch,
                lines=[(mask, 1), (shampoo, 1)] if i % 2 else [(shampoo, 1), (mask, 1)],
                idempotency_key=f"t{i}",
                acting_user=None,
            )
        items = [(mask, 2), (shampoo, 1)] if i % 2 else [(shampoo, 1), (mask, 2)]
        return stock_sale_record(
            location=main, items=items, reference=f"b{i}", idempotency_key=f"b{i}", acting_user=None
        )

    outcomes = race(race_salon, 14, work)

    # then nothing failed (no deadlock), and levels, ledger and the catalogue's figure agree
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    with schema_context(race_salon):
        for item, start, sold_each in ((shampoo, 20, 1), (mask, 30, 2)):
            levels = {lv.location_id: lv.quantity for lv in StockLevel.objects.filter(product=item)}
            assert levels == {main.pk: Decimal(start - 9 * sold_each - 5), branch.pk: Decimal(5)}
            ledger = StockMovement.objects.filter(product=item).aggregate(total=Sum("quantity"))["total"]
            assert ledger == sum(levels.values())
            assert Product.objects.get(pk=item.pk).stock == int(sum(levels.values()))

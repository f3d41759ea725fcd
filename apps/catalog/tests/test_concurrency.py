"""Catalogue writes racing each other on the real database (threads, committed transactions), in a
salon made for the race and removed afterwards (alpha and beta keep their rolled-back tests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.catalog import services
from apps.catalog.errors import CatalogError
from apps.catalog.models import Product, Service
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from tests.races import race, salon_for_races

THREADS = 6


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("catalog-race") as schema:
        yield schema


def test_same_service_name_at_once_creates_exactly_one(race_salon):
    # when six people add the same service (differing only in case) at the same moment
    outcomes = race(
        race_salon,
        THREADS,
        lambda i: services.service_create(
            name="Women's cut" if i % 2 else "WOMEN'S CUT", duration_minutes=45, price=100
        ),
    )
    # then one wins and every other gets the field error, never a database error
    created = [o for o in outcomes if isinstance(o, Service)]
    refused = [o for o in outcomes if not isinstance(o, Service)]
    assert len(created) == 1
    assert all(isinstance(o, ServiceError) and o.code == CatalogError.DUPLICATE_NAME for o in refused), refused
    with schema_context(race_salon):
        assert Service.objects.count() == 1


def test_stock_counts_at_once_leave_an_unbroken_audit_chain(race_salon):
    # given a product with 10 on hand
    with schema_context(race_salon):
        product = services.product_create(name="Shampoo", price=100, stock=10)
    # when six counts are entered at once
    outcomes = race(
        race_salon, THREADS, lambda i: services.product_stock_set(product=product, stock=20 + i, acting_user=None)
    )
    # then each count saw the figure the previous one left (the row is locked), and the last one stands
    assert all(isinstance(o, Product) for o in outcomes), outcomes
    with schema_context(race_salon):
        chain = [
            (e.data["from"], e.data["to"])
            for e in AuditEntry.objects.filter(action="catalog.product.stock_set").order_by("pk")
        ]
        assert chain[0] == (0, 10)  # the opening stock
        assert all(chain[i][0] == chain[i - 1][1] for i in range(1, len(chain)))
        assert sorted(to for _from, to in chain[1:]) == [20 + i for i in range(THREADS)]
        assert Product.objects.get().stock == chain[-1][1]

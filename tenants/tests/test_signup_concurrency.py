"""Signups racing each other on the real database (threads, committed transactions)."""

from __future__ import annotations

import threading
from typing import Any

from django.db import connection, connections
from django_tenants.utils import schema_exists

from apps.core.errors import ServiceError
from tenants import provisioning
from tenants.models import Domain, PoolSchema, Salon
from tenants.services import salon_signup


def _race(count: int, make_payload: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    outcomes: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            outcomes[index] = salon_signup(raw=make_payload(index))
        except Exception as exc:  # collected and asserted by the test
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def _cleanup(subdomains: list[str]) -> None:
    connection.set_schema_to_public()
    for salon in Salon.objects.filter(subdomain__in=subdomains):
        schema = salon.schema_name
        Domain.objects.filter(tenant=salon).delete()
        salon.delete()
        provisioning.schema_drop(schema)
    for name in PoolSchema.objects.values_list("schema_name", flat=True):
        provisioning.schema_drop(name)
    PoolSchema.objects.all().delete()


def _payload(subdomain: str, index: int) -> dict[str, str]:
    return {
        "salon_name": f"Race {index}",
        "subdomain": subdomain,
        "owner_name": "Racer",
        "owner_email": f"racer{index}@race.test",
        "owner_phone": f"+86139000011{index:02d}",
        "password": "Race-pass-1",
    }


def test_same_subdomain_at_once_creates_exactly_one_salon(two_salons, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            outcomes = _race(6, lambda i: _payload("samename", i))
            created = [o for o in outcomes if not isinstance(o, Exception)]
            refused = [o for o in outcomes if isinstance(o, Exception)]
            assert len(created) == 1
            assert all(isinstance(o, ServiceError) and o.status == 409 for o in refused), refused
            assert Salon.objects.filter(subdomain="samename").count() == 1
            assert Domain.objects.filter(domain="samename.localhost").count() == 1
            # the losers' cloned schemas were rolled back with their transactions
            salon_schemas = set(Salon.objects.values_list("schema_name", flat=True))
            with connection.cursor() as cursor:
                cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 's\\_%%'")
                orphans = {row[0] for row in cursor.fetchall()} - salon_schemas
            assert orphans == set()
        finally:
            _cleanup(["samename"])


def test_concurrent_signups_take_different_pool_schemas(two_salons, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            provisioning.pool_refill(target=3)
            pooled = set(PoolSchema.objects.values_list("schema_name", flat=True))
            outcomes = _race(3, lambda i: _payload(f"pooled{i}", i))
            assert all(not isinstance(o, Exception) for o in outcomes), outcomes
            taken = {o.salon.schema_name for o in outcomes}
            assert len(taken) == 3
            assert taken <= pooled | taken  # each got its own schema
            assert {o.provisioned_by for o in outcomes} <= {"pool", "clone"}
            assert sum(o.provisioned_by == "pool" for o in outcomes) == len(taken & pooled)
            for schema in taken:
                assert schema_exists(schema)
        finally:
            _cleanup([f"pooled{i}" for i in range(3)])

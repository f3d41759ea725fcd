"""Concurrency tests: real threads, each with its own connection and committed transactions, in a salon
made for the race and removed afterwards (alpha and beta keep their rolled-back tests)."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, connections
from django.utils import translation
from django_tenants.utils import schema_context


def race(schema: str, count: int, work: Callable[[int], Any], *, timeout: float = 60) -> list[Any]:
    """Run ``work(i)`` for i in 0…count-1 in as many threads, released together by a barrier, inside
    ``schema``. Returns what each returned, or the exception it raised (for the test to assert)."""
    barrier = threading.Barrier(count)
    outcomes: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            # English, as the tests' API clients ask for: a thread does not inherit the test's language.
            with schema_context(schema), translation.override("en"):
                barrier.wait(timeout=timeout)
                outcomes[index] = work(index)
        except Exception as exc:  # collected and asserted by the test
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout * 2)
    return outcomes


@contextmanager
def salon_for_races(subdomain: str) -> Iterator[str]:
    """A salon signed up for a race (its schema name is yielded), removed with its schema afterwards.
    Call it with the database unblocked (``django_db_blocker.unblock()``)."""
    from tenants import provisioning
    from tenants.models import Domain, Salon
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": f"Race {subdomain}",
            "subdomain": subdomain,
            "owner_name": "Racer",
            "owner_email": f"racer@{subdomain}.test",
            "owner_phone": f"+86139{zlib.crc32(subdomain.encode()) % 10**8:08d}",
            "password": "Race-pass-1",
        }
    ).salon
    connection.set_schema_to_public()
    try:
        yield salon.schema_name
    finally:
        connection.set_schema_to_public()
        Domain.objects.filter(tenant=salon).delete()
        Salon.objects.filter(pk=salon.pk).delete()
        provisioning.schema_drop(salon.schema_name)

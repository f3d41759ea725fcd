"""Commission under concurrency (POS-6): real threads, committed transactions, in a salon made for the race
and removed afterwards. Bills of one technician paid at the same moment see each other's volume (the
recording locks the staff rows), so tiers come out as if the bills had been paid one after the other; and
a bill recorded by several callers at once is recorded once."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.pos.models import CommissionEntry
from apps.pos.services.commission import commission_record_for_bill, commission_rule_create
from apps.pos.tests.factories_commission import Line, paid_bill, service_make, technician_make
from tests.races import race, salon_for_races

THREADS = 10
PAID_AT = datetime.datetime(2026, 3, 5, 4, 0, tzinfo=datetime.UTC)


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("commission-race") as schema:
        yield schema


def test_bills_paid_at_once_reach_tiers_as_if_paid_in_turn(race_salon):
    # given 10 % below ¥100 of monthly volume and 20 % from ¥100, and ten ¥20 cuts by Li
    with schema_context(race_salon):
        commission_rule_create(scope="default", method="tiered", tiers=[(0, 1000), (10_000, 2000)], acting_user=None)
        li = technician_make("Li")
        cut = service_make("Cut", price=2_000)
        bills = [paid_bill(lines=[Line(cut, [(li, 10_000, False)])], paid_at=PAID_AT) for _ in range(THREADS)]

    # when all ten are recorded at the same moment
    results = race(race_salon, THREADS, lambda i: commission_record_for_bill(bill=bills[i]))

    # then each saw the volume of those before it: 2 000, 4 000 … 20 000
    assert not [r for r in results if isinstance(r, Exception)], results
    with schema_context(race_salon):
        entries = list(CommissionEntry.objects.order_by("volume"))
    assert [e.volume for e in entries] == [2_000 * n for n in range(1, THREADS + 1)]
    assert [e.amount for e in entries] == [200] * 4 + [400] * 6


def test_one_bill_recorded_by_several_callers_at_once_is_recorded_once(race_salon):
    # given a bill shared by two technicians
    with schema_context(race_salon):
        commission_rule_create(scope="default", method="percentage", rate_bp=1000, acting_user=None)
        li, wang = technician_make("Li"), technician_make("Wang")
        cut = service_make("Cut", price=10_000)
        bill = paid_bill(lines=[Line(cut, [(li, 6_000, False), (wang, 4_000, False)])], paid_at=PAID_AT)

    # when eight callers record it at once
    results = race(race_salon, 8, lambda i: commission_record_for_bill(bill=bill))

    # then one wrote the two entries and the others wrote nothing
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(len(r) for r in results) == [0] * 7 + [2]
    with schema_context(race_salon):
        assert sorted(CommissionEntry.objects.values_list("amount", flat=True)) == [400, 600]

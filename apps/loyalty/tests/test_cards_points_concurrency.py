"""Cards and points racing each other on the real database (threads, committed transactions), in a salon
made for the race and removed afterwards (alpha and beta keep their rolled-back tests)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import MemberCard, PointsEntry, PointsEntryKind, PointsLot, Wallet
from apps.loyalty.services import cards, points
from apps.loyalty.services.settings import loyalty_settings_update
from apps.loyalty.tests.helpers import a_client
from tests.races import race as run_race
from tests.races import salon_for_races

THREADS = 6


@pytest.fixture(scope="module")
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("points-race") as schema:
        yield schema


@pytest.fixture
def race(race_salon: str, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock():
        yield race_salon
        connection.set_schema_to_public()


def _codes(outcomes: list[Any]) -> list[Any]:
    return sorted(
        (o.code.value if isinstance(o, ServiceError) else type(o).__name__ for o in outcomes),
        key=str,
    )


def _agrees(client: Any) -> int:
    wallet = Wallet.objects.get(client=client)
    in_lots = sum(PointsLot.objects.filter(wallet=wallet).values_list("remaining", flat=True))
    ledger = sum(PointsEntry.objects.filter(wallet=wallet).values_list("points", flat=True))
    assert wallet.points == in_lots == ledger
    return wallet.points


def test_redemptions_at_once_never_overdraw_the_points(race):
    # given 100 points in two lots
    with schema_context(race):
        client = a_client(name="并发", phone="13900000101")
        for key, amount in (("race-a", 60), ("race-b", 40)):
            points.points_award(
                client=client, points=amount, kind=PointsEntryKind.EARN_REFERRAL, reference="", idempotency_key=key
            )
    # when six staff redeem 30 each at the same moment
    outcomes = run_race(
        race,
        THREADS,
        lambda i: points.points_redeem(
            client=client, points=30, description="x", reference="", idempotency_key=f"race-r{i}", acting_user=None
        ),
    )
    # then three go through and three are refused with the reason; the books agree
    assert _codes(outcomes).count("insufficient_points") == 3
    assert sum(isinstance(o, PointsEntry) for o in outcomes) == 3
    with schema_context(race):
        assert _agrees(client) == 10


def test_two_expiry_runs_at_once_expire_each_lot_once(race):
    with schema_context(race):
        loyalty_settings_update(acting_user=None, points_validity_months=1)
        client = a_client(name="过期", phone="13900000102")
        points.points_award(
            client=client, points=70, kind=PointsEntryKind.EARN_REFERRAL, reference="", idempotency_key="race-exp"
        )
    later = datetime.date.today() + datetime.timedelta(days=400)
    outcomes = run_race(race, THREADS, lambda i: points.points_expire(today=later))
    assert sum(outcomes) == 1 and all(isinstance(o, int) for o in outcomes)
    with schema_context(race):
        assert list(PointsEntry.objects.filter(kind=PointsEntryKind.EXPIRE).values_list("points", flat=True)) == [-70]
        assert _agrees(client) == 0


def test_one_check_in_a_day_even_at_once(race):
    with schema_context(race):
        loyalty_settings_update(acting_user=None, check_in_points=2)
        client = a_client(name="签到", phone="13900000103")
    outcomes = run_race(race, THREADS, lambda i: points.points_check_in(client=client, acting_user=None))
    assert _codes(outcomes).count("already_checked_in") == THREADS - 1
    with schema_context(race):
        assert _agrees(client) == 2


def test_one_card_number_goes_to_one_client_even_at_once(race):
    with schema_context(race):
        clients = [a_client(name=f"客{i}", phone=f"1390000020{i}") for i in range(THREADS)]
    outcomes = run_race(
        race, THREADS, lambda i: cards.member_card_issue(client=clients[i], number="RACE-0001", acting_user=None)
    )
    assert _codes(outcomes).count(LoyaltyError.DUPLICATE_CARD_NUMBER.value) == THREADS - 1
    with schema_context(race):
        (card,) = MemberCard.objects.filter(number="RACE-0001")
        assert Wallet.objects.get(client=card.client).current_card == card
        assert [c.card_number for c in type(clients[0]).objects.filter(card_number="RACE-0001")] == ["RACE-0001"]


def test_one_card_per_client_even_at_once(race):
    with schema_context(race):
        client = a_client(name="一卡", phone="13900000301")
    outcomes = run_race(race, THREADS, lambda i: cards.member_card_issue(client=client, acting_user=None))
    assert _codes(outcomes).count(LoyaltyError.CARD_ALREADY_HELD.value) == THREADS - 1
    with schema_context(race):
        assert MemberCard.objects.filter(client=client).count() == 1

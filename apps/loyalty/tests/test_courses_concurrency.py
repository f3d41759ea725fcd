"""Loyalty writes racing each other on the real database (threads, committed transactions), in a salon
made for the race and removed afterwards: course sessions redeemed at once with one key and with many,
a card sold twice at once, a client's tier evaluated at once, a referral rewarded at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.catalog import services as catalog
from apps.core.errors import ServiceError
from apps.crm.models import Client, PurchaseSource
from apps.crm.services.clients import client_create, purchase_record
from apps.crm.services.tags import tier_create
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import (
    CourseCard,
    CourseCardBalance,
    CourseCardStatus,
    CourseRedemption,
    LoyaltySettings,
    ReferralReward,
    TierChange,
    Wallet,
)
from apps.loyalty.services import courses, referrals, tiers
from tests.races import race, salon_for_races

THREADS = 8


@pytest.fixture(scope="module")
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("loyalty-race") as schema:
        yield schema


@pytest.fixture
def in_race(race_salon: str, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), schema_context(race_salon):
        yield race_salon


_phones = iter(range(13700000000, 13800000000))


def _client(name: str = "王芳", **fields: Any) -> Client:
    return client_create(name=name, phone=str(next(_phones)), acting_user=None, **fields)


def _card_with(sessions: int, name: str) -> tuple[CourseCard, Any]:
    service = catalog.service_create(name=f"{name} service", duration_minutes=60, price=10000)
    template = catalog.course_card_template_create(
        name=name, price=50000, validity_days=90, items=[catalog.CourseCardItemSpec(service=service, sessions=sessions)]
    )
    card = courses.course_card_sell(client=_client(), template=template, idempotency_key=f"sale:{name}")
    return card, service


def test_one_key_redeemed_by_eight_threads_uses_one_session(in_race):
    # given a card with 5 sessions
    card, service = _card_with(5, "Same key")
    # when eight requests redeem with the same key at the same moment
    outcomes = race(
        in_race,
        THREADS,
        lambda i: courses.course_session_redeem(card=card, service=service, idempotency_key="same-key:1"),
    )
    # then every one of them got the one redemption
    assert all(isinstance(o, CourseRedemption) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert CourseRedemption.objects.filter(card=card).count() == 1
    assert CourseCardBalance.objects.get(card=card).sessions_left == 4


def test_eight_keys_on_five_sessions_redeem_exactly_five(in_race):
    # given a card with 5 sessions
    card, service = _card_with(5, "Many keys")
    # when eight different redemptions arrive at once
    outcomes = race(
        in_race,
        THREADS,
        lambda i: courses.course_session_redeem(card=card, service=service, idempotency_key=f"many-keys:{i}"),
    )
    # then five succeed and three are refused by name
    done = [o for o in outcomes if isinstance(o, CourseRedemption)]
    refused = [o for o in outcomes if not isinstance(o, CourseRedemption)]
    assert len(done) == 5
    assert len(refused) == 3
    assert all(
        isinstance(o, ServiceError) and o.code in (LoyaltyError.NO_SESSIONS_LEFT, LoyaltyError.COURSE_CARD_NOT_ACTIVE)
        for o in refused
    ), refused
    assert sorted(o.sessions_left_after for o in done) == [0, 1, 2, 3, 4]
    assert CourseCardBalance.objects.get(card=card).sessions_left == 0
    assert CourseRedemption.objects.filter(card=card).count() == 5
    assert CourseCard.objects.get(pk=card.pk).status == CourseCardStatus.USED_UP


def test_selling_with_one_key_at_once_makes_one_card(in_race):
    service = catalog.service_create(name="Sale race", duration_minutes=60, price=10000)
    template = catalog.course_card_template_create(
        name="Sale race", price=50000, validity_days=90, items=[catalog.CourseCardItemSpec(service=service, sessions=3)]
    )
    client = _client()
    outcomes = race(
        in_race,
        THREADS,
        lambda i: courses.course_card_sell(client=client, template=template, idempotency_key="bill:99:1"),
    )
    assert all(isinstance(o, CourseCard) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert CourseCard.objects.filter(client=client).count() == 1
    assert CourseCardBalance.objects.filter(card__client=client).count() == 1


def test_evaluating_one_client_at_once_records_one_change(in_race):
    silver = tier_create(name="银卡", rank=1, acting_user=None)
    tiers.tier_benefit_set(tier=silver, price_percent=95, points_multiplier=1, min_spend=100000, acting_user=None)
    client = _client()
    purchase_record(
        client=client,
        occurred_at=timezone.now(),
        item_name="Cut",
        amount=100000,
        reference="tier-race",
        source=PurchaseSource.IMPORT,  # history brought in: the threads below do the evaluating
    )
    outcomes = race(in_race, THREADS, lambda i: tiers.tier_evaluate(client=client))
    changes = [o for o in outcomes if isinstance(o, TierChange)]
    assert len(changes) == 1, outcomes
    assert outcomes.count(None) == THREADS - 1
    assert TierChange.objects.filter(client=client).count() == 1
    assert Client.objects.get(pk=client.pk).tier == silver


def test_a_referral_paid_twice_at_once_rewards_once(in_race):
    LoyaltySettings.objects.update_or_create(id=1, defaults={"referral_points": 200, "referral_bonus": 5000})
    referrer = _client(name="介绍人")
    friend = _client(name="朋友", referrer=referrer)
    outcomes = race(
        in_race, THREADS, lambda i: referrals.referral_reward_on_first_paid_visit(client=friend, reference=f"bill:{i}")
    )
    rewards = [o for o in outcomes if isinstance(o, ReferralReward)]
    assert len(rewards) == 1, outcomes
    assert outcomes.count(None) == THREADS - 1
    assert ReferralReward.objects.filter(referred=friend).count() == 1
    wallet = Wallet.objects.get(client=referrer)
    assert (wallet.points, wallet.bonus) == (200, 5000)

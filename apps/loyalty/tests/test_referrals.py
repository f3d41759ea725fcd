"""Referral rewards (LOY-7): the referrer is rewarded once, when the referred client first pays."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import schema_context

from apps.core.db import salon_today
from apps.crm.models import Client
from apps.loyalty.models import (
    LoyaltySettings,
    PointsEntry,
    PointsEntryKind,
    PointsLot,
    ReferralReward,
    Wallet,
    WalletEntry,
    WalletEntryKind,
)
from apps.loyalty.services import referrals
from apps.loyalty.services.points import add_months as _add_months
from apps.loyalty.services.referrals import referral_reward_on_first_paid_visit
from apps.loyalty.tests.helpers import a_client


def salon_settings(**values) -> None:
    LoyaltySettings.objects.update_or_create(id=1, defaults=values)


@pytest.fixture
def pair(in_alpha):
    referrer = a_client(name="介绍人", phone="13800138001")
    friend = a_client(name="朋友", phone="13800138002", referrer=referrer)
    return referrer, friend


def test_the_referrer_gets_points_and_bonus_on_the_first_paid_visit(pair):
    # given 200 points and ¥50 bonus per referral, points valid 24 months
    salon_settings(referral_points=200, referral_bonus=5000, points_validity_months=24)
    referrer, friend = pair
    # when
    reward = referral_reward_on_first_paid_visit(client=friend, reference="bill:1")
    # then
    assert (reward.referrer, reward.referred, reward.reference, reward.points, reward.bonus, reward.coupon) == (
        referrer,
        friend,
        "bill:1",
        200,
        5000,
        None,
    )
    wallet = Wallet.objects.get(client=referrer)
    assert (wallet.points, wallet.principal, wallet.bonus) == (200, 0, 5000)
    entry = PointsEntry.objects.get(wallet=wallet)
    assert (entry.kind, entry.points, entry.balance_after, entry.reference, entry.description) == (
        PointsEntryKind.EARN_REFERRAL,
        200,
        200,
        "bill:1",
        "Referral of 朋友",
    )
    today = salon_today()
    lot = PointsLot.objects.get(entry=entry)
    assert (lot.points, lot.remaining, lot.earned_on, lot.expires_on) == (200, 200, today, _add_months(today, 24))
    bonus = WalletEntry.objects.get(wallet=wallet)
    assert (bonus.kind, bonus.principal_delta, bonus.bonus_delta, bonus.reference) == (
        WalletEntryKind.REWARD,
        0,
        5000,
        "bill:1",
    )
    # and the referred client got nothing
    assert not Wallet.objects.filter(client=friend).exists()


def test_later_paid_visits_change_nothing(pair):
    salon_settings(referral_points=200, referral_bonus=5000)
    referrer, friend = pair
    first = referral_reward_on_first_paid_visit(client=friend, reference="bill:1")
    assert referral_reward_on_first_paid_visit(client=friend, reference="bill:2") is None
    assert list(ReferralReward.objects.values_list("pk", "reference")) == [(first.pk, "bill:1")]
    wallet = Wallet.objects.get(client=referrer)
    assert (wallet.points, wallet.bonus) == (200, 5000)
    assert (PointsEntry.objects.count(), WalletEntry.objects.count()) == (1, 1)


def test_no_referrer_no_reward(pair):
    salon_settings(referral_points=200, referral_bonus=5000)
    referrer, _friend = pair
    assert referral_reward_on_first_paid_visit(client=referrer, reference="bill:1") is None
    assert not ReferralReward.objects.exists()
    assert not Wallet.objects.exists()


def test_an_inactive_referrer_is_not_rewarded(pair):
    salon_settings(referral_points=200)
    referrer, friend = pair
    Client.objects.filter(pk=referrer.pk).update(is_active=False)
    assert referral_reward_on_first_paid_visit(client=friend, reference="bill:1") is None
    assert not ReferralReward.objects.exists()
    assert not PointsEntry.objects.exists()


def test_a_salon_without_rewards_records_the_first_visit_only(pair):
    # given no referral rewards set and points that never expire
    salon_settings(referral_points=0, referral_bonus=0, points_validity_months=0)
    _referrer, friend = pair
    # when
    reward = referral_reward_on_first_paid_visit(client=friend, reference="bill:1")
    # then the first paid visit is marked, nothing is credited, and a later visit pays nothing either
    assert (reward.points, reward.bonus) == (0, 0)
    assert not Wallet.objects.exists()
    salon_settings(referral_points=300)
    assert referral_reward_on_first_paid_visit(client=friend, reference="bill:2") is None
    assert not PointsEntry.objects.exists()


def test_points_only_and_never_expiring(pair):
    salon_settings(referral_points=80, referral_bonus=0, points_validity_months=0)
    _referrer, friend = pair
    referral_reward_on_first_paid_visit(client=friend, reference="bill:1")
    lot = PointsLot.objects.get()
    assert (lot.points, lot.expires_on) == (80, None)
    assert not WalletEntry.objects.exists()


def test_no_coupon_when_the_salon_names_none(pair):
    referrer, friend = pair
    assert referrals._referral_coupon(referrer, referred=friend) is None


def test_a_reward_in_one_salon_is_not_seen_in_another(alpha, beta):
    with schema_context(alpha.schema):
        salon_settings(referral_points=100)
        referrer = a_client(name="介绍人", phone="13800138001")
        friend = a_client(name="朋友", phone="13800138002", referrer=referrer)
        assert referral_reward_on_first_paid_visit(client=friend, reference="bill:1") is not None
    with schema_context(beta.schema):
        assert not ReferralReward.objects.exists()
        assert not PointsEntry.objects.exists()


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2025, 1, 31), 1, datetime.date(2025, 2, 28)),
        (datetime.date(2024, 2, 29), 12, datetime.date(2025, 2, 28)),
        (datetime.date(2025, 11, 15), 3, datetime.date(2026, 2, 15)),
        (datetime.date(2025, 6, 30), 24, datetime.date(2027, 6, 30)),
    ],
)
def test_adding_months(day, months, expected):
    assert _add_months(day, months) == expected

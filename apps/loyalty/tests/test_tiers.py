"""Membership tiers (LOY-1): benefits, the rolling 12-month figure, automatic upgrades and downgrades,
manual changes, the nightly evaluation and the progress shown to staff and members."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.crm.models import Client, PurchaseSource
from apps.crm.services.clients import client_update, purchase_record
from apps.crm.services.tags import tier_create
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import (
    LoyaltySettings,
    PointsEntry,
    PointsEntryKind,
    TierBasis,
    TierBenefit,
    TierChange,
    TierChangeReason,
)
from apps.loyalty.models import PointsEntryKind as _Kind
from apps.loyalty.selectors_tiers import tier_progress
from apps.loyalty.services import tiers
from apps.loyalty.services.points import points_award
from apps.loyalty.tests.helpers import a_client
from tests.fixtures import make_staff

NOW = datetime.datetime(2025, 6, 15, 10, 0, tzinfo=datetime.UTC)


def ladder(*, silver: int = 100000, gold: int = 500000, **extra):
    """银卡 from ¥1,000 and 金卡 from ¥5,000 spent in 12 months."""
    silver_tier = tier_create(name="银卡", rank=1, acting_user=None)
    gold_tier = tier_create(name="金卡", rank=2, acting_user=None)
    tiers.tier_benefit_set(
        tier=silver_tier,
        price_percent=95,
        points_multiplier=Decimal("1.2"),
        min_spend=silver,
        acting_user=None,
        **extra,
    )
    tiers.tier_benefit_set(
        tier=gold_tier, price_percent=90, points_multiplier=Decimal("1.5"), min_spend=gold, acting_user=None, **extra
    )
    return silver_tier, gold_tier


def spend(client, amount: int, at: datetime.datetime, ref: str) -> None:
    """Spending history brought in (an import): recording it evaluates nothing, the test does."""
    purchase_record(
        client=client, occurred_at=at, item_name="Cut", amount=amount, reference=ref, source=PurchaseSource.IMPORT
    )


def salon_settings(**values) -> None:
    LoyaltySettings.objects.update_or_create(id=1, defaults=values)


# --- benefits ------------------------------------------------------------------------------------


def test_benefits_are_stored_and_audited(in_alpha):
    # given
    owner = make_staff(in_alpha, role="manager", username="mgr")
    gold = tier_create(name="金卡", rank=2, acting_user=None)
    # when
    benefit = tiers.tier_benefit_set(
        tier=gold,
        price_percent=88,
        points_multiplier=Decimal("1.50"),
        perks="Free wash\nBirthday gift",
        min_spend=300000,
        min_points=0,
        is_automatic=True,
        acting_user=owner,
    )
    # then
    stored = TierBenefit.objects.get(tier=gold)
    assert (stored.pk, stored.price_percent, stored.points_multiplier, stored.perks) == (
        benefit.pk,
        88,
        Decimal("1.50"),
        "Free wash\nBirthday gift",
    )
    assert (stored.min_spend, stored.min_points, stored.is_automatic) == (300000, 0, True)
    entry = AuditEntry.objects.get(action="loyalty.tier_benefit_set")
    assert (entry.actor_id, entry.data["price_percent"], entry.data["points_multiplier"]) == (owner.pk, 88, "1.50")
    # and setting them again updates the one row
    tiers.tier_benefit_set(tier=gold, price_percent=85, points_multiplier=2, acting_user=owner)
    assert TierBenefit.objects.filter(tier=gold).count() == 1
    assert TierBenefit.objects.get(tier=gold).points_multiplier == Decimal("2.00")


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"price_percent": 0}, LoyaltyError.INVALID_PERCENT, "price_percent"),
        ({"price_percent": 101}, LoyaltyError.INVALID_PERCENT, "price_percent"),
        ({"price_percent": "90"}, LoyaltyError.INVALID_PERCENT, "price_percent"),
        ({"points_multiplier": Decimal("20.01")}, LoyaltyError.INVALID_MULTIPLIER, "points_multiplier"),
        ({"points_multiplier": Decimal("-1")}, LoyaltyError.INVALID_MULTIPLIER, "points_multiplier"),
        ({"points_multiplier": Decimal("1.005")}, LoyaltyError.INVALID_MULTIPLIER, "points_multiplier"),
        ({"points_multiplier": "abc"}, LoyaltyError.INVALID_MULTIPLIER, "points_multiplier"),
        ({"points_multiplier": "NaN"}, LoyaltyError.INVALID_MULTIPLIER, "points_multiplier"),
        ({"min_spend": -1}, LoyaltyError.INVALID_AMOUNT, "min_spend"),
        ({"min_points": -1}, LoyaltyError.INVALID_THRESHOLD, "min_points"),
        ({"perks": "x" * 2001}, LoyaltyError.TEXT_TOO_LONG, "perks"),
    ],
)
def test_bad_benefits_are_refused_and_nothing_is_written(in_alpha, values, code, field):
    gold = tier_create(name="金卡", rank=2, acting_user=None)
    arguments = {"price_percent": 90, "points_multiplier": Decimal("1"), **values}
    with pytest.raises(ServiceError) as refused:
        tiers.tier_benefit_set(tier=gold, acting_user=None, **arguments)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not TierBenefit.objects.exists()


def test_benefits_need_manage_loyalty(in_alpha):
    desk = make_staff(in_alpha, role="front_desk", username="desk")
    gold = tier_create(name="金卡", rank=2, acting_user=None)
    with pytest.raises(ServiceError) as refused:
        tiers.tier_benefit_set(tier=gold, price_percent=90, points_multiplier=1, acting_user=desk)
    assert refused.value.code == LoyaltyError.PERMISSION_DENIED
    assert not TierBenefit.objects.exists()
    assert not AuditEntry.objects.filter(action="loyalty.tier_benefit_set").exists()


# --- the 12-month figure --------------------------------------------------------------------------


def test_spend_counts_the_last_12_months_only_with_refunds(in_alpha):
    # given purchases either side of the window's start, a refund and a purchase after "now"
    client = a_client()
    start = tiers.window_start(NOW)
    assert start == datetime.datetime(2024, 6, 15, 18, 0, tzinfo=start.tzinfo)  # 18:00 in Shanghai, a year earlier
    spend(client, 10000, start - datetime.timedelta(days=1), "older")  # 12 months + 1 day ago: out
    spend(client, 20000, start, "edge")  # exactly 12 months ago: in
    spend(client, 40000, start + datetime.timedelta(days=1), "in")
    spend(client, -5000, NOW - datetime.timedelta(days=3), "refund")
    spend(client, 80000, NOW + datetime.timedelta(minutes=1), "later")
    # then
    assert tiers.tier_qualifying_figure(client, basis=TierBasis.SPEND, now=NOW) == 55000
    assert tiers.qualifying_figures(basis=TierBasis.SPEND, now=NOW) == {client.pk: 55000}


def test_a_window_below_zero_counts_as_zero(in_alpha):
    client = a_client()
    spend(client, -5000, NOW - datetime.timedelta(days=3), "refund")
    assert tiers.tier_qualifying_figure(client, basis=TierBasis.SPEND, now=NOW) == 0


def test_points_count_earnings_less_reversals(in_alpha):
    # given 300 + 200 points earned, 50 reversed, 100 redeemed (redemptions do not lower the figure)
    client = a_client()
    first = points_award(client=client, points=300, kind=_Kind.EARN_REFERRAL, idempotency_key="e1", reference="bill:1")
    points_award(client=client, points=200, kind=_Kind.EARN_REFERRAL, idempotency_key="e2", reference="bill:2")
    wallet = first.wallet
    PointsEntry.objects.create(
        wallet=wallet, kind=PointsEntryKind.EARN_REVERSAL, points=-50, balance_after=450, idempotency_key="r1"
    )
    PointsEntry.objects.create(
        wallet=wallet, kind=PointsEntryKind.REDEEM, points=-100, balance_after=350, idempotency_key="d1"
    )
    now = timezone.now()
    # then
    assert tiers.tier_qualifying_figure(client, basis=TierBasis.POINTS, now=now) == 450
    # and a year and a day later none of it counts
    assert tiers.tier_qualifying_figure(client, basis=TierBasis.POINTS, now=now + datetime.timedelta(days=367)) == 0


# --- evaluation ----------------------------------------------------------------------------------


def test_upgrade_to_the_highest_tier_reached_once(in_alpha):
    # given
    silver, gold = ladder()
    client = a_client()
    spend(client, 150000, NOW - datetime.timedelta(days=10), "b1")
    # when
    change = tiers.tier_evaluate(client=client, now=NOW)
    # then
    assert change is not None
    assert (change.reason, change.from_tier, change.to_tier, change.basis_value) == (
        TierChangeReason.UPGRADE,
        None,
        silver,
        150000,
    )
    assert (change.from_name, change.to_name, change.actor) == ("", "银卡", None)
    assert Client.objects.get(pk=client.pk).tier == silver
    # and evaluating again changes nothing
    assert tiers.tier_evaluate(client=client, now=NOW) is None
    assert TierChange.objects.count() == 1
    # and more spend lifts the client straight to the best tier reached
    spend(client, 400000, NOW - datetime.timedelta(days=1), "b2")
    change = tiers.tier_evaluate(client=client, now=NOW)
    assert (change.reason, change.to_tier, change.basis_value) == (TierChangeReason.UPGRADE, gold, 550000)


def test_downgrade_when_spend_leaves_the_window(in_alpha):
    # given 金卡 reached by a big bill and a smaller one half a year later
    silver, gold = ladder()
    client = a_client()
    big_bill = NOW - datetime.timedelta(days=300)
    spend(client, 450000, big_bill, "big")
    spend(client, 150000, NOW, "small")
    assert tiers.tier_evaluate(client=client, now=NOW).to_tier == gold
    # when the big bill is 12 months and a day old
    later = big_bill.replace(year=big_bill.year + 1) + datetime.timedelta(days=1)
    assert tiers.tier_qualifying_figure(client, basis=TierBasis.SPEND, now=later) == 150000
    change = tiers.tier_evaluate(client=client, now=later)
    # then down to the best tier still reached
    assert (change.reason, change.from_tier, change.to_tier, change.basis_value) == (
        TierChangeReason.DOWNGRADE,
        gold,
        silver,
        150000,
    )
    assert Client.objects.get(pk=client.pk).tier == silver
    assert tiers.tier_evaluate(client=client, now=later) is None


def test_a_day_inside_the_window_keeps_the_tier(in_alpha):
    _silver, _gold = ladder()
    client = a_client()
    bought = NOW - datetime.timedelta(days=200)
    spend(client, 500000, bought, "big")
    tiers.tier_evaluate(client=client, now=NOW)
    # a year minus a day after the bill: still 金卡; a year and a day after: no tier
    year_later = bought.replace(year=bought.year + 1)
    assert tiers.tier_evaluate(client=client, now=year_later - datetime.timedelta(days=1)) is None
    change = tiers.tier_evaluate(client=client, now=year_later + datetime.timedelta(days=1))
    assert (change.reason, change.to_tier, change.basis_value) == (TierChangeReason.DOWNGRADE, None, 0)
    assert Client.objects.get(pk=client.pk).tier is None


def test_no_downgrade_when_the_salon_turned_it_off(in_alpha):
    salon_settings(tier_auto_downgrade=False)
    _silver, gold = ladder()
    client = a_client()
    client_update(client=client, tier=gold, acting_user=None)
    assert tiers.tier_evaluate(client=client, now=NOW) is None
    assert Client.objects.get(pk=client.pk).tier == gold
    assert not TierChange.objects.exists()


def test_a_tier_only_staff_give_is_left_alone(in_alpha):
    # given a VIP tier that is not automatic, and the client spends enough for 金卡
    _silver, _gold = ladder()
    vip = tier_create(name="VIP", rank=5, acting_user=None)
    staff_only = tier_create(name="员工亲友", rank=0, acting_user=None)
    tiers.tier_benefit_set(tier=vip, price_percent=80, points_multiplier=2, is_automatic=False, acting_user=None)
    tiers.tier_benefit_set(tier=staff_only, price_percent=70, points_multiplier=1, is_automatic=False, acting_user=None)
    rich, poor = a_client(), a_client(name="李", phone="13900139000")
    client_update(client=rich, tier=staff_only, acting_user=None)
    client_update(client=poor, tier=vip, acting_user=None)
    spend(rich, 600000, NOW, "b1")
    # when
    assert tiers.tier_evaluate(client=rich, now=NOW) is None
    assert tiers.tier_evaluate(client=poor, now=NOW) is None
    # then
    assert Client.objects.get(pk=rich.pk).tier == staff_only
    assert Client.objects.get(pk=poor.pk).tier == vip
    assert not TierChange.objects.exists()


def test_tiers_without_a_threshold_are_never_targets(in_alpha):
    # given a base tier with no threshold (automatic) and 银卡
    base = tier_create(name="普通会员", rank=0, acting_user=None)
    tiers.tier_benefit_set(tier=base, price_percent=100, points_multiplier=1, acting_user=None)
    silver, _gold = ladder()
    idle, spender = a_client(), a_client(name="李", phone="13900139000")
    # then nobody is put in the base tier, and a client in it stays there when spending nothing
    assert tiers.tier_evaluate(client=idle, now=NOW) is None
    client_update(client=idle, tier=base, acting_user=None)
    assert tiers.tier_evaluate(client=idle, now=NOW) is None
    # but rises from it to 银卡
    client_update(client=spender, tier=base, acting_user=None)
    spend(spender, 100000, NOW, "b1")
    change = tiers.tier_evaluate(client=spender, now=NOW)
    assert (change.reason, change.from_tier, change.to_tier) == (TierChangeReason.UPGRADE, base, silver)


def test_a_staff_set_automatic_tier_follows_the_figure(in_alpha):
    silver, gold = ladder()
    client = a_client()
    client_update(client=client, tier=gold, acting_user=None)
    spend(client, 120000, NOW, "b1")
    change = tiers.tier_evaluate(client=client, now=NOW)
    assert (change.reason, change.to_tier, change.basis_value) == (TierChangeReason.DOWNGRADE, silver, 120000)


def test_points_basis_uses_the_points_thresholds(in_alpha):
    # given the salon ranks clients by points
    salon_settings(tier_basis=TierBasis.POINTS)
    silver = tier_create(name="银卡", rank=1, acting_user=None)
    tiers.tier_benefit_set(
        tier=silver, price_percent=95, points_multiplier=1, min_spend=1, min_points=500, acting_user=None
    )
    client = a_client()
    spend(client, 900000, timezone.now(), "b1")  # spend does not count under this basis
    assert tiers.tier_evaluate(client=client) is None
    # when
    points_award(client=client, points=500, kind=_Kind.EARN_REFERRAL, idempotency_key="e1", reference="")
    change = tiers.tier_evaluate(client=client)
    # then
    assert (change.reason, change.to_tier, change.basis_value) == (TierChangeReason.UPGRADE, silver, 500)


def test_spend_hook_upgrades(in_alpha):
    silver, _gold = ladder()
    client = a_client()
    spend(client, 100000, timezone.now(), "bill:9:1")
    change = tiers.tier_on_spend(client=client)
    assert (change.to_tier, change.basis_value) == (silver, 100000)
    assert tiers.tier_on_spend(client=client) is None


def test_inactive_clients_are_not_evaluated(in_alpha):
    ladder()
    client = a_client()
    spend(client, 600000, NOW, "b1")
    Client.objects.filter(pk=client.pk).update(is_active=False)
    assert tiers.tier_evaluate(client=client, now=NOW) is None


# --- by hand -------------------------------------------------------------------------------------


def test_manual_change_is_recorded_and_audited(in_alpha):
    # given
    manager = make_staff(in_alpha, role="manager", username="mgr")
    _silver, gold = ladder()
    client = a_client()
    # when
    change = tiers.client_tier_set(client=client, tier=gold, reason="Opening offer", acting_user=manager)
    # then
    assert (change.reason, change.to_tier, change.note, change.actor, change.basis_value) == (
        TierChangeReason.MANUAL,
        gold,
        "Opening offer",
        manager,
        None,
    )
    assert Client.objects.get(pk=client.pk).tier == gold
    entry = AuditEntry.objects.get(action="loyalty.client_tier_set")
    assert entry.data == {"from": "", "to": "金卡", "reason": "Opening offer"}
    # and taking the tier away
    change = tiers.client_tier_set(client=client, tier=None, reason="Asked to leave", acting_user=manager)
    assert (change.from_name, change.to_name) == ("金卡", "")
    assert Client.objects.get(pk=client.pk).tier is None


@pytest.mark.parametrize(
    ("role", "reason", "same", "code"),
    [
        ("front_desk", "Offer", False, LoyaltyError.PERMISSION_DENIED),
        ("manager", "  ", False, LoyaltyError.REASON_REQUIRED),
        ("manager", "x" * 201, False, LoyaltyError.TEXT_TOO_LONG),
        ("manager", "Offer", True, LoyaltyError.TIER_UNCHANGED),
    ],
)
def test_manual_change_refusals_change_nothing(in_alpha, role, reason, same, code):
    user = make_staff(in_alpha, role=role, username="someone")
    silver, gold = ladder()
    client = a_client()
    client_update(client=client, tier=silver, acting_user=None)
    with pytest.raises(ServiceError) as refused:
        tiers.client_tier_set(client=client, tier=silver if same else gold, reason=reason, acting_user=user)
    assert refused.value.code == code
    assert Client.objects.get(pk=client.pk).tier == silver
    assert not TierChange.objects.exists()
    assert not AuditEntry.objects.filter(action="loyalty.client_tier_set").exists()


# --- nightly -------------------------------------------------------------------------------------


def test_nightly_evaluation_counts_and_is_idempotent(in_alpha, django_assert_max_num_queries):
    # given one client to upgrade, one to downgrade, one who stays, one inactive, one without purchases
    silver, gold = ladder()
    up, down, stays, gone, _idle = (a_client(name=n, phone=f"1380013800{i}") for i, n in enumerate("甲乙丙丁戊"))
    spend(up, 500000, NOW, "up")
    client_update(client=down, tier=gold, acting_user=None)
    spend(down, 100000, NOW, "down")
    client_update(client=stays, tier=silver, acting_user=None)
    spend(stays, 200000, NOW, "stays")
    spend(gone, 900000, NOW, "gone")
    Client.objects.filter(pk=gone.pk).update(is_active=False)
    # when
    counts = tiers.tiers_evaluate_all(now=NOW)
    # then
    assert counts == {"clients": 4, "upgraded": 1, "downgraded": 1}
    assert {c.name: c.tier_id for c in Client.objects.all()} == {
        "甲": gold.pk,
        "乙": silver.pk,
        "丙": silver.pk,
        "丁": None,
        "戊": None,
    }
    # and a second run finds nothing to change, in seven queries whatever the number of clients (settings,
    # ladder and its entry tier, figures, tiers, two chunks), each preceded by the tenant's search_path
    with django_assert_max_num_queries(14):
        assert tiers.tiers_evaluate_all(now=NOW) == {"clients": 4, "upgraded": 0, "downgraded": 0}
    assert TierChange.objects.count() == 2


def test_nightly_task_runs_in_the_salon(alpha, beta):
    from apps.loyalty.tasks_tiers import tiers_evaluate_salon

    with schema_context(alpha.schema):
        silver, _gold = ladder()
        client = a_client()
        spend(client, 100000, timezone.now(), "b1")
        assert tiers_evaluate_salon.apply().get() == {"clients": 1, "upgraded": 1, "downgraded": 0}
        assert Client.objects.get(pk=client.pk).tier == silver
    with schema_context(beta.schema):
        assert not TierChange.objects.exists()


# --- progress ------------------------------------------------------------------------------------


def test_progress_to_the_next_tier(in_alpha):
    # given
    silver, gold = ladder()
    client = a_client()
    spend(client, 150000, NOW, "b1")
    # then before evaluation the next tier is 银卡, already reached
    progress = tier_progress(client, now=NOW)
    assert (progress.tier, progress.next_tier, progress.figure, progress.remaining, progress.percent) == (
        None,
        silver,
        150000,
        0,
        100,
    )
    # and after it, 金卡 is ¥3,500 away, 30% of the way
    tiers.tier_evaluate(client=client, now=NOW)
    client.refresh_from_db()
    progress = tier_progress(client, now=NOW)
    assert (progress.tier, progress.next_tier, progress.next_threshold, progress.remaining, progress.percent) == (
        silver,
        gold,
        500000,
        350000,
        30,
    )
    assert progress.basis == TierBasis.SPEND
    # and at the top there is no next tier
    client_update(client=client, tier=gold, acting_user=None)
    client.refresh_from_db()
    top = tier_progress(client, now=NOW)
    assert (top.next_tier, top.remaining, top.percent) == (None, 0, 100)


def test_a_member_who_falls_below_every_step_lands_in_the_entry_tier(in_alpha):
    from apps.crm.services.clients import client_update

    entry = tier_create(name="普通会员", rank=1, acting_user=None)
    silver = tier_create(name="银卡会员", rank=2, acting_user=None)
    tiers.tier_benefit_set(tier=entry, price_percent=100, points_multiplier=Decimal(1), acting_user=None)
    tiers.tier_benefit_set(
        tier=silver, price_percent=95, points_multiplier=Decimal(1), min_spend=100000, acting_user=None
    )
    client = a_client()
    client_update(client=client, tier=silver, acting_user=None)
    change = tiers.tier_evaluate(client=client)
    assert (change.reason, change.to_tier) == ("downgrade", entry)
    assert tiers.tier_evaluate(client=client) is None

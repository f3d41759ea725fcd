"""Coupons issued by the salon's rules when things happen elsewhere in loyalty: a top-up, a move into a
tier, a referral; each once per occasion."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from apps.crm.models import PurchaseSource
from apps.crm.services.clients import purchase_record
from apps.crm.services.tags import tier_create
from apps.loyalty.models import Coupon, CouponRuleTrigger, CouponSource, LoyaltySettings
from apps.loyalty.services import referrals, tiers, wallets
from apps.loyalty.services.coupon_rules import coupon_rule_create
from apps.loyalty.tests.coupon_helpers import a_template
from apps.loyalty.tests.helpers import a_client


def test_a_top_up_of_at_least_the_rule_amount_gets_its_coupon_once(in_alpha):
    template = a_template(name="充值送券", value=2000, min_spend=10000)
    coupon_rule_create(template=template, trigger=CouponRuleTrigger.TOP_UP, min_top_up=50000, acting_user=None)
    client = a_client()
    wallets.wallet_top_up(client=client, amount=49999, idempotency_key="small")
    assert Coupon.objects.count() == 0
    wallets.wallet_top_up(client=client, amount=50000, idempotency_key="big")
    wallets.wallet_top_up(client=client, amount=50000, idempotency_key="big")  # a replay
    coupon = Coupon.objects.get()
    assert (coupon.client, coupon.template, coupon.source) == (client, template, CouponSource.RULE)


def test_reaching_a_tier_gets_its_coupon(in_alpha):
    silver = tier_create(name="银卡", rank=2, acting_user=None)
    tiers.tier_benefit_set(
        tier=silver, price_percent=95, points_multiplier=Decimal("1.5"), min_spend=100000, acting_user=None
    )
    template = a_template(name="升级礼", value=5000, min_spend=20000)
    coupon_rule_create(template=template, trigger=CouponRuleTrigger.TIER_REACHED, tier=silver, acting_user=None)
    client = a_client()
    purchase_record(
        client=client,
        occurred_at=timezone.now() - datetime.timedelta(days=3),
        item_name="烫发",
        amount=120000,
        reference="bill:1:1",
        source=PurchaseSource.IMPORT,  # history brought in: the evaluation below moves the tier
    )
    change = tiers.tier_evaluate(client=client)
    assert change is not None and change.to_tier == silver
    assert list(Coupon.objects.values_list("client_id", "template_id")) == [(client.pk, template.pk)]
    assert tiers.tier_evaluate(client=client) is None
    assert Coupon.objects.count() == 1


def test_a_top_up_does_not_count_towards_a_tier(in_alpha):
    from apps.crm.models import PurchaseKind

    silver = tier_create(name="银卡", rank=2, acting_user=None)
    tiers.tier_benefit_set(
        tier=silver, price_percent=95, points_multiplier=Decimal(1), min_spend=100000, acting_user=None
    )
    client = a_client()
    purchase_record(
        client=client,
        occurred_at=timezone.now(),
        kind=PurchaseKind.TOP_UP,
        item_name="储值充值",
        amount=200000,
        reference="bill:2:1",
    )
    assert tiers.tier_evaluate(client=client) is None


def test_the_referrer_gets_the_salons_referral_coupon(in_alpha):
    template = a_template(name="推荐有礼", value=3000, min_spend=10000)
    LoyaltySettings.objects.filter(id=1).update(referral_coupon=template)
    referrer = a_client(name="李娜", phone="13900139000")
    friend = a_client(name="赵敏", phone="13700137000", referrer=referrer)
    reward = referrals.referral_reward_on_first_paid_visit(client=friend, reference="bill:5")
    assert reward is not None and reward.coupon is not None
    assert (reward.coupon.client, reward.coupon.source) == (referrer, CouponSource.REFERRAL)
    assert referrals.referral_reward_on_first_paid_visit(client=friend, reference="bill:6") is None
    assert Coupon.objects.count() == 1


def test_a_new_member_gets_the_welcome_coupon_once(in_alpha):
    from apps.loyalty.services import cards
    from tests.fixtures import owner_of

    owner = owner_of(in_alpha)
    template = a_template(name="新会员礼", value=1000, min_spend=5000)
    coupon_rule_create(template=template, trigger=CouponRuleTrigger.NEW_MEMBER, acting_user=None)
    client = a_client()
    card = cards.member_card_issue(client=client, acting_user=owner)
    cards.member_card_cancel(card=card, reason="typo", acting_user=owner)
    cards.member_card_issue(client=client, acting_user=owner)  # a second card later: no second welcome
    assert list(Coupon.objects.values_list("client_id", "template_id")) == [(client.pk, template.pk)]


def test_a_spend_recorded_by_hand_moves_the_tier_at_once(in_alpha):
    silver = tier_create(name="银卡", rank=2, acting_user=None)
    tiers.tier_benefit_set(
        tier=silver, price_percent=95, points_multiplier=Decimal(1), min_spend=100000, acting_user=None
    )
    client = a_client()
    purchase_record(
        client=client,
        occurred_at=timezone.now(),
        item_name="烫发",
        amount=100000,
        source=PurchaseSource.MANUAL,
        reference="bill:9:1",
    )
    client.refresh_from_db()
    assert client.tier == silver

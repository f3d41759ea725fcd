"""The demo salon's loyalty set-up: created through the services after crm's and the catalogue's demos,
safe to seed twice."""

from __future__ import annotations

from apps.catalog import demo as catalog_demo
from apps.crm import demo as crm_demo
from apps.loyalty import demo
from apps.loyalty.models import Coupon, CourseCard, MemberCard, TierBenefit, TopUpRule, Wallet, WalletEntry
from tests.fixtures import owner_of


def test_demo_members_seed_once_with_balances_that_add_up(in_alpha):
    owner = owner_of(in_alpha)
    crm_demo.seed(acting_user=owner)
    catalog_demo.seed(acting_user=owner)
    demo.seed(acting_user=owner)
    demo.seed(acting_user=owner)

    assert TopUpRule.objects.count() == 3
    assert TierBenefit.objects.count() == 4
    assert MemberCard.objects.count() == len(demo.MEMBERS)
    wang = Wallet.objects.get(client__name="王芳")
    # ¥1,000 + ¥200 and ¥3,000 + ¥800 in; ¥388 + ¥268 + ¥128 paid
    assert wang.balance == 100_000 + 20_000 + 300_000 + 80_000 - 38_800 - 26_800 - 12_800
    assert WalletEntry.objects.filter(wallet=wang).count() == 5
    # she was a 银卡 member when she paid (1.2 points per yuan, rounded down per bill); her spend over the last
    # 12 months is under ¥3,000, so the evaluation after it moved her down to the entry tier
    assert wang.points == 465 + 321 + 153
    wang.client.refresh_from_db()
    assert wang.client.tier.name == "普通会员"
    assert CourseCard.objects.count() == 2
    assert Coupon.objects.filter(template__name="新会员满200减30").count() == len(demo.MEMBERS)
    assert Coupon.objects.filter(template__name="染烫8折券").count() == len(demo.MEMBERS)

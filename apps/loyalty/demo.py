"""Loyalty for the demo salon: settings, top-up rules, tier benefits, coupons and their rules, and members
with cards, stored value, points, course cards and coupons, as they would be after some months of trade.

Safe to call twice: rules and templates are looked up by name, and every balance change carries an
idempotency key, so a second run writes nothing new. Run after crm's and the catalogue's demos."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.catalog.models import CourseCardTemplate, Service
from apps.core.models import User
from apps.crm.models import Client, MembershipTier
from apps.loyalty.models import CouponKind, CouponRuleTrigger, CouponTemplate, MemberCard, TierBenefit, TopUpRule
from apps.loyalty.models.cards import CURRENT
from apps.loyalty.services import cards, coupons, courses, points, tiers, wallets
from apps.loyalty.services.coupon_rules import coupon_rule_create
from apps.loyalty.services.coupon_templates import coupon_template_create
from apps.loyalty.services.settings import loyalty_settings_update
from apps.loyalty.services.top_up_rules import top_up_rule_create

TOP_UP_RULES = [("充1000送200", 100_000, 20_000), ("充3000送800", 300_000, 80_000), ("充5000送1500", 500_000, 150_000)]
# tier name -> price paid %, points multiplier, perks, 12-month spend to qualify
TIER_BENEFITS = {
    "普通会员": (100, "1", "生日当月积分双倍", 0),
    "银卡会员": (95, "1.2", "全场服务 95 折\n生日赠送头皮护理一次", 300_000),
    "金卡会员": (90, "1.5", "全场服务 9 折\n每月免费洗吹一次\n优先预约", 1_000_000),
    "钻石会员": (85, "2", "全场服务 85 折\n专属造型顾问\n免费停车", 3_000_000),
}
# name, kind, value, min spend, valid days, extra
COUPONS: list[tuple[str, str, int, int, int, dict[str, Any]]] = [
    ("新会员满200减30", CouponKind.MONEY_OFF, 3_000, 20_000, 60, {}),
    ("染烫8折券", CouponKind.PERCENTAGE, 20, 30_000, 30, {"max_discount": 20_000}),
    ("护理体验券 ¥9.9", CouponKind.SERVICE_TRIAL, 990, 0, 30, {"services": ["补水保湿面部护理", "头皮养护"]}),
    ("生日礼：护发精油一支", CouponKind.GIFT, 0, 0, 31, {"gift": "护发精油 30 ml"}),
]
# client name -> card number, top-ups, payments, course card
MEMBERS = {
    "王芳": ("8800000001", [100_000, 300_000], [38_800, 26_800, 12_800], "头皮养护 10 次卡"),
    "李娜": ("8800000002", [100_000], [32_800, 8_800], None),
    "陈静": ("8800000003", [500_000], [26_800, 26_800, 19_800], "补水面部护理 12 次卡"),
    "赵敏": ("8800000004", [300_000], [38_800], None),
    "周婷": ("8800000005", [100_000], [88_000], None),
}


def _settings(actor: User | None) -> None:
    loyalty_settings_update(
        acting_user=actor,
        points_per_yuan=1,
        check_in_points=5,
        birthday_points=200,
        referral_points=300,
        referral_bonus=5_000,
        low_balance_threshold=10_000,
    )


def _rules(actor: User | None) -> None:
    for name, pay, bonus in TOP_UP_RULES:
        if not TopUpRule.objects.filter(pay_amount=pay).exists():
            top_up_rule_create(name=name, pay_amount=pay, bonus_amount=bonus, acting_user=actor)
    for tier in MembershipTier.objects.all():
        if tier.name in TIER_BENEFITS and not TierBenefit.objects.filter(tier=tier).exists():
            percent, multiplier, perks, spend = TIER_BENEFITS[tier.name]
            tiers.tier_benefit_set(
                tier=tier,
                price_percent=percent,
                points_multiplier=Decimal(multiplier),
                perks=perks,
                min_spend=spend,
                acting_user=actor,
            )


def _coupons(actor: User | None) -> dict[str, CouponTemplate]:
    made = {}
    for name, kind, value, min_spend, days, extra in COUPONS:
        template = CouponTemplate.objects.filter(name=name).first()
        if template is None:
            template = coupon_template_create(
                name=name,
                kind=kind,
                value=value,
                min_spend=min_spend,
                valid_days=days,
                gift=extra.get("gift", ""),
                max_discount=extra.get("max_discount"),
                eligible_services=list(Service.objects.filter(name__in=extra.get("services", []))),
                acting_user=actor,
            )
        made[name] = template
    if not made["新会员满200减30"].rules.exists():
        coupon_rule_create(template=made["新会员满200减30"], trigger=CouponRuleTrigger.NEW_MEMBER, acting_user=actor)
    if not made["生日礼：护发精油一支"].rules.exists():
        coupon_rule_create(template=made["生日礼：护发精油一支"], trigger=CouponRuleTrigger.BIRTHDAY, acting_user=actor)
    return made


def _member(client: Client, spec: tuple, actor: User | None, templates: dict[str, CouponTemplate]) -> None:
    number, top_ups, payments, course_card = spec
    if not MemberCard.objects.filter(client=client, status__in=CURRENT).exists():
        if MemberCard.objects.filter(number=number).exists():
            return
        cards.member_card_issue(client=client, number=number, acting_user=actor)
    for i, amount in enumerate(top_ups):
        wallets.wallet_top_up(client=client, amount=amount, idempotency_key=f"demo:{client.pk}:top-up:{i}")
    for i, amount in enumerate(payments):
        wallets.wallet_debit(client=client, amount=amount, idempotency_key=f"demo:{client.pk}:pay:{i}")
        points.points_earn_for_spend(
            client=client, amount_spent=amount, reference=f"demo:{i}", idempotency_key=f"demo:{client.pk}:earn:{i}"
        )
    if course_card:
        template = CourseCardTemplate.objects.filter(name=course_card, is_active=True).first()
        if template is not None:
            card = courses.course_card_sell(
                client=client, template=template, idempotency_key=f"demo:{client.pk}:course", acting_user=actor
            )
            balance = card.balances.first()
            if balance is not None:
                courses.course_session_redeem(
                    card=card,
                    service=balance.service,
                    idempotency_key=f"demo:{client.pk}:session:1",
                    acting_user=None,
                )
    coupons.coupon_issue(
        template=templates["染烫8折券"],
        client=client,
        issue_key=f"demo:{client.pk}:coupon",
        acting_user=actor,
    )
    tiers.tier_evaluate(client=client)


def seed(*, acting_user: User | None = None) -> None:
    """Create whatever of the demo loyalty set-up is missing."""
    from apps.core.roles import Role

    actor = acting_user or User.objects.filter(groups__name=Role.OWNER, is_active=True).order_by("pk").first()
    _settings(actor)
    _rules(actor)
    templates = _coupons(actor)
    for name, spec in MEMBERS.items():
        client = Client.objects.filter(name=name, is_active=True).first()
        if client is not None:
            _member(client, spec, actor, templates)

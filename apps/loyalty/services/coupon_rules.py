"""Rules that issue coupons by themselves (LOY-6): when a member card is issued, a client's birthday
month begins, a tier is reached, or a top-up of at least an amount is made. A rule gives a client at
most one coupon per occasion, however often it fires."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.db import transaction

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import User
from apps.core.services import audit_record
from apps.crm.models import Client, MembershipTier
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import Coupon, CouponIssueRule, CouponRuleTrigger, CouponSource, CouponTemplate
from apps.loyalty.services import _common as check
from apps.loyalty.services.coupons import issue_once

logger = logging.getLogger(__name__)
UNSET: Any = object()
MAX_OCCASION_LENGTH = 50

# --- the rules themselves ------------------------------------------------------------------------


def _rule_checked(rule: CouponIssueRule) -> CouponIssueRule:
    if rule.trigger not in CouponRuleTrigger.values:
        raise loyalty_error(LoyaltyError.COUPON_INVALID_TRIGGER)
    if rule.tier_id is not None and not MembershipTier.objects.filter(pk=rule.tier_id).exists():
        raise loyalty_error(LoyaltyError.NOT_FOUND, field="tier")
    if rule.trigger == CouponRuleTrigger.TIER_REACHED:
        if rule.tier_id is None:
            raise loyalty_error(LoyaltyError.COUPON_RULE_TIER_REQUIRED)
    else:
        rule.tier = None
    if rule.trigger == CouponRuleTrigger.TOP_UP:
        check.amount_or_zero(rule.min_top_up, field="min_top_up")
    else:
        rule.min_top_up = 0
    if not isinstance(rule.is_active, bool):
        raise loyalty_error(LoyaltyError.COUPON_INVALID_VALUE, field="is_active")
    return rule


def _audit(rule: CouponIssueRule, action: str, acting_user: User | None) -> None:
    audit_record(
        action=action,
        actor=acting_user,
        target=rule,
        data={
            "template": rule.template_id,
            "trigger": rule.trigger,
            "tier": rule.tier_id,
            "min_top_up": rule.min_top_up,
            "is_active": rule.is_active,
        },
    )


@transaction.atomic
def coupon_rule_create(
    *,
    template: CouponTemplate,
    trigger: str,
    tier: MembershipTier | None = None,
    min_top_up: int = 0,
    is_active: bool = True,
    acting_user: User | None,
) -> CouponIssueRule:
    """Issue ``template`` when ``trigger`` happens (``manage_loyalty``, audited). A tier rule names its
    tier; a top-up rule its least amount."""
    check.require_permission(acting_user, "manage_loyalty")
    rule = _rule_checked(
        CouponIssueRule(template=template, trigger=trigger, tier=tier, min_top_up=min_top_up, is_active=is_active)
    )
    rule.save()
    _audit(rule, "loyalty.coupon_rule.created", acting_user)
    return rule


@transaction.atomic
def coupon_rule_update(
    *,
    rule: CouponIssueRule,
    acting_user: User | None,
    trigger: Any = UNSET,
    tier: Any = UNSET,
    min_top_up: Any = UNSET,
    is_active: Any = UNSET,
) -> CouponIssueRule:
    """Change when a rule fires, or switch it off (``manage_loyalty``, audited). Coupons it issued stay."""
    check.require_permission(acting_user, "manage_loyalty")
    rule = CouponIssueRule.objects.select_for_update().get(pk=rule.pk)
    for name, value in (("trigger", trigger), ("tier", tier), ("min_top_up", min_top_up), ("is_active", is_active)):
        if value is not UNSET:
            setattr(rule, name, value)
    rule = _rule_checked(rule)
    rule.save()
    _audit(rule, "loyalty.coupon_rule.updated", acting_user)
    return rule


# --- firing --------------------------------------------------------------------------------------


def _occasion(value: Any) -> str:
    occasion = "" if value is None else str(value).strip()
    if not occasion:
        raise loyalty_error(LoyaltyError.KEY_REQUIRED, field="occasion")
    if len(occasion) > MAX_OCCASION_LENGTH:
        raise loyalty_error(LoyaltyError.TEXT_TOO_LONG, field="occasion")
    return occasion


def _fire(rule: CouponIssueRule, client: Client, occasion: str) -> tuple[Coupon, bool] | None:
    """The rule's coupon for this client and occasion; None when it cannot be issued (the template ran
    out or ended, the client left): the event that fired the rule goes on regardless."""
    try:
        return issue_once(
            template=rule.template,
            client=client,
            source=CouponSource.RULE,
            issue_key=f"rule:{rule.pk}:{client.pk}:{occasion}",
            acting_user=None,
        )
    except ServiceError as error:
        logger.info("coupon rule %s not applied for client %s: %s", rule.pk, client.pk, error.code.value)
        return None


@transaction.atomic
def coupon_rules_fire(
    *,
    trigger: str,
    client: Client,
    occasion: str,
    tier: MembershipTier | None = None,
    top_up_amount: int | None = None,
) -> list[Coupon]:
    """Issue the coupons of the active rules for ``trigger`` (a tier rule: the tier reached; a top-up
    rule: a top-up of at least its amount), once per client, rule and ``occasion`` (the card's number,
    the top-up's key, "2025-03"): firing again for the same occasion returns the same coupons."""
    if trigger not in CouponRuleTrigger.values:
        raise loyalty_error(LoyaltyError.COUPON_INVALID_TRIGGER)
    occasion = _occasion(occasion)
    rules = CouponIssueRule.objects.filter(trigger=trigger, is_active=True, template__is_active=True)
    if trigger == CouponRuleTrigger.TIER_REACHED:
        if tier is None:
            return []
        rules = rules.filter(tier=tier)
    if trigger == CouponRuleTrigger.TOP_UP:
        if top_up_amount is None:
            return []
        rules = rules.filter(min_top_up__lte=top_up_amount)
    coupons = []
    for rule in rules.select_related("template").order_by("pk"):
        issued = _fire(rule, client, occasion)
        if issued is not None:
            coupons.append(issued[0])
    return coupons


def birthday_clients(today: datetime.date) -> list[Client]:
    """Active clients whose birthday falls in ``today``'s month: the solar date, or for a lunar birthday
    the solar date it falls on this year (as the crm's birthday-month tag counts them)."""
    from apps.crm.services.clients import client_next_birthday

    birthday_fields = ("pk", "is_active", "birthday", "birthday_is_lunar", "lunar_birthday_month", "lunar_birthday_day")
    clients = Client.objects.filter(is_active=True, birthday__isnull=False).only(*birthday_fields)
    solar = list(clients.filter(birthday__month=today.month, birthday_is_lunar=False).order_by("pk"))
    first = today.replace(day=1)
    lunar = [
        client
        for client in clients.filter(birthday_is_lunar=True).order_by("pk")
        if (day := client_next_birthday(client, today=first)) is not None
        and (day.year, day.month) == (today.year, today.month)
    ]
    return sorted(solar + lunar, key=lambda c: c.pk)


def coupons_birthday_issue(*, today: datetime.date | None = None) -> int:
    """Give each client whose birthday month it is the coupons of the active birthday rules; returns
    how many were issued. The occasion is the year and month, so the nightly run issues them on the
    1st, catches up a missed night, and reaches clients added later in the month, each only once."""
    today = today or salon_today()
    rules = list(
        CouponIssueRule.objects.filter(
            trigger=CouponRuleTrigger.BIRTHDAY, is_active=True, template__is_active=True
        ).select_related("template")
    )
    if not rules:
        return 0
    occasion = f"{today:%Y-%m}"
    issued = 0
    for client in birthday_clients(today):
        # One transaction per client: a failure for one client leaves the others' coupons in place.
        with transaction.atomic():
            for rule in rules:
                result = _fire(rule, client, occasion)
                if result is not None and result[1]:
                    issued += 1
    return issued

"""The salon's top-up bonus rules (LOY-3: 充1000送200)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from apps.core.models import User
from apps.core.money import MAX_AMOUNT
from apps.core.services import audit_record
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import LoyaltySettings, TopUpRule
from apps.loyalty.services import _common as check

UNSET: Any = object()


def _window(valid_from: datetime.date | None, valid_until: datetime.date | None) -> None:
    for value, name in ((valid_from, "valid_from"), (valid_until, "valid_until")):
        if value is not None and not isinstance(value, datetime.date):
            raise loyalty_error(LoyaltyError.INVALID_WINDOW, field=name)
    if valid_from and valid_until and valid_until < valid_from:
        raise loyalty_error(LoyaltyError.INVALID_WINDOW)


def _overlapping(rule: TopUpRule) -> bool:
    """Another active rule with the same threshold whose window meets this one's: which would apply?"""
    others = TopUpRule.objects.filter(is_active=True, pay_amount=rule.pay_amount).exclude(pk=rule.pk)
    if rule.valid_until is not None:
        others = others.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=rule.valid_until))
    if rule.valid_from is not None:
        others = others.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=rule.valid_from))
    return others.exists()


def _serialise_rule_writes() -> None:
    """The overlap check reads rows a concurrent write could add; the salon's settings row is the mutex."""
    check.loyalty_settings()
    LoyaltySettings.objects.select_for_update().filter(id=1).first()


def _save(rule: TopUpRule, acting_user: User | None, action: str) -> TopUpRule:
    check.require_permission(acting_user, "manage_loyalty")
    rule.name = check.text(rule.name, field="name", model=TopUpRule)
    check.amount(rule.pay_amount, field="pay_amount")
    check.amount_or_zero(rule.bonus_amount, field="bonus_amount")
    if rule.bonus_amount > MAX_AMOUNT:
        raise loyalty_error(LoyaltyError.INVALID_AMOUNT, field="bonus_amount")
    _window(rule.valid_from, rule.valid_until)
    if rule.is_active and _overlapping(rule):
        raise loyalty_error(LoyaltyError.DUPLICATE_TOP_UP_RULE)
    rule.save()
    audit_record(
        action=action,
        actor=acting_user,
        target=rule,
        data={"pay_amount": rule.pay_amount, "bonus_amount": rule.bonus_amount, "is_active": rule.is_active},
    )
    return rule


@transaction.atomic
def top_up_rule_create(
    *,
    pay_amount: int,
    bonus_amount: int,
    name: str = "",
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    acting_user: User | None,
) -> TopUpRule:
    """Pay at least ``pay_amount``, get ``bonus_amount`` as bonus; two active rules with one threshold may
    not overlap in time (a top-up must have one answer)."""
    # Serialise rule writes: the overlap check reads other rows that a concurrent write could change.
    list(TopUpRule.objects.select_for_update().filter(pay_amount=pay_amount))
    rule = TopUpRule(
        name=name or "",
        pay_amount=pay_amount,
        bonus_amount=bonus_amount,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    return _save(rule, acting_user, "loyalty.top_up_rule.created")


@transaction.atomic
def top_up_rule_update(
    *,
    rule: TopUpRule,
    acting_user: User | None,
    name: Any = UNSET,
    pay_amount: Any = UNSET,
    bonus_amount: Any = UNSET,
    valid_from: Any = UNSET,
    valid_until: Any = UNSET,
    is_active: Any = UNSET,
) -> TopUpRule:
    """Change a rule; top-ups already made keep the bonus they got (the ledger names the rule)."""
    _serialise_rule_writes()
    rule = TopUpRule.objects.select_for_update().get(pk=rule.pk)
    values = {
        "name": name,
        "pay_amount": pay_amount,
        "bonus_amount": bonus_amount,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "is_active": is_active,
    }
    for field, value in values.items():
        if value is not UNSET:
            setattr(rule, field, "" if field == "name" and value is None else value)
    if not isinstance(rule.is_active, bool):
        raise loyalty_error(LoyaltyError.INVALID_AMOUNT, field="is_active")
    return _save(rule, acting_user, "loyalty.top_up_rule.updated")

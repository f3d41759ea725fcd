"""Writes of price rules (CAT-4): a service's price for a membership tier, a staff level, or both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from apps.catalog.errors import CatalogError, catalog_error
from apps.catalog.models import PriceRule, Service
from apps.catalog.services import _common as check
from apps.core.models import StaffLevel, User
from apps.core.services import audit_record
from apps.crm.models import MembershipTier

_RULE_CONSTRAINTS = {
    "price_rule_unique_per_condition": CatalogError.DUPLICATE_PRICE_RULE,
    "price_rule_has_a_condition": CatalogError.PRICE_RULE_NEEDS_CONDITION,
}


def _rule_data(rule: PriceRule) -> dict[str, Any]:
    return {"service": rule.service_id, "tier": rule.tier_id, "staff_level": rule.staff_level_id, "price": rule.price}


@transaction.atomic
def price_rule_create(
    *,
    service: Service,
    price: int,
    tier: MembershipTier | None = None,
    staff_level: StaffLevel | None = None,
    acting_user: User | None = None,
) -> PriceRule:
    """Set the price of ``service`` for a tier, a staff level or the pair. At least one of them is
    named, and each combination has one rule only."""
    if tier is None and staff_level is None:
        raise catalog_error(CatalogError.PRICE_RULE_NEEDS_CONDITION)
    check.amount(price)
    if PriceRule.objects.filter(service=service, tier=tier, staff_level=staff_level).exists():
        raise catalog_error(CatalogError.DUPLICATE_PRICE_RULE)
    rule = check.save(
        PriceRule(service=service, tier=tier, staff_level=staff_level, price=price), constraints=_RULE_CONSTRAINTS
    )
    audit_record(action="catalog.price_rule.created", actor=acting_user, target=rule, data=_rule_data(rule))
    return rule


@transaction.atomic
def price_rule_update(*, rule: PriceRule, price: int, acting_user: User | None) -> PriceRule:
    """Change the price of a rule (its service, tier and level stay: make a new rule for another)."""
    check.amount(price)
    rule = PriceRule.objects.select_for_update().get(pk=rule.pk)
    if rule.price == price:
        return rule
    old = rule.price
    rule.price = price
    rule.save(update_fields=["price"])
    audit_record(
        action="catalog.price_rule.updated", actor=acting_user, target=rule, data={**_rule_data(rule), "from": old}
    )
    return rule


@transaction.atomic
def price_rule_delete(*, rule: PriceRule, acting_user: User | None) -> None:
    """Remove a rule: the service falls back to the next rule that applies, or its base price."""
    current = PriceRule.objects.select_for_update().filter(pk=rule.pk).first()
    if current is None:  # already gone
        return
    audit_record(action="catalog.price_rule.deleted", actor=acting_user, target=current, data=_rule_data(current))
    current.delete()


RuleKey = tuple[MembershipTier | None, StaffLevel | None]


@transaction.atomic
def service_price_rules_set(
    *, service: Service, prices: Mapping[RuleKey, int | None], acting_user: User | None
) -> list[PriceRule]:
    """Apply a grid of prices for one service: each (tier, level) cell given a price gets a rule with
    that price, each cell given None loses its rule. Cells not mentioned are left alone. All or nothing."""
    # Lock the service row: two people saving the same grid at once apply one after the other.
    service = Service.objects.select_for_update().get(pk=service.pk)
    existing = {(r.tier_id, r.staff_level_id): r for r in PriceRule.objects.filter(service=service)}
    for (tier, level), price in prices.items():
        if tier is None and level is None:
            raise catalog_error(CatalogError.PRICE_RULE_NEEDS_CONDITION)
        if price is not None:
            check.amount(price)
    for (tier, level), price in prices.items():
        rule = existing.get((tier.pk if tier else None, level.pk if level else None))
        if price is None:
            if rule is not None:
                price_rule_delete(rule=rule, acting_user=acting_user)
        elif rule is None:
            price_rule_create(service=service, tier=tier, staff_level=level, price=price, acting_user=acting_user)
        else:
            price_rule_update(rule=rule, price=price, acting_user=acting_user)
    return list(PriceRule.objects.filter(service=service).order_by("pk"))

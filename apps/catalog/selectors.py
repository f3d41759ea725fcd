"""Reads of the catalogue, shaped for lists (a fixed number of queries whatever the page size) and
for the till (which price applies)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from django.db.models import Count, Prefetch, Q, QuerySet

from apps.catalog.models import (
    CourseCardTemplate,
    CourseCardTemplateItem,
    Package,
    PackageItem,
    PriceRule,
    Product,
    ProductCategory,
    Service,
    ServiceCategory,
    ServiceMaterial,
    Supplier,
)
from apps.core.models import StaffLevel
from apps.crm.models import MembershipTier


class PriceQuote(NamedTuple):
    """A service's price and the rule that set it: ``tier_level``, ``level``, ``tier`` or ``base`` (no rule)."""

    price: int
    rule: str


def service_price_quote(
    *, service: Service, tier: MembershipTier | None = None, staff_level: StaffLevel | None = None
) -> PriceQuote:
    """The price in fen of ``service`` for a client of ``tier`` served by a technician of ``staff_level``,
    and which rule gave it (the till applies a member discount only where no tier price applies).

    The most specific rule wins:

    1. the rule for exactly this tier and this staff level;
    2. else the staff-level rule (any tier): the technician's level sets the list price;
    3. else the tier rule (any staff level);
    4. else the service's base price.

    Either argument may be None (a walk-in has no tier; "any technician" has no level), which skips
    the steps that need it. One query.
    """
    tier_id = tier.pk if tier is not None else None
    level_id = staff_level.pk if staff_level is not None else None
    if tier_id is None and level_id is None:
        return PriceQuote(service.price, "base")
    rules = (
        PriceRule.objects.order_by()
        .filter(service=service)
        .filter(
            Q(tier_id=tier_id, staff_level_id=level_id)
            | Q(tier__isnull=True, staff_level_id=level_id)
            | Q(tier_id=tier_id, staff_level__isnull=True)
        )
    )
    by_key = {(rule.tier_id, rule.staff_level_id): rule.price for rule in rules}
    for key, name in (((tier_id, level_id), "tier_level"), ((None, level_id), "level"), ((tier_id, None), "tier")):
        if key != (None, None) and key in by_key:
            if name == "tier_level" and tier_id is None:
                name = "level"
            elif name == "tier_level" and level_id is None:
                name = "tier"
            return PriceQuote(by_key[key], name)
    return PriceQuote(service.price, "base")


def service_price(
    *, service: Service, tier: MembershipTier | None = None, staff_level: StaffLevel | None = None
) -> int:
    """The price in fen of ``service`` for a client of ``tier`` served by a technician of ``staff_level``
    (the rules are those of ``service_price_quote``). One query, none without a tier or a level."""
    return service_price_quote(service=service, tier=tier, staff_level=staff_level).price


def price_pick(
    *, base: int, rules: Mapping[tuple[int | None, int | None], int], tier_id: int | None, level_id: int | None
) -> int:
    """``service_price``'s precedence over rules already read, keyed by (tier id, staff level id): for
    callers that read a service's rules together with other data."""
    for key in ((tier_id, level_id), (None, level_id), (tier_id, None)):
        if key != (None, None) and key in rules:
            return rules[key]
    return base


def service_list(*, include_inactive: bool = True, search: str = "") -> QuerySet[Service]:
    services = Service.objects.select_related("category").prefetch_related(
        Prefetch("materials", queryset=ServiceMaterial.objects.select_related("product").order_by("pk"))
    )
    services = services.annotate(price_rule_count=Count("price_rules", distinct=True))
    if search:
        services = services.filter(name__icontains=search)
    services = services.order_by("-is_active", "category__sort_order", "sort_order", "name", "pk")
    return services if include_inactive else services.filter(is_active=True)


def service_category_list() -> QuerySet[ServiceCategory]:
    return ServiceCategory.objects.annotate(service_count=Count("services")).order_by(
        "-is_active", "sort_order", "name", "pk"
    )


def product_category_list() -> QuerySet[ProductCategory]:
    return ProductCategory.objects.annotate(product_count=Count("products")).order_by(
        "-is_active", "sort_order", "name", "pk"
    )


def product_list(*, include_inactive: bool = True, search: str = "") -> QuerySet[Product]:
    products = Product.objects.select_related("supplier", "category")
    if search:
        products = products.filter(
            Q(name__icontains=search) | Q(brand__icontains=search) | Q(barcode=search) | Q(spec__icontains=search)
        )
    products = products.order_by("-is_active", "name", "pk")
    return products if include_inactive else products.filter(is_active=True)


def supplier_list() -> QuerySet[Supplier]:
    return Supplier.objects.annotate(product_count=Count("products")).order_by("-is_active", "name", "pk")


def package_list() -> QuerySet[Package]:
    items = PackageItem.objects.select_related("service", "product").order_by("pk")
    return Package.objects.prefetch_related(Prefetch("items", queryset=items)).order_by("-is_active", "name", "pk")


def course_card_template_list() -> QuerySet[CourseCardTemplate]:
    items = CourseCardTemplateItem.objects.select_related("service").order_by("pk")
    return CourseCardTemplate.objects.prefetch_related(Prefetch("items", queryset=items)).order_by(
        "-is_active", "name", "pk"
    )


def price_rule_list(*, service: Service | None = None) -> QuerySet[PriceRule]:
    rules = PriceRule.objects.select_related("service", "tier", "staff_level")
    if service is not None:
        rules = rules.filter(service=service)
    return rules.order_by("service__name", "service_id", "tier__rank", "staff_level__rank", "pk")


def staff_level_list() -> QuerySet[StaffLevel]:
    return StaffLevel.objects.order_by("-is_active", "rank", "pk")


def tier_list() -> QuerySet[MembershipTier]:
    return MembershipTier.objects.order_by("rank", "pk")


def price_grid(*, service: Service) -> dict[str, object]:
    """The price rules of one service as a grid: rows are membership tiers (and "any tier"), columns
    are staff levels (and "any level"); the corner cell is the base price."""
    tiers = list(tier_list())
    levels = list(StaffLevel.objects.filter(is_active=True).order_by("rank", "pk"))
    rules = {(r.tier_id, r.staff_level_id): r for r in PriceRule.objects.filter(service=service)}
    # A rule for a deactivated level still applies (staff may hold it): keep its column visible.
    used_levels = {level_id for _tier, level_id in rules if level_id is not None}
    shown = {level.pk for level in levels}
    levels += list(StaffLevel.objects.filter(pk__in=used_levels - shown).order_by("rank", "pk"))
    return {"tiers": tiers, "levels": levels, "rules": rules}

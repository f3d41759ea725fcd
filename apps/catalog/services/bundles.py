"""Writes of packages (CAT-3, 套餐) and course-card templates (CAT-5, 次卡/疗程卡)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from apps.catalog.errors import CatalogError, catalog_error
from apps.catalog.models import (
    CourseCardTemplate,
    CourseCardTemplateItem,
    Package,
    PackageItem,
    Product,
    Service,
)
from apps.catalog.services import _common as check
from apps.catalog.services._common import UNSET
from apps.core.models import User
from apps.core.services import audit_record

# --- packages ----------------------------------------------------------------------------------

_PACKAGE_CONSTRAINTS = {"package_name_unique_ci": CatalogError.DUPLICATE_NAME}
_PACKAGE_ITEM_CONSTRAINTS = {
    "package_item_service_unique": CatalogError.DUPLICATE_ITEM,
    "package_item_product_unique": CatalogError.DUPLICATE_ITEM,
    "package_item_service_xor_product": CatalogError.ITEM_NEEDS_ONE_TARGET,
}


@dataclass(frozen=True)
class PackageItemSpec:
    """A line of a package: exactly one of ``service`` and ``product``."""

    service: Service | None = None
    product: Product | None = None
    quantity: int = 1


def _package_item_add(package: Package, spec: PackageItemSpec) -> PackageItem:
    if (spec.service is None) == (spec.product is None):
        raise catalog_error(CatalogError.ITEM_NEEDS_ONE_TARGET)
    quantity = check.whole(spec.quantity, low=1, high=check.MAX_SESSIONS, code=CatalogError.INVALID_QUANTITY)
    lines = PackageItem.objects.filter(package=package)
    if spec.service is not None and lines.filter(service=spec.service).exists():
        raise catalog_error(CatalogError.DUPLICATE_ITEM, field="service")
    if spec.product is not None and lines.filter(product=spec.product).exists():
        raise catalog_error(CatalogError.DUPLICATE_ITEM, field="product")
    return check.save(
        PackageItem(package=package, service=spec.service, product=spec.product, quantity=quantity),
        constraints=_PACKAGE_ITEM_CONSTRAINTS,
    )


def _offer_values(
    model: type[Package] | type[CourseCardTemplate],
    values: dict[str, Any],
    *,
    exclude_pk: int | None = None,
    validity_optional: bool,
) -> dict[str, Any]:
    """Checks a package and a course card share: a unique name, a description, a price in range
    and a validity (a package may never expire; a course card always does)."""
    cleaned = dict(values)
    if values.get("name", UNSET) is not UNSET:
        cleaned["name"] = check.text(values["name"], field="name", model=model, required=True)
        if check.name_taken(model, cleaned["name"], exclude_pk=exclude_pk):
            raise catalog_error(CatalogError.DUPLICATE_NAME)
    if values.get("description", UNSET) is not UNSET:
        cleaned["description"] = check.text(values["description"], field="description", model=model)
    if values.get("price", UNSET) is not UNSET:
        check.amount(values["price"])
    if values.get("validity_days", UNSET) is not UNSET:
        check.validity_days(values["validity_days"], optional=validity_optional)
    return cleaned


def _package_values(values: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    return _offer_values(Package, values, exclude_pk=exclude_pk, validity_optional=True)


@transaction.atomic
def package_create(
    *,
    name: str,
    price: int,
    validity_days: int | None = None,
    description: str = "",
    items: Iterable[PackageItemSpec] = (),
    acting_user: User | None = None,
) -> Package:
    """Add a package with its lines. Each line is a service or a product, never both, listed once."""
    values = _package_values({"name": name, "price": price, "validity_days": validity_days, "description": description})
    package = check.save(Package(**values), constraints=_PACKAGE_CONSTRAINTS)
    for spec in items:
        _package_item_add(package, spec)
    audit_record(
        action="catalog.package.created", actor=acting_user, target=package, data={"name": package.name, "price": price}
    )
    return package


@transaction.atomic
def package_update(
    *,
    package: Package,
    acting_user: User | None,
    name: Any = UNSET,
    price: Any = UNSET,
    validity_days: Any = UNSET,
    description: Any = UNSET,
    is_active: Any = UNSET,
    items: Iterable[PackageItemSpec] | Any = UNSET,
) -> Package:
    """Change a package; ``items``, when given, replaces all its lines."""
    package = Package.objects.select_for_update().get(pk=package.pk)
    values = _package_values(
        {
            "name": name,
            "price": price,
            "validity_days": validity_days,
            "description": description,
            "is_active": is_active,
        },
        exclude_pk=package.pk,
    )
    changes = check.changed_fields(package, values)
    if changes:
        check.save(package, constraints=_PACKAGE_CONSTRAINTS, update_fields=list(changes))
        audit_record(
            action="catalog.package.updated", actor=acting_user, target=package, data=check.audit_data(changes)
        )
    if items is not UNSET:
        package_items_set(package=package, items=items, acting_user=acting_user)
    return package


def package_deactivate(*, package: Package, acting_user: User | None) -> Package:
    """Stop selling a package; packages already sold are not affected."""
    return package_update(package=package, acting_user=acting_user, is_active=False)


@transaction.atomic
def package_item_add(
    *,
    package: Package,
    acting_user: User | None,
    service: Service | None = None,
    product: Product | None = None,
    quantity: int = 1,
) -> PackageItem:
    item = _package_item_add(package, PackageItemSpec(service=service, product=product, quantity=quantity))
    audit_record(
        action="catalog.package.item_added",
        actor=acting_user,
        target=package,
        data={"service": item.service_id, "product": item.product_id, "quantity": item.quantity},
    )
    return item


@transaction.atomic
def package_item_remove(*, item: PackageItem, acting_user: User | None) -> None:
    package = item.package
    deleted, _rows = PackageItem.objects.filter(pk=item.pk).delete()
    if deleted:
        audit_record(
            action="catalog.package.item_removed",
            actor=acting_user,
            target=package,
            data={"service": item.service_id, "product": item.product_id},
        )


@transaction.atomic
def package_items_set(*, package: Package, items: Iterable[PackageItemSpec], acting_user: User | None) -> Package:
    """Replace all lines of a package (all or nothing)."""
    package = Package.objects.select_for_update().get(pk=package.pk)
    PackageItem.objects.filter(package=package).delete()
    added = [_package_item_add(package, spec) for spec in items]
    audit_record(
        action="catalog.package.items_set",
        actor=acting_user,
        target=package,
        data={"items": [[i.service_id, i.product_id, i.quantity] for i in added]},
    )
    return package


# --- course-card templates ---------------------------------------------------------------------

_CARD_CONSTRAINTS = {"course_card_template_name_unique_ci": CatalogError.DUPLICATE_NAME}


@dataclass(frozen=True)
class CourseCardItemSpec:
    service: Service
    sessions: int


def _card_item_add(template: CourseCardTemplate, spec: CourseCardItemSpec) -> CourseCardTemplateItem:
    sessions = check.whole(spec.sessions, low=1, high=check.MAX_SESSIONS, code=CatalogError.INVALID_SESSIONS)
    if CourseCardTemplateItem.objects.filter(template=template, service=spec.service).exists():
        raise catalog_error(CatalogError.DUPLICATE_ITEM)
    return check.save(
        CourseCardTemplateItem(template=template, service=spec.service, sessions=sessions),
        constraints={"course_card_item_unique": CatalogError.DUPLICATE_ITEM},
    )


def _card_values(values: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    return _offer_values(CourseCardTemplate, values, exclude_pk=exclude_pk, validity_optional=False)


@transaction.atomic
def course_card_template_create(
    *,
    name: str,
    price: int,
    validity_days: int,
    description: str = "",
    items: Iterable[CourseCardItemSpec] = (),
    acting_user: User | None = None,
) -> CourseCardTemplate:
    """Add a course card on sale: so many sessions of each service, valid for so many days after sale."""
    values = _card_values({"name": name, "price": price, "validity_days": validity_days, "description": description})
    template = check.save(CourseCardTemplate(**values), constraints=_CARD_CONSTRAINTS)
    for spec in items:
        _card_item_add(template, spec)
    audit_record(
        action="catalog.course_card_template.created",
        actor=acting_user,
        target=template,
        data={"name": template.name, "price": price},
    )
    return template


@transaction.atomic
def course_card_template_update(
    *,
    template: CourseCardTemplate,
    acting_user: User | None,
    name: Any = UNSET,
    price: Any = UNSET,
    validity_days: Any = UNSET,
    description: Any = UNSET,
    is_active: Any = UNSET,
    items: Iterable[CourseCardItemSpec] | Any = UNSET,
) -> CourseCardTemplate:
    """Change a course-card template; ``items``, when given, replaces all its lines. Cards already sold
    keep what they were sold with."""
    template = CourseCardTemplate.objects.select_for_update().get(pk=template.pk)
    values = _card_values(
        {
            "name": name,
            "price": price,
            "validity_days": validity_days,
            "description": description,
            "is_active": is_active,
        },
        exclude_pk=template.pk,
    )
    changes = check.changed_fields(template, values)
    if changes:
        check.save(template, constraints=_CARD_CONSTRAINTS, update_fields=list(changes))
        audit_record(
            action="catalog.course_card_template.updated",
            actor=acting_user,
            target=template,
            data=check.audit_data(changes),
        )
    if items is not UNSET:
        course_card_items_set(template=template, items=items, acting_user=acting_user)
    return template


def course_card_template_deactivate(*, template: CourseCardTemplate, acting_user: User | None) -> CourseCardTemplate:
    """Stop selling a course card; cards already sold keep their sessions."""
    return course_card_template_update(template=template, acting_user=acting_user, is_active=False)


@transaction.atomic
def course_card_item_add(
    *, template: CourseCardTemplate, service: Service, sessions: int, acting_user: User | None
) -> CourseCardTemplateItem:
    item = _card_item_add(template, CourseCardItemSpec(service=service, sessions=sessions))
    audit_record(
        action="catalog.course_card_template.item_added",
        actor=acting_user,
        target=template,
        data={"service": service.pk, "sessions": item.sessions},
    )
    return item


@transaction.atomic
def course_card_item_remove(*, item: CourseCardTemplateItem, acting_user: User | None) -> None:
    template = item.template
    deleted, _rows = CourseCardTemplateItem.objects.filter(pk=item.pk).delete()
    if deleted:
        audit_record(
            action="catalog.course_card_template.item_removed",
            actor=acting_user,
            target=template,
            data={"service": item.service_id},
        )


@transaction.atomic
def course_card_items_set(
    *, template: CourseCardTemplate, items: Iterable[CourseCardItemSpec], acting_user: User | None
) -> CourseCardTemplate:
    """Replace all lines of a course-card template (all or nothing)."""
    template = CourseCardTemplate.objects.select_for_update().get(pk=template.pk)
    CourseCardTemplateItem.objects.filter(template=template).delete()
    added = [_card_item_add(template, spec) for spec in items]
    audit_record(
        action="catalog.course_card_template.items_set",
        actor=acting_user,
        target=template,
        data={"items": [[i.service_id, i.sessions] for i in added]},
    )
    return template

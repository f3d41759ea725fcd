"""Writes of service and product categories, services and the materials a service uses up (CAT-1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.catalog.errors import CatalogError, catalog_error
from apps.catalog.models import Product, ProductCategory, Service, ServiceCategory, ServiceMaterial
from apps.catalog.services import _common as check
from apps.catalog.services._common import UNSET
from apps.core.models import User
from apps.core.services import audit_record

# --- categories --------------------------------------------------------------------------------

Category = ServiceCategory | ProductCategory

_CATEGORY_CONSTRAINTS = {
    ServiceCategory: {"service_category_name_unique_ci": CatalogError.DUPLICATE_NAME},
    ProductCategory: {"product_category_name_unique_ci": CatalogError.DUPLICATE_NAME},
}


def _category_create(model: type[Category], *, name: str, sort_order: int, acting_user: User | None) -> Any:
    name = check.text(name, field="name", model=model, required=True)
    sort_order = check.sort_order(sort_order)
    if check.name_taken(model, name):
        raise catalog_error(CatalogError.DUPLICATE_NAME)
    category = check.save(model(name=name, sort_order=sort_order), constraints=_CATEGORY_CONSTRAINTS[model])
    audit_record(action=f"catalog.{model._meta.model_name}.created", actor=acting_user, target=category)
    return category


def _category_update(
    category: Category, *, acting_user: User | None, name: Any, sort_order: Any, is_active: Any
) -> Any:
    model = type(category)
    category = model.objects.select_for_update().get(pk=category.pk)
    values: dict[str, Any] = {"name": name, "sort_order": sort_order, "is_active": is_active}
    if name is not UNSET:
        values["name"] = check.text(name, field="name", model=model, required=True)
        if check.name_taken(model, values["name"], exclude_pk=category.pk):
            raise catalog_error(CatalogError.DUPLICATE_NAME)
    if sort_order is not UNSET:
        check.sort_order(sort_order)
    changes = check.changed_fields(category, values)
    if changes:
        check.save(category, constraints=_CATEGORY_CONSTRAINTS[model], update_fields=list(changes))
        audit_record(
            action=f"catalog.{model._meta.model_name}.updated",
            actor=acting_user,
            target=category,
            data=check.audit_data(changes),
        )
    return category


@transaction.atomic
def service_category_create(*, name: str, sort_order: int = 0, acting_user: User | None = None) -> ServiceCategory:
    """Add a service category; names are unique whatever their case."""
    return _category_create(ServiceCategory, name=name, sort_order=sort_order, acting_user=acting_user)


@transaction.atomic
def service_category_update(
    *,
    category: ServiceCategory,
    acting_user: User | None,
    name: Any = UNSET,
    sort_order: Any = UNSET,
    is_active: Any = UNSET,
) -> ServiceCategory:
    return _category_update(category, acting_user=acting_user, name=name, sort_order=sort_order, is_active=is_active)


def service_category_deactivate(*, category: ServiceCategory, acting_user: User | None) -> ServiceCategory:
    """Hide a category from new choices; its services keep it."""
    return service_category_update(category=category, acting_user=acting_user, is_active=False)


@transaction.atomic
def product_category_create(*, name: str, sort_order: int = 0, acting_user: User | None = None) -> ProductCategory:
    """Add a product category; names are unique whatever their case."""
    return _category_create(ProductCategory, name=name, sort_order=sort_order, acting_user=acting_user)


@transaction.atomic
def product_category_update(
    *,
    category: ProductCategory,
    acting_user: User | None,
    name: Any = UNSET,
    sort_order: Any = UNSET,
    is_active: Any = UNSET,
) -> ProductCategory:
    return _category_update(category, acting_user=acting_user, name=name, sort_order=sort_order, is_active=is_active)


def product_category_deactivate(*, category: ProductCategory, acting_user: User | None) -> ProductCategory:
    return product_category_update(category=category, acting_user=acting_user, is_active=False)


# --- services ----------------------------------------------------------------------------------

_SERVICE_CONSTRAINTS = {"service_name_unique_ci": CatalogError.DUPLICATE_NAME}


@dataclass(frozen=True)
class MaterialSpec:
    """One product a service uses up, so much of it per service."""

    product: Product
    quantity: Decimal | int | str
    unit: str = ""


def _service_values(values: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    """Check the given service fields (UNSET ones are skipped) and return them cleaned."""
    cleaned = dict(values)
    if values.get("name", UNSET) is not UNSET:
        cleaned["name"] = check.text(values["name"], field="name", model=Service, required=True)
        if check.name_taken(Service, cleaned["name"], exclude_pk=exclude_pk):
            raise catalog_error(CatalogError.DUPLICATE_NAME)
    for field in ("description", "suits"):
        if values.get(field, UNSET) is not UNSET:
            cleaned[field] = check.text(values[field], field=field, model=Service)
    if values.get("duration_minutes", UNSET) is not UNSET:
        check.minutes(values["duration_minutes"], code=CatalogError.INVALID_DURATION, low=1)
    if values.get("buffer_minutes", UNSET) is not UNSET:
        check.minutes(values["buffer_minutes"], code=CatalogError.INVALID_BUFFER, low=0)
    if values.get("price", UNSET) is not UNSET:
        check.amount(values["price"])
    if values.get("sort_order", UNSET) is not UNSET:
        check.sort_order(values["sort_order"])
    return cleaned


@transaction.atomic
def service_create(
    *,
    name: str,
    duration_minutes: int,
    price: int,
    category: ServiceCategory | None = None,
    description: str = "",
    buffer_minutes: int = 0,
    suits: str = "",
    sort_order: int = 0,
    materials: Iterable[MaterialSpec] = (),
    acting_user: User | None = None,
) -> Service:
    """Add a service with its materials. The name is unique whatever its case; the duration is at
    least a minute, the buffer never negative, the price whole fen."""
    values = _service_values(
        {
            "name": name,
            "category": category,
            "description": description,
            "duration_minutes": duration_minutes,
            "buffer_minutes": buffer_minutes,
            "price": price,
            "suits": suits,
            "sort_order": sort_order,
        }
    )
    service = check.save(Service(**values), constraints=_SERVICE_CONSTRAINTS)
    for spec in materials:
        _material_add(service, spec)
    audit_record(
        action="catalog.service.created", actor=acting_user, target=service, data={"name": service.name, "price": price}
    )
    return service


@transaction.atomic
def service_update(
    *,
    service: Service,
    acting_user: User | None,
    name: Any = UNSET,
    category: Any = UNSET,
    description: Any = UNSET,
    duration_minutes: Any = UNSET,
    buffer_minutes: Any = UNSET,
    price: Any = UNSET,
    suits: Any = UNSET,
    sort_order: Any = UNSET,
    is_active: Any = UNSET,
    materials: Iterable[MaterialSpec] | Any = UNSET,
) -> Service:
    """Change a service; a price change is audited with the old and the new price. ``materials``,
    when given, replaces the whole list."""
    service = Service.objects.select_for_update().get(pk=service.pk)
    values = _service_values(
        {
            "name": name,
            "category": category,
            "description": description,
            "duration_minutes": duration_minutes,
            "buffer_minutes": buffer_minutes,
            "price": price,
            "suits": suits,
            "sort_order": sort_order,
            "is_active": is_active,
        },
        exclude_pk=service.pk,
    )
    changes = check.changed_fields(service, values)
    if changes:
        check.save(service, constraints=_SERVICE_CONSTRAINTS, update_fields=list(changes))
        audit_record(
            action="catalog.service.updated", actor=acting_user, target=service, data=check.audit_data(changes)
        )
    if materials is not UNSET:
        service_materials_set(service=service, materials=materials, acting_user=acting_user)
    return service


def service_deactivate(*, service: Service, acting_user: User | None) -> Service:
    """Stop offering a service. It stays in history, packages and price rules; nothing is deleted."""
    return service_update(service=service, acting_user=acting_user, is_active=False)


# --- materials ---------------------------------------------------------------------------------


def _material_add(service: Service, spec: MaterialSpec) -> ServiceMaterial:
    quantity = check.positive_decimal(spec.quantity)
    unit = check.text(spec.unit, field="unit", model=ServiceMaterial)
    if ServiceMaterial.objects.filter(service=service, product=spec.product).exists():
        raise catalog_error(CatalogError.DUPLICATE_MATERIAL)
    return check.save(
        ServiceMaterial(service=service, product=spec.product, quantity=quantity, unit=unit),
        constraints={"service_material_unique": CatalogError.DUPLICATE_MATERIAL},
    )


@transaction.atomic
def service_material_add(
    *, service: Service, product: Product, quantity: Decimal | int | str, unit: str = "", acting_user: User | None
) -> ServiceMaterial:
    """Record that ``service`` uses up ``quantity`` of ``product`` each time; one line per product."""
    material = _material_add(service, MaterialSpec(product=product, quantity=quantity, unit=unit))
    audit_record(
        action="catalog.service.material_added",
        actor=acting_user,
        target=service,
        data={"product": product.pk, "quantity": str(material.quantity), "unit": material.unit},
    )
    return material


@transaction.atomic
def service_material_remove(*, material: ServiceMaterial, acting_user: User | None) -> None:
    service = material.service
    deleted, _rows = ServiceMaterial.objects.filter(pk=material.pk).delete()
    if deleted:
        audit_record(
            action="catalog.service.material_removed",
            actor=acting_user,
            target=service,
            data={"product": material.product_id},
        )


@transaction.atomic
def service_materials_set(*, service: Service, materials: Iterable[MaterialSpec], acting_user: User | None) -> Service:
    """Replace the whole list of materials of a service (all or nothing)."""
    service = Service.objects.select_for_update().get(pk=service.pk)
    ServiceMaterial.objects.filter(service=service).delete()
    specs = list(materials)
    for spec in specs:
        _material_add(service, spec)
    audit_record(
        action="catalog.service.materials_set",
        actor=acting_user,
        target=service,
        data={"products": [spec.product.pk for spec in specs]},
    )
    return service

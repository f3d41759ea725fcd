"""The salon's inventory settings and the material units that turn a service's materials into units of
stock."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.catalog.models import Product
from apps.catalog.services import UNSET
from apps.core.models import User
from apps.core.services import audit_record
from apps.inventory.errors import InventoryError, inventory_error
from apps.inventory.models import InventorySettings, MaterialUnit
from apps.inventory.services import _common as check
from apps.inventory.services._common import operation


@operation
def inventory_settings_update(
    *, acting_user: User | None, allow_negative_stock: Any = UNSET, low_stock_alerts: Any = UNSET
) -> InventorySettings:
    """Change the settings given. Allowing or forbidding negative stock is audited: it decides whether
    the till may sell what the books say is not there."""
    check.require_permission(acting_user)
    row = InventorySettings.objects.select_for_update().filter(id=1).first() or check.inventory_settings()
    changes: dict[str, list[bool]] = {}
    for name, value in (("allow_negative_stock", allow_negative_stock), ("low_stock_alerts", low_stock_alerts)):
        if value is UNSET:
            continue
        if not isinstance(value, bool):
            raise inventory_error(InventoryError.INVALID_CHOICE, field=name)
        if getattr(row, name) != value:
            changes[name] = [getattr(row, name), value]
            setattr(row, name, value)
    if changes:
        row.updated_at = timezone.now()
        row.save(update_fields=[*changes, "updated_at"])
        audit_record(action="inventory.settings_updated", actor=acting_user, data=changes)
    return row


@operation
def material_unit_set(*, product: Product, unit: str, per_stock_unit: Any, acting_user: User | None) -> MaterialUnit:
    """Say how much of ``unit`` (as the services' materials write it) one unit of ``product`` holds."""
    check.require_permission(acting_user)
    name = check.text(unit, field="unit", max_length=16, required=InventoryError.INVALID_UNIT)
    amount = check.quantity(per_stock_unit, field="per_stock_unit")
    row = MaterialUnit.objects.select_for_update().filter(product=product, unit__iexact=name).first()
    if row is None:
        row = MaterialUnit.objects.create(product=product, unit=name, per_stock_unit=amount)
    elif (row.unit, row.per_stock_unit) != (name, amount):
        row.unit, row.per_stock_unit = name, amount
        row.save(update_fields=["unit", "per_stock_unit"])
    audit_record(
        action="inventory.material_unit_set",
        actor=acting_user,
        target=product,
        data={"unit": name, "amount": str(amount)},
    )
    return row


@operation
def material_unit_remove(*, material_unit: MaterialUnit, acting_user: User | None) -> None:
    check.require_permission(acting_user)
    audit_record(
        action="inventory.material_unit_removed",
        actor=acting_user,
        target=material_unit.product,
        data={"unit": material_unit.unit},
    )
    MaterialUnit.objects.filter(pk=material_unit.pk).delete()

"""Writes of resources (SCH-3): resource types, rooms/beds/devices with their live status, and how each
service is booked (the resource types it needs, its deposit, online booking)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Service
from apps.catalog.services import UNSET
from apps.core.models import Location, User
from apps.core.money import MAX_AMOUNT
from apps.core.services import audit_record
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import Resource, ResourceStatus, ResourceType, ServiceBookingRule

NAME_MAX = 50
CAPACITY_MAX = 50


def _name(value: Any) -> str:
    name = "" if value is None else str(value).strip()
    if not name:
        raise scheduling_error(SchedulingError.NAME_REQUIRED)
    if len(name) > NAME_MAX or "\x00" in name:
        raise scheduling_error(SchedulingError.TEXT_TOO_LONG, field="name")
    return name


def _save(row: Any, *, constraint: str, code: SchedulingError) -> None:
    """Save, turning a lost race on a unique name into the same refusal as the check before it."""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        if constraint in str(exc):
            raise scheduling_error(code) from exc
        raise


# --- resource types ----------------------------------------------------------------------------


def _type_name(value: Any, *, exclude_pk: int | None = None) -> str:
    name = _name(value)
    others = ResourceType.objects.exclude(pk=exclude_pk) if exclude_pk else ResourceType.objects.all()
    if others.filter(name__iexact=name).exists():
        raise scheduling_error(SchedulingError.DUPLICATE_RESOURCE_TYPE)
    return name


@transaction.atomic
def resource_type_create(*, name: str, acting_user: User | None) -> ResourceType:
    """Add a kind of resource (美容房, 洗头床 …); names are unique whatever their case."""
    row = ResourceType(name=_type_name(name))
    _save(row, constraint="resource_type_name_unique_ci", code=SchedulingError.DUPLICATE_RESOURCE_TYPE)
    audit_record(action="scheduling.resource_type.created", actor=acting_user, target=row, data={"name": row.name})
    return row


@transaction.atomic
def resource_type_update(
    *, resource_type: ResourceType, acting_user: User | None, name: Any = UNSET, is_active: Any = UNSET
) -> ResourceType:
    """Rename a resource type, or deactivate it (its resources stay; it can no longer be chosen for a new
    resource or booking rule) or bring it back."""
    row = ResourceType.objects.select_for_update().get(pk=resource_type.pk)
    changes: dict[str, list[Any]] = {}
    if name is not UNSET:
        new_name = _type_name(name, exclude_pk=row.pk)
        if new_name != row.name:
            changes["name"] = [row.name, new_name]
            row.name = new_name
    if is_active is not UNSET:
        if not isinstance(is_active, bool):
            raise scheduling_error(SchedulingError.INVALID, field="is_active")
        if is_active != row.is_active:
            changes["is_active"] = [row.is_active, is_active]
            row.is_active = is_active
    if changes:
        _save(row, constraint="resource_type_name_unique_ci", code=SchedulingError.DUPLICATE_RESOURCE_TYPE)
        audit_record(action="scheduling.resource_type.updated", actor=acting_user, target=row, data=changes)
    return row


def resource_type_deactivate(*, resource_type: ResourceType, acting_user: User | None) -> ResourceType:
    return resource_type_update(resource_type=resource_type, is_active=False, acting_user=acting_user)


# --- resources ---------------------------------------------------------------------------------


def _capacity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= CAPACITY_MAX:
        raise scheduling_error(SchedulingError.INVALID_CAPACITY)
    return value


def _sort_order(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -10_000 <= value <= 10_000:
        raise scheduling_error(SchedulingError.INVALID, field="sort_order")
    return value


def _resource_name(value: Any, *, location_id: int, exclude_pk: int | None = None) -> str:
    name = _name(value)
    others = Resource.objects.filter(location_id=location_id)
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    if others.filter(name__iexact=name).exists():
        raise scheduling_error(SchedulingError.DUPLICATE_RESOURCE)
    return name


def _active_type(resource_type: Any, *, current_id: int | None = None) -> ResourceType:
    if not isinstance(resource_type, ResourceType):
        raise scheduling_error(SchedulingError.INVALID, field="resource_type")
    if resource_type.pk != current_id and not ResourceType.objects.filter(pk=resource_type.pk, is_active=True).exists():
        raise scheduling_error(
            SchedulingError.INVALID, field="resource_type", message=_("This resource type is no longer in use.")
        )
    return resource_type


@transaction.atomic
def resource_create(
    *,
    location: Location,
    resource_type: ResourceType,
    name: str,
    acting_user: User | None,
    capacity: int = 1,
    sort_order: int = 0,
) -> Resource:
    """Add a room, bed, chair or device to an open location. Names are unique per location whatever their
    case; capacity (clients at the same time) is 1 to 50."""
    if not isinstance(location, Location) or not Location.objects.filter(pk=location.pk, is_active=True).exists():
        raise scheduling_error(SchedulingError.INACTIVE_LOCATION, field="location")
    row = Resource(
        location=location,
        resource_type=_active_type(resource_type),
        name=_resource_name(name, location_id=location.pk),
        capacity=_capacity(capacity),
        sort_order=_sort_order(sort_order),
    )
    _save(row, constraint="resource_name_unique_per_location", code=SchedulingError.DUPLICATE_RESOURCE)
    audit_record(
        action="scheduling.resource.created",
        actor=acting_user,
        target=row,
        data={"name": row.name, "location": location.pk, "type": resource_type.pk, "capacity": row.capacity},
    )
    return row


@transaction.atomic
def resource_update(
    *,
    resource: Resource,
    acting_user: User | None,
    name: Any = UNSET,
    resource_type: Any = UNSET,
    capacity: Any = UNSET,
    sort_order: Any = UNSET,
    is_active: Any = UNSET,
) -> Resource:
    """Change a resource; only the arguments given change. A deactivated resource is no longer booked
    (bookings already holding it keep it)."""
    row = Resource.objects.select_for_update().get(pk=resource.pk)
    changes: dict[str, list[Any]] = {}

    def change(field: str, value: Any, shown: Any = None) -> None:
        old = getattr(row, field)
        if old != value:
            changes[field] = [getattr(old, "pk", old), shown if shown is not None else value]
            setattr(row, field, value)

    if name is not UNSET:
        change("name", _resource_name(name, location_id=row.location_id, exclude_pk=row.pk))
    if resource_type is not UNSET:
        resource_type = _active_type(resource_type, current_id=row.resource_type_id)
        change("resource_type", resource_type, resource_type.pk)
    if capacity is not UNSET:
        change("capacity", _capacity(capacity))
    if sort_order is not UNSET:
        change("sort_order", _sort_order(sort_order))
    if is_active is not UNSET:
        if not isinstance(is_active, bool):
            raise scheduling_error(SchedulingError.INVALID, field="is_active")
        change("is_active", is_active)
    if changes:
        _save(row, constraint="resource_name_unique_per_location", code=SchedulingError.DUPLICATE_RESOURCE)
        audit_record(action="scheduling.resource.updated", actor=acting_user, target=row, data=changes)
    return row


def resource_deactivate(*, resource: Resource, acting_user: User | None) -> Resource:
    return resource_update(resource=resource, is_active=False, acting_user=acting_user)


@transaction.atomic
def resource_status_set(*, resource: Resource, status: str, acting_user: User | None) -> Resource:
    """The live state the front desk sees on the day board (free / occupied / to clean), with who set it
    and when. Not audited: it changes many times a day and says nothing about money or people."""
    if status not in ResourceStatus.values:
        raise scheduling_error(SchedulingError.INVALID, field="status")
    row = Resource.objects.select_for_update().get(pk=resource.pk)
    if row.status != status:
        row.status = status
        row.status_changed_at = timezone.now()
        row.status_changed_by = acting_user if acting_user is not None and acting_user.pk else None
        row.save(update_fields=["status", "status_changed_at", "status_changed_by"])
    return row


# --- service booking rules ---------------------------------------------------------------------


@transaction.atomic
def service_booking_rule_set(
    *,
    service: Service,
    resource_types: Iterable[ResourceType],
    deposit_amount: int,
    is_online_bookable: bool,
    acting_user: User | None,
) -> ServiceBookingRule:
    """How a service is booked: one place in each of ``resource_types``, a deposit in fen (0: none), and
    whether clients can book it online. Newly chosen resource types must be in use."""
    if isinstance(deposit_amount, bool) or not isinstance(deposit_amount, int) or not 0 <= deposit_amount <= MAX_AMOUNT:
        raise scheduling_error(
            SchedulingError.INVALID, field="deposit_amount", message=_("Enter an amount from 0 to ¥100,000,000.")
        )
    if not isinstance(is_online_bookable, bool):
        raise scheduling_error(SchedulingError.INVALID, field="is_online_bookable")
    types = list(resource_types)
    if any(not isinstance(t, ResourceType) for t in types):
        raise scheduling_error(SchedulingError.INVALID, field="resource_types")
    rule = ServiceBookingRule.objects.select_for_update().filter(service=service).first()
    current = set(rule.resource_types.values_list("pk", flat=True)) if rule is not None else set()
    wanted = {t.pk for t in types}
    added = wanted - current
    if added and ResourceType.objects.filter(pk__in=added, is_active=False).exists():
        raise scheduling_error(
            SchedulingError.INVALID, field="resource_types", message=_("A chosen resource type is no longer in use.")
        )
    created = rule is None
    before = (
        {"resource_types": sorted(current), "deposit_amount": rule.deposit_amount, "online": rule.is_online_bookable}
        if rule is not None
        else None
    )
    if rule is None:
        rule = ServiceBookingRule(service=service)
    rule.deposit_amount = deposit_amount
    rule.is_online_bookable = is_online_bookable
    rule.save()
    if created or current != wanted:
        rule.resource_types.set(sorted(wanted))
    after = {"resource_types": sorted(wanted), "deposit_amount": deposit_amount, "online": is_online_bookable}
    if before != after:
        audit_record(
            action="scheduling.booking_rule.set",
            actor=acting_user,
            target=rule,
            data={"service": service.pk, "from": before, "to": after},
        )
    return rule

"""SCH-3 resources, service booking rules and the booking settings: the services' rules."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.catalog.tests.helpers import haircut
from apps.core import services as core_services
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry, Location
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import Resource, ResourceType, SchedulingSettings, ServiceBookingRule
from apps.scheduling.services import resources
from apps.scheduling.services.settings import scheduling_settings, scheduling_settings_update
from tests.fixtures import owner_of


def refused(call, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call(**kwargs)
    return caught.value


@pytest.fixture
def salon(in_alpha):
    owner = owner_of(in_alpha)
    return {
        "owner": owner,
        "main": Location.objects.get(),
        "branch": core_services.location_create(name="Branch", acting_user=owner),
    }


def test_resource_types_are_unique_whatever_the_case(salon):
    owner = salon["owner"]
    room = resources.resource_type_create(name=" Facial room ", acting_user=owner)
    assert (room.name, room.is_active) == ("Facial room", True)
    duplicate = refused(resources.resource_type_create, name="FACIAL ROOM", acting_user=owner)
    assert duplicate.errors == {"name": ["A resource type with this name already exists."]}
    blank = refused(resources.resource_type_create, name="  ", acting_user=owner)
    assert blank.errors == {"name": ["Enter a name."]}
    bed = resources.resource_type_create(name="Wash bed", acting_user=owner)
    rename = refused(resources.resource_type_update, resource_type=bed, name="facial room", acting_user=owner)
    assert rename.code == SchedulingError.DUPLICATE_RESOURCE_TYPE
    resources.resource_type_update(resource_type=bed, name="Shampoo bed", acting_user=owner)
    resources.resource_type_deactivate(resource_type=bed, acting_user=owner)
    assert list(ResourceType.objects.values_list("name", "is_active")) == [
        ("Facial room", True),
        ("Shampoo bed", False),
    ]
    assert list(
        AuditEntry.objects.filter(action__startswith="scheduling.resource_type")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "scheduling.resource_type.created",
        "scheduling.resource_type.created",
        "scheduling.resource_type.updated",
        "scheduling.resource_type.updated",
    ]


def test_resource_names_are_unique_per_location_and_capacity_is_1_to_50(salon):
    # given
    owner, main, branch = salon["owner"], salon["main"], salon["branch"]
    room = resources.resource_type_create(name="Facial room", acting_user=owner)
    # when
    double = resources.resource_create(
        location=main, resource_type=room, name="Room 1", capacity=2, sort_order=1, acting_user=owner
    )
    # then
    assert (double.name, double.capacity, double.status, double.is_active) == ("Room 1", 2, "free", True)
    same_elsewhere = resources.resource_create(location=branch, resource_type=room, name="room 1", acting_user=owner)
    assert same_elsewhere.location == branch
    errors = [
        refused(resources.resource_create, location=main, resource_type=room, name="ROOM 1", acting_user=owner),
        refused(
            resources.resource_create, location=main, resource_type=room, name="Room 2", capacity=0, acting_user=owner
        ),
        refused(
            resources.resource_create, location=main, resource_type=room, name="Room 2", capacity=51, acting_user=owner
        ),
        refused(resources.resource_update, resource=double, capacity=True, acting_user=owner),
    ]
    assert [e.errors for e in errors] == [
        {"name": ["This location already has a resource with this name."]},
        {"capacity": ["Capacity must be between 1 and 50."]},
        {"capacity": ["Capacity must be between 1 and 50."]},
        {"capacity": ["Capacity must be between 1 and 50."]},
    ]
    assert Resource.objects.count() == 2
    assert Resource.objects.get(pk=double.pk).capacity == 2


def test_inactive_type_or_closed_location_refused(salon):
    owner, main, branch = salon["owner"], salon["main"], salon["branch"]
    room = resources.resource_type_create(name="Facial room", acting_user=owner)
    old = resources.resource_type_create(name="Old bed", acting_user=owner)
    bed = resources.resource_create(location=main, resource_type=old, name="Bed 1", acting_user=owner)
    resources.resource_type_deactivate(resource_type=old, acting_user=owner)
    core_services.location_update(location=branch, is_active=False, acting_user=owner)
    errors = [
        refused(resources.resource_create, location=main, resource_type=old, name="Bed 2", acting_user=owner),
        refused(resources.resource_create, location=branch, resource_type=room, name="Room", acting_user=owner),
    ]
    assert [e.errors for e in errors] == [
        {"resource_type": ["This resource type is no longer in use."]},
        {"location": ["This location is closed."]},
    ]
    # a resource may keep the type it already has
    resources.resource_update(resource=bed, resource_type=old, name="Bed A", acting_user=owner)
    assert Resource.objects.get(pk=bed.pk).name == "Bed A"
    assert Resource.objects.count() == 1


def test_update_deactivate_and_live_status(salon):
    owner, main = salon["owner"], salon["main"]
    desk = core_services.staff_create(name="Desk", role="front_desk", username="desk", acting_user=owner)
    room = resources.resource_type_create(name="Facial room", acting_user=owner)
    one = resources.resource_create(location=main, resource_type=room, name="Room 1", acting_user=owner)
    resources.resource_update(resource=one, name="VIP room", capacity=2, sort_order=5, acting_user=owner)
    resources.resource_deactivate(resource=one, acting_user=owner)
    stored = Resource.objects.get(pk=one.pk)
    assert (stored.name, stored.capacity, stored.sort_order, stored.is_active) == ("VIP room", 2, 5, False)
    changed = AuditEntry.objects.filter(action="scheduling.resource.updated").order_by("pk").first()
    assert changed.data == {"name": ["Room 1", "VIP room"], "capacity": [1, 2], "sort_order": [0, 5]}
    # when the front desk marks it occupied, then to clean
    audits = AuditEntry.objects.count()
    resources.resource_status_set(resource=one, status="occupied", acting_user=desk)
    resources.resource_status_set(resource=one, status="to_clean", acting_user=desk)
    stored = Resource.objects.get(pk=one.pk)
    assert (stored.status, stored.status_changed_by, stored.status_changed_at is not None) == ("to_clean", desk, True)
    bad = refused(resources.resource_status_set, resource=one, status="dirty", acting_user=desk)
    assert bad.errors == {"status": ["Enter a valid value."]}
    assert Resource.objects.get(pk=one.pk).status == "to_clean"
    assert AuditEntry.objects.count() == audits


def test_service_booking_rule_set(salon):
    # given
    owner = salon["owner"]
    cut = haircut()
    room = resources.resource_type_create(name="Facial room", acting_user=owner)
    device = resources.resource_type_create(name="Device", acting_user=owner)
    # when
    rule = resources.service_booking_rule_set(
        service=cut, resource_types=[room, device], deposit_amount=5000, is_online_bookable=False, acting_user=owner
    )
    # then
    stored = ServiceBookingRule.objects.get(service=cut)
    assert (stored.pk, stored.deposit_amount, stored.is_online_bookable) == (rule.pk, 5000, False)
    assert sorted(stored.resource_types.values_list("name", flat=True)) == ["Device", "Facial room"]
    # when changed: one type fewer, no deposit
    resources.service_booking_rule_set(
        service=cut, resource_types=[room], deposit_amount=0, is_online_bookable=True, acting_user=owner
    )
    stored = ServiceBookingRule.objects.get(service=cut)
    assert (list(stored.resource_types.all()), stored.deposit_amount, stored.is_online_bookable) == ([room], 0, True)
    assert AuditEntry.objects.filter(action="scheduling.booking_rule.set").count() == 2
    # an unchanged rule writes no audit entry
    resources.service_booking_rule_set(
        service=cut, resource_types=[room], deposit_amount=0, is_online_bookable=True, acting_user=owner
    )
    assert AuditEntry.objects.filter(action="scheduling.booking_rule.set").count() == 2
    # refused: negative deposit, a deactivated type newly chosen
    resources.resource_type_deactivate(resource_type=device, acting_user=owner)
    errors = [
        refused(
            resources.service_booking_rule_set,
            service=cut,
            resource_types=[room],
            deposit_amount=-1,
            is_online_bookable=True,
            acting_user=owner,
        ),
        refused(
            resources.service_booking_rule_set,
            service=cut,
            resource_types=[room, device],
            deposit_amount=100,
            is_online_bookable=True,
            acting_user=owner,
        ),
    ]
    assert [e.errors for e in errors] == [
        {"deposit_amount": ["Enter an amount from 0 to ¥100,000,000."]},
        {"resource_types": ["A chosen resource type is no longer in use."]},
    ]
    stored = ServiceBookingRule.objects.get(service=cut)
    assert (list(stored.resource_types.all()), stored.deposit_amount) == ([room], 0)


def test_settings_update_and_validation(salon):
    owner = salon["owner"]
    assert scheduling_settings().slot_step_minutes == 15
    row = scheduling_settings_update(
        acting_user=owner, slot_step_minutes=30, reminder_offsets_minutes=[60, 1440, 10080], remind_staff=False
    )
    stored = SchedulingSettings.objects.get()
    assert (stored.pk, stored.slot_step_minutes, stored.reminder_offsets_minutes, stored.remind_staff) == (
        row.pk,
        30,
        [10080, 1440, 60],
        False,
    )
    entry = AuditEntry.objects.get(action="scheduling.settings.updated")
    assert entry.data == {
        "slot_step_minutes": [15, 30],
        "reminder_offsets_minutes": [[1440, 120], [10080, 1440, 60]],
        "remind_staff": [True, False],
    }
    cases = [
        ({"slot_step_minutes": 7}, "slot_step_minutes", "Choose one of 5, 10, 15, 20, 30, 60 minutes."),
        ({"reminder_offsets_minutes": [0]}, "reminder_offsets_minutes", None),
        ({"reminder_offsets_minutes": [10081]}, "reminder_offsets_minutes", None),
        ({"reminder_offsets_minutes": [1, 2, 3, 4, 5, 6]}, "reminder_offsets_minutes", "Set at most five reminders."),
        ({"reminder_offsets_minutes": [60, 60]}, "reminder_offsets_minutes", "Enter each reminder time only once."),
        ({"waitlist_offer_minutes": 0}, "waitlist_offer_minutes", "Enter a whole number from 1 to 1440."),
        ({"risky_deposit_amount": -5}, "risky_deposit_amount", None),
        ({"remind_staff": "yes"}, "remind_staff", "Enter a valid value."),
    ]
    for fields, field, message in cases:
        error = refused(scheduling_settings_update, acting_user=owner, online_max_days_ahead=90, **fields)
        assert list(error.errors) == [field], fields
        if message:
            assert error.errors[field] == [message]
    with pytest.raises(TypeError):
        scheduling_settings_update(acting_user=owner, colour="red")
    stored = SchedulingSettings.objects.get()
    assert (stored.online_max_days_ahead, stored.slot_step_minutes) == (60, 30)
    assert AuditEntry.objects.filter(action="scheduling.settings.updated").count() == 1


def test_resources_stay_in_their_salon(salon, beta):
    resources.resource_type_create(name="Facial room", acting_user=salon["owner"])
    with schema_context(beta.schema):
        assert ResourceType.objects.count() == 0

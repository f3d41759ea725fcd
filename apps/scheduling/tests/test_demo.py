"""The demo catalogue (apps.catalog.demo) and demo staff profiles: realistic, and safe to seed twice."""

from __future__ import annotations

import datetime

from django_tenants.utils import schema_context

from apps.catalog import demo, selectors
from apps.catalog.models import CourseCardTemplate, Package, PriceRule, Product, Service, ServiceMaterial
from apps.core.models import AuditEntry, StaffLevel
from apps.crm import demo as crm_demo
from apps.crm.models import MembershipTier
from apps.scheduling import demo as scheduling_demo
from apps.scheduling.models import (
    Resource,
    ResourceType,
    ServiceBookingRule,
    ShiftException,
    ShiftPattern,
    StaffProfile,
    TimeOff,
)
from tests.fixtures import make_staff


def _counts() -> tuple[int, ...]:
    return (
        Service.objects.count(),
        Product.objects.count(),
        ServiceMaterial.objects.count(),
        Package.objects.count(),
        CourseCardTemplate.objects.count(),
        StaffLevel.objects.count(),
        PriceRule.objects.count(),
        StaffProfile.objects.count(),
        AuditEntry.objects.count(),
        ShiftPattern.objects.count(),
        ShiftException.objects.count(),
        TimeOff.objects.count(),
        ResourceType.objects.count(),
        Resource.objects.count(),
        ServiceBookingRule.objects.count(),
    )


def test_demo_catalogue_and_profiles_twice(alpha, beta):
    # given the demo staff and membership tiers
    for username in ("tech", "tech2", "manager"):
        make_staff(alpha, role="technician" if username != "manager" else "manager", username=username)
    with schema_context(alpha.schema):
        crm_demo.seed()
        # when seeded
        demo.seed()
        scheduling_demo.seed()
        first = _counts()
        # then a realistic catalogue exists
        assert first[:7] == (11, 7, 5, 1, 2, 4, 15)
        cut = Service.objects.get(name="女士精剪")
        gold = MembershipTier.objects.get(name="金卡会员")
        director = StaffLevel.objects.get(name="总监")
        assert selectors.service_price(service=cut) == 12800
        assert selectors.service_price(service=cut, staff_level=director) == 22800
        assert selectors.service_price(service=cut, tier=gold) == 10800
        assert selectors.service_price(service=cut, tier=gold, staff_level=director) == 19800
        tech2 = StaffProfile.objects.get(user__username="tech2")
        assert (tech2.level.name, tech2.group.name) == ("资深发型师", "染烫组")
        assert "数码烫" in set(tech2.skills.values_list("name", flat=True))
        # rosters, resources and booking rules
        assert first[9:] == (6 + 8 + 5, 1, 1, 3, 5, 5)
        assert list(
            ShiftPattern.objects.filter(staff__username="tech2", weekday=5).values_list("start_time", "end_time")
        ) == [(datetime.time(10), datetime.time(14)), (datetime.time(15), datetime.time(21))]
        assert Resource.objects.get(name="双人美容房").capacity == 2
        facial = ServiceBookingRule.objects.get(service__name="深层清洁面部护理")
        assert (sorted(facial.resource_types.values_list("name", flat=True)), facial.deposit_amount) == (
            ["仪器", "美容房"],
            5000,
        )
        # when seeded again, nothing changes
        demo.seed()
        scheduling_demo.seed()
        assert _counts() == first
    with schema_context(beta.schema):
        assert Service.objects.count() == 0


def test_demo_without_tiers_then_with_them(alpha):
    with schema_context(alpha.schema):
        demo.seed()
        assert PriceRule.objects.filter(tier__isnull=False).count() == 0
        crm_demo.seed()
        demo.seed()
        assert PriceRule.objects.filter(tier__isnull=False).count() == 6


def test_demo_appointments_are_booked_through_the_services_once_a_day(alpha, beta):
    from apps.scheduling.models import Appointment, AppointmentEvent

    # given the demo staff, clients, catalogue, rosters and resources
    for username in ("tech", "tech2", "manager"):
        make_staff(alpha, role="technician" if username != "manager" else "manager", username=username)
    with schema_context(alpha.schema):
        crm_demo.seed()
        demo.seed()
        scheduling_demo.seed()
        # when the visits are seeded
        booked = scheduling_demo.seed_appointments()
        # then each one the roster allows is booked and moved along its lifecycle, with its events logged
        assert booked == Appointment.objects.count()
        assert booked >= 6  # whatever weekday today is, most visits find a technician on shift
        done = Appointment.objects.filter(status="done")
        assert all(a.finished_at is not None for a in done)
        assert AppointmentEvent.objects.filter(kind="booked").count() == booked
        # and seeding again the same day books nothing new
        assert scheduling_demo.seed_appointments() == 0
        assert Appointment.objects.count() == booked
    with schema_context(beta.schema):
        assert Appointment.objects.count() == 0

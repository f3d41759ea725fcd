"""The demo salon's till (apps.pos.demo): paid bills through the services, consistent with the ledgers,
and safe to seed twice."""

from __future__ import annotations

from django.db.models import Sum
from django_tenants.utils import schema_context

from apps.catalog import demo as catalog_demo
from apps.crm import demo as crm_demo
from apps.crm.models import PurchaseLine
from apps.loyalty import demo as loyalty_demo
from apps.pos import demo
from apps.pos.models import Bill, Tender
from apps.scheduling import demo as scheduling_demo
from apps.scheduling.models import Appointment
from tests.fixtures import make_staff


def test_the_demo_till_seeds_paid_bills_once(alpha):
    # given the demo staff, catalogue, members and finished visits
    for username, role in (("tech", "technician"), ("tech2", "technician"), ("frontdesk", "front_desk")):
        make_staff(alpha, role=role, username=username)
    with schema_context(alpha.schema):
        crm_demo.seed()
        catalog_demo.seed()
        scheduling_demo.seed()
        loyalty_demo.seed()
        scheduling_demo.seed_appointments()
        # when the till's demo is seeded twice
        paid = demo.seed()
        again = demo.seed()
        # then the same bills are paid, each settled by its tenders, in the clients' histories
        done = Appointment.objects.filter(status="done").count()
        assert paid == again == done + 2  # the visits, the walk-in's shampoo, the top-up
        assert Bill.objects.filter(appointment__isnull=False, status="paid").count() == done
        bills = Bill.objects.filter(status="paid")
        assert bills.count() == paid
        for bill in bills:
            assert Tender.objects.filter(bill=bill).aggregate(total=Sum("amount"))["total"] == bill.total
        assert bills.filter(opened_by__username="frontdesk").count() == paid
        assert Bill.objects.filter(client__isnull=True, status="paid").count() == 1  # the walk-in
        top_up = Bill.objects.get(lines__kind="top_up")
        assert top_up.lines.get().top_up_bonus == 20_000  # 充1000送200
        member_bills = bills.filter(client__isnull=False)
        recorded = PurchaseLine.objects.filter(visit_reference__in=[f"bill:{b.pk}" for b in member_bills])
        assert recorded.count() == sum(b.lines.count() for b in member_bills)

"""Create (once) the demo salon and a platform operator, so `make run` has something to show.

Idempotent: running it again changes nothing that exists.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from apps.catalog import demo as catalog_demo
from apps.core import services as core_services
from apps.core.models import Location, User
from apps.core.roles import Role
from apps.crm import demo as crm_demo
from apps.inventory import demo as inventory_demo
from apps.loyalty import demo as loyalty_demo
from apps.pos import demo as pos_demo
from apps.pos import demo_commission as commission_demo
from apps.scheduling import demo as scheduling_demo
from tenants.models import Salon
from tenants.services import salon_signup

DEMO_PASSWORD = "Demo12345"  # noqa: S105 - demo data only, printed by `make run`
OPERATOR_PASSWORD = "Operator12345"  # noqa: S105

DEMO_STAFF = [
    # username, name, role, phone
    ("manager", "李经理", Role.MANAGER, "+8613900000002"),
    ("frontdesk", "张前台", Role.FRONT_DESK, "+8613900000003"),
    ("tech", "王技师", Role.TECHNICIAN, "+8613900000004"),
    ("tech2", "赵发型师", Role.TECHNICIAN, "+8613900000005"),
    ("accountant", "陈会计", Role.ACCOUNTANT, "+8613900000006"),
]

LOGINS = [
    ("operator console", "/console/ on the root domain", "operator", OPERATOR_PASSWORD),
    ("owner", "demo salon", "owner@demo.example.com", DEMO_PASSWORD),
    *[(role.label, "demo salon", username, DEMO_PASSWORD) for username, _n, role, _p in DEMO_STAFF],
]


class Command(BaseCommand):
    help = "Create the demo salon (subdomain 'demo') with staff of every role, and an operator account."

    def handle(self, *args: Any, **options: Any) -> None:
        if not User.objects.filter(username__iexact="operator").exists():
            User.objects.create_superuser(
                "operator", OPERATOR_PASSWORD, name="Platform operator", email="operator@example.com"
            )
            self.stdout.write("created operator account")
        salon = Salon.objects.filter(subdomain="demo").first()
        if salon is None:
            result = salon_signup(
                raw={
                    "salon_name": "悦颜美容美发（演示）",
                    "subdomain": "demo",
                    "owner_name": "周店长",
                    "owner_email": "owner@demo.example.com",
                    "owner_phone": "+8613900000001",
                    "password": DEMO_PASSWORD,
                }
            )
            salon = result.salon
            self.stdout.write(f"created demo salon via {result.provisioned_by} in {result.seconds:.2f} s")
        with schema_context(salon.schema_name):
            main = Location.objects.order_by("pk").first()
            if not Location.objects.filter(name="南山分店").exists():
                core_services.location_create(name="南山分店", address="深圳市南山区科技园 1 号", phone="0755-88880000")
            for username, name, role, phone in DEMO_STAFF:
                if not User.objects.filter(username__iexact=username).exists():
                    core_services.staff_create(
                        name=name,
                        role=role,
                        phone=phone,
                        username=username,
                        password=DEMO_PASSWORD,
                        locations=[main] if main else [],
                    )
            crm_demo.seed()
            catalog_demo.seed()  # after the clients' tiers, so member prices are included
            scheduling_demo.seed()
            loyalty_demo.seed()
            commission_demo.seed()
            scheduling_demo.seed_appointments()
            inventory_demo.seed()  # stock per location, a purchase order, sales and materials used
            pos_demo.seed()

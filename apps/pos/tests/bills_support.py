"""Arranging a till for the bills tests, through the product's services: staff of each role, technicians
with levels, a catalogue with price rules, a gold tier with a member discount, a client with stored value
and points, coupons and course cards."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.test import Client as HttpClient

from apps.catalog import services as catalog
from apps.catalog.services.bundles import CourseCardItemSpec, PackageItemSpec
from apps.core import services as core_services
from apps.core.models import Location, User
from apps.crm.models import Client
from apps.crm.services.clients import client_create
from apps.crm.services.tags import tier_create
from apps.loyalty.models import CouponKind, PointsEntry, PointsEntryKind, Wallet, WalletEntry
from apps.loyalty.services import coupon_templates, coupons, points, tiers, wallets
from apps.loyalty.services.courses import course_card_sell
from apps.loyalty.services.settings import loyalty_settings_update
from apps.pos.models import Bill
from apps.pos.services import bills as bill_services
from apps.pos.services.checkout import TenderRequest, bill_pay
from apps.scheduling.services import staff_profile_update
from tests.fixtures import api_token

_seq = itertools.count(1)


@dataclass
class Till:
    owner: User
    desk: User  # front desk: takes payments, cannot change prices or refund
    manager: User  # may change prices and refund
    li: User  # senior technician (level with its own price for the cut)
    wang: User  # technician without a level
    location: Location
    cut: Any  # ¥128; senior level ¥168; gold tier ¥108
    facial: Any  # ¥298, no rules
    shampoo: Any  # product ¥98
    package: Any  # ¥388
    card_template: Any  # 5 facials, ¥1,200
    gold: Any  # tier: pays 90% where no tier price applies, points ×1.5
    senior: Any  # staff level
    member: Client  # 王芳, gold, ¥1,000 principal + ¥200 bonus, 500 points
    plain: Client  # 李娜, no tier, no wallet


def staff(name: str, role: str) -> User:
    n = next(_seq)
    return core_services.staff_create(
        name=name, role=role, username=f"{role[:4]}{n}-{name.lower()}"[:30], password="Passw0rd-x", language="en"
    )


def till_make() -> Till:
    owner = User.objects.get(role="owner")
    location = Location.objects.order_by("pk").first()
    assert location is not None
    senior = core_services.staff_level_create(name="Senior", rank=30, acting_user=None)
    cut = catalog.service_create(name="Women's cut", duration_minutes=45, price=12800, acting_user=None)
    facial = catalog.service_create(name="Facial", duration_minutes=60, price=29800, acting_user=None)
    li, wang = staff("Li", "technician"), staff("Wang", "technician")
    staff_profile_update(user=li, acting_user=None, level=senior, skills=[cut, facial])
    staff_profile_update(user=wang, acting_user=None, skills=[cut, facial])
    gold = tier_create(name="Gold", rank=30, acting_user=None)
    tiers.tier_benefit_set(
        tier=gold, price_percent=90, points_multiplier=Decimal("1.5"), min_spend=0, is_automatic=False, acting_user=None
    )
    catalog.price_rule_create(service=cut, staff_level=senior, price=16800, acting_user=None)
    catalog.price_rule_create(service=cut, tier=gold, price=10800, acting_user=None)
    shampoo = catalog.product_create(name="Repair shampoo", price=9800, stock=100, acting_user=None)
    package = catalog.package_create(
        name="Cut & care", price=38800, items=[PackageItemSpec(service=cut, quantity=1)], acting_user=None
    )
    card_template = catalog.course_card_template_create(
        name="Facial ×5", price=120000, validity_days=365, items=[CourseCardItemSpec(facial, 5)], acting_user=None
    )
    loyalty_settings_update(acting_user=None, points_per_yuan=1, points_value_fen=100)
    member = client_create(name="王芳", phone=f"+86138{next(_seq):08d}", tier=gold, acting_user=None)
    wallets.wallet_top_up(client=member, amount=100_000, idempotency_key=f"seed-top-up:{member.pk}")
    wallets.wallet_adjust(
        client=member,
        principal_delta=0,
        bonus_delta=20_000,
        reason="opening bonus",
        idempotency_key=f"seed-bonus:{member.pk}",
        acting_user=None,
    )
    points.points_adjust(
        client=member, points=500, reason="opening points", idempotency_key=f"seed-points:{member.pk}", acting_user=None
    )
    plain = client_create(name="李娜", phone=f"+86139{next(_seq):08d}", acting_user=None)
    return Till(
        owner=owner,
        desk=staff("Desk", "front_desk"),
        manager=staff("Boss", "manager"),
        li=li,
        wang=wang,
        location=location,
        cut=cut,
        facial=facial,
        shampoo=shampoo,
        package=package,
        card_template=card_template,
        gold=gold,
        senior=senior,
        member=member,
        plain=plain,
    )


def coupon_for(client: Client, *, kind: str = CouponKind.MONEY_OFF, **values: Any) -> Any:
    defaults: dict[str, Any] = {"name": f"{kind} {next(_seq)}", "valid_days": 30}
    if kind == CouponKind.MONEY_OFF:
        defaults["value"] = 3000
    elif kind in (CouponKind.PERCENTAGE, CouponKind.PRODUCT_DISCOUNT):
        defaults["value"] = 20
    defaults.update(values)
    template = coupon_templates.coupon_template_create(kind=kind, acting_user=None, **defaults)
    return coupons.coupon_issue(template=template, client=client, issue_key=f"test:{next(_seq)}", acting_user=None)


def course_card_for(till: Till, client: Client) -> Any:
    return course_card_sell(client=client, template=till.card_template, idempotency_key=f"card:{next(_seq)}")


def walk_in_bill(till: Till, *, by: User | None = None, **extra: Any) -> Bill:
    return bill_services.bill_open(location=till.location, acting_user=by or till.desk, **extra)


def member_bill(till: Till, *, by: User | None = None, **extra: Any) -> Bill:
    return bill_services.bill_open(location=till.location, client=till.member, acting_user=by or till.desk, **extra)


def one(user: User) -> list[bill_services.StaffShare]:
    return [bill_services.StaffShare(user)]


def pay(bill: Bill, *tenders: TenderRequest, by: User, key: str = "pay-1") -> Any:
    return bill_pay(bill=bill, tenders=list(tenders), idempotency_key=key, acting_user=by)


def cash(amount: int, tendered: int | None = None) -> TenderRequest:
    return TenderRequest(method="cash", amount=amount, tendered=tendered)


def stored_value(amount: int) -> TenderRequest:
    return TenderRequest(method="stored_value", amount=amount)


def wallet_of(client: Client) -> Wallet:
    return Wallet.objects.get(client=client)


def ledger_balanced(client: Client) -> bool:
    """The wallet's figures equal its ledger's sums and its points equal the points ledger."""
    wallet = wallet_of(client)
    money = WalletEntry.objects.filter(wallet=wallet).aggregate(
        principal=Sum("principal_delta", default=0), bonus=Sum("bonus_delta", default=0)
    )
    points_sum = PointsEntry.objects.filter(wallet=wallet).aggregate(total=Sum("points", default=0))["total"]
    return (money["principal"], money["bonus"], points_sum) == (wallet.principal, wallet.bonus, wallet.points)


def points_earned(bill: Bill) -> int:
    entry = PointsEntry.objects.filter(idempotency_key=f"bill:{bill.pk}:earn", kind=PointsEntryKind.EARN_SPEND).first()
    return entry.points if entry is not None else 0


TODAY = datetime.date.today()


def api_client(info: Any, user: Any) -> HttpClient:
    """A client of the API as ``user`` (a bearer token), in English."""
    return HttpClient(
        HTTP_HOST=info.host,
        HTTP_AUTHORIZATION=f"Bearer {api_token(info, user.username)}",
        HTTP_ACCEPT_LANGUAGE="en",
    )

"""March 2026 at a salon with two locations, arranged once for the sales report, statement, invoice and
client-record tests. Times are Shanghai's; every expected figure is worked out in the docstring of
``arrange_march``."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from typing import Any

from apps.catalog.models import CourseCardTemplate, Product, Service
from apps.catalog.services import service_create
from apps.catalog.services.bundles import CourseCardItemSpec, course_card_template_create
from apps.catalog.services.products import product_create
from apps.core.models import Location
from apps.crm.models import Client
from apps.crm.services.clients import client_create
from apps.loyalty.services.courses import course_card_sell
from apps.pos.models import Bill, RefundStatus, TenderMethod
from apps.pos.tests.factories_reports import Line, Pay, bill_paid, bill_voided, refund_make

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MARCH_FIRST = datetime.date(2026, 3, 1)  # a Sunday
MARCH_LAST = datetime.date(2026, 3, 31)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class March:
    main: Location
    branch: Location
    cut: Service
    colour: Service
    shampoo: Product
    mask: Product
    card: CourseCardTemplate
    wang: Client
    li: Client
    bills: dict[str, Bill]


def arrange_march() -> March:
    """Bills (main location unless said; cash for the whole total unless said):

    - B1 Mar 1 00:01 (Feb 28 in UTC), Wang: cut ×2 ¥200 + shampoo ×2 ¥160 = ¥360, ¥400 handed, ¥40 change
    - B2 Mar 31 23:59, walk-in: colour ¥300 less ¥30 = ¥270, WeChat Pay
    - B3 Feb 28 23:59, Wang: cut ¥100 (February; its refund R2 is made in March)
    - B4 Apr 1 00:01 (Mar 31 in UTC), Wang: cut ¥100 (April)
    - B5 Mar 10 14:00, branch, Li: colour ¥300 + mask ¥50 = ¥350, stored value ¥200 + Alipay ¥150
    - B6 Mar 10 15:00, Wang: stored-value top-up ¥1,000
    - B7 Mar 12, Li: cut, voided
    - B8 Mar 15 11:00, Li: cut ¥100 + course card ¥600 = ¥700, WeChat Pay
    - B9 Mar 18 10:00, Li: cut ¥100 paid with a course-card session
    - B10 Mar 18 16:00, Li: shampoo ¥80, points ¥20 (200 points) + cash ¥60

    Refunds: R1 Mar 20 on B5, the mask ¥50 to Alipay; R2 Mar 5 on B3, the cut ¥100 to cash; R3 Apr 2 on B2
    (April); R4 Mar 25 on B1, failed (does not count).

    March, all locations: 7 bills sold, gross ¥2,860, refunds ¥150, revenue ¥2,710, clients 3 (Wang, Li,
    one walk-in), average ticket ¥387.14; services sold ¥970, refunded ¥100; products sold ¥290 (shampoo
    ¥240 ×3, mask ¥50 ×1), refunded ¥50; course cards ¥600; top-ups ¥1,000. Tenders: cash ¥1,420 − ¥100,
    WeChat Pay ¥970, Alipay ¥150 − ¥50, stored value ¥200, points ¥20, course card ¥100.
    """
    main = Location.objects.order_by("id").first()
    assert main is not None
    branch = Location.objects.create(name="Branch")
    cut = service_create(name="Cut", duration_minutes=45, price=10_000)
    colour = service_create(name="Colour", duration_minutes=90, price=30_000)
    shampoo = product_create(name="Shampoo", price=8_000)
    mask = product_create(name="Mask", price=5_000)
    card = course_card_template_create(
        name="Ten cuts", price=60_000, validity_days=365, items=[CourseCardItemSpec(service=cut, sessions=10)]
    )
    wang = client_create(name="Wang Fang", phone="+8613900000101", acting_user=None)
    li = client_create(name="Li Na", phone="+8613900000102", acting_user=None)
    sessions = course_card_sell(client=li, template=card, idempotency_key="test:card")

    b: dict[str, Bill] = {}
    b["B1"] = bill_paid(
        lines=[Line(cut, quantity=2), Line(shampoo, quantity=2)],
        paid_at=at(3, 1, 0, 1),
        client=wang,
        tenders=[Pay(TenderMethod.CASH, 36_000, handed=40_000)],
    )
    b["B2"] = bill_paid(
        lines=[Line(colour, discount=3_000)], paid_at=at(3, 31, 23, 59), tenders=[Pay(TenderMethod.WECHAT, 27_000)]
    )
    b["B3"] = bill_paid(lines=[Line(cut)], paid_at=at(2, 28, 23, 59), client=wang)
    b["B4"] = bill_paid(lines=[Line(cut)], paid_at=at(4, 1, 0, 1), client=wang)
    b["B5"] = bill_paid(
        lines=[Line(colour), Line(mask)],
        paid_at=at(3, 10, 14),
        location=branch,
        client=li,
        tenders=[Pay(TenderMethod.STORED_VALUE, 20_000), Pay(TenderMethod.ALIPAY, 15_000)],
    )
    b["B6"] = bill_paid(lines=[Line(None, unit_price=100_000)], paid_at=at(3, 10, 15), client=wang)
    b["B7"] = bill_voided(lines=[Line(cut)], voided_at=at(3, 12, 10), client=li)
    b["B8"] = bill_paid(
        lines=[Line(cut), Line(card)], paid_at=at(3, 15, 11), client=li, tenders=[Pay(TenderMethod.WECHAT, 70_000)]
    )
    b["B9"] = bill_paid(
        lines=[Line(cut)],
        paid_at=at(3, 18, 10),
        client=li,
        tenders=[Pay(TenderMethod.COURSE_CARD, 10_000, line=0, course_card=sessions)],
    )
    b["B10"] = bill_paid(
        lines=[Line(shampoo)],
        paid_at=at(3, 18, 16),
        client=li,
        tenders=[Pay(TenderMethod.POINTS, 2_000, points=200), Pay(TenderMethod.CASH, 6_000)],
    )
    b5_lines = list(b["B5"].lines.order_by("position"))
    b5_alipay = b["B5"].tenders.get(method=TenderMethod.ALIPAY)
    refund_make(bill=b["B5"], created_at=at(3, 20, 10), lines=[(b5_lines[1], 1, 5_000)], tenders=[(b5_alipay, 5_000)])
    refund_make(bill=b["B3"], created_at=at(3, 5, 9), lines=[(b["B3"].lines.get(), 1, 10_000)])
    refund_make(bill=b["B2"], created_at=at(4, 2, 9), lines=[(b["B2"].lines.get(), 1, 27_000)])
    refund_make(
        bill=b["B1"],
        created_at=at(3, 25, 9),
        lines=[(b["B1"].lines.order_by("position")[0], 1, 10_000)],
        status=RefundStatus.FAILED,
    )
    for key in b:
        b[key].refresh_from_db()
    return March(main, branch, cut, colour, shampoo, mask, card, wang, li, b)


def beta_bill() -> Any:
    """Another salon's March bill, which none of alpha's figures may count."""
    cut = service_create(name="Cut", duration_minutes=45, price=10_000)
    return bill_paid(lines=[Line(cut, quantity=5)], paid_at=at(3, 10, 12))

"""The demo salon's till: the finished visits checked out and paid (one in cash with change, one by cash
and stored value with the member's best coupon), a walk-in buying a product, and a member topping up.
Everything goes through the bill services, so prices, coupons, points, the clients' histories and the
wallets are as a real day at the till leaves them. Run after scheduling's appointments and loyalty's demo.

Safe to call twice: each bill is opened under an idempotency key (or is its visit's one live bill) and a
bill already paid is left alone."""

from __future__ import annotations

from apps.catalog.models import Product
from apps.core.errors import ServiceError
from apps.core.models import Location, User
from apps.crm.models import Client
from apps.pos.models import Bill, BillStatus, TenderMethod
from apps.pos.services import bill_coupons, bills, checkout, top_ups
from apps.scheduling.models import Appointment, AppointmentStatus


def _pay(bill: Bill, tenders: list[checkout.TenderRequest], desk: User | None) -> None:
    bill.refresh_from_db()
    if bill.status != BillStatus.OPEN:
        return
    checkout.bill_pay(bill=bill, tenders=tenders, idempotency_key="demo", acting_user=desk)


def seed(*, acting_user: User | None = None) -> int:
    """Open and pay the demo's bills; returns how many bills are paid now."""
    desk = User.objects.filter(username__iexact="frontdesk", is_active=True).first() or acting_user
    location = Location.objects.filter(is_active=True).order_by("pk").first()
    if location is None:
        return 0
    visits = list(
        Appointment.objects.filter(status=AppointmentStatus.DONE, idempotency_key__startswith="demo:").order_by("start")
    )
    for index, visit in enumerate(visits):
        try:
            bill = bills.bill_open(location=None, appointment=visit, acting_user=desk)
            if bill.status != BillStatus.OPEN:
                continue
            if index % 2 == 0:
                bill.refresh_from_db()
                # Cash, rounded up to the next ten yuan: change is given.
                handed = -(-bill.total // 1000) * 1000
                _pay(bill, [checkout.TenderRequest(TenderMethod.CASH, bill.total, tendered=handed)], desk)
            else:
                bill_coupons.bill_coupons_apply_best(bill=bill, acting_user=desk)
                bill.refresh_from_db()
                cash = min(5000, bill.total)
                tenders = [checkout.TenderRequest(TenderMethod.CASH, cash)]
                if bill.total > cash:
                    tenders.append(checkout.TenderRequest(TenderMethod.STORED_VALUE, bill.total - cash))
                _pay(bill, tenders, desk)
        except ServiceError:
            continue  # a member without enough stored value: the visit stays open at the till
    shampoo = Product.objects.filter(name="丝泉滋养洗发露", is_active=True).first()
    if shampoo is not None:
        walk_in = bills.bill_open(location=location, acting_user=desk, idempotency_key="demo:walk-in")
        if walk_in.status == BillStatus.OPEN and not walk_in.lines.exists():
            bills.bill_line_add(bill=walk_in, item=shampoo, acting_user=desk)
        walk_in.refresh_from_db()
        _pay(walk_in, [checkout.TenderRequest(TenderMethod.CASH, walk_in.total, tendered=20000)], desk)
    member = Client.objects.filter(name="李娜", is_active=True).order_by("pk").first()
    if member is not None:
        top_ups.top_up_sell(
            client=member,
            amount=100_000,
            method=TenderMethod.CASH,
            idempotency_key="demo:top-up:李娜",
            acting_user=desk,
            location=location,
        )
    return Bill.objects.filter(status=BillStatus.PAID).count()

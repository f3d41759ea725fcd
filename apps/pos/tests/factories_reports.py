"""Paid, voided and refunded bills written straight to the tables, for the read side (sales reports,
statements, invoices, the client record) while the bill services are built elsewhere.

Every row satisfies the CHECK constraints of apps/pos/models: a line's amount is ``unit_price ×
quantity − discount``, the bill's total the sum of its lines, its paid total the sum of its succeeded
tenders, cash tenders carry what was handed over and the change, refunds stay within what was paid.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from apps.catalog.models import CourseCardTemplate, Package, Product, Service
from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.crm.models import Client
from apps.pos.models import (
    Bill,
    BillLine,
    BillLineStaff,
    BillStatus,
    LineKind,
    Refund,
    RefundLine,
    RefundStatus,
    RefundTender,
    Tender,
    TenderMethod,
    TenderStatus,
)

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Line:
    """A bill line: ``item`` is a service, product, package or course-card template; None sells a top-up."""

    item: Service | Product | Package | CourseCardTemplate | None
    quantity: int = 1
    unit_price: int | None = None  # the item's price by default (a top-up needs one)
    discount: int = 0
    staff: User | None = None
    guest: Client | None = None


@dataclass(frozen=True)
class Pay:
    """A succeeded tender. ``line`` (an index into the bill's lines) is the line a course-card session pays;
    ``handed`` is what a cash client handed over (the amount by default)."""

    method: str
    amount: int
    line: int | None = None
    handed: int | None = None
    points: int = 0
    course_card: Any = None


def _kind_and_item(item: Any) -> tuple[str, dict[str, Any]]:
    if item is None:
        return LineKind.TOP_UP, {}
    if isinstance(item, Service):
        return LineKind.SERVICE, {"service": item}
    if isinstance(item, Product):
        return LineKind.PRODUCT, {"product": item}
    if isinstance(item, Package):
        return LineKind.PACKAGE, {"package": item}
    if isinstance(item, CourseCardTemplate):
        return LineKind.COURSE_CARD, {"course_template": item}
    raise TypeError(item)


def _default_location() -> Location:
    return Location.objects.order_by("id").first()  # type: ignore[return-value]


def _bill_open(
    *, lines: Sequence[Line], at: datetime.datetime, location: Location | None, client: Client | None
) -> tuple[Bill, list[BillLine]]:
    local = at.astimezone(salon_timezone())
    bill = Bill.objects.create(
        number=f"{local:%Y%m%d}-{next(_numbers):04d}",
        location=location or _default_location(),
        client=client,
    )
    rows = []
    for position, spec in enumerate(lines):
        kind, item = _kind_and_item(spec.item)
        price = spec.unit_price if spec.unit_price is not None else spec.item.price  # type: ignore[union-attr]
        rows.append(
            BillLine.objects.create(
                bill=bill,
                position=position,
                kind=kind,
                name=spec.item.name if spec.item is not None else "储值充值",
                quantity=spec.quantity,
                list_price=price,
                unit_price=price,
                discount=spec.discount,
                amount=price * spec.quantity - spec.discount,
                guest=spec.guest,
                **item,
            )
        )
        if spec.staff is not None:
            BillLineStaff.objects.create(line=rows[-1], staff=spec.staff, share=10000)
    subtotal = sum(line.unit_price * line.quantity for line in rows)
    discounts = sum(line.discount for line in rows)
    Bill.objects.filter(pk=bill.pk).update(
        subtotal=subtotal, discount_total=discounts, total=subtotal - discounts, opened_at=at
    )
    bill.refresh_from_db()
    return bill, rows


def bill_paid(
    *,
    lines: Sequence[Line],
    paid_at: datetime.datetime,
    tenders: Sequence[Pay] | None = None,
    location: Location | None = None,
    client: Client | None = None,
    cashier: User | None = None,
) -> Bill:
    """A bill paid at ``paid_at`` (cash for the whole total unless ``tenders`` say otherwise)."""
    bill, rows = _bill_open(lines=lines, at=paid_at, location=location, client=client)
    pays = list(tenders) if tenders is not None else [Pay(TenderMethod.CASH, bill.total)]
    assert sum(p.amount for p in pays) == bill.total, "the tenders must pay the total"
    for n, pay in enumerate(pays):
        handed = pay.handed if pay.handed is not None else pay.amount
        is_cash = pay.method == TenderMethod.CASH
        Tender.objects.create(
            bill=bill,
            method=pay.method,
            amount=pay.amount,
            status=TenderStatus.SUCCEEDED,
            tendered=handed if is_cash else 0,
            change=handed - pay.amount if is_cash else 0,
            points=pay.points,
            course_card=pay.course_card,
            bill_line=rows[pay.line] if pay.line is not None else None,
            idempotency_key=f"test:{bill.number}:{n}",
            created_by=cashier,
            settled_at=paid_at,
        )
    change = sum((p.handed or p.amount) - p.amount for p in pays if p.method == TenderMethod.CASH)
    Bill.objects.filter(pk=bill.pk).update(
        status=BillStatus.PAID,
        paid_total=bill.total,
        paid_at=paid_at,
        change_given=change,
        closed_by=cashier,
    )
    bill.refresh_from_db()
    return bill


def bill_voided(
    *,
    lines: Sequence[Line],
    voided_at: datetime.datetime,
    location: Location | None = None,
    client: Client | None = None,
) -> Bill:
    """A bill opened and voided before anything was paid."""
    bill, _rows = _bill_open(lines=lines, at=voided_at, location=location, client=client)
    Bill.objects.filter(pk=bill.pk).update(status=BillStatus.VOIDED, voided_at=voided_at, void_reason="test")
    bill.refresh_from_db()
    return bill


def refund_make(
    *,
    bill: Bill,
    created_at: datetime.datetime,
    lines: Sequence[tuple[BillLine, int, int]] = (),
    tenders: Sequence[tuple[Tender, int]] | None = None,
    status: str = RefundStatus.SUCCEEDED,
    reason: str = "client unhappy",
) -> Refund:
    """A refund of ``lines`` (line, quantity, amount) given back to ``tenders`` (tender, amount; the bill's
    first tender for everything by default). A succeeded refund updates what the bill, its lines and its
    tenders show as refunded."""
    amount = sum(a for _l, _q, a in lines) if lines else sum(a for _t, a in tenders or ())
    parts = list(tenders) if tenders is not None else [(bill.tenders.order_by("id")[0], amount)]
    assert sum(a for _t, a in parts) == amount, "the tender parts must give back the refund"
    refund = Refund.objects.create(
        bill=bill, amount=amount, reason=reason, status=status, idempotency_key=f"test:refund:{next(_numbers)}"
    )
    Refund.objects.filter(pk=refund.pk).update(created_at=created_at)
    for line, quantity, line_amount in lines:
        RefundLine.objects.create(refund=refund, bill_line=line, quantity=quantity, amount=line_amount)
    for tender, part in parts:
        RefundTender.objects.create(refund=refund, tender=tender, amount=part, status=status)
    if status == RefundStatus.SUCCEEDED:
        for line, quantity, line_amount in lines:
            line.refresh_from_db()
            BillLine.objects.filter(pk=line.pk).update(
                refunded_quantity=line.refunded_quantity + quantity, refunded_amount=line.refunded_amount + line_amount
            )
        for tender, part in parts:
            tender.refresh_from_db()
            Tender.objects.filter(pk=tender.pk).update(refunded_amount=tender.refunded_amount + part)
        bill.refresh_from_db()
        refunded = bill.refunded_total + amount
        Bill.objects.filter(pk=bill.pk).update(
            refunded_total=refunded, status=BillStatus.REFUNDED if refunded == bill.paid_total else bill.status
        )
    refund.refresh_from_db()
    bill.refresh_from_db()
    return refund

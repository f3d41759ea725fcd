"""Arranging paid bills and refunds for the commission tests.

Staff, levels, services, products and categories go through the product's services. Bills, their lines,
staff shares and refunds are written straight to the tables, the way the bill flow leaves them once a bill
is paid (status paid, ``paid_total = total``, ``paid_at`` set; a refund succeeded, with the line's and the
bill's refunded figures raised), so these tests do not depend on the payment flow; every CHECK constraint
of the bill still applies to the rows."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F

from apps.catalog.models import CourseCardTemplate, Package, Product, Service
from apps.catalog.services import (
    course_card_template_create,
    package_create,
    product_category_create,
    product_create,
    service_category_create,
    service_create,
)
from apps.core.models import Location, StaffLevel, User
from apps.core.services import staff_create, staff_level_create
from apps.pos.models import (
    Bill,
    BillLine,
    BillLineStaff,
    BillStatus,
    LineKind,
    Refund,
    RefundLine,
    RefundStatus,
)
from apps.scheduling.services import staff_profile_update

_seq = itertools.count(1)


def default_location() -> Location:
    return Location.objects.order_by("id").first()  # type: ignore[return-value]


def level_make(name: str, rank: int) -> StaffLevel:
    return staff_level_create(name=name, rank=rank)


def technician_make(name: str, *, level: StaffLevel | None = None, role: str = "technician") -> User:
    """A staff member (English, so pages read as the tests write them) with a level when given."""
    n = next(_seq)
    user = staff_create(name=name, role=role, username=f"c{n}-{name.lower()}"[:30], language="en")
    if level is not None:
        staff_profile_update(user=user, acting_user=None, level=level)
    return user


def service_category_make(name: str) -> Any:
    return service_category_create(name=name)


def product_category_make(name: str) -> Any:
    return product_category_create(name=name)


def service_make(name: str, *, price: int = 10_000, category: Any = None) -> Service:
    return service_create(name=name, duration_minutes=60, price=price, category=category)


def product_make(name: str, *, price: int = 5_000, category: Any = None) -> Product:
    return product_create(name=name, price=price, category=category)


def package_make(name: str, *, price: int = 50_000) -> Package:
    return package_create(name=name, price=price)


def course_card_make(name: str, *, price: int = 100_000) -> CourseCardTemplate:
    return course_card_template_create(name=name, price=price, validity_days=365)


@dataclass
class Line:
    """One line to put on a bill: ``item`` is a service, product, package or course-card template, or None
    for a stored-value top-up; ``staff`` lists (staff member, share in basis points, requested?)."""

    item: Any
    staff: Sequence[tuple[User, int, bool]] = field(default_factory=list)
    quantity: int = 1
    unit_price: int | None = None
    discount: int = 0


def _kind_and_item(item: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(item, Service):
        return LineKind.SERVICE, {"service": item}
    if isinstance(item, Product):
        return LineKind.PRODUCT, {"product": item}
    if isinstance(item, Package):
        return LineKind.PACKAGE, {"package": item}
    if isinstance(item, CourseCardTemplate):
        return LineKind.COURSE_CARD, {"course_template": item}
    return LineKind.TOP_UP, {}


def paid_bill(
    *, lines: Sequence[Line], paid_at: datetime.datetime, location: Location | None = None, top_up_price: int = 0
) -> Bill:
    """A bill paid in full at ``paid_at`` with the given lines and staff shares."""
    n = next(_seq)
    rows = []
    for position, spec in enumerate(lines):
        kind, item = _kind_and_item(spec.item)
        list_price = spec.item.price if spec.item is not None else top_up_price
        unit_price = spec.unit_price if spec.unit_price is not None else list_price
        rows.append((position, spec, kind, item, list_price, unit_price))
    subtotal = sum(unit_price * spec.quantity - spec.discount for _p, spec, _k, _i, _l, unit_price in rows)
    bill = Bill.objects.create(
        number=f"{paid_at:%Y%m%d}-{n:04d}",
        location=location or default_location(),
        status=BillStatus.PAID,
        subtotal=subtotal,
        discount_total=0,
        total=subtotal,
        paid_total=subtotal,
        paid_at=paid_at,
    )
    for position, spec, kind, item, list_price, unit_price in rows:
        line = BillLine.objects.create(
            bill=bill,
            position=position,
            kind=kind,
            name=str(spec.item) if spec.item is not None else "Top-up",
            quantity=spec.quantity,
            list_price=list_price,
            unit_price=unit_price,
            discount=spec.discount,
            amount=unit_price * spec.quantity - spec.discount,
            **item,
        )
        BillLineStaff.objects.bulk_create(
            [
                BillLineStaff(line=line, staff=staff, share=share, is_requested=requested)
                for staff, share, requested in spec.staff
            ]
        )
    return bill


def bill_lines(bill: Bill) -> list[BillLine]:
    return list(bill.lines.order_by("position", "id"))


def refund_make(
    *,
    bill: Bill,
    lines: Sequence[tuple[BillLine, int, int]],
    at: datetime.datetime,
    status: str = RefundStatus.SUCCEEDED,
) -> Refund:
    """A refund of ``(line, quantity, amount)`` parts of a paid bill, made at ``at``."""
    total = sum(amount for _line, _quantity, amount in lines)
    refund = Refund.objects.create(
        bill=bill, amount=total, reason="Client unhappy", status=status, idempotency_key=f"refund-{next(_seq)}"
    )
    Refund.objects.filter(pk=refund.pk).update(created_at=at)
    refund.refresh_from_db()
    for line, quantity, amount in lines:
        RefundLine.objects.create(refund=refund, bill_line=line, quantity=quantity, amount=amount)
        if status == RefundStatus.SUCCEEDED:
            BillLine.objects.filter(pk=line.pk).update(
                refunded_quantity=F("refunded_quantity") + quantity, refunded_amount=F("refunded_amount") + amount
            )
    if status == RefundStatus.SUCCEEDED:
        Bill.objects.filter(pk=bill.pk).update(refunded_total=F("refunded_total") + total)
    return refund

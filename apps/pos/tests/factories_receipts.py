"""Arranging paid bills for the receipt and cash-session tests.

The bills are written straight to the tables (the payment services belong to another part of the
till), row by row as the payment flow leaves them: lines whose amount is ``unit_price × quantity −
discount``, staff shares, succeeded tenders that sum to the total, the bill paid. PostgreSQL's CHECK
constraints on those tables still hold every row to the bill's arithmetic. Clients, staff, services,
products and the loyalty ledgers go through their own services."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone, translation

from apps.catalog.models import Product, Service
from apps.catalog.services import product_create, service_create
from apps.core.models import Location, User
from apps.core.services import location_create, staff_create
from apps.crm.models import Client
from apps.crm.services.clients import client_create
from apps.pos.models import (
    Bill,
    BillLine,
    BillLineStaff,
    BillStatus,
    LineKind,
    Refund,
    RefundStatus,
    RefundTender,
    Tender,
    TenderMethod,
    TenderStatus,
)

_seq = itertools.count(1)


@pytest.fixture
def english() -> Iterator[None]:
    """Service messages are asserted in English, the source language, whatever catalogue is compiled."""
    with translation.override("en"):
        yield


@dataclass(frozen=True)
class LineSpec:
    name: str
    unit_price: int
    quantity: int = 1
    discount: int = 0
    kind: str = LineKind.SERVICE
    staff: Sequence[tuple[User, int]] = ()
    guest_label: str = ""


@dataclass(frozen=True)
class TenderSpec:
    method: str
    amount: int
    tendered: int | None = None  # cash: what the client handed over (the amount when absent)
    points: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def english_staff(info: Any, *, role: str, username: str) -> User:
    """A staff member of ``info``'s salon whose pages are in English (the tests read the source labels)."""
    from django_tenants.utils import schema_context

    from apps.core.services import user_set_language
    from tests.fixtures import make_staff

    user = make_staff(info, role=role, username=username)
    with schema_context(info.schema):
        return user_set_language(user=user, language="en")


def location_make(name: str = "南京西路店", *, address: str = "", phone: str = "") -> Location:
    return Location.objects.filter(name=name).first() or location_create(name=name, address=address, phone=phone)


def staff_make(name: str, *, role: str = "front_desk") -> User:
    n = next(_seq)
    return staff_create(name=name, role=role, username=f"pos{n}-{role}", language="en")


def client_make(name: str = "王芳", *, phone: str | None = None, email: str = "") -> Client:
    """A client; ``phone=""`` for one who gave no phone."""
    n = next(_seq)
    return client_create(name=name, acting_user=None, phone=f"+86137{n:08d}" if phone is None else phone, email=email)


def _service(name: str, price: int) -> Service:
    found = Service.objects.filter(name=name).first()
    return found or service_create(name=name, duration_minutes=30, price=price)


def _product(name: str, price: int) -> Product:
    found = Product.objects.filter(name=name).first()
    return found or product_create(name=name, price=price)


def bill_paid_make(
    *,
    lines: Sequence[LineSpec],
    tenders: Sequence[TenderSpec],
    location: Location | None = None,
    client: Client | None = None,
    cashier: User | None = None,
    paid_at: datetime.datetime | None = None,
    number: str | None = None,
) -> Bill:
    """A paid bill with ``lines`` and ``tenders`` (which must add up to the total)."""
    location = location or Location.objects.order_by("pk").first()
    assert location is not None
    paid_at = paid_at or timezone.now()
    subtotal = sum(spec.unit_price * spec.quantity for spec in lines)
    discount = sum(spec.discount for spec in lines)
    total = subtotal - discount
    assert sum(t.amount for t in tenders) == total, "the tenders must pay the total exactly"
    change = sum((t.tendered or t.amount) - t.amount for t in tenders if t.method == TenderMethod.CASH)
    bill = Bill.objects.create(
        number=number or f"{paid_at:%Y%m%d}-{next(_seq):04d}",
        location=location,
        client=client,
        status=BillStatus.PAID,
        subtotal=subtotal,
        discount_total=discount,
        total=total,
        paid_total=total,
        change_given=change,
        opened_by=cashier,
        closed_by=cashier,
        paid_at=paid_at,
    )
    for position, spec in enumerate(lines):
        item: dict[str, Any] = {}
        if spec.kind == LineKind.SERVICE:
            item["service"] = _service(spec.name, spec.unit_price)
        elif spec.kind == LineKind.PRODUCT:
            item["product"] = _product(spec.name, spec.unit_price)
        line = BillLine.objects.create(
            bill=bill,
            position=position,
            kind=spec.kind,
            name=spec.name,
            quantity=spec.quantity,
            list_price=spec.unit_price,
            unit_price=spec.unit_price,
            discount=spec.discount,
            amount=spec.unit_price * spec.quantity - spec.discount,
            guest_label=spec.guest_label,
            **item,
        )
        BillLineStaff.objects.bulk_create(
            [BillLineStaff(line=line, staff=staff, share=share) for staff, share in spec.staff]
        )
    for spec in tenders:
        tendered = (spec.tendered or spec.amount) if spec.method == TenderMethod.CASH else 0
        Tender.objects.create(
            bill=bill,
            method=spec.method,
            amount=spec.amount,
            status=TenderStatus.SUCCEEDED,
            tendered=tendered,
            change=tendered - spec.amount if spec.method == TenderMethod.CASH else 0,
            points=spec.points,
            idempotency_key=f"test-tender-{bill.number}-{next(_seq)}",
            created_by=cashier,
            settled_at=paid_at,
            **spec.extra,
        )
    return bill


def cash_bill_make(
    amount: int, *, location: Location | None = None, tendered: int | None = None, **kwargs: Any
) -> Bill:
    """A one-line bill of ``amount`` paid in cash."""
    return bill_paid_make(
        lines=[LineSpec("Cut", amount)],
        tenders=[TenderSpec(TenderMethod.CASH, amount, tendered=tendered)],
        location=location,
        **kwargs,
    )


def refund_make(*, bill: Bill, tender: Tender, amount: int, at: datetime.datetime | None = None) -> Refund:
    """``amount`` given back to ``tender`` (succeeded), as the refund flow records it."""
    refund = Refund.objects.create(
        bill=bill,
        amount=amount,
        reason="Client unhappy",
        status=RefundStatus.SUCCEEDED,
        idempotency_key=f"test-refund-{next(_seq)}",
    )
    if at is not None:
        Refund.objects.filter(pk=refund.pk).update(created_at=at)
    RefundTender.objects.create(refund=refund, tender=tender, amount=amount, status=RefundStatus.SUCCEEDED)
    Tender.objects.filter(pk=tender.pk).update(refunded_amount=F("refunded_amount") + amount)
    Bill.objects.filter(pk=bill.pk).update(refunded_total=F("refunded_total") + amount)
    return refund

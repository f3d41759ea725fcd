"""Reads of bills for the till's pages and the orders API: the till's settings, lists with filters, one
bill with everything its screen shows, in a fixed number of queries whatever its size."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from apps.core.db import salon_timezone
from apps.pos.models import (
    Bill,
    BillCoupon,
    BillLine,
    BillLineStaff,
    BillStatus,
    PosSettings,
    Refund,
    RefundLine,
    RefundTender,
    Tender,
    TenderStatus,
)


def pos_settings() -> PosSettings:
    """The salon's till settings row, created with defaults the first time it is needed."""
    row, _created = PosSettings.objects.get_or_create(id=1)
    return row


def bill_lines(bill: Bill) -> list[BillLine]:
    """The bill's lines in order, with their product and service joined (stock is moved by them when the
    bill is paid) and each line's staff shares (and their staff) loaded: two queries."""
    shares = BillLineStaff.objects.select_related("staff").order_by("-share", "id")
    return list(
        BillLine.objects.filter(bill=bill)
        .select_related("product", "service")
        .prefetch_related(Prefetch("staff_shares", queryset=shares))
        .order_by("position", "id")
    )


def bill_detail(pk: int) -> Bill:
    """One bill with its client, room, lines (and their staff), coupons and tenders loaded; 404 otherwise."""
    from django.shortcuts import get_object_or_404

    shares = BillLineStaff.objects.select_related("staff").order_by("-share", "id")
    lines = (
        BillLine.objects.select_related("service", "product", "package", "course_template", "guest")
        .prefetch_related(Prefetch("staff_shares", queryset=shares))
        .order_by("position", "id")
    )
    return get_object_or_404(
        Bill.objects.select_related(
            "client__tier", "location", "room", "appointment", "tier", "opened_by"
        ).prefetch_related(
            Prefetch("lines", queryset=lines),
            Prefetch("coupons", queryset=BillCoupon.objects.select_related("coupon__template").order_by("id")),
            Prefetch("tenders", queryset=Tender.objects.order_by("id")),
            Prefetch(
                "refunds",
                queryset=Refund.objects.order_by("id").prefetch_related(
                    Prefetch("lines", queryset=RefundLine.objects.order_by("id")),
                    Prefetch("tender_parts", queryset=RefundTender.objects.select_related("tender").order_by("id")),
                ),
            ),
        ),
        pk=pk,
    )


def with_lines(bills: QuerySet[Bill]) -> QuerySet[Bill]:
    """``bills`` with their lines (and staff), coupons and tenders loaded: a fixed number of queries per page."""
    shares = BillLineStaff.objects.select_related("staff").order_by("-share", "id")
    return bills.prefetch_related(
        Prefetch("lines", queryset=BillLine.objects.prefetch_related(Prefetch("staff_shares", queryset=shares))),
        Prefetch("coupons", queryset=BillCoupon.objects.select_related("coupon__template").order_by("id")),
        Prefetch("tenders", queryset=Tender.objects.order_by("id")),
    )


def succeeded_tenders(bill: Bill) -> list[Tender]:
    return list(Tender.objects.filter(bill=bill, status=TenderStatus.SUCCEEDED).order_by("id"))


def payment_taken(bill_pk: int, key: str) -> bool:
    """Whether the payment named ``key`` already took (or is taking) tenders on this bill: its replay is
    answered with them, so the client's one-time code it carried, now used up, is not checked again."""
    key = (key or "").strip()
    if not key:
        return False
    return (
        Tender.objects.filter(bill_id=bill_pk, idempotency_key__startswith=f"{bill_pk}:{key}:")
        .exclude(status=TenderStatus.FAILED)
        .exists()
    )


def _local_day_range(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = salon_timezone()
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


def bill_list(*, params: Mapping[str, Any] | None = None) -> QuerySet[Bill]:
    """Bills newest first, filtered by ``status``, ``client``, ``location`` and ``date`` (the salon's local
    day the bill was opened, YYYY-MM-DD). Unknown or malformed filters raise ValueError."""
    params = params or {}
    bills = Bill.objects.select_related("client", "location", "room").order_by("-opened_at", "-id")
    status = params.get("status")
    if status:
        if status not in BillStatus.values:
            raise ValueError("status")
        bills = bills.filter(status=status)
    for name in ("client", "location"):
        value = params.get(name)
        if value:
            if not str(value).isdigit() or len(str(value)) > 18:
                raise ValueError(name)
            bills = bills.filter(**{f"{name}_id": int(value)})
    day = params.get("date")
    if day:
        try:
            start, end = _local_day_range(datetime.date.fromisoformat(str(day)))
        except ValueError as exc:
            raise ValueError("date") from exc
        bills = bills.filter(opened_at__gte=start, opened_at__lt=end)
    return bills


def open_bills() -> QuerySet[Bill]:
    return (
        Bill.objects.filter(status=BillStatus.OPEN)
        .select_related("client", "location", "room")
        .order_by("-opened_at", "-id")
    )


def bills_paid_today() -> QuerySet[Bill]:
    start, end = _local_day_range(timezone.now().astimezone(salon_timezone()).date())
    return (
        Bill.objects.filter(paid_at__gte=start, paid_at__lt=end)
        .select_related("client", "location")
        .order_by("-paid_at", "-id")
    )

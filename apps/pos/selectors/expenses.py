"""Reads of expenses and invoice requests for their lists (pages and API)."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet

from apps.core.db import salon_timezone
from apps.core.models import Location
from apps.pos.models import Expense, ExpenseCategory, ExpenseKind, InvoiceRequest


def expense_list(
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    location: Location | None = None,
    category: ExpenseCategory | None = None,
    include_removed: bool = False,
) -> QuerySet[Expense]:
    """Expenses dated in the period, newest first. By default only the expenses that count (neither
    reversed nor corrected); with ``include_removed`` every row, reversals too."""
    rows = Expense.objects.select_related("location", "category", "recorded_by", "reversal", "replaces")
    if not include_removed:
        rows = rows.filter(kind=ExpenseKind.EXPENSE, reversal__isnull=True)
    if date_from is not None:
        rows = rows.filter(spent_on__gte=date_from)
    if date_to is not None:
        rows = rows.filter(spent_on__lte=date_to)
    if location is not None:
        rows = rows.filter(location=location)
    if category is not None:
        rows = rows.filter(category=category)
    return rows.order_by("-spent_on", "-id")


def invoice_request_list(
    *,
    status: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    query: str = "",
) -> QuerySet[InvoiceRequest]:
    """Invoice requests, newest first, by status, by the local date they were made, and by a bill number,
    title, tax ID or invoice number (part of one)."""
    tz = salon_timezone()
    rows = InvoiceRequest.objects.select_related("bill", "bill__location", "requested_by", "decided_by")
    if status:
        rows = rows.filter(status=status)
    if date_from is not None:
        rows = rows.filter(requested_at__gte=datetime.datetime.combine(date_from, datetime.time(0), tzinfo=tz))
    if date_to is not None:
        following = date_to + datetime.timedelta(days=1)
        rows = rows.filter(requested_at__lt=datetime.datetime.combine(following, datetime.time(0), tzinfo=tz))
    query = query.strip()
    if query:
        rows = rows.filter(
            Q(bill__number__icontains=query)
            | Q(title__icontains=query)
            | Q(buyer_tax_id__icontains=query)
            | Q(invoice_number__icontains=query)
        )
    return rows.order_by("-requested_at", "-id")

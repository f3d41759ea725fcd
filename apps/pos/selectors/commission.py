"""Reads of commission (POS-6): the rules, a staff member's ledger, and the staff performance report.

The report reads only the commission ledger, one grouped query whatever the number of staff or bills:
every share of every paid bill has an earned entry there (its ``basis`` is the staff member's share of
the line's amount) and every refund a reversal, dated when it happened. Definitions (docs/till-commission.md
repeats them for people):

- **Period**: salon-local dates ``date_from`` … ``date_to`` (inclusive, at most 366 days). A sale counts on
  the day its bill was paid, a refund on the day it was made.
- **Revenue**: the staff member's shares of line amounts (after discounts), less their shares of refunds.
- **Services** / **products**: units of service lines / product lines they had a share in, less units
  brought back; a service shared by two counts once for each.
- **Requested**: units of service lines where the client asked for them (点钟), less units brought back.
- **Commission**: what they earned, less what refunds gave back.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.pos.errors import PosError, pos_error
from apps.pos.models import CommissionEntry, CommissionRule, CommissionTier, LineKind

MAX_REPORT_DAYS = 366


class Period:
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    CUSTOM = "custom"


def period_dates(*, period: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last local date of the day, the week (Monday to Sunday) or the calendar month that
    holds ``day``."""
    if period == Period.WEEK:
        start = day - datetime.timedelta(days=day.weekday())
        return start, start + datetime.timedelta(days=6)
    if period == Period.MONTH:
        start = day.replace(day=1)
        following = (start + datetime.timedelta(days=32)).replace(day=1)
        return start, following - datetime.timedelta(days=1)
    return day, day


def report_period_check(*, date_from: datetime.date, date_to: datetime.date) -> None:
    """Refuse a period that ends before it starts or is longer than 366 days."""
    if date_to < date_from:
        raise pos_error(PosError.COMMISSION_PERIOD_INVALID)
    if (date_to - date_from).days + 1 > MAX_REPORT_DAYS:
        raise pos_error(PosError.COMMISSION_PERIOD_TOO_LONG)


def _window(date_from: datetime.date, date_to: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Local midnight of the first day to local midnight after the last one, as aware instants."""
    tz = salon_timezone()
    start = datetime.datetime.combine(date_from, datetime.time(0), tzinfo=tz)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time(0), tzinfo=tz)
    return start, end


# --- rules ---------------------------------------------------------------------------------------------


def commission_rules(*, scope: str | None = None, is_active: bool | None = None) -> QuerySet[CommissionRule]:
    """Rules with their targets and tiers (a fixed number of queries for any number of rules), by scope
    from the most specific, active first."""
    rules = CommissionRule.objects.select_related(
        "service", "product", "service_category", "product_category", "staff_level"
    ).prefetch_related(Prefetch("tiers", queryset=CommissionTier.objects.order_by("from_volume")))
    if scope:
        rules = rules.filter(scope=scope)
    if is_active is not None:
        rules = rules.filter(is_active=is_active)
    order = ["service", "product", "service_category", "product_category", "kind", "default"]
    rank = Case(
        *[When(scope=value, then=Value(index)) for index, value in enumerate(order)], output_field=IntegerField()
    )
    return rules.annotate(scope_rank=rank).order_by("-is_active", "scope_rank", "staff_level__rank", "valid_from", "id")


# --- the staff performance report ----------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    revenue: int
    services: int
    products: int
    requested: int
    commission: int


@dataclass(frozen=True)
class StaffPerformanceRow(Figures):
    staff_id: int = 0
    name: str = ""


@dataclass(frozen=True)
class StaffPerformanceReport:
    date_from: datetime.date
    date_to: datetime.date
    location_id: int | None
    timezone: str
    rows: list[StaffPerformanceRow]
    totals: Figures

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values (the API returns this); money in fen."""
        return {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "location": self.location_id,
            "timezone": self.timezone,
            "rows": [{"staff": row.staff_id, "name": row.name, **_figures(row)} for row in self.rows],
            "totals": asdict(self.totals),
        }


def _figures(row: Figures) -> dict[str, int]:
    return {
        "revenue": row.revenue,
        "services": row.services,
        "products": row.products,
        "requested": row.requested,
        "commission": row.commission,
    }


def staff_performance(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    location: Location | None = None,
    staff: User | None = None,
) -> StaffPerformanceReport:
    """Each staff member's revenue, services, products, requested services and commission in a period, at
    one location or all of them (definitions in the module's docstring), best revenue first. One query."""
    report_period_check(date_from=date_from, date_to=date_to)
    start, end = _window(date_from, date_to)
    entries = CommissionEntry.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    if location is not None:
        entries = entries.filter(location_id=location.pk)
    if staff is not None:
        entries = entries.filter(staff_id=staff.pk)
    zero = 0
    grouped = (
        entries.values("staff_id", "staff__name")
        .annotate(
            revenue=Coalesce(Sum("basis"), zero),
            services=Coalesce(Sum("quantity", filter=Q(line_kind=LineKind.SERVICE)), zero),
            products=Coalesce(Sum("quantity", filter=Q(line_kind=LineKind.PRODUCT)), zero),
            requested=Coalesce(Sum("quantity", filter=Q(line_kind=LineKind.SERVICE, is_requested=True)), zero),
            commission=Coalesce(Sum("amount"), zero),
        )
        .order_by("-revenue", "staff__name", "staff_id")
    )
    rows = [
        StaffPerformanceRow(
            staff_id=row["staff_id"],
            name=row["staff__name"],
            revenue=row["revenue"],
            services=row["services"],
            products=row["products"],
            requested=row["requested"],
            commission=row["commission"],
        )
        for row in grouped
    ]
    totals = Figures(
        revenue=sum(row.revenue for row in rows),
        services=sum(row.services for row in rows),
        products=sum(row.products for row in rows),
        requested=sum(row.requested for row in rows),
        commission=sum(row.commission for row in rows),
    )
    return StaffPerformanceReport(
        date_from=date_from,
        date_to=date_to,
        location_id=location.pk if location is not None else None,
        timezone=str(salon_timezone().key),
        rows=rows,
        totals=totals,
    )


def staff_commission_entries(
    *, staff: User, date_from: datetime.date, date_to: datetime.date
) -> QuerySet[CommissionEntry]:
    """One staff member's ledger in a period, newest first, with the bill, line and rule of each entry."""
    report_period_check(date_from=date_from, date_to=date_to)
    start, end = _window(date_from, date_to)
    return (
        CommissionEntry.objects.filter(staff_id=staff.pk, occurred_at__gte=start, occurred_at__lt=end)
        .select_related("bill", "line", "rule", "location")
        .order_by("-occurred_at", "-id")
    )


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def staff_performance_workbook(report: StaffPerformanceReport) -> bytes:
    """The report's table as an XLSX workbook: one row per staff member and a total, money in yuan
    formatted as such (numbers, so a spreadsheet can add them up)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    sheet = book.active
    sheet.title = _("Staff performance")[:31]
    sheet.append(
        [
            _("Staff member"),
            _("Revenue (¥)"),
            _("Services"),
            _("Products"),
            pgettext("client asked for the technician", "Requested"),
            _("Commission (¥)"),
        ]
    )
    rows: list[tuple[str, Figures]] = [(ILLEGAL_CHARACTERS_RE.sub("", row.name), row) for row in report.rows]
    rows.append((_("Total"), report.totals))
    for label, figures in rows:
        # A name is text, never a formula.
        sheet.append(
            [
                label,
                _yuan(figures.revenue),
                figures.services,
                figures.products,
                figures.requested,
                _yuan(figures.commission),
            ]
        )
        sheet.cell(row=sheet.max_row, column=1).data_type = "s"
        for column in (2, 6):
            sheet.cell(row=sheet.max_row, column=column).number_format = "#,##0.00"
    sheet.append([])
    sheet.append([_("From"), report.date_from.isoformat()])
    sheet.append([_("To"), report.date_to.isoformat()])
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()

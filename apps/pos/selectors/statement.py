"""The income, expense and profit statement (POS-9) of a month, quarter, year or any period of up to 366
days, at one location or for the whole chain.

Definitions (docs/till-reports.md repeats them for people):

- **Net sales** by kind (services, products, packages, course cards): line amounts of the bills paid in
  the period less the refund lines made in it — the same figures as the sales report.
- **Income** = net sales − what course-card sessions paid (those services were paid for when the card
  was sold, which is income already) − what points paid (a discount the salon gives, not money in).
  Services paid from stored value *are* income: the top-up was not.
- **Stored-value top-ups** are shown apart and are not income: the salon holds the money for services it
  still owes (a liability); it becomes income when the client spends it.
- **Refunds not tied to a line** (money given back without naming what came back) lower income.
- **Booking deposits kept** (forfeited on a no-show or a late cancellation, SCH-14, in the period) add to
  income: the client paid them and no bill will.
- **Expenses** by category: expenses dated in the period less reversals of them.
- **Profit** = income − expenses.
"""

from __future__ import annotations

import datetime
import io
import zoneinfo
from dataclasses import asdict, dataclass
from typing import Any, Literal

from django.db import connection
from django.db.models import BigIntegerField, Case, F, Sum, When
from django.utils.translation import gettext as _

from apps.core.models import Location
from apps.pos.errors import PosError, pos_error
from apps.pos.models import Bill, Expense, ExpenseKind, LineKind, Refund, TenderMethod
from apps.pos.selectors.sales import (
    INCOME_KINDS,
    MONEY_FORMAT,
    report_window,
    sales_figures,
    scope_sql,
    yuan,
)
from apps.scheduling.models import Deposit, DepositStatus

StatementPeriod = Literal["month", "quarter", "year", "custom"]
STATEMENT_PERIODS: tuple[StatementPeriod, ...] = ("month", "quarter", "year", "custom")


def statement_bounds(period: StatementPeriod, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The calendar month, quarter or year that holds ``day``."""
    if period == "year":
        return day.replace(month=1, day=1), day.replace(month=12, day=31)
    if period == "quarter":
        first_month = (day.month - 1) // 3 * 3 + 1
        start = day.replace(month=first_month, day=1)
    elif period == "month":
        start = day.replace(day=1)
    else:
        raise pos_error(PosError.INVALID, field="period")
    months_on = 3 if period == "quarter" else 1
    year, month = divmod(start.month - 1 + months_on, 12)
    following = start.replace(year=start.year + year, month=month + 1)
    return start, following - datetime.timedelta(days=1)


@dataclass(frozen=True)
class StatementLine:
    key: str
    label: str
    amount: int


@dataclass(frozen=True)
class Statement:
    date_from: datetime.date
    date_to: datetime.date
    location_id: int | None
    timezone: str
    sales: list[StatementLine]  # net sales by kind
    net_sales: int
    deductions: list[StatementLine]  # course-card sessions, points, refunds without lines
    other_income: list[StatementLine]  # booking deposits kept
    income: int
    top_ups: int
    expenses: list[StatementLine]  # by category
    expenses_total: int
    profit: int

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["date_from"] = self.date_from.isoformat()
        data["date_to"] = self.date_to.isoformat()
        return data


def _refunds_total(window: Any) -> int:
    where, params = scope_sql(window, refunds=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(r.amount), 0) FROM {Refund._meta.db_table} r "
            f"JOIN {Bill._meta.db_table} b ON b.id = r.bill_id WHERE {where}",
            params,
        )
        return int(cursor.fetchone()[0])


def _kept(window: Any) -> int:
    """Deposits forfeited in the window, at its location (the appointment's) or everywhere."""
    kept = Deposit.objects.filter(
        status=DepositStatus.FORFEITED, settled_at__gte=window.start, settled_at__lt=window.end
    )
    if window.location_id is not None:
        kept = kept.filter(appointment__location_id=window.location_id)
    return int(kept.aggregate(total=Sum("amount", default=0))["total"])


def statement(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    location: Location | None = None,
    tz: zoneinfo.ZoneInfo | None = None,
) -> Statement:
    """Income, expenses and profit of a period (definitions in the module's docstring). Seven statements."""
    window = report_window(date_from=date_from, date_to=date_to, location=location, tz=tz)
    figures = sales_figures(window)
    kinds = {k.kind: k for k in figures.by_kind()}
    sales = [StatementLine(kind, kinds[kind].label, kinds[kind].net) for kind in INCOME_KINDS]
    net_sales = sum(line.amount for line in sales)
    tenders = {t.method: t.net for t in figures.tender_mix()}
    refunded_on_lines = sum(k.refunded for k in kinds.values())
    unallocated = _refunds_total(window) - refunded_on_lines
    deductions = [
        StatementLine(
            TenderMethod.COURSE_CARD,
            _("Services paid with course-card sessions (income when the card was sold)"),
            tenders.get(TenderMethod.COURSE_CARD, 0),
        ),
        StatementLine(
            TenderMethod.POINTS, _("Paid with points (a discount, not money)"), tenders.get(TenderMethod.POINTS, 0)
        ),
        StatementLine("refunds", _("Refunds not tied to an item"), unallocated),
    ]
    other_income = [
        StatementLine("deposits_kept", _("Booking deposits kept (no-shows, late cancellations)"), _kept(window))
    ]
    income = net_sales - sum(line.amount for line in deductions) + sum(line.amount for line in other_income)

    expenses_qs = Expense.objects.filter(spent_on__gte=date_from, spent_on__lte=date_to)
    if window.location_id is not None:
        expenses_qs = expenses_qs.filter(location_id=window.location_id)
    signed = Case(
        When(kind=ExpenseKind.REVERSAL, then=-F("amount")), default=F("amount"), output_field=BigIntegerField()
    )
    expenses = [
        StatementLine(str(row["category_id"]), row["category__name"], int(row["total"]))
        for row in expenses_qs.values("category_id", "category__name")
        .annotate(total=Sum(signed, default=0))
        .order_by("category__sort_order", "category__name", "category_id")
        if row["total"]
    ]
    expenses_total = sum(line.amount for line in expenses)
    return Statement(
        date_from=date_from,
        date_to=date_to,
        location_id=window.location_id,
        timezone=str(window.tz.key),
        sales=sales,
        net_sales=net_sales,
        deductions=deductions,
        other_income=other_income,
        income=income,
        top_ups=kinds[LineKind.TOP_UP].net,
        expenses=expenses,
        expenses_total=expenses_total,
        profit=income - expenses_total,
    )


def statement_workbook(report: Statement, *, location_name: str) -> bytes:
    """The statement as an XLSX sheet: income, top-ups apart, expenses by category, profit; money in yuan."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Statement")[:31]
    bold = Font(bold=True)

    def row(label: str, amount: int | None = None, *, strong: bool = False) -> None:
        sheet.append([label, yuan(amount)] if amount is not None else [label])
        if amount is not None:
            sheet.cell(row=sheet.max_row, column=2).number_format = MONEY_FORMAT
        if strong:
            for cell in sheet[sheet.max_row]:
                cell.font = bold

    sheet.append([_("Period"), f"{report.date_from.isoformat()} – {report.date_to.isoformat()}"])
    sheet.append([_("Location"), location_name])
    sheet.append([])
    row(_("Income"), strong=True)
    for line in report.sales:
        row(line.label, line.amount)
    row(_("Net sales"), report.net_sales, strong=True)
    for line in report.deductions:
        row(_("less: %(what)s") % {"what": line.label}, line.amount)
    for line in report.other_income:
        row(_("plus: %(what)s") % {"what": line.label}, line.amount)
    row(_("Income"), report.income, strong=True)
    sheet.append([])
    row(_("Stored-value top-ups (held for clients, not income)"), report.top_ups)
    sheet.append([])
    row(_("Expenses"), strong=True)
    for line in report.expenses:
        row(line.label, line.amount)
    row(_("Total expenses"), report.expenses_total, strong=True)
    sheet.append([])
    row(_("Profit"), report.profit, strong=True)
    sheet.column_dimensions["A"].width = 60
    sheet.column_dimensions["B"].width = 16
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()

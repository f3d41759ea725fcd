"""Sales report (POS-7) and the income/expense/profit statement (POS-9) pages with their XLSX exports.
Thin: parse the period, check the permission, call one selector, render."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import Location
from apps.core.money import fen_to_yuan
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.roles import perm
from apps.core.services import audit_record
from apps.core.views import apply_service_error
from apps.pos.forms_reports import SalesReportForm, StatementForm
from apps.pos.selectors import sales as sales_selectors
from apps.pos.selectors import statement as statement_selectors
from apps.scheduling.charts import bar_chart

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _query(**values: Any) -> str:
    query = QueryDict(mutable=True)
    for key, value in values.items():
        query[key] = "" if value is None else str(value)
    return query.urlencode()


def _sales_from(request: HttpRequest) -> tuple[SalesReportForm, sales_selectors.SalesReport | None, dict[str, Any]]:
    """The form and the report it asks for: this month at every location when nothing is chosen."""
    today = salon_today()
    data = request.GET if "date" in request.GET else None
    form = SalesReportForm(data, today=today)
    if data is None:
        period, day, location = "month", today, None
    elif form.is_valid():
        period, day, location = form.cleaned_data["period"], form.cleaned_data["date"], form.cleaned_data["location"]
    else:
        return form, None, {}
    date_from, date_to = sales_selectors.period_bounds(cast(sales_selectors.Period, period), day)
    chosen = {"period": period, "date_from": date_from, "date_to": date_to, "location": location}
    try:
        report = sales_selectors.sales_report(date_from=date_from, date_to=date_to, period="day", location=location)
    except ServiceError as error:
        apply_service_error(form, error)
        return form, None, chosen
    return form, report, chosen


def _money_chart(title: str, rows: list[tuple[str, int]]) -> Any:
    return bar_chart(
        title=title,
        description=_("The table below holds the same figures."),
        rows=[(label, max(amount, 0) / 100, f"¥{fen_to_yuan(amount)}") for label, amount in rows],
    )


def _row_label(period: str, day: datetime.date) -> str:
    return str(WEEKDAYS_ABBR[day.weekday()]) if period == "week" else str(day.day)


@staff_permission_required("view_reports")
@require_GET
def sales_report(request: HttpRequest) -> HttpResponse:
    """Revenue, clients, bills, average ticket, sales by kind, top services and products and the tender mix
    of a day, week or month, at one location or all of them, as tables and charts."""
    form, report, chosen = _sales_from(request)
    context: dict[str, Any] = {"form": form, "report": report}
    if report is not None:
        period, location = chosen["period"], chosen["location"]
        location_id = location.pk if location is not None else ""
        context.update(
            {
                "period": period,
                "location": location,
                "export_query": _query(period=period, date=report.date_from, location=location_id),
                "previous_query": _query(
                    period=period, date=report.date_from - datetime.timedelta(days=1), location=location_id
                ),
                "next_query": _query(
                    period=period, date=report.date_to + datetime.timedelta(days=1), location=location_id
                ),
                "can_export": request.user.has_perm(perm("export_data")),
                "tender_chart": _money_chart(_("Tender mix"), [(t.label, t.net) for t in report.tenders]),
                "services_chart": _money_chart(
                    _("Top services by revenue"), [(i.name, i.amount) for i in report.top_services_by_revenue]
                ),
            }
        )
        if period != "day":
            context["revenue_chart"] = _money_chart(
                _("Revenue by day"), [(_row_label(period, row.start), row.revenue) for row in report.rows]
            )
    return render(request, "pos/reports/sales.html", context)


def _location_name(location: Location | None) -> str:
    return location.name if location is not None else _("All locations")


@staff_permission_required("view_reports")
@require_GET
def sales_report_export(request: HttpRequest) -> HttpResponse:
    """The report's tables as an XLSX workbook (``export_data`` too; audited)."""
    if not request.user.has_perm(perm("export_data")):
        raise PermissionDenied
    form, report, chosen = _sales_from(request)
    if report is None:
        return render(request, "pos/reports/sales.html", {"form": form, "report": None}, status=400)
    location = chosen["location"]
    audit_record(
        action="pos.sales_report.exported",
        actor=acting_user(request),
        data={
            "date_from": report.date_from.isoformat(),
            "date_to": report.date_to.isoformat(),
            "location": location.pk if location is not None else None,
        },
    )
    response = HttpResponse(
        sales_selectors.sales_report_workbook(report, location_name=_location_name(location)), content_type=XLSX_TYPE
    )
    response["Content-Disposition"] = (
        f'attachment; filename="sales-{report.date_from.isoformat()}-{report.date_to.isoformat()}.xlsx"'
    )
    return response


def _statement_from(
    request: HttpRequest,
) -> tuple[StatementForm, statement_selectors.Statement | None, Location | None]:
    today = salon_today()
    data = request.GET if "period" in request.GET else None
    form = StatementForm(data, today=today)
    if data is None:
        date_from, date_to = statement_selectors.statement_bounds("month", today)
        location = None
    elif form.is_valid():
        period = form.cleaned_data["period"]
        if period == "custom":
            date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
        else:
            date_from, date_to = statement_selectors.statement_bounds(period, form.cleaned_data["date"])
        location = form.cleaned_data["location"]
    else:
        return form, None, None
    try:
        return form, statement_selectors.statement(date_from=date_from, date_to=date_to, location=location), location
    except ServiceError as error:
        apply_service_error(form, error)
        return form, None, location


@staff_permission_required("view_reports")
@require_GET
def statement(request: HttpRequest) -> HttpResponse:
    """Income by kind, stored-value top-ups apart, expenses by category and the profit of a month, quarter,
    year or other period, at one location or all of them."""
    form, report, location = _statement_from(request)
    context: dict[str, Any] = {"form": form, "report": report, "location": location}
    if report is not None:
        context["export_query"] = request.GET.urlencode()
        context["can_export"] = request.user.has_perm(perm("export_data"))
    return render(request, "pos/reports/statement.html", context)


@staff_permission_required("view_reports")
@require_GET
def statement_export(request: HttpRequest) -> HttpResponse:
    """The statement as an XLSX workbook (``export_data`` too; audited)."""
    if not request.user.has_perm(perm("export_data")):
        raise PermissionDenied
    form, report, location = _statement_from(request)
    if report is None:
        return render(request, "pos/reports/statement.html", {"form": form, "report": None}, status=400)
    audit_record(
        action="pos.statement.exported",
        actor=acting_user(request),
        data={
            "date_from": report.date_from.isoformat(),
            "date_to": report.date_to.isoformat(),
            "location": location.pk if location is not None else None,
        },
    )
    response = HttpResponse(
        statement_selectors.statement_workbook(report, location_name=_location_name(location)), content_type=XLSX_TYPE
    )
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{report.date_from.isoformat()}-{report.date_to.isoformat()}.xlsx"'
    )
    return response

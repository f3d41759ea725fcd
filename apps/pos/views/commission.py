"""Pages of commission (POS-6): the staff performance report (table, charts, XLSX export), one's own
performance and ledger, and the commission rules. Thin: parse the input, check the permission, call one
selector or service, render."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import Location, User
from apps.core.money import fen_to_yuan
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.pos.forms_commission import ERROR_FIELDS, CommissionRuleForm, PerformancePeriodForm
from apps.pos.models import CommissionEntry, CommissionMethod, CommissionRule, CommissionScope, LineKind
from apps.pos.selectors.commission import (
    Period,
    StaffPerformanceReport,
    commission_rules,
    period_dates,
    staff_commission_entries,
    staff_performance,
)
from apps.pos.services import commission as services
from apps.scheduling.charts import bar_chart

rules_page = staff_permission_required("manage_staff")
PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _percent(basis_points: int | None) -> str:
    return "" if basis_points is None else f"{basis_points / 100:g} %"


# --- the report ----------------------------------------------------------------------------------------


def _period_from(
    request: HttpRequest,
) -> tuple[PerformancePeriodForm, tuple[datetime.date, datetime.date, Location | None] | None]:
    today = salon_today()
    data = request.GET if "period" in request.GET else None
    form = PerformancePeriodForm(data, today=today)
    if data is None:  # the month up to today
        date_from, date_to = period_dates(period=Period.MONTH, day=today)
        return form, (date_from, min(date_to, today), None)
    if not form.is_valid():
        return form, None
    date_from, date_to = form.cleaned_data["dates"]
    return form, (date_from, date_to, form.cleaned_data["location"])


def _report_from(
    request: HttpRequest, *, staff: User | None = None
) -> tuple[PerformancePeriodForm, StaffPerformanceReport | None]:
    form, period = _period_from(request)
    if period is None:
        return form, None
    date_from, date_to, location = period
    try:
        return form, staff_performance(date_from=date_from, date_to=date_to, location=location, staff=staff)
    except ServiceError as error:
        _show_error(form, error, fields={"to": "date_to"})
        return form, None


def _show_error(form: Any, error: ServiceError, *, fields: dict[str, str]) -> None:
    """A service's refusal on the form, its field names mapped to the form's."""
    if error.errors:
        mapped = {fields.get(name, name): list(texts) for name, texts in error.errors.items()}
        error = ServiceError(error.code, error.message, status=error.status, errors=mapped)
    apply_service_error(form, error)


def _charts(report: StaffPerformanceReport) -> dict[str, Any]:
    note = _("The table below holds the same figures.")
    return {
        "revenue_chart": bar_chart(
            title=_("Revenue per staff member (¥)"),
            description=note,
            rows=[(row.name, row.revenue / 100, f"¥{fen_to_yuan(row.revenue)}") for row in report.rows],
        ),
        "commission_chart": bar_chart(
            title=_("Commission per staff member (¥)"),
            description=note,
            rows=[(row.name, max(row.commission, 0) / 100, f"¥{fen_to_yuan(row.commission)}") for row in report.rows],
        ),
    }


@login_required
def staff_performance_page(request: HttpRequest) -> HttpResponse:
    """Everybody's revenue, services, products, requested services and commission in a period, as a table
    and charts. A technician, who may see only their own figures, is taken to "My performance"."""
    user = acting_user(request)
    if not user.has_perm(perm("view_reports")):
        if user.has_perm(perm("view_own_schedule")):
            return redirect("pos:my_performance")
        raise PermissionDenied
    form, report = _report_from(request)
    context: dict[str, Any] = {"form": form, "report": report}
    if report is not None:
        context.update(_charts(report))
        context["export_query"] = request.GET.urlencode()
        context["can_export"] = user.has_perm(perm("export_data"))
    return render(request, "pos/commission/staff_performance.html", context)


@staff_permission_required("view_reports")
@require_GET
def staff_performance_export(request: HttpRequest) -> HttpResponse:
    """The report's table as an XLSX workbook (also needs ``export_data``; audited)."""
    form, period = _period_from(request)
    if period is None:
        return render(request, "pos/commission/staff_performance.html", {"form": form, "report": None}, status=400)
    date_from, date_to, location = period
    try:
        export = services.staff_performance_export(
            date_from=date_from, date_to=date_to, location=location, acting_user=acting_user(request)
        )
    except ServiceError as error:
        if error.status == 403:
            raise PermissionDenied from error
        _show_error(form, error, fields={"to": "date_to"})
        return render(request, "pos/commission/staff_performance.html", {"form": form, "report": None}, status=400)
    response = HttpResponse(export.content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
    response["Cache-Control"] = "no-store"
    return response


def _how(entry: CommissionEntry) -> str:
    """How an entry was worked out, in a few words."""
    parts = []
    if entry.rate_bp is not None:
        text = _percent(entry.rate_bp)
        if entry.method == CommissionMethod.TIERED and entry.volume is not None:
            text = _("%(rate)s at ¥%(volume)s this month") % {"rate": text, "volume": fen_to_yuan(entry.volume)}
        parts.append(text)
    if entry.unit_amount is not None:
        parts.append(_("¥%(amount)s a unit") % {"amount": fen_to_yuan(entry.unit_amount)})
    if entry.rule_id is None:
        return _("No rule")
    return " + ".join(parts)


@staff_permission_required("view_own_schedule")
def my_performance(request: HttpRequest) -> HttpResponse:
    """One's own figures of a period and the ledger entries behind them."""
    me = acting_user(request)
    form, report = _report_from(request, staff=me)
    context: dict[str, Any] = {"form": form, "report": report}
    if report is not None:
        entries = staff_commission_entries(staff=me, date_from=report.date_from, date_to=report.date_to)
        if report.location_id is not None:
            entries = entries.filter(location_id=report.location_id)
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
        context["page"] = page
        context["entries"] = [
            {"entry": entry, "how": _how(entry), "share": _percent(entry.share)} for entry in page.object_list
        ]
        context["mine"] = report.rows[0] if report.rows else None
        query = request.GET.copy()
        query.pop("page", None)
        context["page_query"] = query.urlencode()
    return render(request, "pos/commission/my_performance.html", context)


# --- the rules -----------------------------------------------------------------------------------------


def _target(rule: CommissionRule) -> str:
    if rule.scope == CommissionScope.DEFAULT:
        return _("Everything (salon default)")
    if rule.scope == CommissionScope.KIND:
        return _("Every %(kind)s line") % {"kind": str(LineKind(rule.line_kind).label).lower()}
    return str(getattr(rule, rule.scope))


def _summary(rule: CommissionRule) -> str:
    if rule.method == CommissionMethod.PERCENTAGE:
        return _percent(rule.rate_bp)
    if rule.method == CommissionMethod.FIXED:
        return _("¥%(amount)s a unit") % {"amount": fen_to_yuan(rule.fixed_amount)}
    return " · ".join(
        _("%(rate)s from ¥%(volume)s") % {"rate": _percent(tier.rate_bp), "volume": fen_to_yuan(tier.from_volume)}
        for tier in rule.tiers.all()
    )


def _bonus(rule: CommissionRule) -> str:
    parts = []
    if rule.requested_bonus_bp:
        parts.append(f"+{_percent(rule.requested_bonus_bp)}")
    if rule.requested_bonus_amount:
        parts.append(_("+¥%(amount)s a unit") % {"amount": fen_to_yuan(rule.requested_bonus_amount)})
    return ", ".join(parts)


@rules_page
def rule_list(request: HttpRequest) -> HttpResponse:
    """The rules, by scope from the most specific (the order in which they are tried)."""
    scope = request.GET.get("scope") or None
    if scope not in CommissionScope.values:
        scope = None
    rows = [
        {"rule": rule, "target": _target(rule), "summary": _summary(rule), "bonus": _bonus(rule)}
        for rule in commission_rules(scope=scope)
    ]
    return render(
        request,
        "pos/commission/rule_list.html",
        {"rows": rows, "scopes": CommissionScope.choices, "scope": scope or ""},
    )


@rules_page
def rule_create(request: HttpRequest) -> HttpResponse:
    form = CommissionRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.commission_rule_create(acting_user=acting_user(request), **form.service_values())
        except ServiceError as error:
            _show_error(form, error, fields=ERROR_FIELDS)
        else:
            messages.success(request, _("The commission rule was added."))
            return redirect("pos:commission_rule_list")
    return render(request, "pos/commission/rule_form.html", {"form": form, "rule": None})


@rules_page
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(CommissionRule, pk=pk)
    form = CommissionRuleForm(request.POST or None, rule=rule, initial=CommissionRuleForm.initial_for(rule))
    if request.method == "POST" and form.is_valid():
        try:
            services.commission_rule_update(rule=rule, acting_user=acting_user(request), **form.service_values())
        except ServiceError as error:
            _show_error(form, error, fields=ERROR_FIELDS)
        else:
            messages.success(request, _("The commission rule was saved."))
            return redirect("pos:commission_rule_list")
    return render(request, "pos/commission/rule_form.html", {"form": form, "rule": rule})


@rules_page
@require_POST
def rule_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(CommissionRule, pk=pk)
    services.commission_rule_deactivate(rule=rule, acting_user=acting_user(request))
    messages.success(request, _("The commission rule no longer applies; commission already earned keeps it."))
    return redirect("pos:commission_rule_list")

"""Booking reports (SCH-12), booking suggestions for a client (SCH-13) and the calendar feed (SCH-15).
Thin: parse the input, check the permission, call one selector or service, render."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import Location
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.crm.models import Client
from apps.scheduling.charts import bar_chart
from apps.scheduling.forms_insights import FeedResetForm, ReportPeriodForm
from apps.scheduling.selectors import calendar_feed as feed_selectors
from apps.scheduling.selectors import reports as report_selectors
from apps.scheduling.selectors.suggestions import client_suggestions
from apps.scheduling.services.calendar_feed import calendar_feed_token_reset


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _rate_row(label: str, rates: report_selectors.Rates) -> dict[str, Any]:
    return {
        "label": label,
        "due": rates.due,
        "cancelled": rates.cancelled,
        "late_cancelled": rates.late_cancelled,
        "no_show": rates.no_show,
        "cancellation_rate": _percent(rates.cancellation_rate),
        "late_cancellation_rate": _percent(rates.late_cancellation_rate),
        "no_show_rate": _percent(rates.no_show_rate),
    }


def _report_from(request: HttpRequest) -> tuple[ReportPeriodForm, report_selectors.BookingReport | None]:
    today = salon_today()
    data = request.GET if "date_from" in request.GET else None
    form = ReportPeriodForm(data, today=today)
    if data is None:
        period = {"date_from": form.fields["date_from"].initial, "date_to": form.fields["date_to"].initial}
        location = None
    elif form.is_valid():
        period = {"date_from": form.cleaned_data["date_from"], "date_to": form.cleaned_data["date_to"]}
        location = form.cleaned_data["location"]
    else:
        return form, None
    try:
        return form, report_selectors.booking_report(**period, location=location)
    except ServiceError as error:
        apply_service_error(form, error)
        return form, None


def _charts(report: report_selectors.BookingReport) -> dict[str, Any]:
    note = _("The table below holds the same figures.")
    return {
        "hour_chart": bar_chart(
            title=_("Bookings by hour of day"),
            description=note,
            rows=[(str(hour), count, str(count)) for hour, count in enumerate(report.by_hour)],
        ),
        "weekday_chart": bar_chart(
            title=_("Bookings by weekday"),
            description=note,
            rows=[(str(WEEKDAYS_ABBR[day]), count, str(count)) for day, count in enumerate(report.by_weekday)],
        ),
        "staff_chart": bar_chart(
            title=_("Utilisation per technician"),
            description=note,
            rows=[(row.name, row.utilisation or 0, _percent(row.utilisation)) for row in report.staff],
            maximum=max([1.0, *(row.utilisation or 0 for row in report.staff)]),
        ),
        "resource_chart": bar_chart(
            title=_("Utilisation per room and resource"),
            description=note,
            rows=[(row.name, row.utilisation or 0, _percent(row.utilisation)) for row in report.resources],
            maximum=1.0,
        ),
    }


@staff_permission_required("view_reports")
def reports(request: HttpRequest) -> HttpResponse:
    """Bookings by hour and weekday, utilisation of technicians and resources, cancellation and no-show
    rates of a period, as tables and charts."""
    form, report = _report_from(request)
    context: dict[str, Any] = {"form": form, "report": report}
    if report is not None:
        context.update(_charts(report))
        context["hours"] = [(hour, count) for hour, count in enumerate(report.by_hour)]
        context["weekdays"] = [(WEEKDAYS_ABBR[day], count) for day, count in enumerate(report.by_weekday)]
        names = {loc.pk: loc.name for loc in Location.objects.all()}
        context["staff_rows"] = [{**asdict(row), "percent": _percent(row.utilisation)} for row in report.staff]
        context["resource_rows"] = [
            {**asdict(row), "percent": _percent(row.utilisation), "location": names.get(row.location_id, "")}
            for row in report.resources
        ]
        context["rate_rows"] = [_rate_row(row.label, row) for row in [*report.rates_by_channel]] + [
            _rate_row(_("All channels"), report.rates)
        ]
        context["export_query"] = request.GET.urlencode()
    return render(request, "scheduling/reports.html", context)


@staff_permission_required("view_reports")
@require_GET
def reports_export(request: HttpRequest) -> HttpResponse:
    """The report's tables as an XLSX workbook."""
    form, report = _report_from(request)
    if report is None:
        return render(request, "scheduling/reports.html", {"form": form, "report": None}, status=400)
    names = {loc.pk: loc.name for loc in Location.objects.all()}
    response = HttpResponse(
        report_selectors.booking_report_workbook(report, location_names=names),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="bookings-{report.date_from.isoformat()}-{report.date_to.isoformat()}.xlsx"'
    )
    return response


@staff_permission_required("book_appointments")
@require_GET
def suggestions(request: HttpRequest) -> HttpResponse:
    """The htmx fragment of the booking form: technicians and services to suggest for the chosen client."""
    raw = request.GET.get("client", "")
    if not raw.isdigit():
        return render(request, "scheduling/_suggestions.html", {"suggestions": None})
    client = get_object_or_404(Client, pk=int(raw), is_active=True)
    return render(
        request, "scheduling/_suggestions.html", {"client": client, "suggestions": client_suggestions(client=client)}
    )


@staff_permission_required("view_own_schedule")
def my_feed(request: HttpRequest) -> HttpResponse:
    """One's own feed address, made or replaced on request; managers can reset anyone's."""
    me = acting_user(request)
    can_manage = me.has_perm(perm("manage_staff"))
    reset_form = FeedResetForm(request.POST if request.method == "POST" and "staff" in request.POST else None)
    if request.method == "POST":
        if "staff" in request.POST:
            if not can_manage:
                raise PermissionDenied
            if reset_form.is_valid():
                member = reset_form.cleaned_data["staff"]
                calendar_feed_token_reset(staff=member, acting_user=me)
                messages.success(
                    request,
                    _("The calendar link of %(name)s was replaced; the old one no longer works.")
                    % {"name": member.name},
                )
                return redirect("scheduling:my_feed")
        else:
            calendar_feed_token_reset(staff=me, acting_user=me)
            messages.success(request, _("Your calendar link is ready. Any earlier link no longer works."))
            return redirect("scheduling:my_feed")
    feed = feed_selectors.calendar_feed_of(me)
    feed_url = None
    if feed is not None:
        feed_url = request.build_absolute_uri(reverse("scheduling:feed_ics", args=[feed.token]))
    return render(
        request,
        "scheduling/my_feed.html",
        {"feed": feed, "feed_url": feed_url, "can_manage": can_manage, "reset_form": reset_form},
    )


@require_GET
def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself: public, the token is the secret; it exists only on its salon's domain (the
    token is looked up in that salon's schema)."""
    feed = feed_selectors.calendar_feed_by_token(token)
    if feed is None:
        raise Http404
    response = HttpResponse(
        feed_selectors.calendar_feed_ics(staff=feed.staff), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    return response

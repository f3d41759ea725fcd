"""Set-up pages of the calendar (SCH-2, SCH-3): the roster of a location by week, a staff member's week,
exceptions, time off, rooms and resources, booking rules per service and the booking settings.
Thin: parse a form, call one service, render. All need ``manage_schedule``."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.catalog.models import Service
from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import Location, User
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.views import apply_service_error
from apps.scheduling.forms_setup import (
    WEEKDAYS,
    ResourceEditForm,
    ResourceForm,
    ResourceTypeEditForm,
    ResourceTypeForm,
    RosterWeekForm,
    SchedulingSettingsForm,
    ServiceRuleForm,
    ShiftExceptionForm,
    TimeOffForm,
    open_locations,
)
from apps.scheduling.models import Resource, ResourceType, ServiceBookingRule, ShiftException, TimeOff
from apps.scheduling.selectors import rosters as roster_selectors
from apps.scheduling.selectors.settings import scheduling_settings
from apps.scheduling.services import resources as resource_services
from apps.scheduling.services import rosters as roster_services
from apps.scheduling.services import settings as settings_services

setup_page = staff_permission_required("manage_schedule")


def _location(request: HttpRequest) -> Location:
    """The location chosen with ``?location=`` (or in a POST), else the first open one."""
    raw = request.POST.get("location") or request.GET.get("location")
    if raw and raw.isdigit():
        chosen = Location.objects.filter(pk=int(raw)).first()
        if chosen is not None:
            return chosen
    first = open_locations().first()
    if first is None:
        raise Http404
    return first


def _week(request: HttpRequest) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = salon_today()
    return roster_selectors.week_start(day)


# --- roster -------------------------------------------------------------------------------------


@setup_page
def roster(request: HttpRequest) -> HttpResponse:
    """A location's roster for one week (staff × days, as it applies: weekly hours, exceptions, time off);
    the exception form (a day off, other hours) posts here."""
    location = _location(request)
    start = _week(request)
    form = ShiftExceptionForm(
        request.POST or None, initial={"date": start, "location": location, "kind": ShiftExceptionForm.KIND_OFF}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        working = data["kind"] == ShiftExceptionForm.KIND_HOURS
        try:
            roster_services.shift_exception_set(
                staff=data["staff"],
                date=data["date"],
                is_working=working,
                location=data["location"] if working else None,
                hours=data["hours"] if working else (),
                note=data["note"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s: %(date)s was changed.") % {"name": data["staff"].name, "date": data["date"].isoformat()},
            )
            week = roster_selectors.week_start(data["date"]).isoformat()
            return redirect(f"{reverse('scheduling:roster')}?location={location.pk}&week={week}")
    days = [start + datetime.timedelta(days=n) for n in range(7)]
    context: dict[str, Any] = {
        "location": location,
        "locations": open_locations(),
        "start": start,
        "days": list(zip(days, WEEKDAYS, strict=True)),
        "rows": roster_selectors.roster_week_grid(location=location, start=start),
        "exceptions": roster_selectors.week_exceptions(start=start),
        "previous_week": start - datetime.timedelta(days=7),
        "next_week": start + datetime.timedelta(days=7),
        "form": form,
    }
    return render(request, "scheduling/roster.html", context)


@setup_page
def roster_staff(request: HttpRequest, pk: int) -> HttpResponse:
    """Set one staff member's week at a location from a date on."""
    member = get_object_or_404(User, pk=pk, is_active=True)
    location = _location(request)
    today = salon_today()
    current = roster_selectors.roster_week_of(staff=member, location=location, on=today)
    initial: dict[str, Any] = {"valid_from": today, **{f"day_{d}": current[d] for d in range(7)}}
    form = RosterWeekForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            roster_services.roster_week_set(
                staff=member,
                location=location,
                days=form.days(),
                valid_from=form.cleaned_data["valid_from"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The week of %(name)s was saved.") % {"name": member.name})
            week = roster_selectors.week_start(form.cleaned_data["valid_from"]).isoformat()
            return redirect(f"{reverse('scheduling:roster')}?location={location.pk}&week={week}")
    return render(
        request,
        "scheduling/roster_staff.html",
        {"member": member, "location": location, "locations": open_locations(), "form": form},
    )


@setup_page
@require_POST
def exception_delete(request: HttpRequest, pk: int) -> HttpResponse:
    exception = get_object_or_404(ShiftException.objects.select_related("staff"), pk=pk)
    roster_services.shift_exception_delete(exception=exception, acting_user=acting_user(request))
    messages.success(
        request,
        _("%(name)s works the usual hours on %(date)s again.")
        % {"name": exception.staff.name, "date": exception.date.isoformat()},
    )
    week = roster_selectors.week_start(exception.date).isoformat()
    location = request.POST.get("location", "")
    return redirect(f"{reverse('scheduling:roster')}?location={location}&week={week}")


# --- time off -----------------------------------------------------------------------------------


@setup_page
def time_off(request: HttpRequest) -> HttpResponse:
    form = TimeOffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            roster_services.time_off_add(
                staff=data["staff"],
                start=data["start"],
                end=data["end"],
                kind=data["kind"],
                note=data["note"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Time off of %(name)s was added.") % {"name": data["staff"].name})
            return redirect("scheduling:time_off")
    return render(request, "scheduling/time_off.html", {"form": form, "entries": roster_selectors.time_off_upcoming()})


@setup_page
@require_POST
def time_off_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(TimeOff.objects.select_related("staff"), pk=pk)
    roster_services.time_off_delete(time_off=entry, acting_user=acting_user(request))
    messages.success(request, _("Time off of %(name)s was removed.") % {"name": entry.staff.name})
    return redirect("scheduling:time_off")


# --- resources ----------------------------------------------------------------------------------


@setup_page
def resources(request: HttpRequest) -> HttpResponse:
    """Resource types, and the resources of one location; one add form for each (``form`` names which)."""
    location = _location(request)
    which = request.POST.get("form") if request.method == "POST" else None
    type_form = ResourceTypeForm(request.POST if which == "type" else None, prefix="type")
    resource_form = ResourceForm(request.POST if which == "resource" else None, prefix="resource")
    if which == "type" and type_form.is_valid():
        try:
            created = resource_services.resource_type_create(
                name=type_form.cleaned_data["name"], acting_user=acting_user(request)
            )
        except ServiceError as error:
            apply_service_error(type_form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": created.name})
            return redirect(f"{reverse('scheduling:resources')}?location={location.pk}")
    if which == "resource" and resource_form.is_valid():
        try:
            added = resource_services.resource_create(
                location=location, acting_user=acting_user(request), **resource_form.cleaned_data
            )
        except ServiceError as error:
            apply_service_error(resource_form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": added.name})
            return redirect(f"{reverse('scheduling:resources')}?location={location.pk}")
    return render(
        request,
        "scheduling/resources.html",
        {
            "location": location,
            "locations": open_locations(),
            "types": ResourceType.objects.order_by("-is_active", "name", "pk"),
            "resources": Resource.objects.filter(location=location).select_related("resource_type"),
            "type_form": type_form,
            "resource_form": resource_form,
        },
    )


@setup_page
def resource_edit(request: HttpRequest, pk: int) -> HttpResponse:
    resource = get_object_or_404(Resource.objects.select_related("location"), pk=pk)
    initial = {
        "name": resource.name,
        "resource_type": resource.resource_type_id,
        "capacity": resource.capacity,
        "sort_order": resource.sort_order,
        "is_active": resource.is_active,
    }
    form = ResourceEditForm(request.POST or None, initial=initial, resource=resource)
    if request.method == "POST" and form.is_valid():
        try:
            resource_services.resource_update(resource=resource, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": form.cleaned_data["name"]})
            return redirect(f"{reverse('scheduling:resources')}?location={resource.location_id}")
    return render(
        request,
        "scheduling/setup_form.html",
        {
            "form": form,
            "title": resource.name,
            "cancel_url": f"{reverse('scheduling:resources')}?location={resource.location_id}",
        },
    )


@setup_page
def resource_type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(ResourceType, pk=pk)
    form = ResourceTypeEditForm(request.POST or None, initial={"name": row.name, "is_active": row.is_active})
    if request.method == "POST" and form.is_valid():
        try:
            resource_services.resource_type_update(
                resource_type=row, acting_user=acting_user(request), **form.cleaned_data
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": form.cleaned_data["name"]})
            return redirect("scheduling:resources")
    return render(
        request,
        "scheduling/setup_form.html",
        {"form": form, "title": row.name, "cancel_url": reverse("scheduling:resources")},
    )


# --- booking rules per service ------------------------------------------------------------------


@setup_page
def service_rules(request: HttpRequest) -> HttpResponse:
    services = (
        Service.objects.filter(is_active=True)
        .select_related("category", "booking_rule")
        .prefetch_related(
            Prefetch("booking_rule__resource_types", queryset=ResourceType.objects.order_by("name", "pk"))
        )
        .order_by("category__sort_order", "sort_order", "name", "pk")
    )
    return render(request, "scheduling/service_rules.html", {"services": services})


@setup_page
def service_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(Service, pk=pk)
    rule = ServiceBookingRule.objects.filter(service=service).first()
    current = list(rule.resource_types.values_list("pk", flat=True)) if rule is not None else []
    initial = {
        "resource_types": current,
        "deposit_amount": rule.deposit_amount if rule is not None else 0,
        "is_online_bookable": rule.is_online_bookable if rule is not None else True,
    }
    form = ServiceRuleForm(request.POST or None, initial=initial, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            resource_services.service_booking_rule_set(
                service=service, acting_user=acting_user(request), **form.cleaned_data
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The booking rule of %(name)s was saved.") % {"name": service.name})
            return redirect("scheduling:service_rules")
    return render(
        request,
        "scheduling/setup_form.html",
        {"form": form, "title": service.name, "cancel_url": reverse("scheduling:service_rules")},
    )


# --- booking settings ---------------------------------------------------------------------------


@setup_page
def settings_edit(request: HttpRequest) -> HttpResponse:
    row = scheduling_settings()
    initial = {field: getattr(row, field) for field in SchedulingSettingsForm.base_fields}
    form = SchedulingSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            settings_services.scheduling_settings_update(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The booking settings were saved."))
            return redirect("scheduling:settings")
    return render(request, "scheduling/settings.html", {"form": form})

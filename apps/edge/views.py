"""The staff page of print jobs: a location's recent jobs with their status, a preview, and a reprint
button. Thin: parse, call one service, render."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ServiceError
from apps.core.models import Location
from apps.core.permissions import acting_user, staff_permission_required
from apps.edge import selectors, services
from apps.edge.models import PrintJob


def _location(value: object) -> Location | None:
    locations = Location.objects.filter(is_active=True).order_by("pk")
    if value and str(value).isdigit():
        chosen = locations.filter(pk=int(str(value))).first()
        if chosen is not None:
            return chosen
    return locations.first()


def _list_url(location: Location) -> str:
    return f"{reverse('edge:print_jobs')}?location={location.pk}"


@staff_permission_required("take_payments")
def print_job_list(request: HttpRequest) -> HttpResponse:
    """The last 50 print jobs of a location, newest first."""
    location = _location(request.GET.get("location"))
    jobs = selectors.print_jobs_recent(location=location) if location is not None else []
    return render(
        request,
        "edge/print_jobs.html",
        {
            "location": location,
            "locations": Location.objects.filter(is_active=True).order_by("pk"),
            "jobs": jobs,
            # Each button carries a key made for this page, so a double click queues one copy.
            "render_key": secrets.token_hex(8),
        },
    )


@staff_permission_required("take_payments")
@require_POST
def print_job_reprint(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(PrintJob.objects.select_related("location", "copy_of__location"), pk=pk)
    try:
        copy = services.print_job_reprint(
            job=job, acting_user=acting_user(request), idempotency_key=request.POST.get("key") or None
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Copy %(number)s is queued for the printer.") % {"number": copy.copy_number})
    return redirect(_list_url(job.location))


@staff_permission_required("take_payments")
@require_POST
def print_job_test(request: HttpRequest) -> HttpResponse:
    location = _location(request.POST.get("location"))
    if location is None:
        return redirect(reverse("edge:print_jobs"))
    try:
        services.print_job_test(
            location=location, acting_user=acting_user(request), idempotency_key=request.POST.get("key") or None
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A test page is queued for the printer."))
    return redirect(_list_url(location))

"""Pages of cash sessions (POS-5, 收银交班): a location's drawer — open it, record pay-ins and pay-outs,
close it with the counted cash — and the printable handover report. Thin: parse a form, call one
service, render."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ServiceError
from apps.core.models import Location
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.pos.forms_cash import CashCloseForm, CashMovementForm, CashOpenForm
from apps.pos.models import CashMovementKind, CashSession
from apps.pos.selectors import cash as selectors
from apps.pos.services import cash as services


def _location(value: Any) -> Location | None:
    locations = Location.objects.filter(is_active=True).order_by("pk")
    if value and str(value).isdigit():
        chosen = locations.filter(pk=int(str(value))).first()
        if chosen is not None:
            return chosen
    return locations.first()


def _page_url(location: Location) -> str:
    return f"{reverse('pos:cash')}?location={location.pk}"


def _render(
    request: HttpRequest,
    location: Location | None,
    *,
    open_form: CashOpenForm | None = None,
    movement_form: CashMovementForm | None = None,
    close_form: CashCloseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = acting_user(request)
    session = selectors.cash_session_open_at(location) if location is not None else None
    report = None
    if session is not None and selectors.cash_session_visible_to(session, user):
        report = selectors.handover_report(session)
    recent = list(selectors.cash_sessions(location=location, user=user)[:10]) if location is not None else []
    return render(
        request,
        "pos/cash/session.html",
        {
            "location": location,
            "locations": Location.objects.filter(is_active=True).order_by("pk"),
            "session": session,
            "report": report,
            "recent": recent,
            "open_form": open_form or CashOpenForm(),
            "movement_form": movement_form or CashMovementForm(initial={"kind": CashMovementKind.PAY_OUT}),
            "close_form": close_form or CashCloseForm(),
            "form_key": secrets.token_hex(8),
            "can_see_reports": user.has_perm(perm("view_reports")),
        },
        status=status,
    )


@staff_permission_required("take_payments")
def cash_page(request: HttpRequest) -> HttpResponse:
    """The drawer of a location: open it, or see it so far, pay in and out, and close it."""
    return _render(request, _location(request.GET.get("location")))


@staff_permission_required("take_payments")
@require_POST
def cash_open(request: HttpRequest) -> HttpResponse:
    location = _location(request.POST.get("location"))
    if location is None:
        raise Http404
    form = CashOpenForm(request.POST)
    if form.is_valid():
        try:
            services.cash_session_open(
                location=location,
                opening_float=form.cleaned_data["opening_float"],
                note=form.cleaned_data["note"],
                idempotency_key=request.POST.get("key") or None,
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The cash session is open."))
            return redirect(_page_url(location))
    return _render(request, location, open_form=form, status=400)


def _session(pk: int) -> CashSession:
    session = selectors.cash_session(pk)
    if session is None:
        raise Http404
    return session


@staff_permission_required("take_payments")
@require_POST
def cash_movement(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(pk)
    form = CashMovementForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.cash_movement_record(
                session=session,
                kind=data["kind"],
                amount=data["amount"],
                reason=data["reason"],
                idempotency_key=request.POST.get("key") or None,
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("Paid in.") if data["kind"] == CashMovementKind.PAY_IN else _("Paid out."),
            )
            return redirect(_page_url(session.location))
    return _render(request, session.location, movement_form=form, status=400)


@staff_permission_required("take_payments")
@require_POST
def cash_close(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(pk)
    form = CashCloseForm(request.POST)
    if form.is_valid():
        try:
            closed = services.cash_session_close(
                session=session,
                counted_cash=form.cleaned_data["counted_cash"],
                counted=form.counted(),
                note=form.cleaned_data["note"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The cash session is closed; the handover report is queued for the printer."))
            if selectors.cash_session_visible_to(closed, acting_user(request)):
                return redirect(reverse("pos:cash_report", args=[closed.pk]))
            return redirect(_page_url(closed.location))
    return _render(request, session.location, close_form=form, status=400)


def _visible(request: HttpRequest, pk: int) -> CashSession:
    session = _session(pk)
    if not selectors.cash_session_visible_to(session, acting_user(request)):
        raise PermissionDenied
    return session


@login_required
def cash_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable handover report: for those who read reports and for the session's cashier."""
    session = _visible(request, pk)
    return render(
        request,
        "pos/cash/report.html",
        {"report": selectors.handover_report(session), "session": session, "form_key": secrets.token_hex(8)},
    )


@staff_permission_required("take_payments")
@require_POST
def cash_report_print(request: HttpRequest, pk: int) -> HttpResponse:
    session = _visible(request, pk)
    try:
        job = services.cash_session_print(
            session=session,
            copy=request.POST.get("copy") == "1",
            idempotency_key=request.POST.get("key") or None,
            acting_user=acting_user(request),
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        if job.is_replay:
            messages.info(request, _("This report is already queued for the printer; print a copy to have another."))
        else:
            messages.success(request, _("The report is queued for the printer."))
    return redirect(reverse("pos:cash_report", args=[session.pk]))

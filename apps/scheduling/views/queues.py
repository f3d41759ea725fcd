"""Pages of the waitlist (SCH-9), the walk-in queue and rotation (SCH-11), and the client's offer page.
Thin: parse a form, call one service, render."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.db import salon_timezone, salon_today
from apps.core.errors import ServiceError
from apps.core.models import Location
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.views import apply_service_error
from apps.scheduling.forms_queues import RotationSkipForm, WaitlistJoinForm, WalkInAddForm, location_choice
from apps.scheduling.models import (
    RotationEntry,
    RotationStatus,
    WaitlistEntry,
    WaitlistOfferStatus,
    WalkIn,
    WalkInStatus,
)
from apps.scheduling.selectors import queues as selectors
from apps.scheduling.services import rotation, waitlist, walkins
from apps.scheduling.services.queue_common import services_of

# --- waitlist ------------------------------------------------------------------------------------


def _day(value: Any) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return salon_today()


def _waitlist_url(location: Location | None, day: datetime.date) -> str:
    query = f"?date={day.isoformat()}" + (f"&location={location.pk}" if location is not None else "")
    return reverse("scheduling:waitlist") + query


@staff_permission_required("book_appointments")
def waitlist_page(request: HttpRequest) -> HttpResponse:
    """The day's waitlist of a location: who waits for what, their offers, and a form to add someone."""
    location = location_choice(request.GET.get("location") or request.POST.get("location"))
    day = _day(request.GET.get("date", ""))
    form = WaitlistJoinForm(request.POST or None, initial={"date": day})
    if request.method == "POST" and form.is_valid() and location is not None:
        data = form.cleaned_data
        try:
            entry = waitlist.waitlist_join(
                client=data["client"],
                location=location,
                services=form.services(),
                date=data["date"],
                earliest=data["earliest"],
                latest=data["latest"],
                staff=data["staff"],
                notes=data["notes"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s is on the waitlist.") % {"name": entry.client.name})
            return redirect(_waitlist_url(location, entry.date))
    entries = list(selectors.waitlist_entries(location=location, date=day)) if location is not None else []
    names = selectors.service_names(e.service_ids for e in entries)
    rows = [(e, [names.get(i, "?") for i in e.service_ids]) for e in entries]
    return render(
        request,
        "scheduling/waitlist.html",
        {
            "form": form,
            "rows": rows,
            "day": day,
            "location": location,
            "locations": Location.objects.filter(is_active=True).order_by("pk"),
            "previous_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1),
            "open_status": WaitlistOfferStatus.OPEN,
        },
    )


@staff_permission_required("book_appointments")
@require_POST
def waitlist_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(WaitlistEntry.objects.select_related("client", "location"), pk=pk)
    try:
        waitlist.waitlist_cancel(entry=entry, acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(name)s is off the waitlist.") % {"name": entry.client.name})
    return redirect(_waitlist_url(entry.location, entry.date))


# --- walk-ins and rotation ------------------------------------------------------------------------


def _walk_ins_url(location: Location | None) -> str:
    return reverse("scheduling:walk_ins") + (f"?location={location.pk}" if location is not None else "")


def _board(request: HttpRequest, location: Location) -> dict[str, Any]:
    day = salon_today()
    cards = rotation.rotation_cards(location=location, date=day)
    if not cards:  # the day's first look builds it from the roster
        cards = rotation.rotation_build(location=location, date=day, acting_user=acting_user(request))
    queue = list(selectors.walk_in_queue(location=location, day=day))
    names = selectors.service_names(w.service_ids for w in queue)
    waiting = [w for w in queue if w.status == WalkInStatus.WAITING]
    next_for: dict[int, RotationEntry | None] = {}
    for walk_in in waiting[:10]:  # who would get each of the first few, by their services
        next_for[walk_in.pk] = rotation.rotation_next(location=location, services=services_of(walk_in.service_ids))
    return {
        "cards": cards,
        "waiting": [(w, [names.get(i, "?") for i in w.service_ids], next_for.get(w.pk)) for w in waiting],
        "served": [(w, [names.get(i, "?") for i in w.service_ids]) for w in queue if w.status != WalkInStatus.WAITING],
        "away": RotationStatus.AWAY,
        "skip_form": RotationSkipForm(),
    }


@staff_permission_required("book_appointments")
def walk_ins_page(request: HttpRequest) -> HttpResponse:
    """Today's walk-in queue and rotation cards of a location; the board refreshes itself (htmx)."""
    location = location_choice(request.GET.get("location") or request.POST.get("location"))
    if location is None:
        raise Http404
    form = WalkInAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            walk_in = walkins.walk_in_add(
                location=location,
                services=form.services(),
                client=data["client"],
                name=data["name"],
                requested_staff=data["requested_staff"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s joined the queue.") % {"name": walk_in.name})
            return redirect(_walk_ins_url(location))
    context = {
        "form": form,
        "location": location,
        "locations": Location.objects.filter(is_active=True).order_by("pk"),
        "board_url": _walk_ins_url(location),
        **_board(request, location),
    }
    return render(request, "scheduling/walk_ins.html", context)


def _walk_in_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    walk_in = get_object_or_404(WalkIn.objects.select_related("location", "requested_staff"), pk=pk)
    try:
        if action == "leave":
            walkins.walk_in_leave(walk_in=walk_in, acting_user=acting_user(request))
            messages.success(request, _("%(name)s left the queue.") % {"name": walk_in.name})
        else:
            staff = walk_in.requested_staff if action == "requested" else None
            done = walkins.walk_in_assign(walk_in=walk_in, staff=staff, acting_user=acting_user(request))
            messages.success(
                request,
                _("%(name)s goes to %(staff)s.")
                % {"name": done.name, "staff": getattr(done.assigned_staff, "name", "")},
            )
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect(_walk_ins_url(walk_in.location))


@staff_permission_required("book_appointments")
@require_POST
def walk_in_assign_next(request: HttpRequest, pk: int) -> HttpResponse:
    return _walk_in_action(request, pk, "next")


@staff_permission_required("book_appointments")
@require_POST
def walk_in_assign_requested(request: HttpRequest, pk: int) -> HttpResponse:
    return _walk_in_action(request, pk, "requested")


@staff_permission_required("book_appointments")
@require_POST
def walk_in_leave(request: HttpRequest, pk: int) -> HttpResponse:
    return _walk_in_action(request, pk, "leave")


@staff_permission_required("book_appointments")
@require_POST
def rotation_card_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Skip (with a reason), away, back, or move up one place."""
    card = get_object_or_404(RotationEntry.objects.select_related("location", "staff"), pk=pk)
    user = acting_user(request)
    try:
        if action == "skip":
            form = RotationSkipForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            rotation.rotation_skip(card=card, reason=reason, acting_user=user)
        elif action == "away":
            rotation.rotation_away(card=card, acting_user=user)
        elif action == "back":
            rotation.rotation_back(card=card, acting_user=user)
        elif action == "up":
            order = [c.staff_id for c in rotation.rotation_cards(location=card.location, date=card.date)]
            at = order.index(card.staff_id)
            if at > 0:
                order[at - 1], order[at] = order[at], order[at - 1]
                rotation.rotation_reorder(location=card.location, date=card.date, staff_order=order, acting_user=user)
        else:
            raise Http404
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect(_walk_ins_url(card.location))


# --- the client's offer page (no sign-in: the link is the proof) ----------------------------------


def offer_page(request: HttpRequest, token: str) -> HttpResponse:
    """A freed slot offered to a waiting client: accept or decline, on a phone."""
    found = selectors.offer_by_token(token)
    if found is None:
        raise Http404
    status = 200
    outcome = ""
    if request.method == "POST":
        try:
            if request.POST.get("answer") == "decline":
                waitlist.waitlist_offer_decline(token=token)
                outcome = "declined"
            else:
                waitlist.waitlist_offer_accept(token=token)
                outcome = "booked"
        except ServiceError as error:
            outcome = error.code.value
            status = error.status
        found = selectors.offer_by_token(token)
        assert found is not None
    tz = salon_timezone()
    return render(
        request,
        "scheduling/offer.html",
        {
            "found": found,
            "offer": found.offer,
            "start": found.offer.start.astimezone(tz),
            "end": found.offer.end.astimezone(tz),
            "expires": found.offer.expires_at.astimezone(tz),
            "outcome": outcome,
            "is_open": found.offer.status == WaitlistOfferStatus.OPEN and found.offer.expires_at > timezone.now(),
        },
        status=status,
    )

"""The appointment book (SCH-10): the day grid, the week, today's queue and the live board.

Who sees what: ``book_appointments`` sees and books every column; a technician with only
``view_own_schedule`` sees their own column and their own visits, and may clock their own lines on and
off (上钟/下钟). Thin: parse the request, check the permission, call one selector or service, render.
The grids refresh by htmx polling: an htmx request gets the partial only.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import Location, User
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.crm import selectors as client_selectors
from apps.scheduling.forms_book import BookForm, local_start
from apps.scheduling.models import Appointment, AppointmentChannel, Resource, ResourceStatus
from apps.scheduling.selectors import book as selectors
from apps.scheduling.services import booking, resources


def can_book(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(perm("book_appointments")))


def _viewer_scope(request: HttpRequest) -> User | None:
    """None when the viewer sees everyone; the viewer when they see only their own column. Refuses
    anyone with neither permission."""
    if can_book(request):
        return None
    if request.user.has_perm(perm("view_own_schedule")) and isinstance(request.user, User):
        return request.user
    raise PermissionDenied


def _location(request: HttpRequest, locations: list[Location]) -> Location:
    if not locations:
        raise Http404
    wanted = request.GET.get("location") or request.POST.get("location")
    for location in locations:
        if str(location.pk) == wanted:
            return location
    return locations[0]


def _day(request: HttpRequest) -> datetime.date:
    try:
        return datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return salon_today()


def day_url(*, location: Location, day: datetime.date, **extra: Any) -> str:
    query = {"location": location.pk, "date": day.isoformat(), **{k: v for k, v in extra.items() if v}}
    return f"{reverse('scheduling:day')}?{urlencode(query)}"


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _moving(request: HttpRequest, only_staff: User | None) -> Appointment | None:
    """The visit being moved by clicking a target cell (``?move=<id>``), for those who may move it."""
    wanted = request.GET.get("move", "")
    if only_staff is not None or not wanted.isdigit():
        return None
    return selectors.appointment_detail(pk=int(wanted))


@login_required
def day(request: HttpRequest) -> HttpResponse:
    """The day grid: technicians as columns, the slot step as rows."""
    only_staff = _viewer_scope(request)
    locations = selectors.book_locations()
    location = _location(request, locations)
    the_day = _day(request)
    book = selectors.day_book(location=location, day=the_day, only_staff=only_staff)
    context = {
        "book": book,
        "locations": locations,
        "location": location,
        "can_book": only_staff is None,
        "moving": _moving(request, only_staff),
        "prev_day": the_day - datetime.timedelta(days=1),
        "next_day": the_day + datetime.timedelta(days=1),
        "today": salon_today(),
        "poll_url": request.get_full_path(),
        "here": request.get_full_path(),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "scheduling/book/_day_grid.html", context)
    return render(request, "scheduling/book/day.html", context)


@login_required
def week(request: HttpRequest) -> HttpResponse:
    """A week for the whole location (bookings per technician per day) or for one technician."""
    only_staff = _viewer_scope(request)
    locations = selectors.book_locations()
    location = _location(request, locations)
    the_day = _day(request)
    monday = the_day - datetime.timedelta(days=the_day.weekday())
    choices = selectors.staff_choices(location=location) if only_staff is None else []
    chosen = only_staff
    if only_staff is None and request.GET.get("staff", "").isdigit():
        chosen = next((s for s in choices if s.pk == int(request.GET["staff"])), None)
    week_book = selectors.week_book(location=location, monday=monday, only_staff=chosen)
    return render(
        request,
        "scheduling/book/week.html",
        {
            "week": week_book,
            "locations": locations,
            "location": location,
            "staff_choices": choices,
            "chosen": chosen,
            "prev_week": monday - datetime.timedelta(days=7),
            "next_week": monday + datetime.timedelta(days=7),
            "today": salon_today(),
        },
    )


@login_required
def today(request: HttpRequest) -> HttpResponse:
    """Today's queue: to arrive, waiting, in service (until …), done; one click moves a visit on."""
    only_staff = _viewer_scope(request)
    locations = selectors.book_locations()
    location = _location(request, locations)
    queue = selectors.today_queue(location=location, day=salon_today(), only_staff=only_staff)
    context = {
        "queue": queue,
        "locations": locations,
        "location": location,
        "can_book": only_staff is None,
        "viewer": request.user,
        "now": timezone.now(),
        "here": request.get_full_path(),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "scheduling/book/_today_queue.html", context)
    return render(request, "scheduling/book/today.html", context)


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The live board of technicians and rooms; the page polls its partial every 15 seconds."""
    only_staff = _viewer_scope(request)
    locations = selectors.book_locations()
    location = _location(request, locations)
    context = {
        "board": selectors.live_board(location=location),
        "status_choices": [
            (ResourceStatus.FREE, _("Mark free")),
            (ResourceStatus.OCCUPIED, _("Mark occupied")),
            (ResourceStatus.TO_CLEAN, _("Mark to clean")),
        ],
        "locations": locations,
        "location": location,
        "can_book": only_staff is None,
        "here": request.get_full_path(),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "scheduling/book/_board.html", context)
    return render(request, "scheduling/book/board.html", context)


def _visible_appointment(request: HttpRequest, pk: int) -> tuple[Appointment, User | None]:
    """The visit ``pk`` if the viewer may see it: bookers see all, a technician only visits they serve."""
    only_staff = _viewer_scope(request)
    appointment = selectors.appointment_detail(pk=pk)
    if appointment is None:
        raise Http404
    if only_staff is not None and not selectors.appointment_has_line_of(appointment, only_staff):
        raise Http404
    return appointment, only_staff


@login_required
def appointment(request: HttpRequest, pk: int) -> HttpResponse:
    """A visit's panel: client and health alerts, lines, deposit, history, and the buttons that move it
    on (the panel beside the grid for htmx, a page of its own otherwise)."""
    visit, only_staff = _visible_appointment(request, pk)
    local_start = timezone.localtime(visit.start)
    back = day_url(location=visit.location, day=local_start.date())
    context = {
        "appointment": visit,
        "can_book": only_staff is None,
        "own": True,
        "can_see_contact": request.user.has_perm(perm("view_client_contact")),
        "next": safe_next(request, back) if not request.htmx else back,  # type: ignore[attr-defined]
        "back": back,
        "move_grid_url": day_url(location=visit.location, day=local_start.date(), move=visit.pk),
        "staff_choices": selectors.staff_choices(location=visit.location) if only_staff is None else [],
        "local_start": local_start,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "scheduling/book/_appointment_panel.html", context)
    return render(request, "scheduling/book/appointment.html", context)


# --- actions: each calls one booking service ---------------------------------------------------------


def _conflict_note(error: ServiceError) -> str:
    """Who is in the way of a refused booking or move (a 409 names the visit it collided with)."""
    conflict = error.extra.get("conflict")
    wanted = conflict.get("appointment") if isinstance(conflict, dict) else None
    if not isinstance(wanted, int):
        return ""
    other = selectors.appointment_detail(pk=wanted)
    if other is None:
        return ""
    return _("In the way: %(client)s's booking at %(start)s (%(services)s).") % {
        "client": other.client.name,
        "start": timezone.localtime(other.start).strftime("%Y-%m-%d %H:%M"),
        "services": ", ".join(line.service.name for line in other.lines.all()),
    }


def _book_context(request: HttpRequest, form: BookForm, location: Location, q: str) -> dict[str, Any]:
    chosen_client = None
    if form.is_bound and form.is_valid():
        chosen_client = form.cleaned_data["client"]
    elif (wanted := (form.data.get("client") if form.is_bound else form.initial.get("client"))) and str(
        wanted
    ).isdigit():
        chosen_client = client_selectors.client_get(pk=int(wanted))
    return {
        "form": form,
        "location": location,
        "q": q,
        "found": client_selectors.client_search(query=q, limit=10) if q else [],
        "chosen_client": chosen_client,
        "can_see_contact": request.user.has_perm(perm("view_client_contact")),
    }


@staff_permission_required("book_appointments")
def appointment_new(request: HttpRequest) -> HttpResponse:
    """Book a visit from the grid: the cell clicked fills the technician and the start."""
    locations = selectors.book_locations()
    location = _location(request, locations)
    staff_choices = selectors.staff_choices(location=location)
    q = (request.GET.get("q") or "").strip()
    if request.method == "POST":
        form = BookForm(request.POST, staff_choices=staff_choices)
    elif "date" in request.GET:  # the form sent back to search for a client: keep what was filled in
        form = BookForm(
            initial=request.GET.dict() | {"services": request.GET.getlist("services")}, staff_choices=staff_choices
        )
    else:
        initial: dict[str, Any] = {"location": location.pk, "date": salon_today(), "time": "10:00"}
        try:
            start = timezone.localtime(datetime.datetime.fromisoformat(request.GET.get("start", "")))
        except ValueError:
            pass
        else:
            initial |= {"date": start.date(), "time": start.time().strftime("%H:%M")}
        if request.GET.get("staff", "").isdigit():
            initial["staff"] = int(request.GET["staff"])
        form = BookForm(initial=initial, staff_choices=staff_choices)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = booking.appointment_book(
                client=data["client"],
                location=data["location"],
                start=form.start(),
                lines=[
                    booking.LineRequest(
                        service=service, staff=data["staff"], is_requested=bool(data["staff"] and data["is_requested"])
                    )
                    for service in form.ordered_services()
                ],
                channel=AppointmentChannel.STAFF,
                acting_user=acting_user(request),
                notes=data["notes"],
            )
        except ServiceError as error:
            apply_service_error(form, error)
            if note := _conflict_note(error):
                form.add_error(None, note)
            status = error.status
        else:
            messages.success(
                request,
                _("%(client)s is booked at %(start)s.")
                % {"client": visit.client.name, "start": timezone.localtime(visit.start).strftime("%Y-%m-%d %H:%M")},
            )
            return redirect(day_url(location=visit.location, day=timezone.localtime(visit.start).date()))
    context = _book_context(request, form, location, q)
    template = "scheduling/book/_appointment_form.html" if request.htmx else "scheduling/book/appointment_new.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=status)


@staff_permission_required("book_appointments")
def client_pick(request: HttpRequest) -> HttpResponse:
    """Clients matching a name, phone or last four digits, to choose one for a booking."""
    q = (request.GET.get("q") or "").strip()
    return render(
        request,
        "scheduling/book/_client_pick.html",
        {
            "found": client_selectors.client_search(query=q, limit=10) if q else [],
            "q": q,
            "chosen_client": None,
            "can_see_contact": request.user.has_perm(perm("view_client_contact")),
        },
    )


def _move_lines(request: HttpRequest, visit: Appointment) -> tuple[datetime.datetime, list[booking.LineRequest]]:
    """The new start and lines of a move, from a target cell (``<staff id>@<ISO start>``: the visit's first
    technician's lines go to that column) or from the panel's form (date, time, a technician per line).
    Raises ValueError on a malformed request."""
    lines = list(visit.lines.all())
    staff = {s.pk: s for s in selectors.staff_choices(location=visit.location)} | {
        line.staff_id: line.staff for line in lines
    }
    target = request.POST.get("target", "")
    if target:
        staff_part, _sep, start_part = target.partition("@")
        start = datetime.datetime.fromisoformat(start_part)
        if start.tzinfo is None or not staff_part.isdigit() or int(staff_part) not in staff:
            raise ValueError(target)
        first_staff = lines[0].staff_id
        chosen = {line.pk: (int(staff_part) if line.staff_id == first_staff else line.staff_id) for line in lines}
    else:
        start = local_start(
            datetime.date.fromisoformat(request.POST.get("date", "")),
            datetime.time.fromisoformat(request.POST.get("time", "")),
        )
        chosen = {}
        for line in lines:
            value = request.POST.get(f"staff_{line.pk}", str(line.staff_id))
            if not value.isdigit() or int(value) not in staff:
                raise ValueError(value)
            chosen[line.pk] = int(value)
    return start, [
        booking.LineRequest(
            service=line.service,
            staff=staff[chosen[line.pk]],
            is_requested=line.is_requested and chosen[line.pk] == line.staff_id,
        )
        for line in lines
    ]


@staff_permission_required("book_appointments")
@require_POST
def appointment_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a visit to another time or technician (a target cell, a drop, or the panel's form); the
    booking service applies the same conflict rules as a new booking."""
    visit, _scope = _visible_appointment(request, pk)
    try:
        start, lines = _move_lines(request, visit)
    except ValueError:
        messages.error(request, _("Choose a new time and technician."))
        return redirect(safe_next(request, reverse("scheduling:day")))
    try:
        moved = booking.appointment_reschedule(
            appointment=visit, start=start, lines=lines, acting_user=acting_user(request)
        )
    except ServiceError as error:
        note = _conflict_note(error)
        messages.error(request, f"{error.message} {note}".strip())
        local = timezone.localtime(visit.start)
        return redirect(day_url(location=visit.location, day=local.date(), move=visit.pk))
    messages.success(
        request,
        _("%(client)s's visit moved to %(start)s.")
        % {"client": moved.client.name, "start": timezone.localtime(moved.start).strftime("%Y-%m-%d %H:%M")},
    )
    return redirect(day_url(location=moved.location, day=timezone.localtime(moved.start).date()))


TRANSITIONS = {
    "confirm": booking.appointment_confirm,
    "arrive": booking.appointment_arrive,
    "start": booking.appointment_start,
    "finish": booking.appointment_finish,
    "no-show": booking.appointment_no_show,
}
# What a technician without ``book_appointments`` may do to a visit they serve: clock it on and off.
OWN_TRANSITIONS = {"start", "finish"}


@login_required
@require_POST
def appointment_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One step of the lifecycle (confirm, arrived, 上钟, 下钟, no-show)."""
    if action not in TRANSITIONS:
        raise Http404
    visit, only_staff = _visible_appointment(request, pk)
    if only_staff is not None and action not in OWN_TRANSITIONS:
        raise PermissionDenied
    back = safe_next(request, day_url(location=visit.location, day=timezone.localtime(visit.start).date()))
    try:
        TRANSITIONS[action](appointment=visit, acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect(back)


@staff_permission_required("book_appointments")
@require_POST
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    visit, _scope = _visible_appointment(request, pk)
    back = safe_next(request, day_url(location=visit.location, day=timezone.localtime(visit.start).date()))
    try:
        booking.appointment_cancel(
            appointment=visit, acting_user=acting_user(request), reason=request.POST.get("reason", "").strip()[:200]
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The appointment of %(client)s was cancelled.") % {"client": visit.client.name})
    return redirect(back)


@staff_permission_required("book_appointments")
@require_POST
def resource_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a room or resource free, occupied or to clean from the live board."""
    resource = get_object_or_404(Resource, pk=pk, is_active=True)
    try:
        resources.resource_status_set(
            resource=resource, status=request.POST.get("status", ""), acting_user=acting_user(request)
        )
    except ServiceError as error:
        messages.error(request, error.message)
    board_url = f"{reverse('scheduling:board')}?{urlencode({'location': resource.location_id})}"
    return redirect(safe_next(request, board_url))

"""The appointment book (SCH-10): the day grid, the week, today's queue and the live board.

Who sees what: ``book_appointments`` sees and books every column; a technician with only
``view_own_schedule`` sees their own column and their own visits, and may clock their own lines on and
off (上钟/下钟). Thin: parse the request, check the permission, call one selector or service, render.
The grids refresh by htmx polling: an htmx request gets the partial only.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from apps.core.db import salon_today
from apps.core.models import Location, User
from apps.core.roles import perm
from apps.scheduling.models import Appointment, ResourceStatus
from apps.scheduling.selectors import book as selectors


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
        "status_choices": ResourceStatus.choices,
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

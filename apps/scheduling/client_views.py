"""Online booking for the salon's clients (SCH-5, UX-2), mounted under /book/ (namespace "book").

Plain server-rendered pages for phones and WeChat's in-app browser; no JavaScript needed. The choice is
carried in the query string from step to step (services in order, technician or "anyone", date, slot),
so the back button and a shared link work. Sign-in is the member centre's: phone and a texted code; a
phone that is no client's yet may book, and the first booking creates the client. Every rule is the
booking services' (``availability_search``, ``appointment_book``, ``appointment_reschedule``,
``appointment_cancel``); the pages only show what they answer."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.catalog.models import Service
from apps.catalog.selectors import service_price
from apps.core.crypto import mask_phone
from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import Location, User
from apps.core.views import apply_service_error
from apps.crm.models import Client
from apps.loyalty.forms.member import MemberCodeForm, MemberPhoneForm
from apps.loyalty.member_auth import (
    PENDING_PHONE_KEY,
    code_request,
    code_too_soon_message,
    code_wait_seconds,
    current_member,
    current_proven_phone,
    member_phone_session_start,
    member_session_end,
    member_session_start,
)
from apps.loyalty.selectors import account_header
from apps.loyalty.services.member_login import member_phone_verify
from apps.scheduling.availability import Slot, availability_search
from apps.scheduling.client_forms import BookingConfirmForm
from apps.scheduling.errors import MESSAGES, SchedulingError
from apps.scheduling.models import Appointment, AppointmentChannel, DepositMethod
from apps.scheduling.selectors import client_booking as selectors
from apps.scheduling.selectors.settings import scheduling_settings
from apps.scheduling.services.booking import LineRequest, appointment_cancel, appointment_reschedule
from apps.scheduling.services.client_booking import appointment_book_online

# At most this many services in one visit (the booking services refuse more, with this message).
MAX_SERVICES = 5
# Days shown at a time in the date strip.
STRIP_DAYS = 7
# A refusal that means "this time is no longer bookable": back to the slot list with the message.
SLOT_GONE = frozenset(
    {
        SchedulingError.STAFF_BUSY,
        SchedulingError.RESOURCE_FULL,
        SchedulingError.NO_STAFF_AVAILABLE,
        SchedulingError.OUTSIDE_SHIFT,
        SchedulingError.STAFF_ON_TIME_OFF,
        SchedulingError.SLOT_IN_PAST,
        SchedulingError.TOO_SOON,
        SchedulingError.TOO_FAR_AHEAD,
    }
)


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    context.setdefault("member", current_member(request))
    context.setdefault("proven_phone", current_proven_phone(request))
    return render(request, f"scheduling/client/{template}", context, status=status)


# --- what the client has chosen so far (the query string) -------------------------------------------


@dataclass
class Choice:
    """The booking being put together: location, services in order, technician (None: anyone), date and
    start. Parsed from the query string; anything unreadable is dropped, so a step asks for it again."""

    location: Location
    services: list[Service] = field(default_factory=list)
    staff: User | None = None
    staff_chosen: bool = False  # "anyone" was chosen, or a technician
    day: datetime.date | None = None
    start: datetime.datetime | None = None

    def query(self, **changes: Any) -> str:
        values: dict[str, Any] = {
            "location": self.location.pk,
            "services": ",".join(str(s.pk) for s in self.services),
        }
        if self.staff_chosen:
            values["staff"] = self.staff.pk if self.staff is not None else "any"
        if self.day is not None:
            values["date"] = self.day.isoformat()
        if self.start is not None:
            values["start"] = _start_param(self.start)
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})

    def url(self, name: str, **changes: Any) -> str:
        return f"{reverse(name)}?{self.query(**changes)}"

    @property
    def service_ids(self) -> list[int]:
        return [s.pk for s in self.services]

    def with_services(self, ids: list[int]) -> str:
        return ",".join(str(pk) for pk in ids)


def _start_param(start: datetime.datetime) -> str:
    return start.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ints(raw: str | None) -> list[int]:
    out: list[int] = []
    for part in (raw or "").split(","):
        part = part.strip()
        if part.isdigit() and len(part) < 19:
            out.append(int(part))
    return out


def _choice(request: HttpRequest, locations: list[Location]) -> Choice | None:
    """The choice in the query string (GET) or the form (POST); None when the salon has no open location."""
    data = request.POST if request.method == "POST" else request.GET
    if not locations:
        return None
    location_ids = _ints(data.get("location"))
    location = next((loc for loc in locations if location_ids and loc.pk == location_ids[0]), locations[0])
    choice = Choice(location=location)
    ids = _ints(data.get("services"))[:MAX_SERVICES]
    choice.services = selectors.online_services_chosen(ids) or []
    staff_raw = (data.get("staff") or "").strip()
    if choice.services and staff_raw == "any":
        choice.staff_chosen = True
    elif choice.services and staff_raw.isdigit():
        technicians = selectors.online_technicians(location=location, services=choice.services)
        choice.staff = next((t for t in technicians if t.pk == int(staff_raw)), None)
        choice.staff_chosen = choice.staff is not None
    try:
        choice.day = datetime.date.fromisoformat(data.get("date") or "")
    except ValueError:
        choice.day = None
    try:
        start = datetime.datetime.fromisoformat((data.get("start") or "").replace("Z", "+00:00"))
    except ValueError:
        start = None
    if start is not None and start.tzinfo is not None:
        choice.start = start
    return choice


def _no_location(request: HttpRequest) -> HttpResponse:
    return _render(request, "closed.html", {"tab": "book"}, status=503)


# --- who is booking ---------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, target: str | None) -> str | None:
    """``target`` when it is a booking page on this host, else None."""
    if not target or not target.startswith(reverse("book:services")):
        return None
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return None
    return target


def _login_url(next_url: str) -> str:
    return f"{reverse('book:login')}?{urlencode({'next': next_url})}"


# --- step 1: services ---------------------------------------------------------------------------------


@never_cache
def services(request: HttpRequest) -> HttpResponse:
    """The services clients can book online, by category, with duration and price (the member's tier price
    when signed in). Choosing one goes on to the technician; with services already chosen (``services=``),
    this page adds one more."""
    locations = selectors.online_locations()
    choice = _choice(request, locations)
    if choice is None:
        return _no_location(request)
    member = current_member(request)
    groups = selectors.online_service_groups(tier=member.tier if member is not None else None)
    chosen = set(choice.service_ids)
    for group in groups:
        group.options[:] = [o for o in group.options if o.service.pk not in chosen]
    groups = [g for g in groups if g.options]
    context = {
        "tab": "book",
        "choice": choice,
        "groups": [
            (
                group.category,
                [
                    (o, choice.url("book:staff", services=choice.with_services([*choice.service_ids, o.service.pk])))
                    for o in group.options
                ],
            )
            for group in groups
        ],
        "locations": locations,
        "full": len(choice.services) >= MAX_SERVICES,
        "back_url": choice.url("book:staff") if choice.services else None,
    }
    return _render(request, "services.html", context)


# --- step 2: technician -----------------------------------------------------------------------------


def _summary(choice: Choice, member: Client | None) -> dict[str, Any]:
    """The chosen services in order with their prices for this client, the total and the time they take."""
    tier = member.tier if member is not None else None
    if choice.staff is not None:
        level = getattr(getattr(choice.staff, "staff_profile", None), "level", None)
        prices = {s.pk: service_price(service=s, tier=tier, staff_level=level) for s in choice.services}
    else:
        prices = selectors.tier_prices(choice.services, tier)
    lines = [
        {
            "service": s,
            "price": prices[s.pk],
            "remove_url": choice.url(
                "book:staff", services=choice.with_services([pk for pk in choice.service_ids if pk != s.pk])
            ),
        }
        for s in choice.services
    ]
    return {
        "lines": lines,
        "total": sum(prices.values()),
        "list_total": sum(s.price for s in choice.services),
        "minutes": sum(s.duration_minutes for s in choice.services),
    }


@never_cache
def staff(request: HttpRequest) -> HttpResponse:
    """The chosen services (remove one, add another) and who does them: anyone, or one technician who
    performs all of them at this location."""
    choice = _choice(request, selectors.online_locations())
    if choice is None:
        return _no_location(request)
    if not choice.services:
        return redirect("book:services")
    member = current_member(request)
    technicians = selectors.online_technicians(location=choice.location, services=choice.services)
    context = {
        "tab": "book",
        "choice": choice,
        "summary": _summary(choice, member),
        "technicians": [(t, choice.url("book:slots", staff=t.pk, start="")) for t in technicians],
        "anyone_url": choice.url("book:slots", staff="any", start=""),
        "add_url": choice.url("book:services") if len(choice.services) < MAX_SERVICES else None,
    }
    return _render(request, "staff.html", context)


# --- step 3: date and slot ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DateStrip:
    links: list[tuple[datetime.date, str]]
    previous_url: str | None
    next_url: str | None


def _date_strip(
    *, first: datetime.date, last: datetime.date, day: datetime.date, url_for: Callable[[datetime.date], str]
) -> DateStrip:
    """STRIP_DAYS days from ``first`` on, the page of them that holds ``day``, each with its address, and the
    addresses of the previous and next pages when there are some."""
    offset = ((day - first).days // STRIP_DAYS) * STRIP_DAYS
    start = first + datetime.timedelta(days=offset)
    days = [start + datetime.timedelta(days=i) for i in range(STRIP_DAYS)]
    following = start + datetime.timedelta(days=STRIP_DAYS)
    return DateStrip(
        links=[(d, url_for(d)) for d in days if d <= last],
        previous_url=url_for(start - datetime.timedelta(days=STRIP_DAYS)) if start > first else None,
        next_url=url_for(following) if following <= last else None,
    )


def _booking_days(day: datetime.date | None) -> tuple[datetime.date, datetime.date, datetime.date]:
    """(first, last, chosen) day clients may pick online: today up to ``online_max_days_ahead``."""
    first = salon_today()
    last = first + datetime.timedelta(days=scheduling_settings().online_max_days_ahead)
    if day is None or day < first or day > last:
        day = first
    return first, last, day


def _slots(
    *, choice: Choice, day: datetime.date, staff_member: User | None, exclude: Appointment | None = None
) -> list[Slot]:
    return availability_search(
        location=choice.location,
        services=choice.services,
        date_from=day,
        date_to=day,
        staff=staff_member,
        channel=AppointmentChannel.ONLINE,
        exclude_appointment=exclude,
    )


@never_cache
def slots(request: HttpRequest) -> HttpResponse:
    """A strip of days up to the online limit, and the free start times of the chosen day."""
    choice = _choice(request, selectors.online_locations())
    if choice is None:
        return _no_location(request)
    if not choice.services:
        return redirect("book:services")
    if not choice.staff_chosen:
        return redirect(choice.url("book:staff"))
    first, last, day = _booking_days(choice.day)
    choice.day = day
    try:
        found = _slots(choice=choice, day=day, staff_member=choice.staff)
        error = None
    except ServiceError as refusal:  # e.g. a service no longer bookable online
        found, error = [], refusal.message
    context = {
        "tab": "book",
        "choice": choice,
        "summary": _summary(choice, current_member(request)),
        "strip": _date_strip(
            first=first, last=last, day=day, url_for=lambda d: choice.url("book:slots", date=d.isoformat())
        ),
        "slots": [(slot, choice.url("book:confirm", start=_start_param(slot.start))) for slot in found],
        "error": error,
    }
    return _render(request, "slots.html", context)


# --- sign-in ----------------------------------------------------------------------------------------


def _code_page_url(next_url: str | None) -> str:
    url = reverse("book:login_code")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


@never_cache
def login(request: HttpRequest) -> HttpResponse:
    """The phone. Every valid number gets the same answer and a text: a new client proves the phone here,
    and the first booking makes them a client."""
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if current_member(request) is not None or current_proven_phone(request) is not None:
        return redirect(next_url or "book:services")
    form = MemberPhoneForm(request.POST or None, initial={"next": next_url or ""})
    status = 200
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        wait = code_wait_seconds(request, phone)
        if wait:
            form.add_error("phone", code_too_soon_message(wait))
            status = 429
        else:
            code_request(request, phone, new_clients_too=True)
            return redirect(_code_page_url(next_url))
    return _render(request, "login.html", {"form": form, "tab": "book"}, status=status)


@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The code from the text message (or a new code once the resend interval has passed). A client is
    signed in to the member centre too; a new phone is remembered for the booking."""
    phone = request.session.get(PENDING_PHONE_KEY)
    if not phone:
        return redirect("book:login")
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    context: dict[str, Any] = {"phone_masked": mask_phone(phone), "resent": False, "tab": "book"}
    status = 200
    if request.method == "POST" and "resend" in request.POST:
        form = MemberCodeForm(initial={"next": next_url or ""})
        wait = code_wait_seconds(request, phone)
        if wait:
            context["resend_error"] = code_too_soon_message(wait)
            status = 429
        else:
            code_request(request, phone, new_clients_too=True)
            context["resent"] = True
        return _render(request, "login_code.html", {**context, "form": form}, status=status)
    form = MemberCodeForm(request.POST or None, initial={"next": next_url or ""})
    if request.method == "POST" and form.is_valid():
        try:
            client = member_phone_verify(phone=phone, code=form.cleaned_data["code"])
        except ServiceError as error:
            apply_service_error(form, error)
            status = error.status
        else:
            if client is not None:
                member_session_start(request, client)
            else:
                member_phone_session_start(request, phone)
            return redirect(next_url or "book:my")
    return _render(request, "login_code.html", {**context, "form": form}, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    member_session_end(request)
    return redirect("book:services")


# --- step 4: confirm ----------------------------------------------------------------------------------


@never_cache
def confirm(request: HttpRequest) -> HttpResponse:
    """The chosen visit, its price and any deposit; notes; a new client gives a name. Booking it is
    ``appointment_book(channel="online")``; a slot taken meanwhile leads back to the slot list."""
    choice = _choice(request, selectors.online_locations())
    if choice is None:
        return _no_location(request)
    if not choice.services:
        return redirect("book:services")
    if not choice.staff_chosen:
        return redirect(choice.url("book:staff"))
    if choice.start is None:
        return redirect(choice.url("book:slots"))
    member = current_member(request)
    phone = current_proven_phone(request) if member is None else None
    if member is None and phone is None:
        return redirect(_login_url(choice.url("book:confirm")))
    choice.day = timezone.localtime(choice.start).date()
    form = BookingConfirmForm(
        request.POST or None, new_client=member is None, initial={"key": secrets.token_urlsafe(16)}
    )
    status = 200
    deposit: dict[str, int] | None = None
    if request.method == "POST" and form.is_valid():
        lines = [
            LineRequest(service=s, staff=choice.staff, is_requested=choice.staff is not None) for s in choice.services
        ]
        # Online, a deposit can only come from stored value (nobody is at the desk), and only once the client
        # has seen the amount the booking service asked for and agreed to it.
        # The "pay the deposit and book" button, shown once the page has shown the deposit and the balance.
        pay_deposit = request.POST.get("pay_deposit") == "1"
        try:
            appointment, client = appointment_book_online(
                client=member,
                phone=phone,
                name=form.cleaned_data.get("name", ""),
                location=choice.location,
                start=choice.start,
                lines=lines,
                notes=form.cleaned_data["notes"],
                idempotency_key=f"online:{form.cleaned_data['key']}",
                deposit_method=DepositMethod.STORED_VALUE if pay_deposit else None,
            )
        except ServiceError as error:
            if error.code in SLOT_GONE:
                messages.error(request, _("%(why)s Please choose another time.") % {"why": error.message})
                return redirect(choice.url("book:slots", start=""))
            if error.code == SchedulingError.DEPOSIT_REQUIRED and isinstance(error.extra.get("deposit"), int):
                balance = account_header(member).balance if member is not None else 0
                deposit = {"amount": int(error.extra["deposit"]), "balance": balance}  # type: ignore[call-overload]
            else:
                apply_service_error(form, error)
            status = error.status
        else:
            if member is None:
                member_session_start(request, client)
            return redirect("book:done", pk=appointment.pk)
    context = {
        "tab": "book",
        "choice": choice,
        "summary": _summary(choice, member),
        "form": form,
        "deposit": deposit,
        "phone_masked": mask_phone(phone) if phone else "",
        "start_param": _start_param(choice.start),
    }
    return _render(request, "confirm.html", context, status=status)


def _booking_or_404(request: HttpRequest, client: Client, pk: int) -> selectors.ClientBooking | HttpResponse:
    booking = selectors.client_booking(client, pk)
    if booking is None:
        return _render(request, "not_found.html", {"tab": "my"}, status=404)
    return booking


@never_cache
def done(request: HttpRequest, pk: int) -> HttpResponse:
    member = current_member(request)
    if member is None:
        return redirect(_login_url(reverse("book:my")))
    booking = _booking_or_404(request, member, pk)
    if isinstance(booking, HttpResponse):
        return booking
    return _render(request, "done.html", {"booking": booking, "tab": "my"})


# --- my bookings --------------------------------------------------------------------------------------


@never_cache
def my_bookings(request: HttpRequest) -> HttpResponse:
    """The signed-in client's visits at this salon: upcoming (with move and cancel while the salon's
    window is open) and past."""
    member = current_member(request)
    if member is None:
        if current_proven_phone(request) is not None:  # proven phone, no client yet: nothing booked
            return _render(request, "my.html", {"tab": "my", "bookings": None})
        return redirect(_login_url(reverse("book:my")))
    return _render(request, "my.html", {"tab": "my", "bookings": selectors.client_bookings(member)})


def _closed_message(booking: selectors.ClientBooking) -> str:
    phone = booking.appointment.location.phone
    if phone:
        return _("It is too late to change this booking online. Please call the salon on %(phone)s.") % {"phone": phone}
    return str(MESSAGES[SchedulingError.CANCELLATION_WINDOW_CLOSED])


@never_cache
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask, then cancel one's own booking with ``appointment_cancel(by_client=True)``."""
    member = current_member(request)
    if member is None:
        return redirect(_login_url(reverse("book:my")))
    booking = _booking_or_404(request, member, pk)
    if isinstance(booking, HttpResponse):
        return booking
    error = None
    status = 200
    if request.method == "POST":
        try:
            appointment_cancel(appointment=booking.appointment, acting_user=None, by_client=True)
        except ServiceError as refusal:
            error = (
                _closed_message(booking)
                if refusal.code == SchedulingError.CANCELLATION_WINDOW_CLOSED
                else refusal.message
            )
            status = refusal.status
        else:
            messages.success(request, _("Your booking was cancelled."))
            return redirect("book:my")
    elif not booking.can_change:
        error = _closed_message(booking)
    return _render(request, "cancel.html", {"tab": "my", "booking": booking, "error": error}, status=status)


@never_cache
def reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Another time for one's own booking: the same services, the same technician when one was asked for
    (else anyone), slots from ``availability_search`` without the booking's own time; moving it is
    ``appointment_reschedule(by_client=True)``."""
    member = current_member(request)
    if member is None:
        return redirect(_login_url(reverse("book:my")))
    booking = _booking_or_404(request, member, pk)
    if isinstance(booking, HttpResponse):
        return booking
    appointment = booking.appointment
    lines = booking.lines
    requested = next((line.staff for line in lines if line.is_requested), None)
    choice = Choice(location=appointment.location, services=[line.service for line in lines])
    choice.staff, choice.staff_chosen = requested, True
    here = reverse("book:reschedule", args=[appointment.pk])
    error = None
    status = 200
    if not booking.can_change:
        error = _closed_message(booking)
    elif request.method == "POST":
        picked = _choice(request, [appointment.location])
        start = picked.start if picked is not None else None
        if start is None:
            return redirect(here)
        try:
            appointment_reschedule(
                appointment=appointment,
                start=start,
                lines=[
                    LineRequest(
                        service=line.service,
                        staff=line.staff if line.is_requested else None,
                        is_requested=line.is_requested,
                    )
                    for line in lines
                ],
                acting_user=None,
                by_client=True,
            )
        except ServiceError as refusal:
            if refusal.code == SchedulingError.CANCELLATION_WINDOW_CLOSED:
                error = _closed_message(booking)
            else:
                messages.error(request, _("%(why)s Please choose another time.") % {"why": refusal.message})
                return redirect(f"{here}?{urlencode({'date': timezone.localtime(start).date().isoformat()})}")
            status = refusal.status
        else:
            messages.success(request, _("Your booking was moved."))
            return redirect("book:my")
    context: dict[str, Any] = {"tab": "my", "booking": booking, "error": error}
    if error is None:
        try:
            day_raw = datetime.date.fromisoformat(request.GET.get("date") or "")
        except ValueError:
            day_raw = timezone.localtime(appointment.start).date()
        first, last, day = _booking_days(day_raw)
        strip = _date_strip(
            first=first, last=last, day=day, url_for=lambda d: f"{here}?{urlencode({'date': d.isoformat()})}"
        )
        try:
            found = _slots(choice=choice, day=day, staff_member=requested, exclude=appointment)
        except ServiceError as refusal:
            found, context["error"] = [], refusal.message
        context.update(
            {"strip": strip, "day": day, "slots": [(slot, _start_param(slot.start)) for slot in found], "action": here}
        )
    return _render(request, "reschedule.html", context, status=status)

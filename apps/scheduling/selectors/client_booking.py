"""Reads of online booking (SCH-5, UX-2): what a client sees on /book/ — the services that can be booked
online with their prices, the technicians who perform them, and the client's own bookings.

Every read of bookings takes the signed-in client and filters by it, so nothing of another client is
reachable; list pages cost a fixed number of queries whatever they hold."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from apps.catalog.models import PriceRule, Service, ServiceCategory
from apps.core.models import Location, User
from apps.crm.models import Client, MembershipTier
from apps.scheduling.models import (
    Appointment,
    AppointmentLine,
    AppointmentStatus,
)
from apps.scheduling.selectors.settings import scheduling_settings

# Statuses a client may still move or cancel online (within the salon's window).
CHANGEABLE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
# Visits not over yet: still to come, or under way.
UPCOMING_STATUSES = (*CHANGEABLE_STATUSES, AppointmentStatus.ARRIVED, AppointmentStatus.IN_SERVICE)
# Past bookings shown on "my bookings", the most recent first.
PAST_SHOWN = 20


def online_locations() -> list[Location]:
    return list(Location.objects.filter(is_active=True).order_by("id"))


def _online_services() -> QuerySet[Service]:
    """Active services clients may book online: those without a booking rule, or whose rule allows it."""
    return (
        Service.objects.filter(is_active=True)
        .filter(Q(booking_rule__isnull=True) | Q(booking_rule__is_online_bookable=True))
        .filter(Q(category__isnull=True) | Q(category__is_active=True))
    )


def tier_prices(services: Sequence[Service], tier: MembershipTier | None) -> dict[int, int]:
    """The price of each service for a client of ``tier`` with any technician: the catalogue's tier rule
    (any staff level) where there is one, else the base price — ``catalog.selectors.service_price`` with
    no staff level, for many services in one query."""
    prices = {service.pk: service.price for service in services}
    if tier is not None and prices:
        rules = PriceRule.objects.filter(service_id__in=prices, tier=tier, staff_level__isnull=True)
        for service_id, price in rules.values_list("service_id", "price"):
            prices[service_id] = price
    return prices


@dataclass(frozen=True)
class ServiceOption:
    service: Service
    price: int  # the list price (fen)
    member_price: int  # what this client pays with any technician: the tier price, or the list price

    @property
    def has_member_price(self) -> bool:
        return self.member_price != self.price


@dataclass(frozen=True)
class ServiceGroup:
    category: ServiceCategory | None
    options: list[ServiceOption]


def online_service_groups(*, tier: MembershipTier | None) -> list[ServiceGroup]:
    """The services bookable online grouped by category, in the catalogue's order, with the list price and
    the client's tier price. Two queries."""
    services = list(
        _online_services()
        .select_related("category")
        .order_by("category__sort_order", "category__name", "category_id", "sort_order", "name", "pk")
    )
    prices = tier_prices(services, tier)
    groups: list[ServiceGroup] = []
    for service in services:
        if not groups or groups[-1].category != service.category:
            groups.append(ServiceGroup(category=service.category, options=[]))
        groups[-1].options.append(ServiceOption(service, service.price, prices[service.pk]))
    # Services without a category come last.
    return sorted(groups, key=lambda group: group.category is None)


def online_services_chosen(ids: Sequence[int]) -> list[Service] | None:
    """The services of ``ids`` in that order, or None when one of them cannot be booked online (any more)."""
    if not ids:
        return None
    found = {service.pk: service for service in _online_services().filter(pk__in=ids)}
    if any(pk not in found for pk in ids):
        return None
    return [found[pk] for pk in ids]


def online_technicians(*, location: Location, services: Sequence[Service]) -> list[User]:
    """Active staff who perform every one of ``services`` and work at ``location`` (staff without locations
    work everywhere), by name. One query."""
    staff = User.objects.filter(is_active=True).filter(Q(locations__isnull=True) | Q(locations=location))
    for service in {service.pk: service for service in services}.values():
        # One filter per service: each is its own join, so the technician must have all of them.
        staff = staff.filter(staff_profile__skills=service)
    return list(staff.select_related("staff_profile").order_by("name", "pk").distinct())


# --- the client's own bookings ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClientBooking:
    appointment: Appointment
    change_until: datetime.datetime  # moves and cancellations online end here

    @property
    def lines(self) -> list[AppointmentLine]:
        return list(self.appointment.lines.all())

    @property
    def can_change(self) -> bool:
        """Shown with move and cancel buttons; the booking services decide for real."""
        return self.appointment.status in CHANGEABLE_STATUSES and timezone.now() <= self.change_until


@dataclass(frozen=True)
class ClientBookings:
    upcoming: list[ClientBooking]
    past: list[ClientBooking]


def _bookings() -> QuerySet[Appointment]:
    lines = AppointmentLine.objects.select_related("service", "staff").order_by("position", "id")
    return Appointment.objects.select_related("location", "deposit").prefetch_related(Prefetch("lines", queryset=lines))


def _wrap(appointment: Appointment, window: datetime.timedelta) -> ClientBooking:
    return ClientBooking(appointment=appointment, change_until=appointment.start - window)


def client_bookings(client: Client, *, now: datetime.datetime | None = None) -> ClientBookings:
    """The client's upcoming visits (soonest first) and the latest past, cancelled or missed ones. Five
    queries."""
    now = now or timezone.now()
    window = datetime.timedelta(hours=scheduling_settings().cancellation_window_hours)
    mine = _bookings().filter(client=client)
    upcoming_q = Q(status__in=UPCOMING_STATUSES, end__gt=now)
    upcoming = [_wrap(a, window) for a in mine.filter(upcoming_q).order_by("start", "id")]
    past = [_wrap(a, window) for a in mine.exclude(upcoming_q).order_by("-start", "-id")[:PAST_SHOWN]]
    return ClientBookings(upcoming=upcoming, past=past)


def client_booking(client: Client, pk: int) -> ClientBooking | None:
    """One of the client's own bookings; any other id is None."""
    appointment = _bookings().filter(client=client, pk=pk).first()
    if appointment is None:
        return None
    window = datetime.timedelta(hours=scheduling_settings().cancellation_window_hours)
    return _wrap(appointment, window)

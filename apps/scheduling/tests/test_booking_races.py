"""No double booking under concurrency (SCH-6): real threads, committed transactions, the real database,
in a salon made for the race and removed afterwards. The booking service's own check cannot see a
booking that commits a moment later; the exclusion constraints can, and the loser gets a 409."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import (
    Appointment,
    AppointmentLine,
    AppointmentResource,
    Resource,
    ResourceType,
    ServiceBookingRule,
)
from apps.scheduling.services.booking import LineRequest, appointment_book
from apps.scheduling.tests.support import client_make, default_location, service_make, technician_make
from tests.races import race, salon_for_races

THREADS = 20
UTC = datetime.UTC
NOW = datetime.datetime(2030, 3, 1, 0, 0, tzinfo=UTC)
AT = datetime.datetime(2030, 3, 4, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SUBDOMAIN = "booking-race"


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races(SUBDOMAIN) as schema:
        yield schema


def _outcomes(results: list[Any]) -> tuple[list[Appointment], list[Any]]:
    booked = [r for r in results if isinstance(r, Appointment)]
    return booked, [r for r in results if not isinstance(r, Appointment)]


def test_twenty_clients_booking_one_technician_at_once_get_one_booking(race_salon):
    # given one technician and twenty clients
    with schema_context(race_salon):
        cut = service_make("Cut", minutes=60, buffer=15)
        tech = technician_make("Li", services=[cut])
        clients = [client_make(f"客{i}") for i in range(THREADS)]
        location = default_location()

    # when all twenty book her at 10:00 at the same moment
    def work(i: int) -> Any:
        return appointment_book(
            client=clients[i],
            location=location,
            start=AT,
            lines=[LineRequest(cut, tech)],
            channel="staff",
            acting_user=None,
            now=NOW,
        )

    booked, refused = _outcomes(race(race_salon, THREADS, work))

    # then exactly one is booked and nineteen are told the technician is busy, naming that booking
    assert len(booked) == 1, refused[:3]
    assert len(refused) == THREADS - 1
    assert all(isinstance(r, ServiceError) and r.code == SchedulingError.STAFF_BUSY for r in refused), refused[:3]
    assert {r.status for r in refused} == {409}
    assert {r.extra["conflict"]["appointment"] for r in refused} == {booked[0].pk}
    with schema_context(race_salon):
        assert AppointmentLine.objects.filter(is_active=True).count() == 1
        assert Appointment.objects.count() == 1


def test_twenty_technicians_and_one_single_room_get_one_booking(race_salon):
    # given twenty technicians and one facial room that takes one client
    with schema_context(race_salon):
        facial = service_make("Facial", minutes=60)
        room_type = ResourceType.objects.create(name="Facial room")
        ServiceBookingRule.objects.create(service=facial).resource_types.add(room_type)
        room = Resource.objects.create(location=default_location(), resource_type=room_type, name="Room 1")
        techs = [technician_make(f"T{i}", services=[facial]) for i in range(THREADS)]
        clients = [client_make(f"客{i}") for i in range(THREADS)]
        location = default_location()

    # when each technician books a client into the room at 10:00 at once
    def work(i: int) -> Any:
        return appointment_book(
            client=clients[i],
            location=location,
            start=AT,
            lines=[LineRequest(facial, techs[i])],
            channel="staff",
            acting_user=None,
            now=NOW,
        )

    booked, refused = _outcomes(race(race_salon, THREADS, work))

    # then one holds the room, nineteen are told it is full
    assert len(booked) == 1, refused[:3]
    assert all(isinstance(r, ServiceError) and r.code == SchedulingError.RESOURCE_FULL for r in refused), refused[:3]
    assert {r.extra["conflict"]["resource"] for r in refused} == {room.pk}
    with schema_context(race_salon):
        assert AppointmentResource.objects.filter(is_active=True).count() == 1
        assert AppointmentLine.objects.count() == 1


def test_the_same_request_sent_twenty_times_at_once_books_once(race_salon):
    # given
    with schema_context(race_salon):
        cut = service_make("Cut", minutes=60)
        tech = technician_make("Li", services=[cut])
        client = client_make()
        location = default_location()

    # when a flaky network delivers one booking twenty times at once
    def work(i: int) -> Any:
        return appointment_book(
            client=client,
            location=location,
            start=AT,
            lines=[LineRequest(cut, tech)],
            channel="api",
            acting_user=None,
            idempotency_key="phone-app:42",
            now=NOW,
        )

    booked, refused = _outcomes(race(race_salon, THREADS, work))

    # then every call answers with the same visit
    assert refused == []
    assert len({a.pk for a in booked}) == 1
    with schema_context(race_salon):
        assert Appointment.objects.count() == 1


def test_twenty_api_requests_for_one_technician_get_one_201_and_nineteen_409(race_salon):
    # given a front-desk token and one technician
    host = f"{SUBDOMAIN}.localhost"
    with schema_context(race_salon):
        cut = service_make("Cut", minutes=60)
        tech = technician_make("Li", services=[cut])
        clients = [client_make(f"客{i}") for i in range(THREADS)]
    token = (
        HttpClient(HTTP_HOST=host)
        .post(
            "/api/v1/auth/token/",
            {"username": f"racer@{SUBDOMAIN}.test", "password": "Race-pass-1"},
            content_type="application/json",
        )
        .json()["token"]
    )

    # when twenty requests arrive at once (the start is far in the future, so "now" does not matter)
    def work(i: int) -> Any:
        api = HttpClient(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Bearer {token}")
        response = api.post(
            "/api/v1/appointments/",
            {"client": clients[i].pk, "service": cut.pk, "staff": tech.pk, "start": "2030-03-04T10:00:00+08:00"},
            content_type="application/json",
        )
        return response.status_code, response.json()

    results = race(race_salon, THREADS, work)

    # then
    codes = sorted(r[0] for r in results)
    assert codes == [201] + [409] * (THREADS - 1), results[:3]
    winner = next(body for code, body in results if code == 201)
    assert {body["conflict"]["appointment"] for code, body in results if code == 409} == {winner["id"]}
    assert {body["code"] for code, body in results if code == 409} == {"staff_busy"}

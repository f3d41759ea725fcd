"""Booking one visit (SCH-5, SCH-6): every rule ``appointment_book`` keeps, each refusal with its code and
nothing written, technician and resource choice, prices from the catalogue, idempotency."""

from __future__ import annotations

import datetime

import psycopg
import pytest
from django.db import OperationalError

from apps.catalog.services import price_rule_create
from apps.core.errors import ServiceError
from apps.core.models import Location, StaffLevel
from apps.core.services import location_create
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import (
    Appointment,
    AppointmentEvent,
    AppointmentLine,
    AppointmentResource,
    ClientBookingProfile,
    Resource,
    ResourceType,
    SchedulingSettings,
    ServiceBookingRule,
    ShiftException,
    TimeOff,
)
from apps.scheduling.services import booking, staff_profile_update
from apps.scheduling.services.booking import LineRequest, appointment_book
from apps.scheduling.signals import appointment_changed
from apps.scheduling.tests.support import (
    appointment_insert,
    client_make,
    default_location,
    service_make,
    technician_make,
)

UTC = datetime.UTC
NOW = datetime.datetime(2030, 3, 1, 0, 0, tzinfo=UTC)
AT = datetime.datetime(2030, 3, 4, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
MIN = datetime.timedelta(minutes=1)


@pytest.fixture
def salon(in_alpha, beta):
    cut = service_make("Cut", minutes=60, buffer=15, price=10_000)
    colour = service_make("Colour", minutes=90, price=30_000)
    li = technician_make("Li", services=[cut, colour])
    wang = technician_make("Wang", services=[cut])
    return {"cut": cut, "colour": colour, "li": li, "wang": wang, "client": client_make()}


def book(s, *, start=AT, lines=None, channel="staff", **kwargs):
    return appointment_book(
        client=kwargs.pop("client", s["client"]),
        location=kwargs.pop("location", default_location()),
        start=start,
        lines=lines if lines is not None else [LineRequest(s["cut"], s["li"])],
        channel=channel,
        acting_user=kwargs.pop("acting_user", None),
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


def refused(code, call):
    before = (Appointment.objects.count(), AppointmentLine.objects.count(), AppointmentEvent.objects.count())
    with pytest.raises(ServiceError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    after = (Appointment.objects.count(), AppointmentLine.objects.count(), AppointmentEvent.objects.count())
    assert after == before
    return caught.value


def test_lines_follow_each_other_with_buffers_and_catalogue_prices(salon, django_capture_on_commit_callbacks):
    # given a client books a cut then a colour with Li
    received = []

    def listener(**kw):
        received.append((kw["appointment"].pk, kw["kind"]))

    appointment_changed.connect(listener)
    try:
        # when
        with django_capture_on_commit_callbacks(execute=True):
            visit = book(
                salon, lines=[LineRequest(salon["cut"], salon["li"], True), LineRequest(salon["colour"], salon["li"])]
            )
    finally:
        appointment_changed.disconnect(listener)
    # then the colour starts after the cut's 15-minute buffer
    lines = list(visit.lines.order_by("position"))
    assert [
        (ln.service_id, ln.staff_id, ln.start, ln.end, ln.busy_until, ln.price, ln.is_requested) for ln in lines
    ] == [
        (salon["cut"].pk, salon["li"].pk, AT, AT + 60 * MIN, AT + 75 * MIN, 10_000, True),
        (salon["colour"].pk, salon["li"].pk, AT + 75 * MIN, AT + 165 * MIN, AT + 165 * MIN, 30_000, False),
    ]
    assert (visit.start, visit.end, visit.status, visit.channel) == (AT, AT + 165 * MIN, "booked", "staff")
    event = visit.events.get()
    assert (event.kind, event.to_status, event.actor_label) == ("booked", "booked", "system")
    assert received == [(visit.pk, "booked")]


def test_price_follows_the_technicians_level(salon):
    # given a senior level that costs more for a cut
    senior = StaffLevel.objects.create(name="Senior", rank=20)
    staff_profile_update(user=salon["li"], acting_user=None, level=senior)
    price_rule_create(service=salon["cut"], staff_level=senior, price=16_800, acting_user=None)
    # when
    visit = book(salon)
    # then
    assert visit.lines.get().price == 16_800


def test_rules_each_refuse_with_nothing_written(salon):
    s = salon
    refused(SchedulingError.SLOT_IN_PAST, lambda: book(s, now=AT + MIN))
    refused(SchedulingError.STAFF_LACKS_SKILL, lambda: book(s, lines=[LineRequest(s["colour"], s["wang"])]))
    refused(SchedulingError.OUTSIDE_SHIFT, lambda: book(s, start=AT - 60 * MIN))  # 09:00, shift starts at 10:00
    # the buffer must fit too: a cut at 17:50 ends 18:50, cleaned by 19:05 > 19:00
    refused(SchedulingError.OUTSIDE_SHIFT, lambda: book(s, start=AT + 470 * MIN))
    refused(SchedulingError.TOO_MANY_SERVICES, lambda: book(s, lines=[LineRequest(s["cut"], s["li"])] * 6))
    s["cut"].is_active = False
    s["cut"].save()
    refused(SchedulingError.INACTIVE_SERVICE, lambda: book(s))
    s["cut"].is_active = True
    s["cut"].save()
    s["wang"].is_active = False
    s["wang"].save()
    refused(SchedulingError.UNKNOWN_STAFF, lambda: book(s, lines=[LineRequest(s["cut"], s["wang"])]))


def test_a_day_off_and_time_off_refuse(salon):
    s = salon
    ShiftException.objects.create(staff=s["li"], date=datetime.date(2030, 3, 4), is_working=False)
    refused(SchedulingError.OUTSIDE_SHIFT, lambda: book(s))
    TimeOff.objects.create(staff=s["wang"], start=AT + 30 * MIN, end=AT + 120 * MIN)
    refused(SchedulingError.STAFF_ON_TIME_OFF, lambda: book(s, lines=[LineRequest(s["cut"], s["wang"])]))


def test_working_at_another_location_is_outside_the_shift(salon):
    other = location_create(name="East branch", acting_user=None)
    refused(SchedulingError.OUTSIDE_SHIFT, lambda: book(salon, location=other))


def test_an_inactive_location_refuses(salon):
    loc = default_location()
    Location.objects.filter(pk=loc.pk).update(is_active=False)
    loc.refresh_from_db()
    refused(SchedulingError.INACTIVE_LOCATION, lambda: book(salon, location=loc))


def test_a_blocked_client_cannot_book(salon):
    ClientBookingProfile.objects.create(client=salon["client"], is_blocked=True)
    refused(SchedulingError.CLIENT_BLOCKED, lambda: book(salon))


def test_online_rules(salon):
    s = salon
    settings_row = SchedulingSettings.objects.get()
    settings_row.online_min_notice_minutes = 120
    settings_row.online_max_days_ahead = 10
    settings_row.save()
    refused(SchedulingError.TOO_SOON, lambda: book(s, channel="online", now=AT - 119 * MIN))
    refused(SchedulingError.TOO_FAR_AHEAD, lambda: book(s, channel="online", now=AT - datetime.timedelta(days=11)))
    ServiceBookingRule.objects.create(service=s["cut"], is_online_bookable=False)
    refused(SchedulingError.SERVICE_NOT_BOOKABLE_ONLINE, lambda: book(s, channel="online"))
    # staff may still book it, and online a bookable service at the limits is fine
    assert book(s).channel == "staff"
    visit = book(
        s,
        channel="online",
        lines=[LineRequest(s["colour"], s["li"])],
        start=AT + 75 * MIN,
        now=AT + 75 * MIN - 120 * MIN,
    )
    assert visit.channel == "online"


def test_overlap_is_a_409_naming_the_booking(salon):
    # given Li booked 10:00–11:00 (+15 min buffer)
    first = book(salon)
    # when another client asks for Li at 11:10, inside the buffer
    error = refused(SchedulingError.STAFF_BUSY, lambda: book(salon, client=client_make("张伟"), start=AT + 70 * MIN))
    # then
    assert error.status == 409
    assert error.extra == {
        "conflict": {
            "appointment": first.pk,
            "staff": salon["li"].pk,
            "resource": None,
            "start": AT.isoformat(),
            "end": (AT + 75 * MIN).isoformat(),
        }
    }
    assert error.message == "Li is already booked from 2030-03-04 10:00 to 2030-03-04 11:15."
    # and when the buffer is over, Li is free
    assert book(salon, client=client_make("张伟"), start=AT + 75 * MIN).pk > first.pk


def test_any_staff_picks_the_least_booked_skilled_technician(salon):
    s = salon
    # given Wang already has an hour that day elsewhere in the day
    appointment_insert(client=client_make("x"), start=AT + 300 * MIN, lines=[(s["cut"], s["wang"])])
    # when two cuts are booked with "any staff"
    first = book(s, lines=[LineRequest(s["cut"])])
    # then Li (0 minutes booked) is chosen, then Wang and Li have an hour each: the lower id wins
    assert first.lines.get().staff_id == s["li"].pk
    second = book(s, lines=[LineRequest(s["cut"])], client=client_make("y"))
    assert second.lines.get().staff_id == s["wang"].pk
    # and with both busy nobody is free
    refused(SchedulingError.NO_STAFF_AVAILABLE, lambda: book(s, lines=[LineRequest(s["cut"])], client=client_make("z")))


def test_resources_take_the_lowest_free_place(salon):
    s = salon
    room_type = ResourceType.objects.create(name="Facial room")
    rule = ServiceBookingRule.objects.create(service=s["cut"])
    rule.resource_types.add(room_type)
    loc = default_location()
    double = Resource.objects.create(location=loc, resource_type=room_type, name="Double", capacity=2, sort_order=1)
    single = Resource.objects.create(location=loc, resource_type=room_type, name="Single", capacity=1, sort_order=2)
    extra = technician_make("Zhao", services=[s["cut"]])
    # when three cuts are booked at the same time with three technicians
    visits = [
        book(s, lines=[LineRequest(s["cut"], tech)], client=client_make(f"c{i}"))
        for i, tech in enumerate([s["li"], s["wang"], extra])
    ]
    # then the double room's places 1 and 2, then the single room
    holds = [AppointmentResource.objects.get(line__appointment=v) for v in visits]
    assert [(h.resource_id, h.place, h.start, h.end) for h in holds] == [
        (double.pk, 1, AT, AT + 75 * MIN),
        (double.pk, 2, AT, AT + 75 * MIN),
        (single.pk, 1, AT, AT + 75 * MIN),
    ]
    # and a fourth technician finds no room: 409 naming the first room's booking
    fourth = technician_make("Qian", services=[s["cut"]])
    error = refused(
        SchedulingError.RESOURCE_FULL, lambda: book(s, lines=[LineRequest(s["cut"], fourth)], client=client_make("d"))
    )
    assert error.extra["conflict"]["resource"] == double.pk
    assert error.extra["conflict"]["appointment"] == visits[0].pk


def test_a_service_whose_resource_the_location_lacks_is_refused(salon):
    room_type = ResourceType.objects.create(name="Spa room")
    ServiceBookingRule.objects.create(service=salon["cut"]).resource_types.add(room_type)
    error = refused(SchedulingError.RESOURCE_FULL, lambda: book(salon))
    assert error.message == "Spa room is not available at this location."


def test_the_same_idempotency_key_returns_the_first_visit(salon):
    first = book(salon, idempotency_key="req-1")
    again = book(salon, idempotency_key="req-1")
    assert again.pk == first.pk
    assert Appointment.objects.count() == 1


def _selects(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().startswith(("SELECT", "WITH"))]


def test_a_visit_that_fits_is_checked_with_one_read(salon, django_assert_max_num_queries):
    # given a technician named for a cut (the salon's zone already read)
    book(salon, start=AT + 4 * 60 * MIN)
    client, location = client_make("new"), default_location()
    # when a visit that fits is booked
    with django_assert_max_num_queries(6) as captured:
        visit = appointment_book(
            client=client,
            location=location,
            start=AT,
            lines=[LineRequest(salon["cut"], salon["li"])],
            channel="staff",
            acting_user=None,
            now=NOW,
        )
    # then one statement read everything the check needs; the rest are the writes
    assert len(_selects(captured)) == 1
    assert [(line.staff_id, line.price) for line in visit.lines.all()] == [(salon["li"].pk, 10_000)]


def test_anyone_with_a_room_reads_the_chosen_technician_and_room_once(salon, django_assert_max_num_queries):
    # given cuts need a room, and Li already has an hour booked that day (so Wang is the less booked)
    room_type = ResourceType.objects.create(name="Chair")
    ServiceBookingRule.objects.create(service=salon["cut"]).resource_types.add(room_type)
    chair = Resource.objects.create(location=default_location(), resource_type=room_type, name="Chair 1", capacity=2)
    book(salon, start=AT + 4 * 60 * MIN)
    client, location = client_make("new"), default_location()
    # when a cut with anyone is booked
    with django_assert_max_num_queries(9) as captured:
        visit = appointment_book(
            client=client,
            location=location,
            start=AT,
            lines=[LineRequest(salon["cut"], None)],
            channel="staff",
            acting_user=None,
            now=NOW,
        )
    # then the facts, the chosen technician and the chosen room are three reads
    assert len(_selects(captured)) == 3
    line = visit.lines.get()
    assert line.staff_id == salon["wang"].pk
    assert [(h.resource_id, h.place) for h in line.resource_holds.all()] == [(chair.pk, 1)]


def test_a_deactivated_resource_type_is_no_longer_needed(salon):
    # given cuts needed a spa room, a type the location has none of, and the type was then deactivated
    room_type = ResourceType.objects.create(name="Spa room")
    ServiceBookingRule.objects.create(service=salon["cut"]).resource_types.add(room_type)
    refused(SchedulingError.RESOURCE_FULL, lambda: book(salon))
    ResourceType.objects.filter(pk=room_type.pk).update(is_active=False)
    # when the cut is booked, then it is, without a hold (as the availability engine shows it free)
    visit = book(salon)
    assert AppointmentResource.objects.filter(line__appointment=visit).count() == 0


def _deadlock() -> OperationalError:
    """What Django raises when PostgreSQL aborts one of two inserts colliding on an exclusion constraint."""
    error = OperationalError(
        "deadlock detected\nCONTEXT:  while checking exclusion constraint on tuple (21,16) in relation "
        f'"{AppointmentResource._meta.db_table}"'
    )
    error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
    return error


def test_a_deadlock_between_two_bookings_is_a_lost_race_replanned(salon, monkeypatch):
    # given the first attempt to write the lines is aborted by PostgreSQL's deadlock detector, as happens
    # when two bookings insert colliding room holds at the same moment
    real_write, calls = booking._write_lines, []

    def deadlocking(appointment, plan):
        calls.append(appointment.pk)
        if len(calls) == 1:
            raise _deadlock()
        return real_write(appointment, plan)

    monkeypatch.setattr(booking, "_write_lines", deadlocking)
    # when the visit is booked
    visit = book(salon)
    # then it was planned again and booked once, with no trace of the aborted attempt
    assert len(calls) == 2
    assert list(Appointment.objects.values_list("pk", flat=True)) == [visit.pk]
    assert AppointmentLine.objects.get().appointment_id == visit.pk


def test_a_deadlock_on_every_attempt_is_a_409_not_a_crash(salon, monkeypatch):
    # given every attempt deadlocks on the room holds
    def deadlocking(appointment, plan):
        raise _deadlock()

    monkeypatch.setattr(booking, "_write_lines", deadlocking)
    # then the caller gets the "no room" conflict and nothing is written
    refused(SchedulingError.RESOURCE_FULL, lambda: book(salon))


def test_other_database_errors_are_not_taken_for_a_lost_race():
    assert booking._lost_race(OperationalError("server closed the connection")) is None
    lost = booking._lost_race(_deadlock())
    assert lost is not None and lost.constraint == booking._HOLD_CONSTRAINT


def test_naive_start_is_read_in_the_salons_zone(salon):
    visit = book(salon, start=datetime.datetime(2030, 3, 4, 10, 0))
    assert visit.start == AT


def test_another_salon_sees_nothing(salon, beta):
    from django_tenants.utils import schema_context

    book(salon)
    with schema_context(beta.schema):
        assert Appointment.objects.count() == 0


def test_booking_module_exposes_the_contract():
    assert booking.MAX_LINES == 5
    assert LineRequest.__dataclass_fields__.keys() == {"service", "staff", "is_requested"}

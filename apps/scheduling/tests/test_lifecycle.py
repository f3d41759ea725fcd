"""The appointment lifecycle (SCH-7): booked → confirmed → arrived → in service (上钟) → done (下钟), cancelled
and no-show; every change logged with who and when; moving a visit (reschedule) with the booking rules."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from apps.core.errors import ServiceError
from apps.core.services import staff_create
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import (
    AppointmentEvent,
    AppointmentLine,
    AppointmentResource,
    AppointmentStatus,
    ClientBookingProfile,
    Resource,
    ResourceType,
    SchedulingSettings,
    ServiceBookingRule,
)
from apps.scheduling.services import booking
from apps.scheduling.services.booking import LineRequest
from apps.scheduling.signals import appointment_changed
from apps.scheduling.tests.support import client_make, default_location, service_make, technician_make

UTC = datetime.UTC
NOW = datetime.datetime(2030, 3, 1, 0, 0, tzinfo=UTC)
AT = datetime.datetime(2030, 3, 4, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
MIN = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def salon(in_alpha, beta):
    cut = service_make("Cut", minutes=60, buffer=15)
    li = technician_make("Li", services=[cut])
    wang = technician_make("Wang", services=[cut])
    desk = staff_create(name="Desk", role="front_desk", username="desk-life")
    return {"cut": cut, "li": li, "wang": wang, "desk": desk, "client": client_make()}


def book(s, *, start=AT, staff=None, client=None):
    return booking.appointment_book(
        client=client or s["client"],
        location=default_location(),
        start=start,
        lines=[LineRequest(s["cut"], staff or s["li"])],
        channel="staff",
        acting_user=s["desk"],
        now=NOW,
    )


def test_the_happy_path_stamps_and_logs_every_step(salon, django_capture_on_commit_callbacks):
    s = salon
    visit = book(s)
    kinds = []
    appointment_changed.connect(lambda **kw: kinds.append(kw["kind"]), weak=False, dispatch_uid="lifecycle-test")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            for step in (
                booking.appointment_confirm,
                booking.appointment_arrive,
                booking.appointment_start,
                booking.appointment_finish,
            ):
                visit = step(appointment=visit, acting_user=s["desk"])
    finally:
        appointment_changed.disconnect(dispatch_uid="lifecycle-test")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.DONE
    assert all(getattr(visit, f) is not None for f in ("confirmed_at", "arrived_at", "started_at", "finished_at"))
    assert visit.confirmed_at <= visit.arrived_at <= visit.started_at <= visit.finished_at
    events = list(visit.events.values_list("kind", "from_status", "to_status", "actor_id", "actor_label"))
    assert events == [
        ("booked", "", "booked", s["desk"].pk, "Desk"),
        ("confirmed", "booked", "confirmed", s["desk"].pk, "Desk"),
        ("arrived", "confirmed", "arrived", s["desk"].pk, "Desk"),
        ("started", "arrived", "in_service", s["desk"].pk, "Desk"),
        ("finished", "in_service", "done", s["desk"].pk, "Desk"),
    ]
    assert kinds == ["confirmed", "arrived", "started", "finished"]


@pytest.mark.parametrize(
    ("path", "step"),
    [
        ((), "appointment_start"),  # booked → in service skips arrival
        ((), "appointment_finish"),
        (("appointment_confirm",), "appointment_confirm"),
        (("appointment_arrive",), "appointment_no_show"),
        (("appointment_arrive", "appointment_start"), "appointment_cancel"),
        (("appointment_cancel",), "appointment_arrive"),
        (("appointment_no_show",), "appointment_confirm"),
    ],
)
def test_invalid_transitions_are_refused_and_nothing_changes(salon, path, step):
    s = salon
    visit = book(s)
    for name in path:
        getattr(booking, name)(appointment=visit, acting_user=s["desk"])
    visit.refresh_from_db()
    status, events = visit.status, visit.events.count()
    with pytest.raises(ServiceError) as caught:
        getattr(booking, step)(appointment=visit, acting_user=s["desk"])
    assert (caught.value.code, caught.value.status) == (SchedulingError.INVALID_TRANSITION, 400)
    visit.refresh_from_db()
    assert (visit.status, visit.events.count()) == (status, events)


def test_cancel_frees_the_time_of_lines_and_holds(salon):
    s = salon
    room_type = ResourceType.objects.create(name="Room")
    ServiceBookingRule.objects.create(service=s["cut"]).resource_types.add(room_type)
    Resource.objects.create(location=default_location(), resource_type=room_type, name="R1")
    visit = book(s)
    booking.appointment_cancel(appointment=visit, acting_user=s["desk"], reason="Client is ill", now=NOW)
    visit.refresh_from_db()
    assert (visit.status, visit.cancel_reason, visit.is_late_cancellation) == ("cancelled", "Client is ill", False)
    assert AppointmentLine.objects.filter(appointment=visit, is_active=True).count() == 0
    assert AppointmentResource.objects.filter(line__appointment=visit, is_active=True).count() == 0
    # and the same technician and room can be booked again
    assert book(s, client=client_make("b")).pk != visit.pk
    assert ClientBookingProfile.objects.filter(client=s["client"]).exists() is False


def test_arrived_visits_can_be_cancelled(salon):
    s = salon
    visit = book(s)
    booking.appointment_arrive(appointment=visit, acting_user=s["desk"])
    assert booking.appointment_cancel(appointment=visit, acting_user=s["desk"], now=AT).status == "cancelled"
    assert ClientBookingProfile.objects.filter(client=s["client"]).exists() is False


def test_clients_cannot_cancel_inside_the_window_staff_can_and_it_counts_late(salon):
    s = salon
    visit = book(s)
    inside = AT - 11 * HOUR  # the window is 12 hours
    with pytest.raises(ServiceError) as caught:
        booking.appointment_cancel(appointment=visit, acting_user=None, by_client=True, now=inside)
    assert caught.value.code == SchedulingError.CANCELLATION_WINDOW_CLOSED
    visit.refresh_from_db()
    assert visit.status == "booked"
    # staff cancel it for the client (on the phone)
    booking.appointment_cancel(appointment=visit, acting_user=s["desk"], now=inside)
    visit.refresh_from_db()
    assert visit.is_late_cancellation is True
    assert ClientBookingProfile.objects.get(client=s["client"]).late_cancel_count == 1
    event = visit.events.get(kind="cancelled")
    assert event.data == {"reason": "", "by_client": False, "late": True}


def test_clients_can_cancel_in_time(salon):
    s = salon
    visit = book(s)
    booking.appointment_cancel(appointment=visit, acting_user=None, by_client=True, now=AT - 12 * HOUR)
    visit.refresh_from_db()
    assert (visit.status, visit.is_late_cancellation) == ("cancelled", False)
    assert visit.events.get(kind="cancelled").actor_label == "system"


def test_no_show_counts_and_frees_the_time(salon):
    s = salon
    visit = book(s)
    booking.appointment_no_show(appointment=visit, acting_user=s["desk"])
    visit.refresh_from_db()
    assert visit.status == "no_show"
    assert ClientBookingProfile.objects.get(client=s["client"]).no_show_count == 1
    assert AppointmentLine.objects.filter(appointment=visit, is_active=True).count() == 0
    second = book(s, start=AT + 2 * HOUR)
    booking.appointment_no_show(appointment=second, acting_user=s["desk"])
    assert ClientBookingProfile.objects.get(client=s["client"]).no_show_count == 2


def test_technicians_clock_only_their_own_visits(salon):
    s = salon
    tech_user = s["li"]
    visit = book(s, staff=s["wang"])
    booking.appointment_arrive(appointment=visit, acting_user=s["desk"])
    with pytest.raises(ServiceError) as caught:
        booking.appointment_start(appointment=visit, acting_user=tech_user)
    assert caught.value.status == 403
    visit.refresh_from_db()
    assert (visit.status, visit.started_at) == ("arrived", None)
    assert booking.appointment_start(appointment=visit, acting_user=s["wang"]).status == "in_service"


def test_reschedule_moves_lines_logs_before_and_after(salon, django_capture_on_commit_callbacks):
    s = salon
    visit = book(s)
    received = []
    appointment_changed.connect(
        lambda **kw: received.append((kw["kind"], kw["data"]["start"])), weak=False, dispatch_uid="resched-test"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            moved = booking.appointment_reschedule(
                appointment=visit,
                start=AT + 3 * HOUR,
                lines=[LineRequest(s["cut"], s["wang"])],
                acting_user=s["desk"],
                now=NOW,
            )
    finally:
        appointment_changed.disconnect(dispatch_uid="resched-test")
    assert (moved.start, moved.end, moved.reschedule_count) == (AT + 3 * HOUR, AT + 4 * HOUR, 1)
    line = AppointmentLine.objects.get(appointment=visit)
    assert (line.staff_id, line.start, line.busy_until) == (s["wang"].pk, AT + 3 * HOUR, AT + 4 * HOUR + 15 * MIN)
    event = AppointmentEvent.objects.get(appointment=visit, kind="rescheduled")
    assert event.data["before"]["start"] == AT.isoformat()
    assert event.data["before"]["lines"][0]["staff"] == s["li"].pk
    assert event.data["after"]["start"] == (AT + 3 * HOUR).isoformat()
    assert event.data["after"]["lines"][0]["staff"] == s["wang"].pk
    assert received == [("rescheduled", AT.isoformat())]
    # its own old time does not block a small move
    again = booking.appointment_reschedule(
        appointment=moved, start=AT + 3 * HOUR + 30 * MIN, acting_user=s["desk"], now=NOW
    )
    assert again.reschedule_count == 2


def test_a_refused_reschedule_keeps_the_old_time(salon):
    s = salon
    visit = book(s)
    blocker = book(s, staff=s["wang"], start=AT + 3 * HOUR, client=client_make("c"))
    with pytest.raises(ServiceError) as caught:
        booking.appointment_reschedule(
            appointment=visit,
            start=AT + 3 * HOUR,
            lines=[LineRequest(s["cut"], s["wang"])],
            acting_user=s["desk"],
            now=NOW,
        )
    assert (caught.value.code, caught.value.status) == (SchedulingError.STAFF_BUSY, 409)
    assert caught.value.extra["conflict"]["appointment"] == blocker.pk
    visit.refresh_from_db()
    line = AppointmentLine.objects.get(appointment=visit)
    assert (visit.start, visit.reschedule_count, line.staff_id, line.start) == (AT, 0, s["li"].pk, AT)
    assert not AppointmentEvent.objects.filter(kind="rescheduled").exists()
    with pytest.raises(ServiceError) as caught:
        booking.appointment_reschedule(appointment=visit, start=AT - 2 * HOUR, acting_user=s["desk"], now=NOW)
    assert caught.value.code == SchedulingError.OUTSIDE_SHIFT


def test_clients_move_only_before_the_window_and_finished_visits_never(salon):
    s = salon
    visit = book(s)
    with pytest.raises(ServiceError) as caught:
        booking.appointment_reschedule(
            appointment=visit, start=AT + 5 * HOUR, acting_user=None, by_client=True, now=AT - 2 * HOUR
        )
    assert caught.value.code == SchedulingError.CANCELLATION_WINDOW_CLOSED
    settings_row = SchedulingSettings.objects.get()
    settings_row.online_min_notice_minutes = 0
    settings_row.save()
    moved = booking.appointment_reschedule(
        appointment=visit, start=AT + 5 * HOUR, acting_user=None, by_client=True, now=AT - 13 * HOUR
    )
    assert moved.start == AT + 5 * HOUR
    booking.appointment_arrive(appointment=moved, acting_user=s["desk"])
    with pytest.raises(ServiceError) as caught:
        booking.appointment_reschedule(appointment=moved, start=AT + 6 * HOUR, acting_user=s["desk"], now=NOW)
    assert caught.value.code == SchedulingError.INVALID_TRANSITION


def test_timestamps_are_now(salon):
    s = salon
    visit = book(s)
    before = timezone.now()
    confirmed = booking.appointment_confirm(appointment=visit, acting_user=s["desk"])
    assert before <= confirmed.confirmed_at <= timezone.now()

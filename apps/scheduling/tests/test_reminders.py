"""Confirmations and reminders (SCH-8): a booking change is confirmed at once, reminders go out at the
salon's offsets before the visit, each message once to each recipient, on the channel the client can be
reached by, in both salons' own logs."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from apps.core.models import Location, User
from apps.crm.models import Client
from apps.messaging import sms, wechat
from apps.messaging.models import Delivery
from apps.scheduling.models import (
    Appointment,
    AppointmentEvent,
    AppointmentLine,
    AppointmentStatus,
    ClientBookingProfile,
    ReminderSent,
    SchedulingSettings,
)
from apps.scheduling.services.reminders import reminders_due_send
from apps.scheduling.signals import appointment_changed
from apps.scheduling.tests.support import (
    appointment_insert,
    client_make,
    default_location,
    service_make,
    technician_make,
)
from tests.races import race, salon_for_races

UTC = datetime.UTC
# 10:00 in Shanghai, far enough ahead that every test booking was made before its reminder times.
START = datetime.datetime(2030, 1, 10, 2, 0, tzinfo=UTC)
AT_24H = START - datetime.timedelta(hours=24) + datetime.timedelta(minutes=5)
AT_2H = START - datetime.timedelta(hours=2) + datetime.timedelta(minutes=5)
LILY_PHONE = "+8613700000001"
CLIENT_PHONE = "+8613912345678"


@pytest.fixture(autouse=True)
def _outboxes(settings: Any) -> Iterator[None]:
    # Messages are asserted in English, the source language: the salon's language is set to it here.
    settings.LANGUAGE_CODE = "en"
    sms.outbox.clear()
    wechat.outbox.clear()
    yield
    sms.outbox.clear()
    wechat.outbox.clear()


@dataclass
class Salon:
    client: Client
    lily: User
    services: list[Any]


def _salon(*, client_phone: str = CLIENT_PHONE, email: str = "", lily_phone: str = LILY_PHONE) -> Salon:
    """A haircut by Lily at Downtown (1 Nanjing Road), and a client who gives a phone number."""
    Location.objects.filter(pk=default_location().pk).update(name="Downtown", address="1 Nanjing Road")
    cut = service_make("Haircut", minutes=60)
    lily = technician_make("Lily", services=[cut])
    User.objects.filter(pk=lily.pk).update(phone=lily_phone, email="lily@salon.test")
    lily.refresh_from_db()
    client = client_make("Wang Fang", phone=client_phone) if client_phone else client_make("Wang Fang")
    if not client_phone:
        Client.objects.filter(pk=client.pk).update(phone="", phone_hash="", phone_last4="", email=email)
        client.refresh_from_db()
    return Salon(client=client, lily=lily, services=[cut])


def _visit(s: Salon, *, start: datetime.datetime = START, status: str = AppointmentStatus.BOOKED, **kw: Any):
    return appointment_insert(client=s.client, start=start, lines=[(s.services[0], s.lily)], status=status, **kw)


def _texts() -> list[tuple[str, str]]:
    return [(m.to, m.body) for m in sms.outbox]


def _reminder_text(salon: str = "Alpha Salon") -> str:
    return f"{salon}: a reminder of your visit at 2030-01-10 10:00, Haircut with Lily at Downtown (1 Nanjing Road)."


STAFF_REMINDER = "Upcoming: Wang Fang at 2030-01-10 10:00, Haircut at Downtown (1 Nanjing Road)."


def _send(capture: Any, now: datetime.datetime) -> list[ReminderSent]:
    with capture(execute=True):
        return reminders_due_send(now=now)


# --- reminders ---------------------------------------------------------------------------------------


def test_the_24_hour_reminder_goes_to_the_client_and_the_technician(alpha, beta, django_capture_on_commit_callbacks):
    # given a visit tomorrow at 10:00 in alpha
    with schema_context(alpha.schema):
        s = _salon()
        visit = _visit(s)
        # when beat runs 24 hours before
        sent = _send(django_capture_on_commit_callbacks, AT_24H)
        # then the client and Lily got their reminder by text, logged as sent
        assert _texts() == [(CLIENT_PHONE, _reminder_text()), (LILY_PHONE, STAFF_REMINDER)]
        assert sorted((r.kind, r.offset_minutes, r.recipient_key, r.channel) for r in sent) == [
            ("reminder", 1440, "client", "sms"),
            ("reminder", 1440, f"staff:{s.lily.pk}", "sms"),
        ]
        rows = ReminderSent.objects.filter(appointment=visit).select_related("delivery").order_by("id")
        assert [(r.appointment_start, r.delivery.status, r.delivery.purpose) for r in rows] == [
            (START, "sent", "appointment_reminder"),
            (START, "sent", "appointment_reminder"),
        ]
    # and beta's log has none of it
    with schema_context(beta.schema):
        assert (ReminderSent.objects.count(), Delivery.objects.count()) == (0, 0)


def test_nothing_is_due_before_the_reminder_time(in_alpha, django_capture_on_commit_callbacks):
    # given a visit tomorrow at 10:00
    _visit(_salon())
    # when beat runs 24 hours and 5 minutes before
    sent = _send(django_capture_on_commit_callbacks, START - datetime.timedelta(hours=24, minutes=5))
    # then nothing is sent yet
    assert (sent, _texts(), ReminderSent.objects.count()) == ([], [], 0)


def test_beat_firing_twice_sends_each_reminder_once(in_alpha, django_capture_on_commit_callbacks):
    # given a visit tomorrow at 10:00
    _visit(_salon())
    # when beat fires twice for the 24-hour reminder, and again later for the 2-hour one (twice too)
    first = _send(django_capture_on_commit_callbacks, AT_24H)
    second = _send(django_capture_on_commit_callbacks, AT_24H + datetime.timedelta(minutes=5))
    third = _send(django_capture_on_commit_callbacks, AT_2H)
    fourth = _send(django_capture_on_commit_callbacks, AT_2H)
    # then each reminder went out once to each of the two recipients
    assert [len(first), len(second), len(third), len(fourth)] == [2, 0, 2, 0]
    assert len(sms.outbox) == 4
    lily = f"staff:{AppointmentLine.objects.get().staff_id}"
    assert sorted(ReminderSent.objects.values_list("offset_minutes", "recipient_key")) == [
        (120, "client"),
        (120, lily),
        (1440, "client"),
        (1440, lily),
    ]
    assert Delivery.objects.filter(status="sent").count() == 4


def test_a_late_booking_skips_the_reminders_whose_time_had_passed(in_alpha, django_capture_on_commit_callbacks):
    # given a visit booked three hours before it starts
    s = _salon()
    visit = _visit(s)
    Appointment.objects.filter(pk=visit.pk).update(created_at=START - datetime.timedelta(hours=3))
    # when beat runs at the 24-hour mark's time and at the 2-hour mark
    early = _send(django_capture_on_commit_callbacks, START - datetime.timedelta(hours=2, minutes=30))
    late = _send(django_capture_on_commit_callbacks, AT_2H)
    # then only the 2-hour reminder went out
    assert early == []
    assert sorted((r.offset_minutes, r.recipient_key) for r in late) == [
        (120, "client"),
        (120, f"staff:{s.lily.pk}"),
    ]


def test_a_reminder_whose_next_one_is_due_already_is_not_sent(in_alpha, django_capture_on_commit_callbacks):
    # given a visit whose 24-hour reminder was never sent (beat was down all day)
    s = _salon()
    _visit(s)
    # when beat runs again at the 2-hour mark
    sent = _send(django_capture_on_commit_callbacks, AT_2H)
    # then the client hears once, the 2-hour reminder, not two reminders at once
    assert sorted((r.offset_minutes, r.recipient_key) for r in sent) == [(120, "client"), (120, f"staff:{s.lily.pk}")]
    assert len(sms.outbox) == 2


def test_a_cancelled_visit_gets_no_reminder(in_alpha, django_capture_on_commit_callbacks):
    # given a cancelled visit and a no-show
    s = _salon()
    _visit(s, status=AppointmentStatus.CANCELLED)
    _visit(s, start=START + datetime.timedelta(hours=3), status=AppointmentStatus.NO_SHOW)
    # when beat runs when their reminders would be due
    sent = _send(django_capture_on_commit_callbacks, AT_2H + datetime.timedelta(hours=3))
    # then nothing went out
    assert (sent, _texts(), Delivery.objects.count()) == ([], [], 0)


def test_a_visit_cancelled_after_its_first_reminder_gets_no_second(in_alpha, django_capture_on_commit_callbacks):
    # given a visit reminded 24 hours before, then cancelled
    s = _salon()
    visit = _visit(s)
    _send(django_capture_on_commit_callbacks, AT_24H)
    Appointment.objects.filter(pk=visit.pk).update(status=AppointmentStatus.CANCELLED)
    AppointmentLine.objects.filter(appointment=visit).update(is_active=False)
    # when the 2-hour mark comes
    sent = _send(django_capture_on_commit_callbacks, AT_2H)
    # then no 2-hour reminder
    assert sent == []
    assert len(sms.outbox) == 2


def test_a_rescheduled_visit_is_reminded_for_its_new_time(in_alpha, django_capture_on_commit_callbacks):
    # given a visit reminded 24 hours before, then moved two days later
    s = _salon()
    visit = _visit(s)
    _send(django_capture_on_commit_callbacks, AT_24H)
    new_start = START + datetime.timedelta(days=2)
    Appointment.objects.filter(pk=visit.pk).update(start=new_start, end=new_start + datetime.timedelta(hours=1))
    AppointmentLine.objects.filter(appointment=visit).update(
        start=new_start, end=new_start + datetime.timedelta(hours=1), busy_until=new_start + datetime.timedelta(hours=1)
    )
    AppointmentEvent.objects.create(appointment=visit, kind="rescheduled")
    sms.outbox.clear()
    # when beat runs again at the old time, then 24 hours before the new time
    again = _send(django_capture_on_commit_callbacks, AT_24H + datetime.timedelta(minutes=10))
    moved = _send(django_capture_on_commit_callbacks, AT_24H + datetime.timedelta(days=2))
    # then the new time was reminded once, and says the new time
    assert again == []
    assert sorted((r.recipient_key, r.appointment_start) for r in moved) == [
        ("client", new_start),
        (f"staff:{s.lily.pk}", new_start),
    ]
    assert _texts()[0] == (
        CLIENT_PHONE,
        "Alpha Salon: a reminder of your visit at 2030-01-12 10:00, Haircut with Lily at Downtown (1 Nanjing Road).",
    )
    assert ReminderSent.objects.filter(appointment=visit).count() == 4


def test_a_visit_moved_within_a_day_of_its_new_time_skips_the_24_hour_reminder(
    in_alpha, django_capture_on_commit_callbacks
):
    # given a visit moved, 5 hours before its new time, to START
    s = _salon()
    visit = _visit(s, start=START + datetime.timedelta(days=5))
    Appointment.objects.filter(pk=visit.pk).update(start=START, end=START + datetime.timedelta(hours=1))
    AppointmentLine.objects.filter(appointment=visit).update(
        start=START, end=START + datetime.timedelta(hours=1), busy_until=START + datetime.timedelta(hours=1)
    )
    event = AppointmentEvent.objects.create(appointment=visit, kind="rescheduled")
    AppointmentEvent.objects.filter(pk=event.pk).update(created_at=START - datetime.timedelta(hours=5))
    # when beat runs after the 24-hour mark, then at the 2-hour mark
    early = _send(django_capture_on_commit_callbacks, START - datetime.timedelta(hours=4))
    late = _send(django_capture_on_commit_callbacks, AT_2H)
    # then only the 2-hour reminder went out
    assert early == []
    assert {r.offset_minutes for r in late} == {120}


def test_a_client_who_opted_out_gets_no_reminder_but_the_technician_does(in_alpha, django_capture_on_commit_callbacks):
    # given a client who asked for no reminders
    s = _salon()
    ClientBookingProfile.objects.create(client=s.client, reminders_opted_out=True, wechat_openid="o-wang")
    _visit(s)
    # when the reminder is due
    sent = _send(django_capture_on_commit_callbacks, AT_24H)
    # then only Lily was reminded
    assert [r.recipient_key for r in sent] == [f"staff:{s.lily.pk}"]
    assert _texts() == [(LILY_PHONE, STAFF_REMINDER)]
    assert wechat.outbox == []


def test_a_client_merged_away_or_erased_is_not_reminded(in_alpha, django_capture_on_commit_callbacks):
    # given a visit of a client who is no longer active
    s = _salon()
    _visit(s)
    Client.objects.filter(pk=s.client.pk).update(is_active=False)
    # when the reminder is due
    sent = _send(django_capture_on_commit_callbacks, AT_24H)
    # then only Lily was reminded
    assert [r.recipient_key for r in sent] == [f"staff:{s.lily.pk}"]


def test_the_technician_is_not_reminded_when_the_salon_says_so(in_alpha, django_capture_on_commit_callbacks):
    # given a salon that does not remind its staff, with reminders 1 hour before only
    SchedulingSettings.objects.filter(pk=1).update(remind_staff=False, reminder_offsets_minutes=[60])
    _visit(_salon())
    # when the reminders would be due
    at_24h = _send(django_capture_on_commit_callbacks, AT_24H)
    at_1h = _send(django_capture_on_commit_callbacks, START - datetime.timedelta(minutes=55))
    # then the client alone got the one reminder
    assert at_24h == []
    assert [(r.offset_minutes, r.recipient_key) for r in at_1h] == [(60, "client")]
    assert _texts() == [(CLIENT_PHONE, _reminder_text())]


def test_a_client_who_follows_the_official_account_is_reminded_by_wechat(in_alpha, django_capture_on_commit_callbacks):
    # given a client with an official-account openid
    s = _salon()
    ClientBookingProfile.objects.create(client=s.client, wechat_openid="o-wang-fang")
    _visit(s)
    # when the reminder is due
    _send(django_capture_on_commit_callbacks, AT_24H)
    # then it went out as the appointment template message, not by text
    assert wechat.outbox == [
        wechat.TemplateMessage(
            openid="o-wang-fang",
            template="appointment_reminder",
            data={
                "first": "Reminder of your visit",
                "keyword1": "Haircut",
                "keyword2": "2030-01-10 10:00",
                "keyword3": "Lily",
                "keyword4": "Downtown (1 Nanjing Road)",
                "remark": "Alpha Salon",
            },
        )
    ]
    assert _texts() == [(LILY_PHONE, STAFF_REMINDER)]
    delivery = Delivery.objects.get(channel="wechat")
    assert (delivery.recipient, delivery.status, delivery.body) == ("o-wang-fang", "sent", _reminder_text())


def test_a_client_without_a_phone_is_reminded_by_email_and_one_without_either_is_not(
    in_alpha, mailoutbox, django_capture_on_commit_callbacks
):
    # given a client with only an e-mail address, and a technician without a phone
    s = _salon(client_phone="", email="wang@example.test", lily_phone="")
    _visit(s)
    # when the reminder is due
    _send(django_capture_on_commit_callbacks, AT_24H)
    # then both were e-mailed
    assert sorted((m.to[0], m.subject, m.body) for m in mailoutbox) == [
        ("lily@salon.test", "Upcoming booking", STAFF_REMINDER),
        ("wang@example.test", "Reminder of your visit", _reminder_text()),
    ]
    # and a client with no way to reach them gets nothing (and no gate row holds a later channel back)
    Client.objects.filter(pk=s.client.pk).update(email="")
    ReminderSent.objects.all().delete()
    mail.outbox.clear()
    sent = _send(django_capture_on_commit_callbacks, AT_24H)
    assert [r.recipient_key for r in sent] == [f"staff:{s.lily.pk}"]


def test_a_run_with_nothing_new_costs_a_fixed_number_of_queries(
    in_alpha, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    # given five visits whose 24-hour reminders have gone out
    s = _salon()
    for hour in range(5):
        _visit(s, start=START + datetime.timedelta(hours=hour))
    assert len(_send(django_capture_on_commit_callbacks, AT_24H + datetime.timedelta(hours=5))) == 10
    # when beat runs again: settings, then per offset the visits (with their lines and the reminders
    # sent, when there are any): 5 queries, each after the SET search_path of schema_context
    with django_assert_max_num_queries(10):
        again = reminders_due_send(now=AT_24H + datetime.timedelta(hours=5))
    # then nothing is sent
    assert again == []


# --- confirmations on booking changes ------------------------------------------------------------------


def _announce(capture: Any, visit: Appointment, kind: str) -> None:
    with capture(execute=True):
        appointment_changed.send(sender=Appointment, appointment=visit, kind=kind, data={})


def test_a_booking_is_confirmed_to_the_client_and_the_technician(alpha, beta, django_capture_on_commit_callbacks):
    # given a visit just booked in alpha
    with schema_context(alpha.schema):
        s = _salon()
        visit = _visit(s)
        # when the booking is announced
        _announce(django_capture_on_commit_callbacks, visit, "booked")
        # then both heard of it at once
        assert _texts() == [
            (
                CLIENT_PHONE,
                "Alpha Salon: you are booked for 2030-01-10 10:00, Haircut with Lily at Downtown (1 Nanjing Road).",
            ),
            (LILY_PHONE, "New booking: Wang Fang, 2030-01-10 10:00, Haircut at Downtown (1 Nanjing Road)."),
        ]
        assert sorted(ReminderSent.objects.values_list("kind", "offset_minutes", "recipient_key")) == [
            ("confirmation", 0, "client"),
            ("confirmation", 0, f"staff:{s.lily.pk}"),
        ]
        assert list(Delivery.objects.values_list("purpose", "status")) == [
            ("appointment_confirmation", "sent"),
            ("appointment_confirmation", "sent"),
        ]
    with schema_context(beta.schema):
        assert Delivery.objects.count() == 0


def test_the_same_announcement_twice_confirms_once(in_alpha, django_capture_on_commit_callbacks):
    # given a visit booked
    visit = _visit(_salon())
    # when the booking is announced twice (a retried task, a duplicate signal)
    _announce(django_capture_on_commit_callbacks, visit, "booked")
    _announce(django_capture_on_commit_callbacks, visit, "booked")
    # then each recipient heard once
    assert len(sms.outbox) == 2


def test_a_move_and_a_cancellation_are_told_too(in_alpha, django_capture_on_commit_callbacks):
    # given a visit, moved an hour later, then cancelled
    s = _salon()
    visit = _visit(s)
    later = START + datetime.timedelta(hours=1)
    Appointment.objects.filter(pk=visit.pk).update(start=later, end=later + datetime.timedelta(hours=1))
    AppointmentLine.objects.filter(appointment=visit).update(
        start=later, end=later + datetime.timedelta(hours=1), busy_until=later + datetime.timedelta(hours=1)
    )
    _announce(django_capture_on_commit_callbacks, visit, "rescheduled")
    Appointment.objects.filter(pk=visit.pk).update(status=AppointmentStatus.CANCELLED)
    AppointmentLine.objects.filter(appointment=visit).update(is_active=False)
    _announce(django_capture_on_commit_callbacks, visit, "cancelled")
    # when (then) the messages are read
    assert _texts() == [
        (
            CLIENT_PHONE,
            "Alpha Salon: your booking has moved to 2030-01-10 11:00, Haircut with Lily at Downtown (1 Nanjing Road).",
        ),
        (LILY_PHONE, "Booking moved: Wang Fang is now 2030-01-10 11:00, Haircut at Downtown (1 Nanjing Road)."),
        (CLIENT_PHONE, "Alpha Salon: your booking of 2030-01-10 11:00 (Haircut) is cancelled."),
        (LILY_PHONE, "Booking cancelled: Wang Fang, 2030-01-10 11:00, Haircut."),
    ]
    # and no reminder follows the cancellation
    assert _send(django_capture_on_commit_callbacks, AT_2H) == []


def test_a_technician_taken_off_a_moved_visit_is_told_it_is_cancelled_for_them(
    in_alpha, django_capture_on_commit_callbacks
):
    # given Lily's visit moved an hour later, to Max
    s = _salon()
    max_ = technician_make("Max", services=s.services)
    User.objects.filter(pk=max_.pk).update(phone="+8613700000002")
    visit = _visit(s)
    before = {
        "start": START.isoformat(),
        "end": (START + datetime.timedelta(hours=1)).isoformat(),
        "lines": [
            {
                "service": s.services[0].pk,
                "staff": s.lily.pk,
                "start": START.isoformat(),
                "end": (START + datetime.timedelta(hours=1)).isoformat(),
            }
        ],
    }
    later = START + datetime.timedelta(hours=1)
    Appointment.objects.filter(pk=visit.pk).update(start=later, end=later + datetime.timedelta(hours=1))
    AppointmentLine.objects.filter(appointment=visit).update(
        staff=max_, start=later, end=later + datetime.timedelta(hours=1), busy_until=later + datetime.timedelta(hours=1)
    )
    # when the move is announced (twice)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            appointment_changed.send(sender=Appointment, appointment=visit, kind="rescheduled", data=before)
    # then the client and Max heard of the new time, and Lily that her part at the old time is off
    assert _texts() == [
        (
            CLIENT_PHONE,
            "Alpha Salon: your booking has moved to 2030-01-10 11:00, Haircut with Max at Downtown (1 Nanjing Road).",
        ),
        ("+8613700000002", "Booking moved: Wang Fang is now 2030-01-10 11:00, Haircut at Downtown (1 Nanjing Road)."),
        (LILY_PHONE, "Booking cancelled: Wang Fang, 2030-01-10 10:00, Haircut."),
    ]
    assert ReminderSent.objects.get(recipient_key=f"staff:{s.lily.pk}").appointment_start == START


def test_the_booking_services_confirm_a_booking_a_move_and_a_cancellation(in_alpha, django_capture_on_commit_callbacks):
    from apps.scheduling.services.booking import (
        LineRequest,
        appointment_book,
        appointment_cancel,
        appointment_reschedule,
    )

    # given Lily's haircut booked at the desk
    s = _salon()
    now = START - datetime.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        visit = appointment_book(
            client=s.client,
            location=default_location(),
            start=START,
            lines=[LineRequest(s.services[0], s.lily)],
            channel="staff",
            acting_user=None,
            now=now,
        )
    # when it is moved an hour later, reminded 2 hours before, then cancelled
    later = START + datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(appointment=visit, start=later, acting_user=None, now=now)
    reminded = _send(django_capture_on_commit_callbacks, later - datetime.timedelta(minutes=115))
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=visit, acting_user=None, reason="ill", now=later - datetime.timedelta(hours=1))
    # then the client heard of each, in order, and Lily too
    client_texts = [body for to, body in _texts() if to == CLIENT_PHONE]
    assert client_texts == [
        "Alpha Salon: you are booked for 2030-01-10 10:00, Haircut with Lily at Downtown (1 Nanjing Road).",
        "Alpha Salon: your booking has moved to 2030-01-10 11:00, Haircut with Lily at Downtown (1 Nanjing Road).",
        "Alpha Salon: a reminder of your visit at 2030-01-10 11:00, Haircut with Lily at Downtown (1 Nanjing Road).",
        "Alpha Salon: your booking of 2030-01-10 11:00 (Haircut) is cancelled.",
    ]
    assert len([to for to, _ in _texts() if to == LILY_PHONE]) == 4
    assert {r.offset_minutes for r in reminded} == {120}
    assert sorted(ReminderSent.objects.values_list("kind", flat=True)) == sorted(
        ["confirmation", "change", "reminder", "cancellation"] * 2
    )


def test_other_changes_and_walk_ins_send_nothing(in_alpha, django_capture_on_commit_callbacks):
    # given a visit and a walk-in
    s = _salon()
    visit = _visit(s)
    walk_in = _visit(s, start=START + datetime.timedelta(hours=2), channel="walk_in")
    # when the visit is confirmed and the walk-in booked
    _announce(django_capture_on_commit_callbacks, visit, "confirmed")
    _announce(django_capture_on_commit_callbacks, walk_in, "booked")
    # then nobody was messaged, and the walk-in gets no reminder either
    assert (_texts(), ReminderSent.objects.count()) == ([], 0)
    assert {r.appointment_id for r in _send(django_capture_on_commit_callbacks, AT_2H)} == {visit.pk}


def test_a_failing_message_does_not_reach_the_booking(in_alpha, monkeypatch, django_capture_on_commit_callbacks):
    from apps.scheduling.services import reminders

    # given a message service that breaks
    visit = _visit(_salon())

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("gateway down")

    monkeypatch.setattr(reminders, "message_send", broken)
    # when the booking is announced
    _announce(django_capture_on_commit_callbacks, visit, "booked")
    # then the announcement returned normally and nothing is recorded as sent
    assert ReminderSent.objects.count() == 0


# --- beat and concurrency ------------------------------------------------------------------------------


def test_beat_runs_the_reminders_in_every_salon(alpha, beta, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from apps.scheduling.tasks_reminders import REMINDERS_TASK
    from tenants.tasks import for_each_salon

    # given a visit in 90 minutes in each salon, booked days ago
    soon = timezone.now() + datetime.timedelta(minutes=90)
    for info, phone in ((alpha, "+8613911110001"), (beta, "+8613922220002")):
        with schema_context(info.schema):
            s = _salon(client_phone=phone)
            visit = _visit(s, start=soon)
            Appointment.objects.filter(pk=visit.pk).update(created_at=soon - datetime.timedelta(days=3))
    # when beat's fan-out runs, twice
    with django_capture_on_commit_callbacks(execute=True):
        queued = for_each_salon.apply_async(args=[REMINDERS_TASK]).get()
        for_each_salon.apply_async(args=[REMINDERS_TASK]).get()
    # then each salon reminded its own client and technician once, under its own name, with the 2-hour
    # reminder (the 24-hour one, never sent, is not sent this late)
    assert queued == 2
    for info, phone, name in ((alpha, "+8613911110001", "Alpha Salon"), (beta, "+8613922220002", "Beta Salon")):
        with schema_context(info.schema):
            lily = AppointmentLine.objects.get().staff_id
            assert sorted(ReminderSent.objects.values_list("offset_minutes", "recipient_key", "channel")) == [
                (120, "client", "sms"),
                (120, f"staff:{lily}", "sms"),
            ]
            (client_message,) = [m for m in sms.outbox if m.to == phone]
            assert client_message.body.startswith(f"{name}: a reminder of your visit at ")


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("reminders-race") as schema:
        yield schema


def test_workers_running_at_once_send_each_reminder_once(race_salon, django_db_blocker):
    # given three visits due for their 24-hour reminder, committed
    with django_db_blocker.unblock(), schema_context(race_salon):
        s = _salon()
        for hour in range(3):
            _visit(s, start=START + datetime.timedelta(hours=hour))
    # when six workers run the reminders at the same moment
    outcomes = race(race_salon, 6, lambda i: reminders_due_send(now=AT_24H + datetime.timedelta(hours=3)))
    # then every reminder was sent by exactly one of them: 3 visits × (client, Lily)
    assert all(isinstance(o, list) for o in outcomes), outcomes
    assert sum(len(o) for o in outcomes) == 6
    with django_db_blocker.unblock(), schema_context(race_salon):
        assert ReminderSent.objects.count() == 6
        assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
        assert Delivery.objects.count() == 6
    assert sorted(m.to for m in sms.outbox) == [LILY_PHONE] * 3 + [CLIENT_PHONE] * 3

"""Scheduling on the client record (crm's registries): the "Bookings" section of the 360° page with the
block form, a merge moving appointments, waitlist entries and the booking record, and the personal-data
export."""

from __future__ import annotations

import datetime

from django_tenants.utils import schema_context

from apps.core.models import AuditEntry
from apps.crm.services.merge import client_merge, client_merge_undo
from apps.crm.services.privacy import client_personal_data
from apps.scheduling.models import Appointment, AppointmentStatus, ClientBookingProfile, WaitlistEntry
from apps.scheduling.tests.support import (
    appointment_insert,
    client_make,
    default_location,
    service_make,
    technician_make,
)
from tests.fixtures import logged_in_client, make_staff, owner_of

UTC = datetime.UTC
FUTURE = datetime.datetime(2030, 3, 4, 2, 0, tzinfo=UTC)
PAST = datetime.datetime(2021, 3, 4, 2, 0, tzinfo=UTC)


def test_the_bookings_section_shows_visits_counts_and_the_block_form(alpha, beta):
    # given a client with one visit ahead, one behind, two no-shows
    with schema_context(alpha.schema):
        cut = service_make("Cut")
        tech = technician_make("Li", services=[cut])
        client = client_make()
        appointment_insert(client=client, start=FUTURE, lines=[(cut, tech)])
        appointment_insert(client=client, start=PAST, lines=[(cut, tech)], status=AppointmentStatus.DONE)
        ClientBookingProfile.objects.create(client=client, no_show_count=2, late_cancel_count=1)
    make_staff(alpha, role="front_desk", username="desk-360")
    make_staff(alpha, role="technician", username="tech-360")
    desk = logged_in_client(alpha, "desk-360")
    # when
    page = desk.get(f"/clients/{client.pk}/")
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-figure="no-shows">2<' in html
    assert 'data-figure="late-cancellations">1<' in html
    assert '<li data-status="booked">2030-03-04 10:00 · Cut (Li) · ' in html
    assert '<li data-status="done">2021-03-04 10:00 · Cut · ' in html
    assert 'name="is_blocked"' in html
    # and the form blocks the client, audited
    response = desk.post(
        f"/calendar/clients/{client.pk}/booking-record/", {"is_blocked": "on", "blocked_reason": "Rude"}
    )
    assert response.status_code == 302
    with schema_context(alpha.schema):
        profile = ClientBookingProfile.objects.get(client=client)
        assert (profile.is_blocked, profile.blocked_reason, profile.requires_deposit) == (True, "Rude", False)
        assert AuditEntry.objects.filter(action="scheduling.booking_profile.updated").count() == 1
    assert 'data-flag="blocked"' in desk.get(f"/clients/{client.pk}/").content.decode()
    # a technician can neither see the section nor post the form
    tech_page = logged_in_client(alpha, "tech-360")
    assert tech_page.post(f"/calendar/clients/{client.pk}/booking-record/", {}).status_code == 403


def test_a_merge_moves_visits_waitlist_and_adds_up_the_counts(in_alpha):
    # given two records of one person, each with visits and a booking record
    cut = service_make("Cut")
    tech = technician_make("Li", services=[cut])
    survivor, duplicate = client_make("王芳"), client_make("王芳")
    kept = appointment_insert(client=survivor, start=FUTURE, lines=[(cut, tech)])
    moved = appointment_insert(client=duplicate, start=PAST, lines=[(cut, tech)])
    ClientBookingProfile.objects.create(client=survivor, no_show_count=1)
    ClientBookingProfile.objects.create(client=duplicate, no_show_count=2, late_cancel_count=3, requires_deposit=True)
    entry = WaitlistEntry.objects.create(
        client=duplicate,
        location=default_location(),
        service_ids=[cut.pk],
        date=datetime.date(2030, 3, 4),
        earliest=datetime.time(10),
        latest=datetime.time(18),
    )
    owner = owner_of(in_alpha)
    # when
    merge = client_merge(survivor=survivor, merged=duplicate, acting_user=owner)
    # then
    assert set(Appointment.objects.filter(client=survivor).values_list("pk", flat=True)) == {kept.pk, moved.pk}
    profile = ClientBookingProfile.objects.get(client=survivor)
    assert (profile.no_show_count, profile.late_cancel_count, profile.requires_deposit) == (3, 3, True)
    assert WaitlistEntry.objects.get(pk=entry.pk).client_id == survivor.pk
    # and an undo gives the visits back
    client_merge_undo(merge=merge, acting_user=owner)
    assert Appointment.objects.get(pk=moved.pk).client_id == duplicate.pk


def test_personal_data_export_lists_the_appointments(in_alpha, beta):
    cut = service_make("Cut", price=12_000)
    tech = technician_make("Li", services=[cut])
    client = client_make()
    visit = appointment_insert(client=client, start=FUTURE, lines=[(cut, tech)], notes="Prefers quiet")
    data = client_personal_data(client=client, acting_user=owner_of(in_alpha))
    assert data["scheduling"]["appointments"] == [
        {
            "id": visit.pk,
            "start": FUTURE.isoformat(),
            "end": (FUTURE + datetime.timedelta(hours=1)).isoformat(),
            "status": "booked",
            "channel": "staff",
            "notes": "Prefers quiet",
            "cancel_reason": "",
            "created_at": visit.created_at.isoformat(),
            "location__name": default_location().name,
            "lines": [
                {
                    "service__name": "Cut",
                    "staff__name": "Li",
                    "start": FUTURE.isoformat(),
                    "end": (FUTURE + datetime.timedelta(hours=1)).isoformat(),
                    "price": 12_000,
                }
            ],
        }
    ]
    assert data["scheduling"]["booking_profile"] is None

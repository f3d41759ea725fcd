"""The database itself refuses double bookings (SCH-6): the exclusion constraints on technicians' lines and
resource places, whatever the code above them does."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction

from apps.scheduling.models import AppointmentStatus, Resource, ResourceType
from apps.scheduling.roster import ExceptionRow, PatternRow, expand_roster
from apps.scheduling.tests.support import (
    appointment_insert,
    client_make,
    default_location,
    service_make,
    technician_make,
)

UTC = datetime.UTC
AT = datetime.datetime(2030, 3, 4, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def salon(in_alpha):
    cut = service_make("Cut", minutes=60, buffer=15)
    tech = technician_make("Li", services=[cut])
    return cut, tech


def test_a_technician_cannot_hold_two_overlapping_lines(salon, beta):
    # given a booking 10:00–11:00 (+15 min buffer)
    cut, tech = salon
    appointment_insert(client=client_make(), start=AT, lines=[(cut, tech)])
    # when another starts inside the buffer, then the database refuses it
    with pytest.raises(IntegrityError, match="line_staff_no_overlap"), transaction.atomic():
        appointment_insert(client=client_make(), start=AT + datetime.timedelta(minutes=70), lines=[(cut, tech)])
    # and one that starts when the buffer ends is accepted
    appointment_insert(client=client_make(), start=AT + datetime.timedelta(minutes=75), lines=[(cut, tech)])


def test_cancelled_lines_free_the_time(salon):
    cut, tech = salon
    appointment_insert(client=client_make(), start=AT, lines=[(cut, tech)], status=AppointmentStatus.CANCELLED)
    appointment_insert(client=client_make(), start=AT, lines=[(cut, tech)])


def test_a_resource_place_cannot_be_held_twice(salon):
    cut, tech = salon
    other = technician_make("Wang", services=[cut])
    room = Resource.objects.create(
        location=default_location(), resource_type=ResourceType.objects.create(name="Room"), name="VIP 1"
    )
    appointment_insert(client=client_make(), start=AT, lines=[(cut, tech)], resources=[room])
    with pytest.raises(IntegrityError, match="hold_place_no_overlap"), transaction.atomic():
        appointment_insert(client=client_make(), start=AT, lines=[(cut, other)], resources=[room])


def test_roster_exceptions_replace_the_pattern_and_times_stay_local_across_dst():
    # given a London technician working 10:00–18:00 every Sunday, and a day off on one Sunday
    london = __import__("zoneinfo").ZoneInfo("Europe/London")
    pattern = PatternRow(1, 7, 6, datetime.time(10), datetime.time(18), datetime.date(2030, 1, 1), None)
    off = ExceptionRow(1, datetime.date(2030, 3, 24), False, None, None, None)
    # when the roster is expanded over the clocks going forward (31 March 2030)
    periods = expand_roster(
        patterns=[pattern],
        exceptions=[off],
        date_from=datetime.date(2030, 3, 20),
        date_to=datetime.date(2030, 4, 2),
        tz=london,
    )[1]
    # then the day off has no period and 10:00 local is 10:00 UTC before and 09:00 UTC after the change
    assert [(p.start, p.end) for p in periods] == [
        (datetime.datetime(2030, 3, 31, 9, tzinfo=UTC), datetime.datetime(2030, 3, 31, 17, tzinfo=UTC)),
    ]
    periods = expand_roster(
        patterns=[pattern],
        exceptions=[],
        date_from=datetime.date(2030, 3, 24),
        date_to=datetime.date(2030, 3, 24),
        tz=london,
    )[1]
    assert [(p.start, p.end) for p in periods] == [
        (datetime.datetime(2030, 3, 24, 10, tzinfo=UTC), datetime.datetime(2030, 3, 24, 18, tzinfo=UTC)),
    ]

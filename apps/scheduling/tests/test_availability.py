"""The availability engine (SCH-4) through its loader: durations, buffers, skills, shifts, time off,
bookings, resources, sequences, "any staff", the grid, the online channel, time zones, errors and the
number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django_tenants.utils import schema_context

from apps.core.db import salon_timezone_forget
from apps.core.errors import ServiceError
from apps.core.models import Location
from apps.scheduling.availability import Slot, availability_search, availability_staff_options
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import (
    AppointmentStatus,
    Resource,
    ResourceType,
    SchedulingSettings,
    ServiceBookingRule,
    ShiftException,
    TimeOff,
)
from apps.scheduling.tests.support import (
    appointment_insert,
    client_make,
    default_location,
    service_make,
    technician_make,
)
from tenants.models import Salon

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
DAY = datetime.date(2030, 3, 4)  # a Monday
BEFORE = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


def at(hhmm: str, day: datetime.date = DAY, tz: datetime.tzinfo = SHANGHAI) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=tz)


def starts(slots: list[Slot]) -> list[str]:
    return [s.start.strftime("%H:%M") for s in slots]


def search(services, **kwargs) -> list[Slot]:
    kwargs.setdefault("date_from", DAY)
    kwargs.setdefault("date_to", kwargs["date_from"])
    kwargs.setdefault("now", BEFORE)
    return availability_search(location=default_location(), services=services, **kwargs)


def hourly(step: int = 60) -> None:
    SchedulingSettings.objects.filter(id=1).update(slot_step_minutes=step)


def test_a_shift_gives_slots_on_the_grid_that_fit_duration_and_buffer(in_alpha):
    # given a 60-minute service with 15 minutes buffer and a 10:00–13:00 shift
    cut = service_make("Cut", minutes=60, buffer=15)
    li = technician_make("Li", services=[cut], hours=("10:00", "13:00"))
    # when
    slots = search([cut])
    # then the last start leaves room for the buffer before 13:00
    assert starts(slots) == ["10:00", "10:15", "10:30", "10:45", "11:00", "11:15", "11:30", "11:45"]
    first = slots[0]
    assert (first.start, first.end) == (at("10:00"), at("11:00"))
    assert [(s.service_id, s.staff_id, s.busy_until) for s in first.segments] == [(cut.pk, li.pk, at("11:15"))]
    assert first.start.utcoffset() == datetime.timedelta(hours=8)


def test_bookings_time_off_and_the_buffer_block_the_technician(in_alpha):
    # given a booking 11:00–12:00 (+15) and time off 14:00–15:00
    hourly(30)
    cut = service_make("Cut", minutes=60, buffer=15)
    li = technician_make("Li", services=[cut], hours=("10:00", "16:00"))
    appointment_insert(client=client_make(), start=at("11:00"), lines=[(cut, li)])
    appointment_insert(client=client_make(), start=at("08:00"), lines=[(cut, li)], status=AppointmentStatus.CANCELLED)
    TimeOff.objects.create(staff=li, start=at("14:00"), end=at("15:00"))
    # when
    slots = search([cut])
    # then a start needs [start, start + 75 min) free within the shift
    assert starts(slots) == ["12:30"]


def test_a_booking_at_another_location_still_blocks(in_alpha):
    cut = service_make("Cut", minutes=60)
    li = technician_make("Li", services=[cut], hours=("10:00", "12:00"))
    other = Location.objects.create(name="East")
    appointment_insert(client=client_make(), start=at("10:00"), lines=[(cut, li)], location=other)
    hourly()
    assert starts(search([cut])) == ["11:00"]


def test_any_staff_takes_the_least_booked_skilled_technician(in_alpha):
    # given Li already has a booking that day, Wang none, Zhao lacks the skill
    hourly()
    cut, colour = service_make("Cut", minutes=60), service_make("Colour", minutes=60)
    li = technician_make("Li", services=[cut], hours=("10:00", "13:00"))
    wang = technician_make("Wang", services=[cut], hours=("10:00", "13:00"))
    technician_make("Zhao", services=[colour], hours=("10:00", "13:00"))
    appointment_insert(client=client_make(), start=at("12:00"), lines=[(cut, li)])
    # when
    slots = search([cut])
    # then
    assert [(s.start.strftime("%H:%M"), s.staff_id) for s in slots] == [
        ("10:00", wang.pk),
        ("11:00", wang.pk),
        ("12:00", wang.pk),
    ]


def test_a_sequence_starts_each_segment_when_the_previous_is_free(in_alpha):
    # given cut (30 + 15 buffer) by Li, then colour (60) by Wang only
    hourly(15)
    cut = service_make("Cut", minutes=30, buffer=15)
    colour = service_make("Colour", minutes=60)
    li = technician_make("Li", services=[cut], hours=("10:00", "12:00"))
    wang = technician_make("Wang", services=[colour], hours=("11:00", "13:00"))
    # when
    slots = search([cut, colour])
    # then colour starts 45 minutes after the cut, inside Wang's shift, and the cut inside Li's
    assert starts(slots) == ["10:15", "10:30", "10:45", "11:00", "11:15"]
    first = slots[0]
    assert [(s.service_id, s.staff_id, s.start, s.end, s.busy_until) for s in first.segments] == [
        (cut.pk, li.pk, at("10:15"), at("10:45"), at("11:00")),
        (colour.pk, wang.pk, at("11:00"), at("12:00"), at("12:00")),
    ]
    assert first.end == at("12:00")


def test_a_chosen_technician_does_every_segment_and_must_have_the_skills(in_alpha):
    hourly()
    cut, colour = service_make("Cut", minutes=60), service_make("Colour", minutes=60)
    li = technician_make("Li", services=[cut, colour], hours=("10:00", "13:00"))
    wang = technician_make("Wang", services=[cut], hours=("10:00", "13:00"))
    # when Li is chosen for both
    slots = search([cut, colour], staff=li)
    # then
    assert [[seg.staff_id for seg in s.segments] for s in slots] == [[li.pk, li.pk], [li.pk, li.pk]]
    with pytest.raises(ServiceError) as lacks:
        search([cut, colour], staff=wang)
    assert (lacks.value.code, lacks.value.field) == (SchedulingError.STAFF_LACKS_SKILL, "staff")


def test_a_segment_must_lie_in_one_working_period(in_alpha):
    # given a split shift 10:00–11:00 and 11:00–12:00 (two periods that touch) and a 90-minute service
    hourly(30)
    perm = service_make("Perm", minutes=90)
    li = technician_make("Li", services=[perm], hours=None)
    ShiftException.objects.create(
        staff=li, date=DAY, location=default_location(), start_time=datetime.time(10), end_time=datetime.time(11)
    )
    ShiftException.objects.create(
        staff=li, date=DAY, location=default_location(), start_time=datetime.time(11), end_time=datetime.time(13)
    )
    # then only starts inside the second period
    assert starts(search([perm])) == ["11:00", "11:30"]


def test_a_day_off_exception_replaces_the_pattern_and_inactive_staff_are_left_out(in_alpha):
    hourly()
    cut = service_make("Cut", minutes=60)
    li = technician_make("Li", services=[cut], hours=("10:00", "12:00"))
    wang = technician_make("Wang", services=[cut], hours=("10:00", "12:00"))
    ShiftException.objects.create(staff=li, date=DAY, is_working=False)
    wang.is_active = False
    wang.save()
    assert search([cut]) == []
    assert starts(search([cut], date_from=DAY + datetime.timedelta(days=1))) == ["10:00", "11:00"]


def test_staff_who_do_not_work_at_the_location_are_left_out(in_alpha):
    hourly()
    cut = service_make("Cut", minutes=60)
    li = technician_make("Li", services=[cut], hours=("10:00", "12:00"))
    other = Location.objects.create(name="East")
    li.locations.set([other])
    assert search([cut]) == []
    li.locations.set([other, default_location()])
    assert starts(search([cut])) == ["10:00", "11:00"]


def test_resources_limit_bookings_by_capacity(in_alpha):
    # given a facial needing a room; one double room with one place held 10:00–11:00
    hourly()
    facial = service_make("Facial", minutes=60)
    technician_make("Li", services=[facial], hours=("10:00", "13:00"))
    wang = technician_make("Wang", services=[facial], hours=("10:00", "13:00"))
    zhao = technician_make("Zhao", services=[facial], hours=("10:00", "13:00"))
    room_type = ResourceType.objects.create(name="Room")
    rule = ServiceBookingRule.objects.create(service=facial)
    rule.resource_types.set([room_type])
    room = Resource.objects.create(location=default_location(), resource_type=room_type, name="Double", capacity=2)
    appointment_insert(client=client_make(), start=at("10:00"), lines=[(facial, wang)], resources=[room])
    appointment_insert(client=client_make(), start=at("12:00"), lines=[(facial, zhao)], resources=[room])
    # then while a place is free slots remain
    assert starts(search([facial])) == ["10:00", "11:00", "12:00"]
    # when the second place is held 10:00–11:00 too
    from apps.scheduling.models import AppointmentResource

    hold = AppointmentResource.objects.get(start=at("12:00"))
    hold.place = 2
    hold.start, hold.end = at("10:00"), at("11:00")
    hold.save()
    assert starts(search([facial])) == ["11:00", "12:00"]
    # and with no active room of the type, nothing
    room.is_active = False
    room.save()
    assert search([facial]) == []


def test_the_grid_the_past_and_the_online_channel(in_alpha):
    # given a 30-minute grid, 120 minutes notice online, 2 days ahead, now 10:40 local
    SchedulingSettings.objects.filter(id=1).update(
        slot_step_minutes=30, online_min_notice_minutes=120, online_max_days_ahead=2
    )
    cut = service_make("Cut", minutes=30)
    technician_make("Li", services=[cut], hours=("10:00", "14:00"))
    now = at("10:40")
    # then staff see the rest of today, clients online from 12:40
    assert starts(search([cut], now=now)) == ["11:00", "11:30", "12:00", "12:30", "13:00", "13:30"]
    assert starts(search([cut], now=now, channel="online")) == ["13:00", "13:30"]
    far = DAY + datetime.timedelta(days=3)
    assert search([cut], now=now, channel="online", date_from=far) == []
    assert len(search([cut], now=now, channel="online", date_from=DAY + datetime.timedelta(days=2))) == 8
    # and a service not bookable online is refused on that channel
    ServiceBookingRule.objects.create(service=cut, is_online_bookable=False)
    with pytest.raises(ServiceError) as refused:
        search([cut], now=now, channel="online")
    assert refused.value.code == SchedulingError.SERVICE_NOT_BOOKABLE_ONLINE


def test_rescheduling_ignores_the_appointments_own_lines_and_holds(in_alpha):
    hourly()
    facial = service_make("Facial", minutes=60)
    li = technician_make("Li", services=[facial], hours=("10:00", "12:00"))
    room_type = ResourceType.objects.create(name="Room")
    ServiceBookingRule.objects.create(service=facial).resource_types.set([room_type])
    room = Resource.objects.create(location=default_location(), resource_type=room_type, name="R1")
    mine = appointment_insert(client=client_make(), start=at("10:00"), lines=[(facial, li)], resources=[room])
    assert starts(search([facial])) == ["11:00"]
    assert starts(search([facial], exclude_appointment=mine)) == ["10:00", "11:00"]


def test_staff_options_lists_who_can_take_the_whole_visit(in_alpha):
    hourly()
    cut, colour = service_make("Cut", minutes=60), service_make("Colour", minutes=60)
    li = technician_make("Li", services=[cut, colour], hours=("10:00", "13:00"))
    wang = technician_make("Wang", services=[cut, colour], hours=("10:00", "13:00"))
    technician_make("Zhao", services=[cut], hours=("10:00", "13:00"))
    appointment_insert(client=client_make(), start=at("11:00"), lines=[(cut, wang)])
    options = availability_staff_options(
        location=default_location(), services=[cut, colour], start=at("10:00"), now=BEFORE
    )
    assert options == [li]


def test_errors(in_alpha):
    cut = service_make("Cut", minutes=60)
    gone = service_make("Gone", minutes=60)
    gone.is_active = False
    gone.save()
    li = technician_make("Li", services=[cut])
    cases = [
        ({"services": [gone]}, SchedulingError.UNKNOWN_SERVICE, "service"),
        ({"services": []}, SchedulingError.UNKNOWN_SERVICE, "service"),
        ({"services": [cut] * 6}, SchedulingError.TOO_MANY_SERVICES, "services"),
        (
            {"services": [cut], "date_to": DAY + datetime.timedelta(days=31)},
            SchedulingError.RANGE_TOO_LONG,
            "date_to",
        ),
        (
            {"services": [cut], "date_to": DAY - datetime.timedelta(days=1)},
            SchedulingError.END_BEFORE_START,
            "date_to",
        ),
    ]
    for kwargs, code, field in cases:
        with pytest.raises(ServiceError) as raised:
            search(**kwargs)
        assert (raised.value.code, raised.value.field) == (code, field), kwargs
    assert len(search([cut], date_to=DAY + datetime.timedelta(days=30))) > 0
    li.is_active = False
    li.save()
    with pytest.raises(ServiceError) as inactive:
        search([cut], staff=li)
    assert (inactive.value.code, inactive.value.field) == (SchedulingError.UNKNOWN_STAFF, "staff")


def test_a_day_of_slots_for_one_service_takes_at_most_six_queries(in_alpha, django_assert_max_num_queries):
    # given a salon with staff, bookings, time off, exceptions and a room
    facial = service_make("Facial", minutes=60, buffer=10)
    staff = [technician_make(f"T{n}", services=[facial]) for n in range(5)]
    room_type = ResourceType.objects.create(name="Room")
    ServiceBookingRule.objects.create(service=facial).resource_types.set([room_type])
    room = Resource.objects.create(location=default_location(), resource_type=room_type, name="R1", capacity=3)
    appointment_insert(client=client_make(), start=at("10:00"), lines=[(facial, staff[0])], resources=[room])
    TimeOff.objects.create(staff=staff[1], start=at("12:00"), end=at("15:00"))
    ShiftException.objects.create(staff=staff[2], date=DAY, is_working=False)
    location = default_location()
    search([facial])  # the salon's zone is cached after the first read
    # when / then
    with django_assert_max_num_queries(6) as captured:
        slots = availability_search(location=location, services=[facial], date_from=DAY, date_to=DAY, now=BEFORE)
    # then one statement reads services, settings, staff, roster, bookings, time off, resources and holds
    # (django-tenants set the search path once, before the first statement of the test)
    sql = [q["sql"] for q in captured.captured_queries]
    assert [q.startswith("SET search_path") for q in sql] == [False]
    assert len(slots) == 32  # 10:00 … 17:45: a 70-minute span must end by 19:00


@pytest.fixture
def zone(alpha) -> Iterator[object]:
    def change(name: str) -> None:
        Salon.objects.filter(pk=alpha.salon.pk).update(timezone=name)
        salon_timezone_forget()

    yield change
    salon_timezone_forget()


@pytest.mark.parametrize(
    ("day", "offset"),
    [
        (datetime.date(2030, 3, 30), 0),  # GMT
        (datetime.date(2030, 3, 31), 1),  # clocks go forward at 01:00 UTC: BST from here
        (datetime.date(2030, 10, 26), 1),
        (datetime.date(2030, 10, 27), 0),  # back to GMT at 01:00 UTC
    ],
)
def test_london_slots_stay_at_local_times_across_dst(alpha, zone, day, offset):
    zone("Europe/London")
    with schema_context(alpha.schema):
        hourly()
        cut = service_make("Cut", minutes=60)
        technician_make("Li", services=[cut], hours=("10:00", "13:00"))
        slots = search([cut], date_from=day)
    assert starts(slots) == ["10:00", "11:00", "12:00"]
    assert slots[0].start == datetime.datetime.combine(
        day, datetime.time(10), tzinfo=datetime.timezone(datetime.timedelta(hours=offset))
    )
    assert slots[0].start.utcoffset() == datetime.timedelta(hours=offset)


def test_london_dst_days_have_23_and_25_hours_of_grid(alpha, zone):
    # given someone working round the clock on the change days, hourly grid
    zone("Europe/London")
    with schema_context(alpha.schema):
        hourly()
        cut = service_make("Cut", minutes=60)
        technician_make("Li", services=[cut], hours=("00:00", "23:59"))
        spring = search([cut], date_from=datetime.date(2030, 3, 31))
        autumn = search([cut], date_from=datetime.date(2030, 10, 27))
    # then 22 and 24 starts fit before 23:59 (the 23:00 start would end after it)
    assert (len(spring), len(autumn)) == (22, 24)
    assert starts(spring)[:3] == ["00:00", "02:00", "03:00"]
    assert starts(autumn)[:3] == ["00:00", "01:00", "01:00"]


def test_shanghai_slots_are_at_local_times(alpha, zone):
    zone("Asia/Shanghai")
    with schema_context(alpha.schema):
        hourly()
        cut = service_make("Cut", minutes=60)
        technician_make("Li", services=[cut], hours=("10:00", "12:00"))
        slots = search([cut])
    assert [s.start for s in slots] == [at("10:00"), at("11:00")]
    assert slots[0].start.astimezone(datetime.UTC).hour == 2


def test_the_other_salons_data_is_not_seen(alpha, beta):
    with schema_context(beta.schema):
        cut_beta = service_make("Cut", minutes=60)
        technician_make("Li", services=[cut_beta], hours=("10:00", "12:00"))
    with schema_context(alpha.schema):
        hourly()
        cut = service_make("Cut", minutes=60)
        assert search([cut]) == []

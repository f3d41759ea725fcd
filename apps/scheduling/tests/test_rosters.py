"""SCH-2 rosters: setting a week, dated exceptions, one-off shifts and time off — the services' rules."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django_tenants.utils import schema_context

from apps.core import services as core_services
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry, Location
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import ShiftException, ShiftPattern, TimeOff
from apps.scheduling.roster import roster_periods
from apps.scheduling.services import rosters
from tests.fixtures import owner_of
from tests.races import race, salon_for_races

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = datetime.date(2026, 3, 2)


def t(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def local(day: datetime.date, at: str) -> datetime.datetime:
    return datetime.datetime.combine(day, t(at), tzinfo=SHANGHAI)


def refused(call, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call(**kwargs)
    return caught.value


def rows(staff) -> list[tuple]:
    return list(
        ShiftPattern.objects.filter(staff=staff)
        .order_by("valid_from", "weekday", "start_time")
        .values_list("location_id", "weekday", "start_time", "end_time", "valid_from", "valid_until")
    )


@pytest.fixture
def team(in_alpha):
    owner = owner_of(in_alpha)
    tech = core_services.staff_create(name="Wang", role="technician", username="wang", acting_user=owner)
    main = Location.objects.get()
    branch = core_services.location_create(name="Branch", acting_user=owner)
    return {"owner": owner, "tech": tech, "main": main, "branch": branch}


def test_week_set_writes_the_week_and_ends_the_old_one(team):
    # given a week from March
    owner, tech, main = team["owner"], team["tech"], team["main"]
    rosters.roster_week_set(
        staff=tech,
        location=main,
        days={0: [(t("10:00"), t("19:00"))], 2: [(t("10:00"), t("14:00")), (t("15:00"), t("19:00"))]},
        valid_from=MONDAY,
        acting_user=owner,
    )
    # when a new week takes over on 16 March
    changed = rosters.roster_week_set(
        staff=tech,
        location=main,
        days={1: [(t("12:00"), t("21:00"))]},
        valid_from=datetime.date(2026, 3, 16),
        acting_user=owner,
    )
    # then the old rows end on the 15th and the new one starts on the 16th
    assert len(changed) == 1
    end = datetime.date(2026, 3, 15)
    assert rows(tech) == [
        (main.pk, 0, t("10:00"), t("19:00"), MONDAY, end),
        (main.pk, 2, t("10:00"), t("14:00"), MONDAY, end),
        (main.pk, 2, t("15:00"), t("19:00"), MONDAY, end),
        (main.pk, 1, t("12:00"), t("21:00"), datetime.date(2026, 3, 16), None),
    ]
    periods = roster_periods(staff_ids=[tech.pk], date_from=MONDAY, date_to=datetime.date(2026, 3, 17), tz=SHANGHAI)
    assert [(p.start, p.end) for p in periods[tech.pk]] == [
        (local(MONDAY, "10:00"), local(MONDAY, "19:00")),
        (local(datetime.date(2026, 3, 4), "10:00"), local(datetime.date(2026, 3, 4), "14:00")),
        (local(datetime.date(2026, 3, 4), "15:00"), local(datetime.date(2026, 3, 4), "19:00")),
        (local(datetime.date(2026, 3, 9), "10:00"), local(datetime.date(2026, 3, 9), "19:00")),
        (local(datetime.date(2026, 3, 11), "10:00"), local(datetime.date(2026, 3, 11), "14:00")),
        (local(datetime.date(2026, 3, 11), "15:00"), local(datetime.date(2026, 3, 11), "19:00")),
        (local(datetime.date(2026, 3, 17), "12:00"), local(datetime.date(2026, 3, 17), "21:00")),
    ]
    assert AuditEntry.objects.filter(action="scheduling.roster.week_set", target_id=str(tech.pk)).count() == 2


def test_week_set_again_from_the_same_day_replaces_rows_not_yet_started(team):
    owner, tech, main = team["owner"], team["tech"], team["main"]
    rosters.roster_week_set(
        staff=tech, location=main, days={0: [(t("10:00"), t("19:00"))]}, valid_from=MONDAY, acting_user=owner
    )
    rosters.roster_week_set(
        staff=tech, location=main, days={0: [(t("09:00"), t("18:00"))]}, valid_from=MONDAY, acting_user=owner
    )
    assert [r[1:] for r in rows(tech)] == [(0, t("09:00"), t("18:00"), MONDAY, None)]


def test_clearing_the_week_keeps_history(team):
    owner, tech, main = team["owner"], team["tech"], team["main"]
    rosters.roster_week_set(
        staff=tech, location=main, days={0: [(t("10:00"), t("19:00"))]}, valid_from=MONDAY, acting_user=owner
    )
    rosters.roster_week_clear(staff=tech, location=main, valid_from=datetime.date(2026, 4, 1), acting_user=owner)
    assert [r[1:] for r in rows(tech)] == [(0, t("10:00"), t("19:00"), MONDAY, datetime.date(2026, 3, 31))]


@pytest.mark.parametrize(
    ("days", "field", "code"),
    [
        ({3: [(t("19:00"), t("10:00"))]}, "day_3", SchedulingError.END_BEFORE_START),
        ({3: [(t("10:00"), t("10:00"))]}, "day_3", SchedulingError.END_BEFORE_START),
        ({4: [(t("10:00"), t("15:00")), (t("14:00"), t("19:00"))]}, "day_4", SchedulingError.SHIFT_OVERLAP),
        ({7: [(t("10:00"), t("15:00"))]}, "days", SchedulingError.INVALID),
        ({1: [("10:00", "15:00")]}, "day_1", SchedulingError.INVALID),
    ],
)
def test_week_set_refuses_bad_hours_and_writes_nothing(team, days, field, code):
    # given an existing week
    owner, tech, main = team["owner"], team["tech"], team["main"]
    rosters.roster_week_set(
        staff=tech, location=main, days={0: [(t("10:00"), t("19:00"))]}, valid_from=MONDAY, acting_user=owner
    )
    before, audits = rows(tech), AuditEntry.objects.count()
    # when
    error = refused(
        rosters.roster_week_set,
        staff=tech,
        location=main,
        days={0: [(t("11:00"), t("12:00"))], **days},
        valid_from=datetime.date(2026, 4, 6),
        acting_user=owner,
    )
    # then
    assert (error.code, list(error.errors)) == (code, [field])
    assert rows(tech) == before and AuditEntry.objects.count() == audits


def test_week_set_refuses_overlap_with_another_location(team):
    # given Wang works Monday mornings at the branch
    owner, tech, main, branch = team["owner"], team["tech"], team["main"], team["branch"]
    rosters.roster_week_set(
        staff=tech, location=branch, days={0: [(t("09:00"), t("13:00"))]}, valid_from=MONDAY, acting_user=owner
    )
    # when the main salon gets him from 12:00 on Mondays
    error = refused(
        rosters.roster_week_set,
        staff=tech,
        location=main,
        days={0: [(t("12:00"), t("19:00"))]},
        valid_from=MONDAY,
        acting_user=owner,
    )
    # then
    assert error.code == SchedulingError.SHIFT_OVERLAP
    assert error.errors == {"day_0": ["This overlaps a shift of the same person at another location."]}
    assert ShiftPattern.objects.filter(location=main).count() == 0
    # and afternoons fit
    rosters.roster_week_set(
        staff=tech, location=main, days={0: [(t("13:00"), t("19:00"))]}, valid_from=MONDAY, acting_user=owner
    )
    # and a branch shift that ended earlier does not clash
    rosters.roster_week_clear(staff=tech, location=branch, valid_from=datetime.date(2026, 5, 4), acting_user=owner)
    rosters.roster_week_set(
        staff=tech,
        location=main,
        days={0: [(t("09:00"), t("19:00"))]},
        valid_from=datetime.date(2026, 5, 4),
        acting_user=owner,
    )


def test_week_set_refuses_inactive_staff_and_closed_location(team):
    owner, tech, main, branch = team["owner"], team["tech"], team["main"], team["branch"]
    core_services.location_update(location=branch, is_active=False, acting_user=owner)
    closed = refused(
        rosters.roster_week_set,
        staff=tech,
        location=branch,
        days={0: [(t("09:00"), t("13:00"))]},
        valid_from=MONDAY,
        acting_user=owner,
    )
    assert (closed.code, closed.errors) == (
        SchedulingError.INACTIVE_LOCATION,
        {"location": ["This location is closed."]},
    )
    core_services.staff_deactivate(user=tech, acting_user=owner)
    gone = refused(
        rosters.roster_week_set,
        staff=tech,
        location=main,
        days={0: [(t("09:00"), t("13:00"))]},
        valid_from=MONDAY,
        acting_user=owner,
    )
    assert gone.errors == {"staff": ["This staff member does not exist or no longer works here."]}
    assert ShiftPattern.objects.count() == 0


def test_pattern_add_and_remove(team):
    owner, tech, main, branch = team["owner"], team["tech"], team["main"], team["branch"]
    morning = rosters.shift_pattern_add(
        staff=tech,
        location=main,
        weekday=5,
        start_time=t("09:00"),
        end_time=t("13:00"),
        valid_from=MONDAY,
        acting_user=owner,
    )
    clash = refused(
        rosters.shift_pattern_add,
        staff=tech,
        location=branch,
        weekday=5,
        start_time=t("12:00"),
        end_time=t("18:00"),
        valid_from=datetime.date(2026, 6, 1),
        acting_user=owner,
    )
    assert clash.code == SchedulingError.SHIFT_OVERLAP
    # a period valid only before the morning starts does not clash
    rosters.shift_pattern_add(
        staff=tech,
        location=branch,
        weekday=5,
        start_time=t("12:00"),
        end_time=t("18:00"),
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 2, 28),
        acting_user=owner,
    )
    # removing from a later date ends it the day before; removing before it starts deletes it
    rosters.shift_pattern_remove(pattern=morning, from_date=datetime.date(2026, 4, 1), acting_user=owner)
    assert ShiftPattern.objects.get(pk=morning.pk).valid_until == datetime.date(2026, 3, 31)
    future = rosters.shift_pattern_add(
        staff=tech,
        location=main,
        weekday=6,
        start_time=t("09:00"),
        end_time=t("13:00"),
        valid_from=datetime.date(2026, 9, 1),
        acting_user=owner,
    )
    rosters.shift_pattern_remove(pattern=future, from_date=datetime.date(2026, 4, 1), acting_user=owner)
    assert not ShiftPattern.objects.filter(pk=future.pk).exists()


def test_day_off_and_other_hours_replace_the_pattern_that_date(team):
    # given a Monday to Sunday 10–19 week
    owner, tech, main, branch = team["owner"], team["tech"], team["main"], team["branch"]
    rosters.roster_week_set(
        staff=tech,
        location=main,
        days={d: [(t("10:00"), t("19:00"))] for d in range(7)},
        valid_from=MONDAY,
        acting_user=owner,
    )
    tuesday, wednesday = MONDAY + datetime.timedelta(days=1), MONDAY + datetime.timedelta(days=2)
    # when Tuesday is a day off and Wednesday is 12–16 at the branch
    rosters.shift_exception_set(staff=tech, date=tuesday, is_working=False, note="Moving house", acting_user=owner)
    rosters.shift_exception_set(
        staff=tech,
        date=wednesday,
        is_working=True,
        location=branch,
        hours=[(t("12:00"), t("16:00"))],
        acting_user=owner,
    )
    # then
    periods = roster_periods(staff_ids=[tech.pk], date_from=tuesday, date_to=wednesday, tz=SHANGHAI)[tech.pk]
    assert [(p.start, p.end, p.location_id) for p in periods] == [
        (local(wednesday, "12:00"), local(wednesday, "16:00"), branch.pk)
    ]
    # when Tuesday is changed to working hours, the day off goes
    rosters.shift_exception_set(
        staff=tech, date=tuesday, is_working=True, location=main, hours=[(t("14:00"), t("20:00"))], acting_user=owner
    )
    assert list(ShiftException.objects.filter(date=tuesday).values_list("is_working", "start_time")) == [
        (True, t("14:00"))
    ]
    # when the exception is deleted, the pattern applies again
    rosters.shift_exception_delete(exception=ShiftException.objects.get(date=tuesday), acting_user=owner)
    periods = roster_periods(staff_ids=[tech.pk], date_from=tuesday, date_to=tuesday, tz=SHANGHAI)[tech.pk]
    assert [(p.start, p.end) for p in periods] == [(local(tuesday, "10:00"), local(tuesday, "19:00"))]
    assert AuditEntry.objects.filter(action__startswith="scheduling.shift_exception").count() == 4


def test_exception_refusals_write_nothing(team):
    owner, tech, main, branch = team["owner"], team["tech"], team["main"], team["branch"]
    rosters.shift_exception_set(staff=tech, date=MONDAY, is_working=False, acting_user=owner)
    before = list(ShiftException.objects.values_list("pk", flat=True))
    errors = [
        refused(
            rosters.shift_exception_set,
            staff=tech,
            date=MONDAY,
            is_working=True,
            location=main,
            hours=[],
            acting_user=owner,
        ),
        refused(
            rosters.shift_exception_set,
            staff=tech,
            date=MONDAY,
            is_working=True,
            location=main,
            hours=[(t("18:00"), t("09:00"))],
            acting_user=owner,
        ),
        refused(
            rosters.shift_exception_set,
            staff=tech,
            date=MONDAY,
            is_working=True,
            location=None,
            hours=[(t("09:00"), t("18:00"))],
            acting_user=owner,
        ),
        refused(
            rosters.shift_exception_set, staff=tech, date=MONDAY, is_working=False, note="x" * 201, acting_user=owner
        ),
    ]
    assert [e.errors for e in errors] == [
        {"hours": ["Enter the working hours."]},
        {"hours": ["The end must be after the start."]},
        {"location": ["This location is closed."]},
        {"note": ["This text is too long."]},
    ]
    assert list(ShiftException.objects.values_list("pk", flat=True)) == before
    assert branch.is_active


def test_shift_add_keeps_the_weekly_hours_of_that_day(team):
    # given Wang works 10–14 on Mondays at the main salon
    owner, tech, main, branch = team["owner"], team["tech"], team["main"], team["branch"]
    rosters.roster_week_set(
        staff=tech, location=main, days={0: [(t("10:00"), t("14:00"))]}, valid_from=MONDAY, acting_user=owner
    )
    # when an evening shift at the branch is added that Monday
    rosters.shift_add(
        staff=tech, location=branch, start=local(MONDAY, "17:00"), end=local(MONDAY, "21:00"), acting_user=owner
    )
    # then he works both
    periods = roster_periods(staff_ids=[tech.pk], date_from=MONDAY, date_to=MONDAY, tz=SHANGHAI)[tech.pk]
    assert [(p.start, p.end, p.location_id) for p in periods] == [
        (local(MONDAY, "10:00"), local(MONDAY, "14:00"), main.pk),
        (local(MONDAY, "17:00"), local(MONDAY, "21:00"), branch.pk),
    ]
    # and an overlapping one, or one across midnight, is refused without writing anything
    count = ShiftException.objects.count()
    overlap = refused(
        rosters.shift_add,
        staff=tech,
        location=main,
        start=local(MONDAY, "13:00"),
        end=local(MONDAY, "15:00"),
        acting_user=owner,
    )
    night = refused(
        rosters.shift_add,
        staff=tech,
        location=main,
        start=local(MONDAY, "22:00"),
        end=local(MONDAY + datetime.timedelta(days=1), "02:00"),
        acting_user=owner,
    )
    backwards = refused(
        rosters.shift_add,
        staff=tech,
        location=main,
        start=local(MONDAY, "22:00"),
        end=local(MONDAY, "21:00"),
        acting_user=owner,
    )
    assert [overlap.code, night.code, backwards.code] == [
        SchedulingError.SHIFT_OVERLAP,
        SchedulingError.INVALID,
        SchedulingError.END_BEFORE_START,
    ]
    assert ShiftException.objects.count() == count
    # a shift on a day with no roster yet is that day's only period
    tuesday = MONDAY + datetime.timedelta(days=1)
    rosters.shift_add(
        staff=tech, location=main, start=local(tuesday, "09:00"), end=local(tuesday, "12:00"), acting_user=owner
    )
    assert ShiftException.objects.filter(date=tuesday).count() == 1


def test_time_off_add_and_delete(team):
    owner, tech = team["owner"], team["tech"]
    off = rosters.time_off_add(
        staff=tech,
        start=local(MONDAY, "00:00"),
        end=local(MONDAY + datetime.timedelta(days=3), "00:00"),
        kind="sick",
        note="Flu",
        acting_user=owner,
    )
    stored = TimeOff.objects.get()
    assert (stored.pk, stored.kind, stored.note, stored.created_by) == (off.pk, "sick", "Flu", owner)
    errors = [
        refused(
            rosters.time_off_add,
            staff=tech,
            start=local(MONDAY, "12:00"),
            end=local(MONDAY, "11:00"),
            acting_user=owner,
        ),
        refused(
            rosters.time_off_add,
            staff=tech,
            start=local(MONDAY, "12:00"),
            end=local(MONDAY, "13:00"),
            kind="holiday",
            acting_user=owner,
        ),
        refused(
            rosters.time_off_add,
            staff=tech,
            start=datetime.datetime(2026, 3, 2, 12),
            end=local(MONDAY, "13:00"),
            acting_user=owner,
        ),
    ]
    assert [e.errors for e in errors] == [
        {"end": ["The end must be after the start."]},
        {"kind": ["Enter a valid value."]},
        {"start": ["Enter a valid value."]},
    ]
    assert TimeOff.objects.count() == 1
    rosters.time_off_delete(time_off=off, acting_user=owner)
    assert TimeOff.objects.count() == 0
    assert list(
        AuditEntry.objects.filter(action__startswith="scheduling.time_off")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "scheduling.time_off.added",
        "scheduling.time_off.deleted",
    ]


def test_rosters_stay_in_their_salon(team, beta):
    owner, tech, main = team["owner"], team["tech"], team["main"]
    rosters.roster_week_set(
        staff=tech, location=main, days={0: [(t("10:00"), t("19:00"))]}, valid_from=MONDAY, acting_user=owner
    )
    with schema_context(beta.schema):
        assert ShiftPattern.objects.count() == 0


@pytest.fixture
def race_salon(two_salons, django_db_blocker):
    with django_db_blocker.unblock(), salon_for_races("roster-race") as schema:
        yield schema


def test_overlapping_periods_added_at_once_leave_exactly_one(race_salon):
    # given a technician and two locations
    with schema_context(race_salon):
        tech = core_services.staff_create(name="Wang", role="technician", username="wang")
        places = [Location.objects.get(), core_services.location_create(name="Branch")]
    # when six people add overlapping Monday periods for him at the same moment, at either location
    outcomes = race(
        race_salon,
        6,
        lambda i: rosters.shift_pattern_add(
            staff=tech,
            location=places[i % 2],
            weekday=0,
            start_time=t(f"{10 + i}:00"),
            end_time=t(f"{17 + i}:00"),
            valid_from=MONDAY,
            acting_user=None,
        ),
    )
    # then the user-row lock serialises them: one is added, every other one is refused as an overlap
    added = [o for o in outcomes if isinstance(o, ShiftPattern)]
    refused_ = [o for o in outcomes if not isinstance(o, ShiftPattern)]
    assert len(added) == 1
    assert all(isinstance(o, ServiceError) and o.code == SchedulingError.SHIFT_OVERLAP for o in refused_), refused_
    with schema_context(race_salon):
        assert ShiftPattern.objects.count() == 1

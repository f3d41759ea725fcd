"""The calendar's set-up pages: roster by week, a staff member's week, exceptions, time off, rooms and
resources, booking rules and booking settings."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django_tenants.utils import schema_context

from apps.catalog.tests.helpers import haircut
from apps.core.models import Location
from apps.scheduling.models import (
    Resource,
    ResourceType,
    SchedulingSettings,
    ServiceBookingRule,
    ShiftException,
    ShiftPattern,
    TimeOff,
)
from apps.scheduling.services import resources, rosters
from tests.fixtures import logged_in_client, make_staff, owner_of

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = datetime.date(2026, 3, 2)
PAGES = [
    "/calendar/setup/roster/",
    "/calendar/setup/time-off/",
    "/calendar/setup/resources/",
    "/calendar/setup/services/",
    "/calendar/setup/settings/",
]


def t(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def english(client):
    client.post("/account/language/", {"language": "en"})
    return client


@pytest.fixture
def owner(alpha):
    return english(logged_in_client(alpha, alpha.owner_username))


@pytest.fixture
def tech(alpha):
    return make_staff(alpha, role="technician", username="wang")


def test_technicians_and_front_desk_are_refused(alpha, tech):
    make_staff(alpha, role="front_desk", username="desk")
    for username in ("wang", "desk"):
        client = logged_in_client(alpha, username)
        assert [client.get(page).status_code for page in PAGES] == [403] * len(PAGES), username
        with schema_context(alpha.schema):
            location = Location.objects.get()
        response = client.post(
            f"/calendar/setup/roster/staff/{tech.pk}/?location={location.pk}",
            {"valid_from": "2026-03-02", "day_0": "10:00-19:00"},
        )
        assert response.status_code == 403
    with schema_context(alpha.schema):
        assert ShiftPattern.objects.count() == 0


def test_owner_sees_every_page(owner, tech):
    for page in PAGES:
        response = owner.get(page)
        assert response.status_code == 200, page
        assert 'aria-current="page"' in response.content.decode()


def test_owner_sets_a_week_and_sees_it_on_the_grid(alpha, owner, tech):
    # given
    with schema_context(alpha.schema):
        main = Location.objects.get()
    # when
    response = owner.post(
        f"/calendar/setup/roster/staff/{tech.pk}/?location={main.pk}",
        {
            "location": main.pk,
            "valid_from": "2026-03-02",
            "day_0": "10:00-19:00",
            "day_2": "10:00 - 14:00, 15:00-19:00",
            "day_5": "9:00-18:00",
        },
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/calendar/setup/roster/?location={main.pk}&week=2026-03-02"
    with schema_context(alpha.schema):
        assert list(
            ShiftPattern.objects.filter(staff=tech)
            .order_by("weekday", "start_time")
            .values_list("weekday", "start_time", "end_time", "valid_from")
        ) == [
            (0, t("10:00"), t("19:00"), MONDAY),
            (2, t("10:00"), t("14:00"), MONDAY),
            (2, t("15:00"), t("19:00"), MONDAY),
            (5, t("09:00"), t("18:00"), MONDAY),
        ]
    grid = owner.get(f"/calendar/setup/roster/?location={main.pk}&week=2026-03-04").content.decode()
    assert "10:00–19:00" in grid and "15:00–19:00" in grid and "09:00–18:00" in grid
    assert "2026-03-02 – 2026-03-08" in grid
    # and the edit page shows the week in force today
    edit = owner.get(f"/calendar/setup/roster/staff/{tech.pk}/?location={main.pk}").content.decode()
    assert 'value="10:00-14:00, 15:00-19:00"' in edit


def test_week_form_errors_are_shown_and_nothing_is_written(alpha, owner, tech):
    with schema_context(alpha.schema):
        main = Location.objects.get()
    url = f"/calendar/setup/roster/staff/{tech.pk}/?location={main.pk}"
    typo = owner.post(url, {"location": main.pk, "valid_from": "2026-03-02", "day_1": "ten to seven"})
    backwards = owner.post(url, {"location": main.pk, "valid_from": "2026-03-02", "day_1": "19:00-10:00"})
    overlap = owner.post(url, {"location": main.pk, "valid_from": "2026-03-02", "day_1": "10:00-15:00, 14:00-19:00"})
    assert [r.status_code for r in (typo, backwards, overlap)] == [200, 200, 200]
    assert "Enter hours like 10:00-19:00; separate several periods with commas." in typo.content.decode()
    assert "The end must be after the start." in backwards.content.decode()
    assert "This overlaps another shift of the same person." in overlap.content.decode()
    with schema_context(alpha.schema):
        assert ShiftPattern.objects.count() == 0


def test_day_off_and_other_hours_on_the_roster_page(alpha, owner, tech):
    # given a Monday-to-Friday week
    with schema_context(alpha.schema):
        main = Location.objects.get()
        rosters.roster_week_set(
            staff=tech,
            location=main,
            days={d: [(t("10:00"), t("19:00"))] for d in range(5)},
            valid_from=MONDAY,
            acting_user=owner_of(alpha),
        )
    url = f"/calendar/setup/roster/?location={main.pk}&week=2026-03-02"
    # when Tuesday is a day off and Saturday is worked 12–16
    off = owner.post(url, {"staff": tech.pk, "date": "2026-03-03", "kind": "off", "note": "Dentist"})
    extra = owner.post(
        url, {"staff": tech.pk, "date": "2026-03-07", "kind": "hours", "location": main.pk, "hours": "12:00-16:00"}
    )
    # then
    assert (off.status_code, extra.status_code) == (302, 302)
    page = owner.get(url).content.decode()
    assert page.count("Day off") >= 2  # the grid's mark and the exceptions list
    assert "Dentist" in page and "12:00–16:00" in page and "Changed" in page
    # errors are shown and nothing is written
    bad = owner.post(url, {"staff": tech.pk, "date": "2026-03-04", "kind": "hours", "location": main.pk, "hours": ""})
    assert bad.status_code == 200 and "Enter the working hours." in bad.content.decode()
    with schema_context(alpha.schema):
        assert ShiftException.objects.count() == 2
        tuesday = ShiftException.objects.get(date=datetime.date(2026, 3, 3))
    # when the day off is removed
    removed = owner.post(f"/calendar/setup/roster/exceptions/{tuesday.pk}/delete/", {"location": main.pk})
    assert removed.status_code == 302
    with schema_context(alpha.schema):
        assert ShiftException.objects.count() == 1


def test_roster_grid_query_count_does_not_grow_with_staff(alpha, owner, django_assert_max_num_queries):
    with schema_context(alpha.schema):
        main = Location.objects.get()
        owner_user = owner_of(alpha)
    for n in range(6):
        member = make_staff(alpha, role="technician", username=f"tech{n}")
        with schema_context(alpha.schema):
            rosters.roster_week_set(
                staff=member,
                location=main,
                days={d: [(t("10:00"), t("19:00"))] for d in range(7)},
                valid_from=MONDAY,
                acting_user=owner_user,
            )
            rosters.shift_exception_set(staff=member, date=MONDAY, is_working=False, acting_user=owner_user)
            rosters.time_off_add(
                staff=member,
                start=datetime.datetime(2026, 3, 3, 9, tzinfo=SHANGHAI),
                end=datetime.datetime(2026, 3, 3, 12, tzinfo=SHANGHAI),
                acting_user=owner_user,
            )
    # 13 statements, each after a SET search_path (session, user, permissions, location, locations, staff,
    # patterns, exceptions twice, time off, exceptions list, messages): the same for 6 people as for 1.
    with django_assert_max_num_queries(26):
        response = owner.get(f"/calendar/setup/roster/?location={main.pk}&week=2026-03-02")
    assert response.status_code == 200
    assert response.content.decode().count("Set the week") >= 6


def test_time_off_page_adds_lists_and_removes(alpha, owner, tech):
    response = owner.post(
        "/calendar/setup/time-off/",
        {
            "staff": tech.pk,
            "start": "2099-05-01T09:00",
            "end": "2099-05-03T19:00",
            "kind": "training",
            "note": "Course",
        },
    )
    assert response.status_code == 302
    with schema_context(alpha.schema):
        entry = TimeOff.objects.get()
        assert (entry.start, entry.end, entry.kind) == (
            datetime.datetime(2099, 5, 1, 9, tzinfo=SHANGHAI),
            datetime.datetime(2099, 5, 3, 19, tzinfo=SHANGHAI),
            "training",
        )
    page = owner.get("/calendar/setup/time-off/").content.decode()
    assert "2099-05-01 09:00" in page and "Training" in page and "Course" in page
    bad = owner.post(
        "/calendar/setup/time-off/",
        {"staff": tech.pk, "start": "2099-05-03T09:00", "end": "2099-05-01T19:00", "kind": "leave"},
    )
    assert bad.status_code == 200 and "The end must be after the start." in bad.content.decode()
    assert owner.post(f"/calendar/setup/time-off/{entry.pk}/delete/").status_code == 302
    with schema_context(alpha.schema):
        assert TimeOff.objects.count() == 0


def test_resources_page(alpha, owner):
    with schema_context(alpha.schema):
        main = Location.objects.get()
    added_type = owner.post("/calendar/setup/resources/", {"form": "type", "type-name": "Facial room"})
    assert added_type.status_code == 302
    with schema_context(alpha.schema):
        room = ResourceType.objects.get()
    added = owner.post(
        "/calendar/setup/resources/",
        {
            "form": "resource",
            "location": main.pk,
            "resource-name": "Double room",
            "resource-resource_type": room.pk,
            "resource-capacity": "2",
            "resource-sort_order": "1",
        },
    )
    assert added.status_code == 302
    duplicate = owner.post(
        "/calendar/setup/resources/",
        {
            "form": "resource",
            "location": main.pk,
            "resource-name": "double ROOM",
            "resource-resource_type": room.pk,
            "resource-capacity": "1",
            "resource-sort_order": "0",
        },
    )
    assert "This location already has a resource with this name." in duplicate.content.decode()
    with schema_context(alpha.schema):
        double = Resource.objects.get()
        assert (double.name, double.capacity, double.location) == ("Double room", 2, main)
    edited = owner.post(
        f"/calendar/setup/resources/{double.pk}/",
        {"name": "VIP double", "resource_type": room.pk, "capacity": "2", "sort_order": "1"},
    )
    assert edited.status_code == 302
    with schema_context(alpha.schema):
        assert (Resource.objects.get().name, Resource.objects.get().is_active) == ("VIP double", False)
    page = owner.get("/calendar/setup/resources/").content.decode()
    assert "VIP double" in page and "Facial room" in page


def test_service_rule_page_takes_yuan_and_stores_fen(alpha, owner):
    with schema_context(alpha.schema):
        cut = haircut()
        room = resources.resource_type_create(name="Facial room", acting_user=None)
    listing = owner.get("/calendar/setup/services/").content.decode()
    assert "Women&#x27;s cut" in listing or "Women's cut" in listing
    response = owner.post(
        f"/calendar/setup/services/{cut.pk}/", {"resource_types": [room.pk], "deposit_amount": "50.5"}
    )
    assert response.status_code == 302
    with schema_context(alpha.schema):
        rule = ServiceBookingRule.objects.get(service=cut)
        assert (rule.deposit_amount, rule.is_online_bookable, list(rule.resource_types.all())) == (5050, False, [room])
    assert "¥50.50" in owner.get("/calendar/setup/services/").content.decode()
    bad = owner.post(f"/calendar/setup/services/{cut.pk}/", {"deposit_amount": "-1"})
    assert bad.status_code == 200 and 'class="error"' in bad.content.decode()


def test_settings_page(alpha, owner):
    page = owner.get("/calendar/setup/settings/").content.decode()
    assert 'value="1440, 120"' in page
    form = {
        "slot_step_minutes": "30",
        "online_min_notice_minutes": "120",
        "online_max_days_ahead": "30",
        "cancellation_window_hours": "24",
        "reminder_offsets_minutes": "60, 1440",
        "remind_staff": "on",
        "risky_no_show_count": "3",
        "risky_deposit_amount": "80",
        "waitlist_offer_minutes": "20",
    }
    assert owner.post("/calendar/setup/settings/", form).status_code == 302
    with schema_context(alpha.schema):
        row = SchedulingSettings.objects.get()
        assert (row.slot_step_minutes, row.reminder_offsets_minutes, row.risky_deposit_amount, row.remind_staff) == (
            30,
            [1440, 60],
            8000,
            True,
        )
        assert (row.no_show_forfeits_deposit, row.waitlist_offer_minutes) == (False, 20)
    bad = owner.post("/calendar/setup/settings/", {**form, "reminder_offsets_minutes": "60, 60"})
    assert bad.status_code == 200 and "Enter each reminder time only once." in bad.content.decode()
    with schema_context(alpha.schema):
        assert SchedulingSettings.objects.get().reminder_offsets_minutes == [1440, 60]

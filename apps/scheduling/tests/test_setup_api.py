"""API of rosters and resources: /api/v1/shifts/ (SPEC §4 ``staff, start, end``), shift-patterns,
time-off, resource-types, resources, services/{id}/booking-rule/ and booking-settings."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.catalog.tests.helpers import haircut
from apps.core.models import Location
from apps.scheduling.models import Resource, ResourceType, ShiftException, ShiftPattern, TimeOff
from apps.scheduling.services import resources, rosters
from tests.fixtures import api_token, make_staff, owner_of

MONDAY = datetime.date(2026, 3, 2)


def t(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def api(info, username: str) -> Client:
    return Client(
        HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}", HTTP_ACCEPT_LANGUAGE="en"
    )


@pytest.fixture
def setup(alpha):
    tech = make_staff(alpha, role="technician", username="wang")
    with schema_context(alpha.schema):
        main = Location.objects.get()
        rosters.roster_week_set(
            staff=tech,
            location=main,
            days={0: [(t("10:00"), t("14:00")), (t("15:00"), t("19:00"))], 1: [(t("09:00"), t("18:00"))]},
            valid_from=MONDAY,
            acting_user=owner_of(alpha),
        )
        rosters.shift_exception_set(
            staff=tech, date=MONDAY + datetime.timedelta(days=8), is_working=False, acting_user=owner_of(alpha)
        )
    return {"tech": tech, "main": main, "owner": api(alpha, alpha.owner_username)}


def test_shifts_lists_the_expanded_roster(setup):
    # given Wang works Mondays 10–14 and 15–19, Tuesdays 9–18, and has Tuesday 10 March off
    tech, main, owner = setup["tech"], setup["main"], setup["owner"]
    # when
    response = owner.get(f"/api/v1/shifts/?from=2026-03-02&to=2026-03-10&staff={tech.pk}")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 5
    assert body["results"] == [
        {
            "staff": tech.pk,
            "location": main.pk,
            "start": f"2026-03-{day}T{start}:00+08:00",
            "end": f"2026-03-{day}T{end}:00+08:00",
        }
        for day, start, end in [
            ("02", "10:00", "14:00"),
            ("02", "15:00", "19:00"),
            ("03", "09:00", "18:00"),
            ("09", "10:00", "14:00"),
            ("09", "15:00", "19:00"),
        ]
    ]


def test_shifts_query_errors_are_400_with_fields(setup):
    owner = setup["owner"]
    cases = {
        "?from=2026-03-01&to=2026-04-15": "to",
        "?from=2026-03-10&to=2026-03-01": "to",
        "?from=yesterday": "from",
        "?staff=999999": "staff",
        "?location=abc": "location",
    }
    for query, field in cases.items():
        response = owner.get(f"/api/v1/shifts/{query}")
        assert response.status_code == 400, query
        assert list(response.json()) == [field], (query, response.json())
    assert owner.get("/api/v1/shifts/?from=2026-03-01&to=2026-03-31").json()["count"] >= 0


def test_post_shift_adds_a_one_off_period(alpha, setup):
    tech, main, owner = setup["tech"], setup["main"], setup["owner"]
    response = owner.post(
        "/api/v1/shifts/",
        {
            "staff": tech.pk,
            "location": main.pk,
            "start": "2026-03-02T19:00:00+08:00",
            "end": "2026-03-02T21:00:00+08:00",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "staff": tech.pk,
        "location": main.pk,
        "start": "2026-03-02T19:00:00+08:00",
        "end": "2026-03-02T21:00:00+08:00",
    }
    monday = owner.get(f"/api/v1/shifts/?from=2026-03-02&to=2026-03-02&staff={tech.pk}").json()["results"]
    assert [(r["start"][11:16], r["end"][11:16]) for r in monday] == [
        ("10:00", "14:00"),
        ("15:00", "19:00"),
        ("19:00", "21:00"),
    ]
    overlap = owner.post(
        "/api/v1/shifts/",
        {
            "staff": tech.pk,
            "location": main.pk,
            "start": "2026-03-02T13:00:00+08:00",
            "end": "2026-03-02T16:00:00+08:00",
        },
        content_type="application/json",
    )
    backwards = owner.post(
        "/api/v1/shifts/",
        {
            "staff": tech.pk,
            "location": main.pk,
            "start": "2026-03-03T13:00:00+08:00",
            "end": "2026-03-03T12:00:00+08:00",
        },
        content_type="application/json",
    )
    missing = owner.post("/api/v1/shifts/", {"staff": tech.pk}, content_type="application/json")
    assert (overlap.status_code, overlap.json()) == (
        400,
        {"start": ["This overlaps another shift of the same person."]},
    )
    assert (backwards.status_code, backwards.json()) == (400, {"end": ["The end must be after the start."]})
    assert (missing.status_code, sorted(missing.json())) == (400, ["end", "location", "start"])
    with schema_context(alpha.schema):
        assert ShiftException.objects.filter(date=MONDAY).count() == 3


def test_shift_patterns_and_time_off(alpha, setup):
    tech, main, owner = setup["tech"], setup["main"], setup["owner"]
    listed = owner.get(f"/api/v1/shift-patterns/?staff={tech.pk}&on=2026-03-02").json()
    assert [(r["weekday"], r["start_time"], r["end_time"]) for r in listed["results"]] == [
        (0, "10:00:00", "14:00:00"),
        (0, "15:00:00", "19:00:00"),
        (1, "09:00:00", "18:00:00"),
    ]
    created = owner.post(
        "/api/v1/shift-patterns/",
        {
            "staff": tech.pk,
            "location": main.pk,
            "weekday": 5,
            "start_time": "10:00",
            "end_time": "16:00",
            "valid_from": "2026-03-01",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert {k: created.json()[k] for k in ("weekday", "start_time", "valid_from", "valid_until")} == {
        "weekday": 5,
        "start_time": "10:00:00",
        "valid_from": "2026-03-01",
        "valid_until": None,
    }
    clash = owner.post(
        "/api/v1/shift-patterns/",
        {
            "staff": tech.pk,
            "location": main.pk,
            "weekday": 5,
            "start_time": "15:00",
            "end_time": "18:00",
            "valid_from": "2026-03-01",
        },
        content_type="application/json",
    )
    assert (clash.status_code, clash.json()) == (
        400,
        {"start_time": ["This overlaps another shift of the same person."]},
    )
    bad_day = owner.post(
        "/api/v1/shift-patterns/",
        {"staff": tech.pk, "location": main.pk, "weekday": 9, "start_time": "15:00", "end_time": "18:00"},
        content_type="application/json",
    )
    assert (bad_day.status_code, list(bad_day.json())) == (400, ["weekday"])
    assert owner.delete(f"/api/v1/shift-patterns/{created.json()['id']}/").status_code == 204
    # time off
    off = owner.post(
        "/api/v1/time-off/",
        {"staff": tech.pk, "start": "2099-01-05T09:00:00+08:00", "end": "2099-01-06T19:00:00+08:00", "kind": "sick"},
        content_type="application/json",
    )
    assert off.status_code == 201, off.content
    assert owner.get("/api/v1/time-off/").json()["results"] == [
        {
            "id": off.json()["id"],
            "staff": tech.pk,
            "start": "2099-01-05T09:00:00+08:00",
            "end": "2099-01-06T19:00:00+08:00",
            "kind": "sick",
            "note": "",
        }
    ]
    wrong = owner.post(
        "/api/v1/time-off/",
        {"staff": tech.pk, "start": "2099-01-05T09:00:00+08:00", "end": "2099-01-05T08:00:00+08:00"},
        content_type="application/json",
    )
    assert (wrong.status_code, wrong.json()) == (400, {"end": ["The end must be after the start."]})
    assert owner.delete(f"/api/v1/time-off/{off.json()['id']}/").status_code == 204
    with schema_context(alpha.schema):
        assert TimeOff.objects.count() == 0


def test_resources_types_status_and_permissions(alpha, setup):
    main, owner = setup["main"], setup["owner"]
    make_staff(alpha, role="front_desk", username="desk")
    desk, tech = api(alpha, "desk"), api(alpha, "wang")
    room = owner.post("/api/v1/resource-types/", {"name": "Facial room"}, content_type="application/json")
    assert room.status_code == 201 and room.json()["name"] == "Facial room"
    duplicate = owner.post("/api/v1/resource-types/", {"name": "FACIAL room"}, content_type="application/json")
    assert (duplicate.status_code, duplicate.json()) == (
        400,
        {"name": ["A resource type with this name already exists."]},
    )
    created = owner.post(
        "/api/v1/resources/",
        {"location": main.pk, "resource_type": room.json()["id"], "name": "Double room", "capacity": 2},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert {k: created.json()[k] for k in ("name", "capacity", "status", "is_active")} == {
        "name": "Double room",
        "capacity": 2,
        "status": "free",
        "is_active": True,
    }
    rid = created.json()["id"]
    too_big = owner.patch(f"/api/v1/resources/{rid}/", {"capacity": 51}, content_type="application/json")
    assert (too_big.status_code, too_big.json()) == (400, {"capacity": ["Capacity must be between 1 and 50."]})
    # the front desk sets the live status but nothing else; a technician neither
    assert (
        desk.patch(f"/api/v1/resources/{rid}/", {"status": "occupied"}, content_type="application/json").json()[
            "status"
        ]
        == "occupied"
    )
    assert desk.patch(f"/api/v1/resources/{rid}/", {"name": "Mine"}, content_type="application/json").status_code == 403
    assert (
        tech.patch(f"/api/v1/resources/{rid}/", {"status": "free"}, content_type="application/json").status_code == 403
    )
    assert tech.post("/api/v1/resource-types/", {"name": "Bed"}, content_type="application/json").status_code == 403
    bad_status = owner.patch(f"/api/v1/resources/{rid}/", {"status": "dirty"}, content_type="application/json")
    assert (bad_status.status_code, list(bad_status.json())) == (400, ["status"])
    with schema_context(alpha.schema):
        stored = Resource.objects.get()
        assert (stored.name, stored.status, stored.capacity) == ("Double room", "occupied", 2)
        assert ResourceType.objects.count() == 1
    assert [r["name"] for r in tech.get(f"/api/v1/resources/?location={main.pk}").json()["results"]] == ["Double room"]


def test_booking_rule_and_settings(alpha, setup):
    owner = setup["owner"]
    tech = api(alpha, "wang")
    with schema_context(alpha.schema):
        cut = haircut()
        room = resources.resource_type_create(name="Facial room", acting_user=None)
    assert owner.get(f"/api/v1/services/{cut.pk}/booking-rule/").json() == {
        "service": cut.pk,
        "resource_types": [],
        "deposit_amount": 0,
        "is_online_bookable": True,
    }
    put = owner.put(
        f"/api/v1/services/{cut.pk}/booking-rule/",
        {"resource_types": [room.pk], "deposit_amount": 5000, "is_online_bookable": False},
        content_type="application/json",
    )
    assert (put.status_code, put.json()) == (
        200,
        {"service": cut.pk, "resource_types": [room.pk], "deposit_amount": 5000, "is_online_bookable": False},
    )
    negative = owner.put(
        f"/api/v1/services/{cut.pk}/booking-rule/",
        {"resource_types": [], "deposit_amount": -1, "is_online_bookable": True},
        content_type="application/json",
    )
    assert (negative.status_code, list(negative.json())) == (400, ["deposit_amount"])
    assert owner.get("/api/v1/services/999999/booking-rule/").status_code == 404
    assert (
        tech.put(
            f"/api/v1/services/{cut.pk}/booking-rule/",
            {"resource_types": [], "deposit_amount": 0, "is_online_bookable": True},
            content_type="application/json",
        ).status_code
        == 403
    )
    # settings
    assert owner.get("/api/v1/booking-settings/").json()["reminder_offsets_minutes"] == [1440, 120]
    patched = owner.patch(
        "/api/v1/booking-settings/",
        {"slot_step_minutes": 30, "reminder_offsets_minutes": [60]},
        content_type="application/json",
    )
    assert (patched.status_code, patched.json()["slot_step_minutes"], patched.json()["reminder_offsets_minutes"]) == (
        200,
        30,
        [60],
    )
    for body in (
        {"slot_step_minutes": 7},
        {"reminder_offsets_minutes": [0]},
        {"waitlist_offer_minutes": 0},
        {"remind_staff": "maybe"},
        {"reminder_offsets_minutes": "often"},
    ):
        response = owner.patch("/api/v1/booking-settings/", body, content_type="application/json")
        assert (response.status_code, list(response.json())) == (400, list(body)), body
    assert (
        tech.patch("/api/v1/booking-settings/", {"slot_step_minutes": 5}, content_type="application/json").status_code
        == 403
    )
    assert owner.get("/api/v1/booking-settings/").json()["slot_step_minutes"] == 30


def test_technician_cannot_write_rosters(alpha, setup):
    tech_user, main = setup["tech"], setup["main"]
    tech = api(alpha, "wang")
    responses = [
        tech.post(
            "/api/v1/shifts/",
            {
                "staff": tech_user.pk,
                "location": main.pk,
                "start": "2026-03-02T19:00:00+08:00",
                "end": "2026-03-02T21:00:00+08:00",
            },
            content_type="application/json",
        ),
        tech.post(
            "/api/v1/time-off/",
            {"staff": tech_user.pk, "start": "2099-01-05T09:00:00+08:00", "end": "2099-01-06T19:00:00+08:00"},
            content_type="application/json",
        ),
        tech.get("/api/v1/time-off/"),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403]
    assert tech.get("/api/v1/shifts/?from=2026-03-02&to=2026-03-02").status_code == 200
    with schema_context(alpha.schema):
        assert (ShiftException.objects.count(), TimeOff.objects.count()) == (1, 0)


def test_other_salons_ids_are_404(alpha, beta, setup):
    with schema_context(alpha.schema):
        room = resources.resource_type_create(name="Facial room", acting_user=None)
        resource = resources.resource_create(
            location=setup["main"], resource_type=room, name="Room 1", acting_user=None
        )
        pattern = ShiftPattern.objects.filter(staff=setup["tech"]).first()
        cut = haircut()
    beta_owner = api(beta, beta.owner_username)
    assert beta_owner.get(f"/api/v1/resources/{resource.pk}/").status_code == 404
    assert (
        beta_owner.patch(
            f"/api/v1/resources/{resource.pk}/", {"status": "occupied"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert beta_owner.get(f"/api/v1/resource-types/{room.pk}/").status_code == 404
    assert beta_owner.delete(f"/api/v1/shift-patterns/{pattern.pk}/").status_code == 404
    assert beta_owner.get(f"/api/v1/services/{cut.pk}/booking-rule/").status_code == 404
    assert beta_owner.get("/api/v1/shifts/?from=2026-03-02&to=2026-03-08").json()["count"] == 0
    assert beta_owner.get("/api/v1/resources/").json()["count"] == 0
    with schema_context(alpha.schema):
        assert Resource.objects.get().status == "free"
        assert ShiftPattern.objects.filter(pk=pattern.pk, valid_until__isnull=True).exists()

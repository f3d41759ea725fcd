"""/api/v1/waitlist/, /api/v1/walk-ins/ and /api/v1/rotation/: shapes, refusals (nothing written), the
409 of a collision, permission ``book_appointments``; two salons."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.core.db import salon_today
from apps.scheduling.models import RotationEntry, WaitlistEntry, WaitlistStatus, WalkIn, WalkInStatus
from apps.scheduling.tests.support import (
    client_make,
    default_location,
    service_make,
    technician_make,
)
from tests.fixtures import api_token, make_staff

# Walk-ins are served "now": at the salon's midday, whenever the suite runs, "now" is inside the shifts.
pytestmark = pytest.mark.usefixtures("salon_midday")


def api(info, username: str) -> HttpClient:
    return HttpClient(
        HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}", HTTP_ACCEPT_LANGUAGE="en"
    )


def _day_after_tomorrow() -> datetime.date:
    return salon_today() + datetime.timedelta(days=2)


def _salon(info, *, all_day: bool = False):
    hours = ("00:00", "23:59") if all_day else ("10:00", "19:00")
    with schema_context(info.schema):
        cut = service_make("Cut", minutes=15)
        bai = technician_make("Bai", services=[cut], hours=hours)
        chen = technician_make("Chen", services=[cut], hours=hours)
        client = client_make("Li Na")
        return {"cut": cut, "bai": bai, "chen": chen, "client": client, "location": default_location()}


def test_waitlist_create_list_and_delete(alpha):
    # given
    salon = _salon(alpha)
    owner = api(alpha, alpha.owner_username)
    day = _day_after_tomorrow()
    # when
    created = owner.post(
        "/api/v1/waitlist/",
        {
            "client": salon["client"].pk,
            "services": [salon["cut"].pk],
            "staff": salon["bai"].pk,
            "date": day.isoformat(),
            "earliest": "14:00",
            "latest": "17:00",
            "notes": "any day this week",
        },
        content_type="application/json",
    )
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("client", "client_name", "services", "staff", "date", "earliest", "latest")} == {
        "client": salon["client"].pk,
        "client_name": "Li Na",
        "services": [salon["cut"].pk],
        "staff": salon["bai"].pk,
        "date": day.isoformat(),
        "earliest": "14:00",
        "latest": "17:00",
    }
    assert (body["status"], body["appointment"], body["offers"], body["location"]) == (
        "waiting",
        None,
        [],
        salon["location"].pk,
    )
    listed = owner.get(f"/api/v1/waitlist/?date={day.isoformat()}").json()
    assert (listed["count"], listed["results"][0]["id"]) == (1, body["id"])
    assert owner.get(f"/api/v1/waitlist/?date={salon_today().isoformat()}").json()["count"] == 0
    assert owner.delete(f"/api/v1/waitlist/{body['id']}/").status_code == 204
    again = owner.delete(f"/api/v1/waitlist/{body['id']}/")
    assert (again.status_code, again.json()["code"]) == (400, "not_waiting")
    with schema_context(alpha.schema):
        assert WaitlistEntry.objects.get().status == WaitlistStatus.CANCELLED


def test_waitlist_refusals_write_nothing(alpha):
    salon = _salon(alpha)
    owner = api(alpha, alpha.owner_username)
    base = {"client": salon["client"].pk, "services": [salon["cut"].pk], "date": _day_after_tomorrow().isoformat()}
    backwards = owner.post(
        "/api/v1/waitlist/", {**base, "earliest": "17:00", "latest": "14:00"}, content_type="application/json"
    )
    assert (backwards.status_code, backwards.json()) == (400, {"latest": ["The end must be after the start."]})
    past = owner.post(
        "/api/v1/waitlist/",
        {**base, "date": "2020-01-01", "earliest": "14:00", "latest": "17:00"},
        content_type="application/json",
    )
    assert (past.status_code, past.json()) == (400, {"date": ["This time has already passed."]})
    nobody = owner.post(
        "/api/v1/waitlist/",
        {**base, "client": 999999, "earliest": "14:00", "latest": "17:00"},
        content_type="application/json",
    )
    assert (nobody.status_code, nobody.json()) == (400, {"client": ["This client does not exist."]})
    with schema_context(alpha.schema):
        assert WaitlistEntry.objects.count() == 0


def test_a_technician_may_not_use_the_queues(alpha):
    make_staff(alpha, role="technician", username="tech")
    tech = api(alpha, "tech")
    for path in ("/api/v1/waitlist/", "/api/v1/walk-ins/", "/api/v1/rotation/"):
        assert tech.get(path).status_code == 403, path
    assert HttpClient(HTTP_HOST=alpha.host).get("/api/v1/walk-ins/").status_code == 401


def test_walk_in_added_assigned_by_rotation_and_by_request(alpha):
    # given
    salon = _salon(alpha, all_day=True)
    owner = api(alpha, alpha.owner_username)
    # when a walk-in by name is added and assigned by rotation
    added = owner.post(
        "/api/v1/walk-ins/", {"name": "Ms Zhou", "services": [salon["cut"].pk]}, content_type="application/json"
    )
    assert added.status_code == 201, added.content
    walk_in = added.json()
    assert (walk_in["name"], walk_in["status"], walk_in["client"], walk_in["services"]) == (
        "Ms Zhou",
        "waiting",
        None,
        [salon["cut"].pk],
    )
    assigned = owner.post(f"/api/v1/walk-ins/{walk_in['id']}/assign/", {}, content_type="application/json")
    # then Bai, first in the rotation, serves it
    assert assigned.status_code == 200, assigned.content
    assert (assigned.json()["status"], assigned.json()["assigned_staff"]) == ("serving", salon["bai"].pk)
    assert assigned.json()["appointment"] is not None and assigned.json()["client"] is not None
    # a client who asks for Bai, now busy: 409 and nothing changes
    requested = owner.post(
        "/api/v1/walk-ins/",
        {"client": salon["client"].pk, "services": [salon["cut"].pk], "requested_staff": salon["bai"].pk},
        content_type="application/json",
    ).json()
    busy = owner.post(
        f"/api/v1/walk-ins/{requested['id']}/assign/", {"requested": True}, content_type="application/json"
    )
    assert (busy.status_code, busy.json()["code"]) == (409, "staff_busy")
    with schema_context(alpha.schema):
        assert WalkIn.objects.get(pk=requested["id"]).status == WalkInStatus.WAITING
    # by rotation instead: Chen
    by_rotation = owner.post(f"/api/v1/walk-ins/{requested['id']}/assign/", {}, content_type="application/json")
    assert by_rotation.json()["assigned_staff"] == salon["chen"].pk
    listed = owner.get("/api/v1/walk-ins/").json()
    assert [w["status"] for w in listed["results"]] == ["serving", "serving"]


def test_nobody_free_and_leaving(alpha):
    salon = _salon(alpha)
    owner = api(alpha, alpha.owner_username)
    with schema_context(alpha.schema):
        # nobody on the roster today
        from apps.scheduling.models import ShiftPattern

        ShiftPattern.objects.all().delete()
    walk_in = owner.post(
        "/api/v1/walk-ins/", {"name": "Mr Wu", "services": [salon["cut"].pk]}, content_type="application/json"
    ).json()
    refused = owner.post(f"/api/v1/walk-ins/{walk_in['id']}/assign/", {}, content_type="application/json")
    assert (refused.status_code, refused.json()["code"]) == (400, "no_technician_free")
    no_request = owner.post(
        f"/api/v1/walk-ins/{walk_in['id']}/assign/", {"requested": True}, content_type="application/json"
    )
    assert (no_request.status_code, no_request.json()) == (400, {"requested": ["This walk-in asked for nobody."]})
    left = owner.post(f"/api/v1/walk-ins/{walk_in['id']}/left/")
    assert (left.status_code, left.json()["status"]) == (200, "left")


def test_rotation_build_read_skip_away_back_reorder(alpha):
    # given
    salon = _salon(alpha, all_day=True)
    owner = api(alpha, alpha.owner_username)
    today = salon_today().isoformat()
    # when
    built = owner.post("/api/v1/rotation/", {"date": today}, content_type="application/json")
    # then
    assert built.status_code == 200, built.content
    cards = built.json()["cards"]
    assert [(c["staff_name"], c["position"], c["status"]) for c in cards] == [
        ("Bai", 1, "available"),
        ("Chen", 2, "available"),
    ]
    read = owner.get(f"/api/v1/rotation/?date={today}&service={salon['cut'].pk}").json()
    assert (read["next"]["staff"], read["date"], read["location"]) == (salon["bai"].pk, today, salon["location"].pk)
    skipped = owner.post(
        f"/api/v1/rotation/{cards[0]['id']}/skip/", {"reason": "Lunch"}, content_type="application/json"
    )
    assert (skipped.json()["position"], skipped.json()["skips"]) == (3, 1)
    assert owner.post(f"/api/v1/rotation/{cards[1]['id']}/away/").json()["status"] == "away"
    assert owner.get(f"/api/v1/rotation/?service={salon['cut'].pk}").json()["next"]["staff"] == salon["bai"].pk
    assert owner.post(f"/api/v1/rotation/{cards[1]['id']}/back/").json()["status"] == "available"
    reordered = owner.post(
        "/api/v1/rotation/reorder/",
        {"date": today, "staff": [salon["bai"].pk, salon["chen"].pk]},
        content_type="application/json",
    )
    assert [(c["staff"], c["position"]) for c in reordered.json()["cards"]] == [
        (salon["bai"].pk, 1),
        (salon["chen"].pk, 2),
    ]
    unknown = owner.post(
        "/api/v1/rotation/reorder/", {"date": today, "staff": [999999]}, content_type="application/json"
    )
    assert (unknown.status_code, unknown.json()["staff"]) == (
        400,
        ["This staff member does not exist or no longer works here."],
    )


def test_another_salon_sees_none_of_it(alpha, beta):
    salon = _salon(alpha, all_day=True)
    owner = api(alpha, alpha.owner_username)
    entry = owner.post(
        "/api/v1/waitlist/",
        {
            "client": salon["client"].pk,
            "services": [salon["cut"].pk],
            "date": _day_after_tomorrow().isoformat(),
            "earliest": "14:00",
            "latest": "17:00",
        },
        content_type="application/json",
    ).json()
    owner.post("/api/v1/rotation/", {}, content_type="application/json")
    beta_owner = api(beta, beta.owner_username)
    assert beta_owner.get(f"/api/v1/waitlist/{entry['id']}/").status_code == 404
    assert beta_owner.get("/api/v1/waitlist/").json()["count"] == 0
    assert beta_owner.get("/api/v1/rotation/").json()["cards"] == []
    with schema_context(beta.schema):
        assert RotationEntry.objects.count() == 0


def test_lists_read_in_a_fixed_number_of_queries(alpha, django_assert_max_num_queries):
    salon = _salon(alpha, all_day=True)
    owner = api(alpha, alpha.owner_username)
    day = _day_after_tomorrow()
    with schema_context(alpha.schema):
        from apps.scheduling.services import waitlist, walkins

        for i in range(8):
            waitlist.waitlist_join(
                client=client_make(f"C{i}"),
                location=salon["location"],
                services=[salon["cut"]],
                date=day,
                earliest=datetime.time(10 + i),
                latest=datetime.time(11 + i),
                acting_user=None,
            )
            walkins.walk_in_add(location=salon["location"], services=[salon["cut"]], name=f"W{i}", acting_user=None)
    owner.get("/api/v1/waitlist/")  # warm the token and session caches
    with django_assert_max_num_queries(12):
        assert owner.get(f"/api/v1/waitlist/?date={day.isoformat()}").json()["count"] == 8
    with django_assert_max_num_queries(12):
        assert owner.get("/api/v1/walk-ins/").json()["count"] == 8

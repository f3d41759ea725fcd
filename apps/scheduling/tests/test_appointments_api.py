"""/api/v1/appointments/ (SPEC §4): book, 409 on collisions, list filters, move, lifecycle actions,
permissions, bad input never a 500; /api/v1/clients/{id}/booking-profile/."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.scheduling.models import Appointment, AppointmentEvent, ClientBookingProfile, ShiftPattern
from apps.scheduling.services import staff_profile_update
from apps.scheduling.tests.support import client_make, default_location, service_make, technician_make
from tests.fixtures import api_token, make_staff

UTC = datetime.UTC
AT = datetime.datetime(2030, 3, 4, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
START = "2030-03-04T10:00:00+08:00"


def api(info, username: str) -> HttpClient:
    return HttpClient(
        HTTP_HOST=info.host, HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}"
    )


@pytest.fixture
def setup(alpha, beta):
    make_staff(alpha, role="front_desk", username="desk")
    tech_user = make_staff(alpha, role="technician", username="tina")
    with schema_context(alpha.schema):
        cut = service_make("Cut", minutes=60, buffer=15)
        colour = service_make("Colour", minutes=90, price=30_000)
        li = technician_make("Li", services=[cut, colour])
        staff_profile_update(user=tech_user, acting_user=None, skills=[cut])
        ShiftPattern.objects.bulk_create(
            [
                ShiftPattern(
                    staff=tech_user,
                    location=default_location(),
                    weekday=d,
                    start_time=datetime.time(10),
                    end_time=datetime.time(19),
                    valid_from=datetime.date(2020, 1, 1),
                )
                for d in range(7)
            ]
        )
        client = client_make()
    return {"cut": cut, "colour": colour, "li": li, "tina": tech_user, "client": client, "desk": api(alpha, "desk")}


def post(s, body, **headers):
    return s["desk"].post("/api/v1/appointments/", body, content_type="application/json", **headers)


def test_book_one_service_and_read_it_back_in_local_time(setup, alpha):
    s = setup
    # when the front desk books a cut with Li at 10:00 local, giving the end too
    response = post(
        s,
        {
            "client": s["client"].pk,
            "service": s["cut"].pk,
            "staff": s["li"].pk,
            "start": START,
            "end": "2030-03-04T11:00:00+08:00",
            "status": "booked",
        },
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["client"], body["service"], body["staff"], body["start"], body["end"], body["status"]) == (
        s["client"].pk,
        s["cut"].pk,
        s["li"].pk,
        "2030-03-04T10:00:00+08:00",
        "2030-03-04T11:00:00+08:00",
        "booked",
    )
    assert (body["channel"], body["deposit"], len(body["lines"])) == ("api", None, 1)
    assert body["lines"][0]["busy_until"] == "2030-03-04T11:15:00+08:00"
    assert s["desk"].get(f"/api/v1/appointments/{body['id']}/").json()["start"] == "2030-03-04T10:00:00+08:00"


def test_several_services_and_any_staff(setup):
    s = setup
    response = post(
        s,
        {
            "client": s["client"].pk,
            "start": START,
            "lines": [{"service": s["cut"].pk, "staff": None}, {"service": s["colour"].pk, "staff": s["li"].pk}],
        },
    )
    assert response.status_code == 201, response.content
    lines = response.json()["lines"]
    assert [(ln["service"], ln["start"], ln["end"]) for ln in lines] == [
        (s["cut"].pk, "2030-03-04T10:00:00+08:00", "2030-03-04T11:00:00+08:00"),
        (s["colour"].pk, "2030-03-04T11:15:00+08:00", "2030-03-04T12:45:00+08:00"),
    ]
    # Li does the colour at 11:15, so the cut goes to Li too (least booked, lower id) or Tina: both skilled
    assert lines[0]["staff"] in (s["li"].pk, s["tina"].pk)
    assert lines[1]["staff"] == s["li"].pk


def test_a_collision_is_409_with_the_conflict(setup, alpha):
    s = setup
    first = post(s, {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["li"].pk, "start": START})
    response = post(
        s, {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["li"].pk, "start": "2030-03-04T10:30:00+08:00"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Li is already booked from 2030-03-04 10:00 to 2030-03-04 11:15.",
        "code": "staff_busy",
        "conflict": {
            "appointment": first.json()["id"],
            "staff": s["li"].pk,
            "resource": None,
            "start": "2030-03-04T02:00:00+00:00",
            "end": "2030-03-04T03:15:00+00:00",
        },
    }
    with schema_context(alpha.schema):
        assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"service": "abc"}, "service"),
        ({"service": 10**15}, "service"),
        ({"client": 10**15}, "client"),
        ({"staff": 10**15}, "staff"),
        ({"start": "tomorrow"}, "start"),
        ({"start": "2030-02-30T10:00:00"}, "start"),
        ({"start": "9999-12-31T23:30:00+00:00"}, "start"),
        ({"end": "2030-03-04T12:00:00+08:00"}, "end"),
        ({"location": 10**15}, "location"),
        ({"deposit_method": "cash"}, "deposit_method"),
        ({"lines": [{"service": "x"}]}, "lines"),
    ],
)
def test_bad_input_is_400_and_writes_nothing(setup, alpha, body, field):
    s = setup
    base = {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["li"].pk, "start": START}
    response = post(s, {**base, **body})
    assert response.status_code == 400, response.content
    assert field in response.json()
    with schema_context(alpha.schema):
        assert Appointment.objects.count() == 0


def test_a_rule_refusal_is_400_with_code(setup):
    s = setup
    response = post(
        s, {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["li"].pk, "start": "2020-01-01T10:00:00+08:00"}
    )
    assert response.status_code == 400
    assert response.json() == {"start": ["This time has already passed."]}
    response = post(s, {"client": s["client"].pk, "service": s["colour"].pk, "staff": s["tina"].pk, "start": START})
    assert response.status_code == 400
    assert response.json() == {"staff": ["The technician does not perform this service."]}


def test_a_naive_start_is_the_salons_wall_clock(setup):
    s = setup
    response = post(
        s, {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["li"].pk, "start": "2030-03-04T10:00:00"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["start"] == "2030-03-04T10:00:00+08:00"


def test_idempotency_key_header_replays(setup, alpha):
    s = setup
    body = {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["li"].pk, "start": START}
    first = post(s, body, HTTP_IDEMPOTENCY_KEY="abc-1")
    again = post(s, body, HTTP_IDEMPOTENCY_KEY="abc-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    with schema_context(alpha.schema):
        assert Appointment.objects.count() == 1


def test_list_filters_and_query_count(setup, alpha, django_assert_max_num_queries):
    s = setup
    ids = []
    for i in range(6):
        client = None
        with schema_context(alpha.schema):
            client = client_make(f"客{i}")
        start = f"2030-03-0{4 + i % 2}T{10 + i // 2 * 2}:00:00+08:00"
        tech = s["li"] if i % 3 else s["tina"]
        response = post(s, {"client": client.pk, "service": s["cut"].pk, "staff": tech.pk, "start": start})
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    desk = s["desk"]
    # when
    # seven queries (token, permissions x2, count, visits, lines, holds), each after its search_path
    with django_assert_max_num_queries(14):
        day = desk.get("/api/v1/appointments/?date=2030-03-04")
    # then
    assert day.status_code == 200
    assert [r["id"] for r in day.json()["results"]] == [ids[0], ids[2], ids[4]]
    assert day.json()["count"] == 3
    by_staff = desk.get(f"/api/v1/appointments/?staff={s['tina'].pk}").json()
    assert [r["id"] for r in by_staff["results"]] == [ids[0], ids[3]]
    ranged = desk.get("/api/v1/appointments/?date_from=2030-03-05&date_to=2030-03-05").json()
    assert [r["id"] for r in ranged["results"]] == [ids[1], ids[3], ids[5]]
    assert desk.get("/api/v1/appointments/?status=cancelled").json()["count"] == 0
    assert desk.get("/api/v1/appointments/?date=bad").status_code == 400
    assert desk.get("/api/v1/appointments/?staff=x").status_code == 400
    assert desk.get("/api/v1/appointments/?status=nope").status_code == 400


def test_move_and_lifecycle_actions(setup, alpha):
    s = setup
    created = post(s, {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["li"].pk, "start": START}).json()
    url = f"/api/v1/appointments/{created['id']}/"
    desk = s["desk"]
    moved = desk.patch(
        url, {"start": "2030-03-04T14:00:00+08:00", "staff": s["tina"].pk}, content_type="application/json"
    )
    assert moved.status_code == 200, moved.content
    assert (moved.json()["start"], moved.json()["staff"], moved.json()["reschedule_count"]) == (
        "2030-03-04T14:00:00+08:00",
        s["tina"].pk,
        1,
    )
    for action, expected in (
        ("confirm", "confirmed"),
        ("arrive", "arrived"),
        ("start", "in_service"),
        ("finish", "done"),
    ):
        response = desk.post(f"{url}{action}/")
        assert (response.status_code, response.json()["status"]) == (200, expected), response.content
    again = desk.post(f"{url}cancel/", {"reason": "x"}, content_type="application/json")
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_transition"
    with schema_context(alpha.schema):
        kinds = list(AppointmentEvent.objects.filter(appointment_id=created["id"]).values_list("kind", flat=True))
    assert kinds == ["booked", "rescheduled", "confirmed", "arrived", "started", "finished"]


def test_technicians_start_and_finish_only_their_own_visits(setup, alpha):
    s = setup
    theirs = post(s, {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["tina"].pk, "start": START}).json()
    other = post(s, {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["li"].pk, "start": START}).json()
    for visit in (theirs, other):
        s["desk"].post(f"/api/v1/appointments/{visit['id']}/arrive/")
    tina = api(alpha, "tina")
    # a technician cannot book or confirm
    assert tina.post("/api/v1/appointments/", {}, content_type="application/json").status_code == 403
    assert tina.post(f"/api/v1/appointments/{theirs['id']}/confirm/").status_code == 403
    # sees only her own visits, starts and finishes them
    assert [r["id"] for r in tina.get("/api/v1/appointments/").json()["results"]] == [theirs["id"]]
    assert tina.post(f"/api/v1/appointments/{other['id']}/start/").status_code == 404
    assert tina.post(f"/api/v1/appointments/{theirs['id']}/start/").json()["status"] == "in_service"
    assert tina.post(f"/api/v1/appointments/{theirs['id']}/finish/").json()["status"] == "done"


def test_cancel_and_no_show_through_the_api(setup, alpha):
    s = setup
    one = post(s, {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["li"].pk, "start": START}).json()
    two = post(s, {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["tina"].pk, "start": START}).json()
    cancelled = s["desk"].post(
        f"/api/v1/appointments/{one['id']}/cancel/", {"reason": "ill"}, content_type="application/json"
    )
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("cancelled", "ill")
    assert s["desk"].post(f"/api/v1/appointments/{two['id']}/no-show/").json()["status"] == "no_show"
    profile = s["desk"].get(f"/api/v1/clients/{s['client'].pk}/booking-profile/").json()
    assert (profile["no_show_count"], profile["late_cancel_count"], profile["is_blocked"]) == (1, 0, False)


def test_booking_profile_block_and_unblock(setup, alpha):
    s = setup
    url = f"/api/v1/clients/{s['client'].pk}/booking-profile/"
    blocked = s["desk"].patch(url, {"is_blocked": True, "blocked_reason": "abuse"}, content_type="application/json")
    assert blocked.status_code == 200, blocked.content
    assert (blocked.json()["is_blocked"], blocked.json()["blocked_reason"]) == (True, "abuse")
    refused = post(s, {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["li"].pk, "start": START})
    assert refused.status_code == 400
    assert refused.json()["code"] == "client_blocked"
    assert api(alpha, "tina").patch(url, {"is_blocked": False}, content_type="application/json").status_code == 403
    s["desk"].patch(url, {"is_blocked": False}, content_type="application/json")
    with schema_context(alpha.schema):
        assert ClientBookingProfile.objects.get(client=s["client"]).is_blocked is False
    assert s["desk"].get("/api/v1/clients/999999999/booking-profile/").status_code == 404


def test_another_salon_cannot_read_or_act(setup, alpha, beta):
    s = setup
    created = post(s, {"client": s["client"].pk, "service": s["cut"].pk, "staff": s["li"].pk, "start": START}).json()
    beta_api = HttpClient(
        HTTP_HOST=beta.host,
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_AUTHORIZATION=f"Bearer {api_token(beta, beta.owner_username)}",
    )
    assert beta_api.get(f"/api/v1/appointments/{created['id']}/").status_code == 404
    assert beta_api.post(f"/api/v1/appointments/{created['id']}/cancel/").status_code == 404
    assert beta_api.get("/api/v1/appointments/").json()["count"] == 0

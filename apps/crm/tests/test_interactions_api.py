"""API of CRM-5 and CRM-6: timeline, complaint transitions, follow-ups; permissions, masked
phones, bad input (400 with field errors, never a 500). Alpha and beta both hold data."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.db import salon_today
from apps.crm.models import Client, FollowUp, Interaction
from apps.crm.services.clients import client_create
from apps.crm.services.interactions import follow_up_create, interaction_record
from tests.fixtures import api_token, make_staff, owner_of

DAY = datetime.timedelta(days=1)


def _api(info, username: str) -> HttpClient:
    return HttpClient(HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}")


def _client(info, name: str = "王芳", phone: str = "13900001111") -> Client:
    with schema_context(info.schema):
        return client_create(name=name, phone=phone, acting_user=None)


@pytest.fixture
def team(alpha, beta):
    """Alpha's technician tom and front-desk alice (manage_clients); beta has a timeline entry and a follow-up."""
    tom = make_staff(alpha, role="technician", username="tom")
    alice = make_staff(alpha, role="front_desk", username="alice")
    with schema_context(beta.schema):
        beta_client = client_create(name="Beta client", phone="13900009999", acting_user=None)
        interaction_record(client=beta_client, kind="feedback", summary="Beta feedback", acting_user=owner_of(beta))
        follow_up_create(
            client=beta_client,
            assigned_to=owner_of(beta),
            due_date=salon_today(),
            purpose="Beta follow-up",
            acting_user=owner_of(beta),
        )
    return tom, alice


# --- timeline ---------------------------------------------------------------------------------


def test_record_and_list_a_clients_timeline(alpha, team):
    # given
    tom, _alice = team
    client = _client(alpha)
    api = _api(alpha, "tom")
    url = f"/api/v1/clients/{client.pk}/interactions/"
    # when a technician records a call and feedback
    call = api.post(
        url,
        {
            "kind": "communication",
            "channel": "phone",
            "summary": "Asked about a perm",
            "body": "Prefers Saturdays",
            "occurred_at": "2024-05-01T09:00:00+08:00",
        },
        content_type="application/json",
    )
    feedback = api.post(url, {"kind": "feedback", "summary": "Loved it", "rating": 5}, content_type="application/json")
    # then
    assert call.status_code == 201, call.content
    body = call.json()
    assert {k: body[k] for k in body if k not in ("id", "created_at")} == {
        "client": client.pk,
        "kind": "communication",
        "channel": "phone",
        "summary": "Asked about a perm",
        "body": "Prefers Saturdays",
        "rating": None,
        "occurred_at": "2024-05-01T09:00:00+08:00",
        "recorded_by": tom.pk,
        "recorded_by_name": "Tom",
        "status": "",
        "owner": None,
        "owner_name": "",
        "resolution": "",
        "resolved_at": None,
        "resolved_by": None,
    }
    assert (feedback.status_code, feedback.json()["rating"], feedback.json()["channel"]) == (201, 5, "in_person")
    listing = api.get(url).json()
    assert (listing["count"], listing["next"], listing["previous"]) == (2, None, None)
    assert [r["summary"] for r in listing["results"]] == ["Loved it", "Asked about a perm"]
    assert [r["summary"] for r in api.get(f"{url}?kind=communication").json()["results"]] == ["Asked about a perm"]
    assert api.get(f"{url}?kind=gossip").status_code == 400
    assert api.get("/api/v1/clients/999999/interactions/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "feedback", "summary": "x", "rating": 0}, "rating"),
        ({"kind": "feedback", "summary": "x", "rating": 6}, "rating"),
        ({"kind": "feedback", "summary": "x", "rating": "five"}, "rating"),
        ({"kind": "communication", "summary": "x", "rating": 3}, "rating"),
        ({"kind": "feedback", "summary": ""}, "summary"),
        ({"kind": "feedback", "summary": "   "}, "summary"),
        ({"kind": "feedback", "summary": "x" * 201}, "summary"),
        ({"kind": "gossip", "summary": "x"}, "kind"),
        ({"summary": "x"}, "kind"),
        ({"kind": "feedback", "summary": "x", "channel": "fax"}, "channel"),
        ({"kind": "feedback", "summary": "x", "occurred_at": "tomorrow"}, "occurred_at"),
        ({"kind": "feedback", "summary": "x", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
    ],
)
def test_bad_entries_are_400_with_field_errors_and_nothing_written(alpha, team, body, field):
    client = _client(alpha)
    response = _api(alpha, "tom").post(
        f"/api/v1/clients/{client.pk}/interactions/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert list(response.json()) == [field]
    with schema_context(alpha.schema):
        assert not Interaction.objects.exists()


def test_the_recorder_corrects_an_entry_others_cannot(alpha, team):
    tom, _alice = team
    make_staff(alpha, role="technician", username="tina")
    client = _client(alpha)
    with schema_context(alpha.schema):
        entry = interaction_record(client=client, kind="communication", summary="Calld", acting_user=tom)
    url = f"/api/v1/interactions/{entry.pk}/"
    denied = _api(alpha, "tina").patch(url, {"summary": "Hacked"}, content_type="application/json")
    assert denied.status_code == 403
    blank = _api(alpha, "tom").patch(url, {"summary": ""}, content_type="application/json")
    assert (blank.status_code, list(blank.json())) == (400, ["summary"])
    fixed = _api(alpha, "tom").patch(
        url, {"summary": "Called", "body": "Books Friday"}, content_type="application/json"
    )
    assert fixed.status_code == 200
    assert (fixed.json()["summary"], fixed.json()["body"]) == ("Called", "Books Friday")
    assert _api(alpha, "tina").get(url).json()["summary"] == "Called"


# --- complaints -------------------------------------------------------------------------------


def test_complaint_workflow_through_the_api(alpha, team):
    # given
    tom, _alice = team
    client = _client(alpha)
    api = _api(alpha, "alice")
    created = _api(alpha, "tom").post(
        f"/api/v1/clients/{client.pk}/interactions/",
        {"kind": "complaint", "channel": "phone", "summary": "Colour too dark", "rating": 1},
        content_type="application/json",
    )
    assert (created.status_code, created.json()["status"], created.json()["owner"]) == (201, "open", None)
    url = f"/api/v1/interactions/{created.json()['id']}/transition/"
    # a technician cannot take it
    assert _api(alpha, "tom").post(url, {"status": "handling"}, content_type="application/json").status_code == 403
    # an invalid move
    skip = api.post(url, {"status": "resolved", "resolution": "x"}, content_type="application/json")
    assert skip.status_code == 400
    assert skip.json() == {"status": ["The complaint cannot move to this status from its current one."]}
    # alice takes it and gives it to tom
    handling = api.post(url, {"status": "handling", "owner": tom.pk}, content_type="application/json")
    assert (handling.status_code, handling.json()["status"], handling.json()["owner"]) == (200, "handling", tom.pk)
    # tom cannot resolve without a resolution, then does
    tom_api = _api(alpha, "tom")
    missing = tom_api.post(url, {"status": "resolved", "resolution": " "}, content_type="application/json")
    assert missing.json() == {"resolution": ["Describe how the complaint was resolved."]}
    resolved = tom_api.post(url, {"status": "resolved", "resolution": "Redid it free"}, content_type="application/json")
    assert resolved.status_code == 200
    assert (resolved.json()["status"], resolved.json()["resolution"], resolved.json()["resolved_by"]) == (
        "resolved",
        "Redid it free",
        tom.pk,
    )
    # alice reopens it
    reopened = api.post(url, {"status": "handling"}, content_type="application/json")
    assert (reopened.json()["status"], reopened.json()["resolution"], reopened.json()["owner"]) == (
        "handling",
        "",
        tom.pk,
    )


def test_transition_bad_input(alpha, team):
    _tom, alice = team
    client = _client(alpha)
    with schema_context(alpha.schema):
        feedback = interaction_record(client=client, kind="feedback", summary="Nice", acting_user=alice)
        complaint = interaction_record(client=client, kind="complaint", summary="Rude", acting_user=alice)
    api = _api(alpha, "alice")
    not_complaint = api.post(
        f"/api/v1/interactions/{feedback.pk}/transition/", {"status": "handling"}, content_type="application/json"
    )
    assert not_complaint.status_code == 400
    assert not_complaint.json() == {"detail": "Only complaints have a status.", "code": "not_a_complaint"}
    url = f"/api/v1/interactions/{complaint.pk}/transition/"
    for body, field in (
        ({}, "status"),
        ({"status": "closed"}, "status"),
        ({"status": "handling", "owner": 999999}, "owner"),
        ({"status": "handling", "owner": "me"}, "owner"),
    ):
        response = api.post(url, body, content_type="application/json")
        assert (response.status_code, list(response.json())) == (400, [field]), body
    assert (
        api.post(
            "/api/v1/interactions/999999/transition/", {"status": "handling"}, content_type="application/json"
        ).status_code
        == 404
    )
    with schema_context(alpha.schema):
        complaint.refresh_from_db()
        assert (complaint.status, complaint.owner_id) == ("open", None)


# --- follow-ups -------------------------------------------------------------------------------


def test_plan_follow_ups_through_the_api(alpha, team):
    tom, alice = team
    client = _client(alpha)
    api = _api(alpha, "tom")
    # given / when a technician plans one for themselves
    created = api.post(
        "/api/v1/follow-ups/",
        {"client": client.pk, "due_date": salon_today().isoformat(), "purpose": "Ask about the perm"},
        content_type="application/json",
    )
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert {
        k: body[k] for k in ("client", "client_name", "client_phone", "assigned_to", "assigned_to_name", "due_date")
    } == {
        "client": client.pk,
        "client_name": "王芳",
        "client_phone": "139****1111",
        "assigned_to": tom.pk,
        "assigned_to_name": "Tom",
        "due_date": salon_today().isoformat(),
    }
    assert (body["channel"], body["status"], body["is_overdue"], body["created_by"]) == ("phone", "open", False, tom.pk)
    # but not for alice
    for_alice = api.post(
        "/api/v1/follow-ups/",
        {"client": client.pk, "assigned_to": alice.pk, "due_date": salon_today().isoformat(), "purpose": "x"},
        content_type="application/json",
    )
    assert for_alice.status_code == 403
    with schema_context(alpha.schema):
        assert FollowUp.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"due_date": "yesterday"}, "due_date"),
        ({"due_date": "not a date"}, "due_date"),
        ({"assigned_to": "inactive"}, "assigned_to"),
        ({"assigned_to": 999999}, "assigned_to"),
        ({"purpose": ""}, "purpose"),
        ({"purpose": "  "}, "purpose"),
        ({"channel": "pigeon"}, "channel"),
        ({"client": 999999}, "client"),
    ],
)
def test_bad_follow_ups_are_400_with_field_errors(alpha, team, change, field):
    from apps.core.services import staff_deactivate

    _tom, _alice = team
    client = _client(alpha)
    body = {"client": client.pk, "due_date": salon_today().isoformat(), "purpose": "Call", **change}
    if body["due_date"] == "yesterday":
        body["due_date"] = (salon_today() - DAY).isoformat()
    if body.get("assigned_to") == "inactive":
        gone = make_staff(alpha, role="technician", username="gone")
        with schema_context(alpha.schema):
            staff_deactivate(user=gone, acting_user=owner_of(alpha))
        body["assigned_to"] = gone.pk
    response = _api(alpha, "alice").post("/api/v1/follow-ups/", body, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    with schema_context(alpha.schema):
        assert not FollowUp.objects.exists()


def _seed(alpha, tom, alice, client) -> dict[str, FollowUp]:
    with schema_context(alpha.schema):
        with mock.patch("django.utils.timezone.now", return_value=timezone.now() - 2 * DAY):
            overdue = follow_up_create(
                client=client, assigned_to=tom, due_date=salon_today(), purpose="Overdue", acting_user=alice
            )
        return {
            "overdue": overdue,
            "today": follow_up_create(
                client=client, assigned_to=tom, due_date=salon_today(), purpose="Today", acting_user=alice
            ),
            "later": follow_up_create(
                client=client, assigned_to=tom, due_date=salon_today() + DAY, purpose="Later", acting_user=alice
            ),
            "alice": follow_up_create(
                client=client, assigned_to=alice, due_date=salon_today(), purpose="Alice's", acting_user=alice
            ),
        }


def test_list_mine_due_today_or_overdue(alpha, team):
    tom, alice = team
    client = _client(alpha)
    tasks = _seed(alpha, tom, alice, client)
    api = _api(alpha, "tom")
    purposes = lambda query: [r["purpose"] for r in api.get(f"/api/v1/follow-ups/{query}").json()["results"]]  # noqa: E731
    assert purposes("?assigned_to=me&due=today") == ["Today"]
    assert purposes("?assigned_to=me&due=overdue") == ["Overdue"]
    assert purposes("?assigned_to=me") == ["Overdue", "Today", "Later"]
    # a technician sees only their own, whatever they ask for
    assert purposes(f"?assigned_to={alice.pk}") == ["Overdue", "Today", "Later"]
    assert api.get(f"/api/v1/follow-ups/{tasks['alice'].pk}/").status_code == 404
    overdue = api.get(f"/api/v1/follow-ups/{tasks['overdue'].pk}/").json()
    assert (overdue["is_overdue"], overdue["client_phone"]) == (True, "139****1111")
    # front desk sees everyone's (or one member's) with full phones
    desk = _api(alpha, "alice")
    everyone = desk.get("/api/v1/follow-ups/?due=today").json()["results"]
    assert [r["purpose"] for r in everyone] == ["Today", "Alice's"]  # by due date, client, then planning order
    assert {r["client_phone"] for r in everyone} == {"+8613900001111"}
    toms = desk.get(f"/api/v1/follow-ups/?assigned_to={tom.pk}&due=today").json()["results"]
    assert [r["purpose"] for r in toms] == ["Today"]
    assert "Beta follow-up" not in str(desk.get("/api/v1/follow-ups/").json())
    for bad in ("?due=tomorrow", "?assigned_to=everyone", "?status=lost", "?client=x"):
        assert desk.get(f"/api/v1/follow-ups/{bad}").status_code == 400, bad


def test_change_cancel_and_complete_through_the_api(alpha, team):
    tom, alice = team
    client = _client(alpha)
    tasks = _seed(alpha, tom, alice, client)
    api = _api(alpha, "tom")
    url = f"/api/v1/follow-ups/{tasks['today'].pk}/"
    # reschedule, not into the past
    past = api.patch(url, {"due_date": (salon_today() - DAY).isoformat()}, content_type="application/json")
    assert (past.status_code, list(past.json())) == (400, ["due_date"])
    moved = api.patch(
        url, {"due_date": (salon_today() + DAY).isoformat(), "channel": "wechat"}, content_type="application/json"
    )
    assert (moved.status_code, moved.json()["due_date"], moved.json()["channel"]) == (
        200,
        (salon_today() + DAY).isoformat(),
        "wechat",
    )
    # a technician cannot hand it to alice
    assert api.patch(url, {"assigned_to": alice.pk}, content_type="application/json").status_code == 403
    # "done" goes through /complete/
    assert api.patch(url, {"status": "done"}, content_type="application/json").status_code == 400
    assert api.patch(url, {"status": "cancelled", "purpose": "x"}, content_type="application/json").status_code == 400
    # complete needs an outcome
    complete = f"/api/v1/follow-ups/{tasks['overdue'].pk}/complete/"
    blank = api.post(complete, {"outcome": "  "}, content_type="application/json")
    assert blank.json() == {"outcome": ["Describe the outcome of the follow-up."]}
    done = api.post(
        complete, {"outcome": "Booked a facial", "record_interaction": True}, content_type="application/json"
    )
    assert (done.status_code, done.json()["status"], done.json()["outcome"]) == (200, "done", "Booked a facial")
    again = api.post(complete, {"outcome": "Again"}, content_type="application/json")
    assert again.status_code == 409
    # cancel with a reason
    cancelled = api.patch(url, {"status": "cancelled", "outcome": "Moved away"}, content_type="application/json")
    assert (cancelled.json()["status"], cancelled.json()["outcome"]) == ("cancelled", "Moved away")
    # front desk reassigns alice's to tom
    given = _api(alpha, "alice").patch(
        f"/api/v1/follow-ups/{tasks['alice'].pk}/", {"assigned_to": tom.pk}, content_type="application/json"
    )
    assert (given.status_code, given.json()["assigned_to"]) == (200, tom.pk)
    with schema_context(alpha.schema):
        entry = Interaction.objects.get()
        assert (entry.kind, entry.summary, entry.body) == ("communication", "Overdue", "Booked a facial")


def test_a_technician_cannot_complete_someone_elses(alpha, team):
    tom, alice = team
    tasks = _seed(alpha, tom, alice, _client(alpha))
    response = _api(alpha, "tom").post(
        f"/api/v1/follow-ups/{tasks['alice'].pk}/complete/", {"outcome": "x"}, content_type="application/json"
    )
    assert response.status_code == 404
    with schema_context(alpha.schema):
        assert FollowUp.objects.get(pk=tasks["alice"].pk).status == "open"


def test_list_query_counts_do_not_grow(alpha, team, django_assert_max_num_queries):
    tom, alice = team
    client = _client(alpha)
    with schema_context(alpha.schema):
        for index in range(3):
            interaction_record(client=client, kind="complaint", summary=f"c{index}", acting_user=tom)
            follow_up_create(
                client=client, assigned_to=tom, due_date=salon_today(), purpose=f"f{index}", acting_user=tom
            )
    api = _api(alpha, "alice")
    timeline, follow_ups = f"/api/v1/clients/{client.pk}/interactions/", "/api/v1/follow-ups/?due=today"
    api.get(timeline)
    with django_assert_max_num_queries(20) as few_timeline:
        api.get(timeline)
    timeline_count = len(few_timeline.captured_queries)
    with django_assert_max_num_queries(20) as few_tasks:
        api.get(follow_ups)
    tasks_count = len(few_tasks.captured_queries)
    with schema_context(alpha.schema):
        for index in range(30):
            other = client_create(name=f"C{index}", phone=f"139000200{index:02d}", acting_user=None)
            interaction_record(client=client, kind="feedback", summary=f"n{index}", acting_user=alice)
            follow_up_create(
                client=other, assigned_to=alice, due_date=salon_today(), purpose=f"n{index}", acting_user=alice
            )
    with django_assert_max_num_queries(timeline_count):
        assert api.get(timeline).json()["count"] == 33
    with django_assert_max_num_queries(tasks_count):
        assert api.get(follow_ups).json()["count"] == 33

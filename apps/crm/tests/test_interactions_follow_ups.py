"""CRM-6: follow-up tasks (planning, completing with an outcome, cancelling, reassigning,
rescheduling) and the "My tasks today" page. Alpha and beta both hold follow-ups."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry, User
from apps.core.services import staff_deactivate
from apps.crm.errors import CrmError
from apps.crm.models import Client, FollowUp, Interaction
from apps.crm.selectors_interactions import follow_ups_due
from apps.crm.services.clients import client_create
from apps.crm.services.interactions import (
    follow_up_cancel,
    follow_up_change,
    follow_up_complete,
    follow_up_create,
    follow_up_reassign,
    follow_up_reschedule,
)
from tests.fixtures import logged_in_client, make_staff, owner_of

DAY = datetime.timedelta(days=1)


@contextmanager
def days_ago(days: int) -> Iterator[None]:
    """Run the block as if it were ``days`` days earlier (to plan what is overdue today)."""
    then = timezone.now() - days * DAY
    with mock.patch("django.utils.timezone.now", return_value=then):
        yield


def _client(name: str = "王芳", phone: str = "13900001111") -> Client:
    return client_create(name=name, phone=phone, acting_user=None)


def _plan(
    client: Client,
    user: User,
    *,
    due: datetime.date | None = None,
    purpose: str = "Ask how the perm holds",
    by: User | None = None,
) -> FollowUp:
    return follow_up_create(
        client=client, assigned_to=user, due_date=due or salon_today(), purpose=purpose, acting_user=by or user
    )


@pytest.fixture
def alice(in_alpha):
    """Front desk (manage_clients)."""
    return make_staff(in_alpha, role="front_desk", username="alice", email="alice@alpha.test")


@pytest.fixture
def tom(in_alpha):
    """A technician."""
    return make_staff(in_alpha, role="technician", username="tom", email="tom@alpha.test")


@pytest.fixture
def beta_task(beta):
    with schema_context(beta.schema):
        owner = owner_of(beta)
        return _plan(_client("Beta client", "13900009999"), owner, purpose="Beta follow-up")


# --- planning ---------------------------------------------------------------------------------


def test_plan_a_follow_up(in_alpha, alice, tom, beta_task):
    # given
    client = _client()
    # when
    task = follow_up_create(
        client=client,
        assigned_to=tom,
        due_date=salon_today() + 2 * DAY,
        purpose="  Check the skin after the peel ",
        channel="wechat",
        acting_user=alice,
    )
    # then
    task.refresh_from_db()
    assert (
        task.client_id,
        task.assigned_to_id,
        task.due_date,
        task.purpose,
        task.channel,
        task.status,
        task.outcome,
        task.reminded_at,
        task.created_by_id,
    ) == (
        client.pk,
        tom.pk,
        salon_today() + 2 * DAY,
        "Check the skin after the peel",
        "wechat",
        "open",
        "",
        None,
        alice.pk,
    )
    assert FollowUp.objects.count() == 1


def test_a_technician_plans_for_themselves_but_not_for_others(in_alpha, alice, tom):
    client = _client()
    mine = _plan(client, tom)
    assert mine.assigned_to_id == tom.pk
    with pytest.raises(ServiceError) as refused:
        _plan(client, alice, by=tom)
    assert (refused.value.code, refused.value.status) == (CrmError.PERMISSION_DENIED, 403)
    assert FollowUp.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"due_date": "yesterday"}, "due_date", CrmError.DUE_DATE_IN_PAST),
        ({"due_date": None}, "due_date", "invalid"),
        ({"due_date": "2030-01-01"}, "due_date", "invalid"),
        ({"assigned_to": "inactive"}, "assigned_to", CrmError.STAFF_INACTIVE),
        ({"assigned_to": None}, "assigned_to", CrmError.STAFF_INACTIVE),
        ({"purpose": "   "}, "purpose", CrmError.PURPOSE_REQUIRED),
        ({"purpose": "x" * 201}, "purpose", CrmError.PURPOSE_REQUIRED),
        ({"channel": "pigeon"}, "channel", "invalid"),
    ],
)
def test_bad_follow_ups_are_refused_and_nothing_is_written(in_alpha, alice, tom, change, field, code):
    # given
    fields = {"client": _client(), "assigned_to": tom, "due_date": salon_today(), "purpose": "Call", **change}
    if fields["due_date"] == "yesterday":
        fields["due_date"] = salon_today() - DAY
    if fields["assigned_to"] == "inactive":
        staff_deactivate(user=tom, acting_user=owner_of(in_alpha))
        tom.refresh_from_db()
        fields["assigned_to"] = tom
    # when
    with pytest.raises(ServiceError) as refused:
        follow_up_create(acting_user=alice, **fields)
    # then
    assert list(refused.value.errors) == [field]
    assert refused.value.code.value == (code.value if isinstance(code, CrmError) else code)
    assert not FollowUp.objects.exists()


def test_no_follow_up_for_an_inactive_client(in_alpha, alice):
    client = _client()
    Client.objects.filter(pk=client.pk).update(is_active=False)
    client.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        _plan(client, alice)
    assert refused.value.code == CrmError.CLIENT_INACTIVE
    assert not FollowUp.objects.exists()


# --- completing and the rest ------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["", "   \n "])
def test_done_needs_an_outcome(in_alpha, tom, outcome):
    task = _plan(_client(), tom)
    with pytest.raises(ServiceError) as refused:
        follow_up_complete(follow_up=task, outcome=outcome, record_interaction=True, acting_user=tom)
    assert refused.value.code == CrmError.OUTCOME_REQUIRED
    assert refused.value.errors == {"outcome": ["Describe the outcome of the follow-up."]}
    task.refresh_from_db()
    assert (task.status, task.outcome, task.completed_at) == ("open", "", None)
    assert not Interaction.objects.exists()


def test_complete_with_an_outcome_onto_the_timeline(in_alpha, tom):
    # given
    client = _client()
    task = follow_up_create(
        client=client,
        assigned_to=tom,
        due_date=salon_today(),
        purpose="Ask about the facial",
        channel="wechat",
        acting_user=tom,
    )
    # when
    follow_up_complete(
        follow_up=task, outcome=" Happy; books again next month ", record_interaction=True, acting_user=tom
    )
    # then
    task.refresh_from_db()
    assert (task.status, task.outcome, task.completed_by_id) == ("done", "Happy; books again next month", tom.pk)
    entry = Interaction.objects.get()
    assert (entry.client_id, entry.kind, entry.channel, entry.summary, entry.body, entry.recorded_by_id) == (
        client.pk,
        "communication",
        "wechat",
        "Ask about the facial",
        "Happy; books again next month",
        tom.pk,
    )
    assert entry.occurred_at == task.completed_at


def test_complete_without_a_timeline_entry_and_only_once(in_alpha, tom):
    task = _plan(_client(), tom)
    follow_up_complete(follow_up=task, outcome="No answer, sent a WeChat", acting_user=tom)
    assert not Interaction.objects.exists()
    with pytest.raises(ServiceError) as again:
        follow_up_complete(follow_up=task, outcome="Second time", acting_user=tom)
    assert (again.value.code, again.value.status) == (CrmError.FOLLOW_UP_CLOSED, 409)
    task.refresh_from_db()
    assert task.outcome == "No answer, sent a WeChat"


def test_someone_elses_follow_up_needs_manage_clients(in_alpha, alice, tom):
    # given
    theirs = _plan(_client(), alice)
    # when a technician tries to complete, cancel, move or take it
    for attempt in (
        lambda: follow_up_complete(follow_up=theirs, outcome="done", acting_user=tom),
        lambda: follow_up_cancel(follow_up=theirs, acting_user=tom),
        lambda: follow_up_reschedule(follow_up=theirs, due_date=salon_today() + DAY, acting_user=tom),
        lambda: follow_up_reassign(follow_up=theirs, assigned_to=tom, acting_user=tom),
    ):
        with pytest.raises(ServiceError) as refused:
            attempt()
        assert refused.value.status == 403
    # then nothing changed
    theirs.refresh_from_db()
    assert (theirs.status, theirs.assigned_to_id, theirs.due_date) == ("open", alice.pk, salon_today())
    # and a manager completes a technician's
    own = _plan(_client("Other", "13900002222"), tom)
    follow_up_complete(follow_up=own, outcome="Called", acting_user=alice)
    own.refresh_from_db()
    assert (own.status, own.completed_by_id) == ("done", alice.pk)


def test_a_technician_cannot_hand_their_follow_up_to_someone_else(in_alpha, alice, tom):
    task = _plan(_client(), tom)
    with pytest.raises(ServiceError) as refused:
        follow_up_reassign(follow_up=task, assigned_to=alice, acting_user=tom)
    assert refused.value.status == 403
    task.refresh_from_db()
    assert task.assigned_to_id == tom.pk


def test_cancel_keeps_the_reason(in_alpha, tom):
    task = _plan(_client(), tom)
    follow_up_cancel(follow_up=task, reason="Client moved away", acting_user=tom)
    task.refresh_from_db()
    assert (task.status, task.outcome, task.completed_by_id) == ("cancelled", "Client moved away", tom.pk)
    with pytest.raises(ServiceError) as closed:
        follow_up_complete(follow_up=task, outcome="x", acting_user=tom)
    assert closed.value.code == CrmError.FOLLOW_UP_CLOSED


def test_reassign_and_reschedule_reset_the_reminder(in_alpha, alice, tom):
    # given a follow-up already reminded
    task = _plan(_client(), tom)
    FollowUp.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
    # when a manager gives it to alice
    follow_up_reassign(follow_up=task, assigned_to=alice, acting_user=alice)
    task.refresh_from_db()
    # then
    assert (task.assigned_to_id, task.reminded_at) == (alice.pk, None)
    assert list(
        AuditEntry.objects.filter(action="crm.follow_up_reassigned", target_id=str(task.pk)).values_list(
            "data", flat=True
        )
    ) == [{"client": task.client_id, "assigned_to": alice.pk}]
    # when rescheduled after a reminder
    FollowUp.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
    follow_up_reschedule(follow_up=task, due_date=salon_today() + 3 * DAY, acting_user=alice)
    task.refresh_from_db()
    assert (task.due_date, task.reminded_at) == (salon_today() + 3 * DAY, None)
    # an edit of the purpose keeps the reminder
    FollowUp.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
    follow_up_change(follow_up=task, purpose="Offer the spring package", acting_user=alice)
    task.refresh_from_db()
    assert task.purpose == "Offer the spring package"
    assert task.reminded_at is not None


def test_no_rescheduling_into_the_past_nor_to_an_inactive_member(in_alpha, alice, tom):
    task = _plan(_client(), tom)
    with pytest.raises(ServiceError) as past:
        follow_up_reschedule(follow_up=task, due_date=salon_today() - DAY, acting_user=alice)
    assert past.value.code == CrmError.DUE_DATE_IN_PAST
    gone = make_staff(in_alpha, role="technician", username="gone")
    staff_deactivate(user=gone, acting_user=owner_of(in_alpha))
    gone.refresh_from_db()
    with pytest.raises(ServiceError) as inactive:
        follow_up_reassign(follow_up=task, assigned_to=gone, acting_user=alice)
    assert inactive.value.code == CrmError.STAFF_INACTIVE
    task.refresh_from_db()
    assert (task.due_date, task.assigned_to_id) == (salon_today(), tom.pk)


def test_an_overdue_follow_up_can_still_be_edited_without_moving_it(in_alpha, tom):
    with days_ago(3):
        task = _plan(_client(), tom)
    follow_up_change(follow_up=task, purpose="Call in the evening", acting_user=tom)
    task.refresh_from_db()
    assert (task.purpose, task.due_date) == ("Call in the evening", salon_today() - 3 * DAY)


def test_due_list_is_today_and_overdue_open_only(in_alpha, alice, tom, beta_task):
    # given
    client = _client()
    with days_ago(2):
        overdue = _plan(client, tom, purpose="overdue")
        done = _plan(client, tom, purpose="done overdue")
    today = _plan(client, tom, purpose="today")
    _plan(client, tom, due=salon_today() + DAY, purpose="tomorrow")
    _plan(client, alice, purpose="alice's")
    follow_up_complete(follow_up=done, outcome="ok", acting_user=tom)
    # when / then
    assert [t.purpose for t in follow_ups_due(assigned_to=tom)] == ["overdue", "today"]
    assert [t.purpose for t in follow_ups_due(assigned_to=tom, due="today")] == ["today"]
    assert [t.pk for t in follow_ups_due(assigned_to=tom, due="overdue")] == [overdue.pk]
    assert sorted(t.purpose for t in follow_ups_due()) == ["alice's", "overdue", "today"]
    assert today.pk in {t.pk for t in follow_ups_due()}


# --- My tasks today ---------------------------------------------------------------------------


def _seed_tasks(alpha, *, tom: User, alice: User) -> dict[str, FollowUp]:
    with schema_context(alpha.schema):
        client = _client()
        other = _client("李娜", "13900003333")
        with days_ago(2):
            overdue = _plan(client, tom, purpose="Overdue call")
            old_done = _plan(other, tom, purpose="Old done")
        tasks = {
            "overdue": overdue,
            "today": _plan(other, tom, purpose="Today call"),
            "tomorrow": _plan(client, tom, due=salon_today() + DAY, purpose="Tomorrow call"),
            "alice": _plan(client, alice, purpose="Alice call"),
            "done": old_done,
        }
        follow_up_complete(follow_up=old_done, outcome="ok", acting_user=tom)
    return tasks


def test_my_tasks_shows_mine_due_today_and_overdue(alpha, beta_task):
    # given
    tom = make_staff(alpha, role="technician", username="tom")
    alice = make_staff(alpha, role="front_desk", username="alice")
    tasks = _seed_tasks(alpha, tom=tom, alice=alice)
    page = logged_in_client(alpha, "tom")
    # when
    response = page.get("/clients/tasks/", HTTP_ACCEPT_LANGUAGE="en")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "My tasks today" in html
    assert html.index("Overdue call") < html.index("Today call")
    for absent in ("Tomorrow call", "Alice call", "Old done", "Beta follow-up"):
        assert absent not in html
    assert f'<li id="follow-up-{tasks["overdue"].pk}" class="card task overdue">' in html
    assert f'<li id="follow-up-{tasks["today"].pk}" class="card task">' in html
    assert "Overdue since" in html
    # a technician sees the client's phone masked
    assert "139****1111" in html
    assert "13900001111" not in html
    # and cannot look at someone else's list
    assert "Alice call" not in page.get("/clients/tasks/?staff=all").content.decode()


def test_a_manager_sees_everyones_or_one_members_tasks(alpha):
    tom = make_staff(alpha, role="technician", username="tom")
    alice = make_staff(alpha, role="front_desk", username="alice")
    _seed_tasks(alpha, tom=tom, alice=alice)
    page = logged_in_client(alpha, "alice")
    mine = page.get("/clients/tasks/").content.decode()
    assert "Alice call" in mine
    assert "Today call" not in mine
    everyone = page.get("/clients/tasks/?staff=all").content.decode()
    for expected in ("Alice call", "Today call", "Overdue call"):
        assert expected in everyone
    toms = page.get(f"/clients/tasks/?staff={tom.pk}").content.decode()
    assert "Today call" in toms
    assert "Alice call" not in toms
    # front desk may see contacts
    assert "+8613900003333" in everyone


def test_my_tasks_query_count_does_not_grow(alpha, django_assert_max_num_queries):
    tom = make_staff(alpha, role="technician", username="tom")
    page = logged_in_client(alpha, "tom")
    with schema_context(alpha.schema):
        _plan(_client(), tom)
    page.get("/clients/tasks/")
    with django_assert_max_num_queries(14) as few:
        page.get("/clients/tasks/")
    few_count = len(few.captured_queries)
    with schema_context(alpha.schema):
        for index in range(25):
            _plan(_client(f"Client {index}", f"139000100{index:02d}"), tom)
    with django_assert_max_num_queries(few_count):
        html = page.get("/clients/tasks/").content.decode()
    assert html.count('class="card task') == 26


def test_quick_complete_in_place(alpha):
    # given
    tom = make_staff(alpha, role="technician", username="tom")
    with schema_context(alpha.schema):
        task = _plan(_client(), tom, purpose="Ask about the colour")
    page = logged_in_client(alpha, "tom")
    url = f"/clients/follow-ups/{task.pk}/complete/"
    # when the outcome is missing
    refused = page.post(
        url, {"outcome": " ", "record_interaction": "on"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en"
    )
    # then the row comes back with the error, still open
    assert refused.status_code == 200
    assert "Describe the outcome of the follow-up." in refused.content.decode()
    assert refused.content.decode().startswith(f'<li id="follow-up-{task.pk}"')
    # when completed
    done = page.post(
        url,
        {"outcome": "Likes the colour", "record_interaction": "on"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    # then
    assert done.status_code == 200
    assert "Done: Likes the colour" in done.content.decode()
    with schema_context(alpha.schema):
        task.refresh_from_db()
        assert (task.status, task.outcome) == ("done", "Likes the colour")
        assert Interaction.objects.get().body == "Likes the colour"


def test_complete_without_htmx_goes_back_to_the_list(alpha):
    tom = make_staff(alpha, role="technician", username="tom")
    alice = make_staff(alpha, role="front_desk", username="alice")
    with schema_context(alpha.schema):
        task = _plan(_client(), tom)
        alices = _plan(_client("Other", "13900002222"), alice)
    page = logged_in_client(alpha, "tom")
    response = page.post(f"/clients/follow-ups/{task.pk}/complete/", {"outcome": "Booked"})
    assert (response.status_code, response["Location"]) == (302, "/clients/tasks/")
    assert page.post(f"/clients/follow-ups/{alices.pk}/complete/", {"outcome": "x"}).status_code == 403
    with schema_context(alpha.schema):
        alices.refresh_from_db()
        assert alices.status == "open"


def test_plan_reschedule_and_cancel_on_the_pages(alpha):
    tom = make_staff(alpha, role="technician", username="tom")
    with schema_context(alpha.schema):
        client = _client()
    page = logged_in_client(alpha, "tom")
    # a due date in the past is shown on its field
    past = page.post(
        f"/clients/{client.pk}/follow-ups/new/",
        {"assigned_to": tom.pk, "due_date": (salon_today() - DAY).isoformat(), "purpose": "Call", "channel": "phone"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert past.status_code == 200
    assert "The due date cannot be in the past." in past.content.decode()
    created = page.post(
        f"/clients/{client.pk}/follow-ups/new/",
        {"assigned_to": tom.pk, "due_date": salon_today().isoformat(), "purpose": "Call", "channel": "phone"},
    )
    assert created.status_code == 302
    with schema_context(alpha.schema):
        task = FollowUp.objects.get()
    moved = page.post(
        f"/clients/follow-ups/{task.pk}/",
        {
            "action": "save",
            "assigned_to": tom.pk,
            "due_date": (salon_today() + DAY).isoformat(),
            "purpose": "Call back",
            "channel": "wechat",
        },
    )
    assert moved.status_code == 302
    cancelled = page.post(f"/clients/follow-ups/{task.pk}/", {"action": "cancel", "reason": "Moved abroad"})
    assert cancelled.status_code == 302
    with schema_context(alpha.schema):
        task.refresh_from_db()
        assert (task.due_date, task.purpose, task.channel, task.status, task.outcome) == (
            salon_today() + DAY,
            "Call back",
            "wechat",
            "cancelled",
            "Moved abroad",
        )


def test_a_technician_cannot_open_someone_elses_follow_up(alpha):
    make_staff(alpha, role="technician", username="tom")
    alice = make_staff(alpha, role="front_desk", username="alice")
    with schema_context(alpha.schema):
        task = _plan(_client(), alice)
    assert logged_in_client(alpha, "tom").get(f"/clients/follow-ups/{task.pk}/").status_code == 403

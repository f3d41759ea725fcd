"""CRM-5: a client's timeline (communications, feedback, complaints) and the complaint workflow,
through the services and the staff pages. Alpha and beta both hold data: a query that forgets
the salon shows beta's rows in alpha."""

from __future__ import annotations

import datetime
import threading
import zoneinfo

import pytest
from django.db import connections
from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry, User
from apps.core.services import staff_deactivate
from apps.crm.errors import CrmError
from apps.crm.models import Client, ComplaintStatus, Interaction
from apps.crm.selectors_interactions import client_timeline, client_timeline_summary, complaint_list
from apps.crm.services.clients import client_create
from apps.crm.services.interactions import (
    complaint_assign,
    complaint_transition,
    interaction_record,
    interaction_update,
)
from tests.fixtures import logged_in_client, make_staff, owner_of

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _at(day_offset: int, hour: int, minute: int = 0) -> datetime.datetime:
    today = timezone.now().astimezone(SHANGHAI).date()
    return datetime.datetime.combine(today + datetime.timedelta(days=day_offset), datetime.time(hour, minute), SHANGHAI)


def _client(name: str = "王芳", phone: str = "13900001111") -> Client:
    return client_create(name=name, phone=phone, acting_user=None)


@pytest.fixture
def alice(in_alpha):
    """A front-desk member (manage_clients)."""
    return make_staff(in_alpha, role="front_desk", username="alice", email="alice@alpha.test")


@pytest.fixture
def tom(in_alpha):
    """A technician (no manage_clients)."""
    return make_staff(in_alpha, role="technician", username="tom", email="tom@alpha.test")


@pytest.fixture
def beta_entry(beta):
    with schema_context(beta.schema):
        client = _client("Beta client", "13900009999")
        interaction_record(
            client=client, kind="complaint", summary="Beta complaint", acting_user=owner_of(beta), occurred_at=_at(0, 0)
        )
    return client


def _complaint(client: Client, user: User, summary: str = "Hair colour too dark") -> Interaction:
    return interaction_record(client=client, kind="complaint", channel="phone", summary=summary, acting_user=user)


def _audits(target: Interaction, action: str | None = None):
    # By target: the append-only log keeps entries of committed tests (threads) for the whole session.
    entries = AuditEntry.objects.filter(target_type="crm.interaction", target_id=str(target.pk))
    return entries.filter(action=action) if action else entries


def _audit(action: str, target: Interaction) -> list[dict]:
    return list(_audits(target, action).order_by("id").values_list("data", flat=True))


# --- recording --------------------------------------------------------------------------------


def test_record_communication_feedback_and_complaint(in_alpha, tom, beta_entry):
    # given
    client = _client()
    # when
    talk = interaction_record(
        client=client,
        kind="communication",
        channel="wechat",
        summary="  Asked about a perm  ",
        body="Prefers Saturdays",
        acting_user=tom,
        occurred_at=_at(-1, 10),
    )
    feedback = interaction_record(client=client, kind="feedback", summary="Loved it", rating=5, acting_user=tom)
    complaint = _complaint(client, tom)
    # then
    talk.refresh_from_db()
    assert (talk.kind, talk.channel, talk.summary, talk.body, talk.rating, talk.status, talk.recorded_by_id) == (
        "communication",
        "wechat",
        "Asked about a perm",
        "Prefers Saturdays",
        None,
        "",
        tom.pk,
    )
    assert talk.occurred_at == _at(-1, 10)
    assert (feedback.kind, feedback.rating, feedback.status, feedback.channel) == ("feedback", 5, "", "in_person")
    assert (complaint.status, complaint.owner_id, complaint.resolution) == ("open", None, "")
    assert Interaction.objects.filter(client=client).count() == 3


def test_a_naive_time_is_read_in_the_salons_zone(in_alpha, tom):
    client = _client()
    entry = interaction_record(
        client=client,
        kind="communication",
        summary="Call",
        acting_user=tom,
        occurred_at=datetime.datetime(2024, 5, 1, 9),
    )
    assert entry.occurred_at == datetime.datetime(2024, 5, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"kind": "feedback", "rating": 0}, "rating", CrmError.INVALID_RATING),
        ({"kind": "feedback", "rating": 6}, "rating", CrmError.INVALID_RATING),
        ({"kind": "feedback", "rating": -1}, "rating", CrmError.INVALID_RATING),
        ({"kind": "feedback", "rating": True}, "rating", CrmError.INVALID_RATING),
        ({"kind": "feedback", "rating": "5"}, "rating", CrmError.INVALID_RATING),
        ({"kind": "communication", "rating": 4}, "rating", CrmError.INVALID_RATING),
        ({"kind": "feedback", "summary": "   "}, "summary", CrmError.SUMMARY_REQUIRED),
        ({"kind": "feedback", "summary": "x" * 201}, "summary", CrmError.SUMMARY_REQUIRED),
        ({"kind": "gossip"}, "kind", "invalid"),
        ({"kind": "feedback", "channel": "fax"}, "channel", "invalid"),
        ({"kind": "feedback", "occurred_at": "future"}, "occurred_at", CrmError.DATE_IN_FUTURE),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(in_alpha, tom, fields, field, code):
    # given
    client = _client()
    fields = {"summary": "Said something", **fields}
    if fields.get("occurred_at") == "future":
        fields["occurred_at"] = timezone.now() + datetime.timedelta(hours=1)
    # when
    with pytest.raises(ServiceError) as refused:
        interaction_record(client=client, acting_user=tom, **fields)
    # then
    assert field in refused.value.errors
    assert refused.value.code.value == (code.value if isinstance(code, CrmError) else code)
    assert refused.value.status == 400
    assert not Interaction.objects.exists()


def test_every_field_error_is_reported_at_once(in_alpha, tom):
    client = _client()
    with pytest.raises(ServiceError) as refused:
        interaction_record(client=client, kind="feedback", summary="", rating=9, channel="fax", acting_user=tom)
    assert sorted(refused.value.errors) == ["channel", "rating", "summary"]
    assert refused.value.errors["rating"] == ["A rating is a whole number from 1 to 5."]


def test_an_inactive_client_gets_no_new_entries(in_alpha, tom):
    # given a client merged into another (the merge service turns it inactive)
    survivor = _client("Survivor", "13900002222")
    merged = _client()
    Client.objects.filter(pk=merged.pk).update(is_active=False, merged_into=survivor)
    merged.refresh_from_db()
    # when / then
    with pytest.raises(ServiceError) as refused:
        interaction_record(client=merged, kind="communication", summary="Hi", acting_user=tom)
    assert refused.value.code == CrmError.CLIENT_INACTIVE
    assert refused.value.status == 409
    assert not Interaction.objects.exists()


def test_timeline_is_newest_first_and_only_the_clients_own(in_alpha, tom, beta_entry):
    # given entries recorded out of order, two at the same moment
    client = _client()
    other = _client("Other", "13900003333")
    interaction_record(client=client, kind="communication", summary="b", acting_user=tom, occurred_at=_at(-2, 9))
    interaction_record(client=client, kind="feedback", summary="d", acting_user=tom, occurred_at=_at(-1, 9))
    interaction_record(client=client, kind="communication", summary="a", acting_user=tom, occurred_at=_at(-3, 9))
    interaction_record(client=client, kind="communication", summary="c1", acting_user=tom, occurred_at=_at(-2, 12))
    interaction_record(client=client, kind="complaint", summary="c2", acting_user=tom, occurred_at=_at(-2, 12))
    interaction_record(client=other, kind="communication", summary="other", acting_user=tom, occurred_at=_at(-1, 9))
    # when
    timeline = [entry.summary for entry in client_timeline(client=client)]
    communications = [entry.summary for entry in client_timeline(client=client, kind="communication")]
    summary = client_timeline_summary(client=client, limit=2)
    # then: newest first; of two at the same time, the later recorded first
    assert timeline == ["d", "c2", "c1", "b", "a"]
    assert communications == ["c1", "b", "a"]
    assert [e.summary for e in summary.entries] == ["d", "c2"]
    assert (summary.total, summary.open_complaints) == (5, 1)


def test_the_recorder_or_a_manager_corrects_an_entry_and_it_is_audited(in_alpha, tom, alice):
    # given
    client = _client()
    entry = interaction_record(client=client, kind="communication", summary="Calld", body="x", acting_user=tom)
    other_technician = make_staff(in_alpha, role="technician", username="tina")
    # when another technician tries
    with pytest.raises(ServiceError) as refused:
        interaction_update(interaction=entry, summary="Hacked", acting_user=other_technician)
    # then
    assert refused.value.status == 403
    entry.refresh_from_db()
    assert entry.summary == "Calld"
    # when the recorder and a manager correct it
    interaction_update(interaction=entry, summary="Called", acting_user=tom)
    interaction_update(interaction=entry, body="Will come on Friday", acting_user=alice)
    # then
    entry.refresh_from_db()
    assert (entry.summary, entry.body) == ("Called", "Will come on Friday")
    assert _audit("crm.interaction_updated", entry) == [
        {"client": client.pk, "changed": ["summary"], "before": {"summary": "Calld"}},
        {"client": client.pk, "changed": ["body"], "before": {"body": "x"}},
    ]
    with pytest.raises(ServiceError) as blank:
        interaction_update(interaction=entry, summary=" ", acting_user=tom)
    assert blank.value.code == CrmError.SUMMARY_REQUIRED


# --- complaint workflow -----------------------------------------------------------------------


def test_complaint_goes_open_handling_resolved_and_each_move_is_audited(in_alpha, alice, tom):
    # given
    client = _client()
    complaint = _complaint(client, tom)
    # when alice takes it (no owner given: she becomes the owner)
    complaint_transition(complaint=complaint, to_status="handling", acting_user=alice)
    complaint.refresh_from_db()
    # then
    assert (complaint.status, complaint.owner_id) == ("handling", alice.pk)
    # when she resolves it
    complaint_transition(
        complaint=complaint, to_status="resolved", resolution="  Redid the colour for free ", acting_user=alice
    )
    complaint.refresh_from_db()
    # then
    assert (complaint.status, complaint.owner_id, complaint.resolution, complaint.resolved_by_id) == (
        "resolved",
        alice.pk,
        "Redid the colour for free",
        alice.pk,
    )
    assert complaint.resolved_at is not None
    assert _audit("crm.complaint_moved", complaint) == [
        {"client": client.pk, "from": "open", "to": "handling", "owner": alice.pk, "previous_owner": None},
        {
            "client": client.pk,
            "from": "handling",
            "to": "resolved",
            "owner": alice.pk,
            "previous_owner": alice.pk,
            "resolution": "Redid the colour for free",
        },
    ]


def test_reopening_keeps_the_old_resolution_in_the_audit_log(in_alpha, alice, tom):
    # given a resolved complaint
    client = _client()
    complaint = _complaint(client, tom)
    complaint_transition(complaint=complaint, to_status="handling", acting_user=alice)
    complaint_transition(complaint=complaint, to_status="resolved", resolution="Refunded", acting_user=alice)
    # when the client calls again
    complaint_transition(complaint=complaint, to_status="handling", acting_user=alice)
    # then
    complaint.refresh_from_db()
    assert (complaint.status, complaint.owner_id, complaint.resolution, complaint.resolved_at) == (
        "handling",
        alice.pk,
        "",
        None,
    )
    assert _audit("crm.complaint_reopened", complaint) == [
        {
            "client": client.pk,
            "from": "resolved",
            "to": "handling",
            "owner": alice.pk,
            "previous_owner": alice.pk,
            "previous_resolution": "Refunded",
        }
    ]


def _handling(client: Client, owner: User, by: User) -> Interaction:
    complaint = _complaint(client, by)
    complaint_transition(complaint=complaint, to_status="handling", owner=owner, acting_user=by)
    complaint.refresh_from_db()
    return complaint


def _unchanged(complaint: Interaction, status: str, owner_id: int | None, audits: int) -> None:
    complaint.refresh_from_db()
    assert (complaint.status, complaint.owner_id, complaint.resolution) == (status, owner_id, "")
    assert _audits(complaint).count() == audits


def test_resolving_needs_a_resolution(in_alpha, alice):
    complaint = _handling(_client(), alice, alice)
    with pytest.raises(ServiceError) as refused:
        complaint_transition(complaint=complaint, to_status="resolved", resolution="   ", acting_user=alice)
    assert refused.value.code == CrmError.RESOLUTION_REQUIRED
    assert refused.value.errors == {"resolution": ["Describe how the complaint was resolved."]}
    _unchanged(complaint, "handling", alice.pk, 1)


def test_resolving_needs_an_owner(in_alpha, alice):
    # given a complaint being handled whose owner is gone (the column is SET NULL when a user row is removed)
    complaint = _handling(_client(), alice, alice)
    Interaction.objects.filter(pk=complaint.pk).update(owner=None)
    # when
    with pytest.raises(ServiceError) as refused:
        complaint_transition(complaint=complaint, to_status="resolved", acting_user=alice)
    # then both missing pieces are named
    assert refused.value.code == CrmError.RESOLUTION_REQUIRED
    assert sorted(refused.value.errors) == ["owner", "resolution"]
    assert refused.value.errors["owner"] == ["Choose who owns the complaint."]
    with pytest.raises(ServiceError) as only_owner:
        complaint_transition(complaint=complaint, to_status="resolved", resolution="Apologised", acting_user=alice)
    assert only_owner.value.code == CrmError.OWNER_REQUIRED
    _unchanged(complaint, "handling", None, 1)


@pytest.mark.parametrize(
    ("start", "to_status"),
    [
        ("open", "resolved"),
        ("open", "open"),
        ("handling", "open"),
        ("handling", "handling"),
        ("resolved", "resolved"),
        ("resolved", "open"),
        ("open", "closed"),
        ("open", ""),
    ],
)
def test_any_other_move_is_an_invalid_transition(in_alpha, alice, start, to_status):
    # given
    complaint = _complaint(_client(), alice)
    if start != "open":
        complaint_transition(complaint=complaint, to_status="handling", acting_user=alice)
    if start == "resolved":
        complaint_transition(complaint=complaint, to_status="resolved", resolution="Done", acting_user=alice)
    complaint.refresh_from_db()
    before = (complaint.status, complaint.owner_id, complaint.resolution)
    audits = _audits(complaint).count()
    # when
    with pytest.raises(ServiceError) as refused:
        complaint_transition(complaint=complaint, to_status=to_status, resolution="x", acting_user=alice)
    # then
    assert refused.value.code == CrmError.INVALID_TRANSITION
    assert refused.value.errors == {"status": ["The complaint cannot move to this status from its current one."]}
    complaint.refresh_from_db()
    assert (complaint.status, complaint.owner_id, complaint.resolution) == before
    assert _audits(complaint).count() == audits


@pytest.mark.parametrize("kind", ["communication", "feedback"])
def test_only_complaints_have_a_workflow(in_alpha, alice, kind):
    entry = interaction_record(client=_client(), kind=kind, summary="Hello", acting_user=alice)
    with pytest.raises(ServiceError) as refused:
        complaint_transition(complaint=entry, to_status="handling", acting_user=alice)
    assert refused.value.code == CrmError.NOT_A_COMPLAINT
    entry.refresh_from_db()
    assert (entry.status, entry.owner_id) == ("", None)
    with pytest.raises(ServiceError) as assign:
        complaint_assign(complaint=entry, owner=alice, acting_user=alice)
    assert assign.value.code == CrmError.NOT_A_COMPLAINT
    assert not _audits(entry).exists()


def test_ownership_changes_need_manage_clients_but_an_owner_moves_their_own(in_alpha, alice, tom):
    client = _client()
    # a technician cannot take a complaint (that would make them its owner) ...
    complaint = _complaint(client, tom)
    with pytest.raises(ServiceError) as take:
        complaint_transition(complaint=complaint, to_status="handling", acting_user=tom)
    assert (take.value.code, take.value.status) == (CrmError.PERMISSION_DENIED, 403)
    _unchanged(complaint, "open", None, 0)
    # ... nor give it to someone
    with pytest.raises(ServiceError):
        complaint_assign(complaint=complaint, owner=tom, acting_user=tom)
    # but once a manager gives it to them, they resolve it themselves
    complaint_transition(complaint=complaint, to_status="handling", owner=tom, acting_user=alice)
    with pytest.raises(ServiceError) as hand_over:
        complaint_transition(complaint=complaint, to_status="resolved", owner=alice, resolution="x", acting_user=tom)
    assert hand_over.value.status == 403
    complaint_transition(complaint=complaint, to_status="resolved", resolution="Gave a voucher", acting_user=tom)
    complaint.refresh_from_db()
    assert (complaint.status, complaint.owner_id, complaint.resolved_by_id) == ("resolved", tom.pk, tom.pk)
    # a technician cannot move someone else's complaint
    other = _handling(client, alice, alice)
    with pytest.raises(ServiceError) as not_theirs:
        complaint_transition(complaint=other, to_status="resolved", resolution="x", acting_user=tom)
    assert not_theirs.value.status == 403


def test_a_complaint_goes_only_to_an_active_owner(in_alpha, alice, tom):
    complaint = _complaint(_client(), alice)
    staff_deactivate(user=tom, acting_user=owner_of(in_alpha))
    tom.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        complaint_transition(complaint=complaint, to_status="handling", owner=tom, acting_user=alice)
    assert refused.value.code == CrmError.STAFF_INACTIVE
    assert list(refused.value.errors) == ["owner"]
    _unchanged(complaint, "open", None, 0)
    with pytest.raises(ServiceError):
        complaint_assign(complaint=complaint, owner=tom, acting_user=alice)
    _unchanged(complaint, "open", None, 0)


def test_a_manager_gives_a_complaint_to_someone_else(in_alpha, alice, tom):
    complaint = _handling(_client(), alice, alice)
    complaint_assign(complaint=complaint, owner=tom, acting_user=alice)
    complaint.refresh_from_db()
    assert (complaint.status, complaint.owner_id) == ("handling", tom.pk)
    assert _audit("crm.complaint_assigned", complaint) == [
        {"client": complaint.client_id, "owner": tom.pk, "previous_owner": alice.pk}
    ]


def test_complaint_list_is_open_and_handling_salon_wide(in_alpha, alice, tom, beta_entry):
    # given
    client = _client()
    waiting = _complaint(client, tom, "Waiting")
    handled = _handling(client, tom, alice)
    done = _handling(client, alice, alice)
    complaint_transition(complaint=done, to_status="resolved", resolution="ok", acting_user=alice)
    interaction_record(client=client, kind="feedback", summary="Nice", acting_user=tom)
    # when / then
    assert [c.pk for c in complaint_list()] == [waiting.pk, handled.pk]
    assert [c.pk for c in complaint_list(status="resolved")] == [done.pk]
    assert [c.pk for c in complaint_list(owner=tom)] == [handled.pk]


def test_two_people_resolving_at_once_resolve_it_once(two_salons, django_db_blocker):
    """The row lock: the second one sees the first one's status and is refused."""
    alpha = two_salons[0]
    with django_db_blocker.unblock(), schema_context(alpha.schema):
        owner = User.objects.get(username=alpha.owner_username)
        client = client_create(name="Race client", phone="13900007777", acting_user=None)
        complaint = interaction_record(client=client, kind="complaint", summary="Race", acting_user=owner)
        complaint_transition(complaint=complaint, to_status="handling", acting_user=owner)
        audits_before = _audits(complaint).count()
        barrier = threading.Barrier(4)
        outcomes: list[object] = [None] * 4

        def resolve(index: int) -> None:
            try:
                with schema_context(alpha.schema):
                    barrier.wait()
                    outcomes[index] = complaint_transition(
                        complaint=complaint, to_status="resolved", resolution=f"fix {index}", acting_user=owner
                    )
            except Exception as exc:  # collected and asserted below
                outcomes[index] = exc
            finally:
                connections.close_all()

        try:
            threads = [threading.Thread(target=resolve, args=(i,)) for i in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            won = [o for o in outcomes if isinstance(o, Interaction)]
            lost = [o for o in outcomes if isinstance(o, ServiceError)]
            assert len(won) == 1
            assert len(lost) == 3
            assert {o.code for o in lost} == {CrmError.INVALID_TRANSITION}
            complaint.refresh_from_db()
            assert complaint.resolution == won[0].resolution
            assert _audits(complaint).count() == audits_before + 1
        finally:
            # Committed rows: remove them (the audit log is append-only and keeps its entries).
            Interaction.objects.filter(client=client).delete()
            client.delete()


# --- pages ------------------------------------------------------------------------------------


def _seed_timeline(client: Client, user: User, count: int) -> None:
    for index in range(count):
        kind = ("communication", "feedback", "complaint")[index % 3]
        interaction_record(
            client=client,
            kind=kind,
            summary=f"Entry {index}",
            rating=4 if kind == "feedback" else None,
            acting_user=user,
            occurred_at=_at(-1, 0, index % 60) - datetime.timedelta(hours=index // 60),
        )


def test_timeline_page_shows_entries_newest_first_with_badges(alpha, beta_entry):
    # given
    tom = make_staff(alpha, role="technician", username="tom")
    with schema_context(alpha.schema):
        client = _client()
        _seed_timeline(client, tom, 3)
    page = logged_in_client(alpha, "tom")
    # when
    response = page.get(f"/clients/{client.pk}/interactions/", HTTP_ACCEPT_LANGUAGE="en")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Entry 2") < html.index("Entry 1") < html.index("Entry 0")
    assert 'class="badge kind-complaint"' in html
    assert 'class="badge status-open"' in html
    assert "Beta complaint" not in html


def test_timeline_page_filters_by_kind_and_pages(alpha):
    tom = make_staff(alpha, role="technician", username="tom")
    with schema_context(alpha.schema):
        client = _client()
        _seed_timeline(client, tom, 60)
    page = logged_in_client(alpha, "tom")
    feedback = page.get(f"/clients/{client.pk}/interactions/?kind=feedback").content.decode()
    assert feedback.count('class="badge kind-feedback"') == 20
    assert "badge kind-communication" not in feedback
    first = page.get(f"/clients/{client.pk}/interactions/").content.decode()
    third = page.get(f"/clients/{client.pk}/interactions/?page=3").content.decode()
    assert first.count('<li class="entry">') == 25
    assert third.count('<li class="entry">') == 10
    assert "Entry 59" in first
    assert "Entry 0" in third


def test_timeline_page_query_count_does_not_grow_with_entries(alpha, django_assert_max_num_queries):
    tom = make_staff(alpha, role="technician", username="tom")
    with schema_context(alpha.schema):
        few, many = _client("Few", "13900004444"), _client("Many", "13900005555")
        _seed_timeline(few, tom, 2)
        _seed_timeline(many, tom, 40)
    page = logged_in_client(alpha, "tom")
    page.get(f"/clients/{few.pk}/interactions/")  # warm the host cache
    # (each query is preceded by a SET search_path in tests: 7 queries are 14 statements)
    with django_assert_max_num_queries(14) as few_queries:
        page.get(f"/clients/{few.pk}/interactions/")
    with django_assert_max_num_queries(len(few_queries.captured_queries)):
        page.get(f"/clients/{many.pk}/interactions/")


def test_any_staff_member_records_on_the_page(alpha):
    make_staff(alpha, role="technician", username="tom")
    with schema_context(alpha.schema):
        client = _client()
    page = logged_in_client(alpha, "tom")
    response = page.post(
        f"/clients/{client.pk}/interactions/",
        {"kind": "feedback", "channel": "wechat", "summary": "Happy with the facial", "rating": "5"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{client.pk}/interactions/"
    with schema_context(alpha.schema):
        entry = Interaction.objects.get()
        assert (entry.kind, entry.channel, entry.summary, entry.rating, entry.recorded_by.username) == (
            "feedback",
            "wechat",
            "Happy with the facial",
            5,
            "tom",
        )


def test_the_page_shows_a_refused_entry_on_its_field(alpha):
    make_staff(alpha, role="technician", username="tom")
    with schema_context(alpha.schema):
        client = _client()
    page = logged_in_client(alpha, "tom")
    response = page.post(
        f"/clients/{client.pk}/interactions/",
        {"kind": "communication", "channel": "phone", "summary": "Call", "rating": "3"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Only feedback and complaints carry a rating." in response.content.decode()
    with schema_context(alpha.schema):
        assert not Interaction.objects.exists()


def test_complaints_page_is_for_managers_and_lists_open_and_handling(alpha, beta_entry, django_assert_max_num_queries):
    # given
    alice = make_staff(alpha, role="front_desk", username="alice")
    make_staff(alpha, role="technician", username="tom")
    with schema_context(alpha.schema):
        client = _client()
        for index in range(3):
            _complaint(client, alice, f"Open {index}")
        handled = _handling(client, alice, alice)
        resolved = _handling(client, alice, alice)
        complaint_transition(complaint=resolved, to_status="resolved", resolution="ok", acting_user=alice)
        Interaction.objects.filter(pk=resolved.pk).update(summary="Resolved one")
        Interaction.objects.filter(pk=handled.pk).update(summary="Handled one")
    manager = logged_in_client(alpha, "alice")
    manager.get("/clients/complaints/")
    # when
    with django_assert_max_num_queries(14) as few:
        response = manager.get("/clients/complaints/")
    few_count = len(few.captured_queries)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    for expected in ("Open 0", "Open 1", "Open 2", "Handled one"):
        assert expected in html
    assert "Resolved one" not in html
    assert "Beta complaint" not in html
    only_handling = manager.get("/clients/complaints/?status=handling").content.decode()
    assert "Handled one" in only_handling
    assert "Open 0" not in only_handling
    by_owner = manager.get(f"/clients/complaints/?owner={alice.pk}").content.decode()
    assert "Handled one" in by_owner
    assert "Open 0" not in by_owner
    assert logged_in_client(alpha, "tom").get("/clients/complaints/").status_code == 403
    # and the page costs the same with many more complaints
    with schema_context(alpha.schema):
        for index in range(20):
            _handling(client, alice, alice)
    with django_assert_max_num_queries(few_count):
        assert manager.get("/clients/complaints/").content.decode().count("badge status-handling") == 21


def test_complaint_page_moves_it_and_shows_a_refusal(alpha):
    alice = make_staff(alpha, role="front_desk", username="alice")
    with schema_context(alpha.schema):
        complaint = _complaint(_client(), alice)
    page = logged_in_client(alpha, "alice")
    url = f"/clients/complaints/{complaint.pk}/"
    taken = page.post(url, {"action": "move", "status": "handling", "owner": str(alice.pk)})
    assert taken.status_code == 302
    refused = page.post(
        url,
        {"action": "move", "status": "resolved", "owner": str(alice.pk), "resolution": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 200
    assert "Describe how the complaint was resolved." in refused.content.decode()
    resolved = page.post(
        url, {"action": "move", "status": "resolved", "owner": str(alice.pk), "resolution": "Refund of 50 yuan"}
    )
    assert resolved.status_code == 302
    with schema_context(alpha.schema):
        complaint.refresh_from_db()
        assert (complaint.status, complaint.resolution) == (ComplaintStatus.RESOLVED, "Refund of 50 yuan")


def test_a_technician_cannot_take_a_complaint_on_its_page(alpha):
    make_staff(alpha, role="technician", username="tom")
    with schema_context(alpha.schema):
        complaint = _complaint(_client(), owner_of(alpha))
    page = logged_in_client(alpha, "tom")
    url = f"/clients/complaints/{complaint.pk}/"
    assert "Move on" not in page.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.post(url, {"action": "move", "status": "handling"}).status_code == 403
    with schema_context(alpha.schema):
        complaint.refresh_from_db()
        assert (complaint.status, complaint.owner_id) == ("open", None)


def test_the_client_page_sections_render(alpha, rf):
    from apps.crm.sections import client_sections_for

    alice = make_staff(alpha, role="front_desk", username="alice")
    with schema_context(alpha.schema):
        client = _client()
        _seed_timeline(client, alice, 7)
        request = rf.get(f"/clients/{client.pk}/")
        request.user = alice
        sections = {s.slug: s.html for s in client_sections_for(request, client)}
        html, follow_ups = sections["interactions"], sections["follow_ups"]
    assert html.count('<li class="entry">') == 5
    assert f'href="/clients/{client.pk}/interactions/"' in html
    assert 'name="next"' in html
    assert f'href="/clients/{client.pk}/follow-ups/new/"' in follow_ups
    assert 'href="/clients/tasks/"' in follow_ups


def test_anonymous_visitors_are_sent_to_sign_in(alpha):
    response = HttpClient(HTTP_HOST=alpha.host).get("/clients/tasks/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")

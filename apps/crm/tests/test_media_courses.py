"""CRM-10 treatment courses (疗程): sessions numbered in order, never beyond the plan, never
on a finished course, also when recorded at the same moment; pages and the client section."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connections, transaction
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.crm.errors import CrmError
from apps.crm.models import Client, CourseStatus, TreatmentCourse, TreatmentSession
from apps.crm.services.media import (
    treatment_course_create,
    treatment_course_set_status,
    treatment_session_record,
)
from apps.crm.tests.test_media_support import days_ago, new_client
from tests.fixtures import logged_in_client, make_staff, owner_of


@pytest.fixture
def ana(alpha, beta):
    new_client(beta, "Beta Bea")
    return new_client(alpha, "Ana Li")


def _english(info, username):
    from apps.core.models import User
    from apps.core.services import user_set_language

    with schema_context(info.schema):
        user_set_language(user=User.objects.get(username=username), language="en")


def _course(info, client, planned=3, **kwargs):
    kwargs.setdefault("name", "Hydrating facial")
    kwargs.setdefault("started_on", days_ago(30))
    with schema_context(info.schema):
        return treatment_course_create(client=client, planned_sessions=planned, acting_user=owner_of(info), **kwargs)


def _session(info, course, **kwargs):
    kwargs.setdefault("performed_on", days_ago(1))
    kwargs.setdefault("acting_user", owner_of(info))
    with schema_context(info.schema):
        return treatment_session_record(course=course, **kwargs)


def test_sessions_are_numbered_in_order_until_the_plan_is_full(alpha, ana):
    # given
    course = _course(alpha, ana, planned=3, goal="Even skin tone")
    tech = make_staff(alpha, role="technician", username="tina", phone="+8613700000031")
    # when
    numbers = [
        _session(alpha, course, notes=" Cleanse, mask ", effect="Less redness", acting_user=tech).number
        for _ in range(3)
    ]
    # then
    assert numbers == [1, 2, 3]
    with pytest.raises(ServiceError) as caught:
        _session(alpha, course)
    assert caught.value.code == CrmError.COURSE_FULL
    with schema_context(alpha.schema):
        sessions = list(TreatmentSession.objects.filter(course=course).order_by("number"))
    assert [s.number for s in sessions] == [1, 2, 3]
    assert (sessions[0].notes, sessions[0].effect, sessions[0].staff_id) == ("Cleanse, mask", "Less redness", tech.pk)


def test_a_session_is_recorded_by_the_technician_named(alpha, ana):
    course = _course(alpha, ana)
    tech = make_staff(alpha, role="technician", username="tina", phone="+8613700000032")
    session = _session(alpha, course, staff=tech)
    assert session.staff_id == tech.pk


@pytest.mark.parametrize("status", [CourseStatus.COMPLETED, CourseStatus.STOPPED])
def test_no_session_on_a_finished_course_until_it_is_reopened(alpha, ana, status):
    # given
    course = _course(alpha, ana, planned=5)
    _session(alpha, course)
    with schema_context(alpha.schema):
        treatment_course_set_status(course=course, status=status, acting_user=owner_of(alpha))
    # when
    with pytest.raises(ServiceError) as caught:
        _session(alpha, course)
    # then
    assert caught.value.code == CrmError.COURSE_CLOSED
    with schema_context(alpha.schema):
        assert TreatmentSession.objects.filter(course=course).count() == 1
        # a finished course does not move to the other finished state
        other = CourseStatus.STOPPED if status == CourseStatus.COMPLETED else CourseStatus.COMPLETED
        with pytest.raises(ServiceError):
            treatment_course_set_status(course=course, status=other, acting_user=owner_of(alpha))
        treatment_course_set_status(course=course, status=CourseStatus.ACTIVE, acting_user=owner_of(alpha))
        course.refresh_from_db()
        assert course.status == CourseStatus.ACTIVE
    assert _session(alpha, course).number == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "  "}, "name"),
        ({"planned": 0}, "planned_sessions"),
        ({"planned": 101}, "planned_sessions"),
        ({"started_on": None}, "started_on"),
    ],
)
def test_a_bad_course_is_refused_and_not_saved(alpha, ana, overrides, field):
    planned = overrides.pop("planned", 3)
    with pytest.raises(ServiceError) as caught:
        _course(alpha, ana, planned=planned, **overrides)
    assert list(caught.value.errors) == [field]
    with schema_context(alpha.schema):
        assert TreatmentCourse.objects.count() == 0


def test_a_session_dated_tomorrow_is_refused(alpha, ana):
    course = _course(alpha, ana)
    with pytest.raises(ServiceError) as caught:
        _session(alpha, course, performed_on=days_ago(-1))
    assert (caught.value.code, list(caught.value.errors)) == (CrmError.DATE_IN_FUTURE, ["performed_on"])
    with schema_context(alpha.schema):
        assert not TreatmentSession.objects.exists()


def test_the_database_refuses_a_duplicate_session_number(alpha, ana):
    course = _course(alpha, ana)
    _session(alpha, course)
    with schema_context(alpha.schema), pytest.raises(IntegrityError), transaction.atomic():
        TreatmentSession.objects.create(course=course, number=1, performed_on=days_ago(1))


def test_sessions_recorded_at_once_get_unique_numbers_never_beyond_the_plan(two_salons, django_db_blocker):
    """Eight staff members record on a five-session course at the same moment (real threads,
    committed transactions): five get numbers 1 to 5, three are told the course is full."""
    alpha = two_salons[0]
    planned, racers = 5, 8
    with django_db_blocker.unblock():
        from apps.crm.services.clients import client_create

        with schema_context(alpha.schema):
            client = client_create(name="Race Client", acting_user=None)
        try:
            with schema_context(alpha.schema):
                course = treatment_course_create(
                    client=client, name="Race", planned_sessions=planned, started_on=days_ago(3), acting_user=None
                )
            _race(alpha.schema, course, planned, racers)
        finally:
            with schema_context(alpha.schema):
                TreatmentSession.objects.filter(course__client=client).delete()
                TreatmentCourse.objects.filter(client=client).delete()
                Client.objects.filter(pk=client.pk).delete()


def _race(schema: str, course: TreatmentCourse, planned: int, racers: int) -> None:
    barrier = threading.Barrier(racers)
    outcomes: list[object] = [None] * racers

    def record(index: int) -> None:
        try:
            with schema_context(schema):
                barrier.wait(timeout=30)
                outcomes[index] = treatment_session_record(
                    course=course, performed_on=days_ago(0), notes=f"racer {index}", acting_user=None
                ).number
        except Exception as exc:  # collected and asserted below
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=record, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    numbers = sorted(o for o in outcomes if isinstance(o, int))
    refused = [o for o in outcomes if not isinstance(o, int)]
    assert numbers == list(range(1, planned + 1))
    assert len(refused) == racers - planned
    assert all(isinstance(o, ServiceError) and o.code == CrmError.COURSE_FULL for o in refused), refused
    with schema_context(schema):
        stored = sorted(TreatmentSession.objects.filter(course=course).values_list("number", flat=True))
    assert stored == list(range(1, planned + 1))


# --- pages -------------------------------------------------------------------------------------


def test_a_manager_opens_a_course_and_a_technician_records_sessions_on_the_pages(alpha, ana):
    # given
    make_staff(alpha, role="technician", username="tina", phone="+8613700000033")
    owner = logged_in_client(alpha, alpha.owner_username)
    # when the owner opens a course
    opened = owner.post(
        f"/clients/{ana.pk}/courses/",
        {"name": "Acne care", "goal": "Clear chin", "planned_sessions": "2", "started_on": days_ago(7).isoformat()},
    )
    # then
    assert opened.status_code == 302
    with schema_context(alpha.schema):
        course = TreatmentCourse.objects.get()
    assert opened["Location"] == f"/clients/{ana.pk}/courses/{course.pk}/"
    # when the technician records both sessions
    tina = logged_in_client(alpha, "tina")
    for note in ("First peel", "Second peel"):
        response = tina.post(
            f"/clients/{ana.pk}/courses/{course.pk}/",
            {"performed_on": days_ago(1).isoformat(), "notes": note, "effect": "Calmer", "staff": ""},
        )
        assert response.status_code == 302
    # then the page shows 2 / 2 and no more form
    _english(alpha, "tina")
    html = tina.get(f"/clients/{ana.pk}/courses/{course.pk}/").content.decode()
    assert '<progress value="2" max="2"' in html
    assert "2 / 2" in html
    assert "All planned sessions are recorded." in html
    assert "Record the session" not in html
    # and a third session posted anyway is refused with the course-full message
    refused = tina.post(
        f"/clients/{ana.pk}/courses/{course.pk}/", {"performed_on": days_ago(0).isoformat()}, follow=True
    )
    assert refused.redirect_chain == [(f"/clients/{ana.pk}/courses/{course.pk}/", 302)]
    assert "All planned sessions of this course are recorded." in refused.content.decode()
    with schema_context(alpha.schema):
        assert TreatmentSession.objects.filter(course=course).count() == 2


def test_a_technician_neither_opens_nor_closes_a_course(alpha, ana):
    course = _course(alpha, ana)
    make_staff(alpha, role="technician", username="tina", phone="+8613700000034")
    tina = logged_in_client(alpha, "tina")
    opened = tina.post(
        f"/clients/{ana.pk}/courses/",
        {"name": "Sneaky", "planned_sessions": "2", "started_on": days_ago(1).isoformat()},
    )
    closed = tina.post(f"/clients/{ana.pk}/courses/{course.pk}/status/", {"status": "completed"})
    assert (opened.status_code, closed.status_code) == (403, 403)
    with schema_context(alpha.schema):
        assert list(TreatmentCourse.objects.values_list("name", "status")) == [("Hydrating facial", "active")]


def test_the_owner_completes_and_reopens_a_course(alpha, ana):
    course = _course(alpha, ana)
    owner = logged_in_client(alpha, alpha.owner_username)
    assert owner.post(f"/clients/{ana.pk}/courses/{course.pk}/status/", {"status": "completed"}).status_code == 302
    with schema_context(alpha.schema):
        course.refresh_from_db()
        assert course.status == "completed"
    assert owner.post(f"/clients/{ana.pk}/courses/{course.pk}/status/", {"status": "active"}).status_code == 302
    with schema_context(alpha.schema):
        course.refresh_from_db()
        assert course.status == "active"


def test_the_course_list_shows_progress_in_constant_queries(alpha, ana, django_assert_max_num_queries):
    first = _course(alpha, ana, planned=10, name="Anti-ageing")
    for _ in range(3):
        _session(alpha, first)
    http = logged_in_client(alpha, alpha.owner_username)
    http.get(f"/clients/{ana.pk}/courses/")
    with django_assert_max_num_queries(12):
        html = http.get(f"/clients/{ana.pk}/courses/").content.decode()
    assert "3 / 10" in html
    for i in range(4):
        _course(alpha, ana, planned=4, name=f"Course {i}")
    with django_assert_max_num_queries(12):
        html = http.get(f"/clients/{ana.pk}/courses/").content.decode()
    assert html.count("<progress") == 5


def test_a_course_of_another_client_is_not_found(alpha, ana):
    course = _course(alpha, ana)
    bo = new_client(alpha, "Bo Wang")
    owner = logged_in_client(alpha, alpha.owner_username)
    assert owner.get(f"/clients/{bo.pk}/courses/{course.pk}/").status_code == 404
    assert owner.post(f"/clients/{bo.pk}/courses/{course.pk}/", {"performed_on": "2020-01-01"}).status_code == 404
    assert owner.post(f"/clients/{bo.pk}/courses/{course.pk}/status/", {"status": "stopped"}).status_code == 404
    with schema_context(alpha.schema):
        course.refresh_from_db()
        assert course.status == "active"
        assert not TreatmentSession.objects.exists()


def test_the_courses_section_shows_courses_in_progress(alpha, ana):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from apps.crm.sections import SECTIONS

    running = _course(alpha, ana, planned=10, name="Running course")
    _session(alpha, running)
    done = _course(alpha, ana, name="Done course")
    with schema_context(alpha.schema):
        treatment_course_set_status(course=done, status="completed", acting_user=owner_of(alpha))
        request = RequestFactory().get("/")
        request.user = owner_of(alpha)
        section = SECTIONS["treatment_courses"]
        html = render_to_string(section.template, section.context(request, ana))
    assert "Running course" in html and "1 / 10" in html
    assert "Done course" not in html

"""API of client photos, skin records and treatment courses: flows, who may write, bad input
(400 with field errors, never 500) and salons kept apart."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.crm.models import ClientPhoto, SkinRecord, TreatmentCourse, TreatmentSession
from apps.crm.services.media import (
    client_photo_upload,
    skin_record_create,
    treatment_course_create,
    treatment_session_record,
)
from apps.crm.tests.test_media_support import days_ago, image_bytes, new_client, stored_files, upload
from tests.fixtures import api_token, make_staff, owner_of


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def ana(alpha, beta):
    new_client(beta, "Beta Bea")
    return new_client(alpha, "Ana Li")


@pytest.fixture
def owner_api(alpha) -> HttpClient:
    return HttpClient(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, alpha.owner_username)}")


@pytest.fixture
def tech_api(alpha) -> HttpClient:
    make_staff(alpha, role="technician", username="tina", phone="+8613700000041")
    return HttpClient(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, 'tina')}")


def _photo(info, client, **kwargs):
    kwargs.setdefault("kind", "before")
    kwargs.setdefault("taken_on", days_ago(1))
    with schema_context(info.schema):
        return client_photo_upload(client=client, file=upload(image_bytes()), acting_user=owner_of(info), **kwargs)


# --- photos ------------------------------------------------------------------------------------


def test_a_technician_uploads_a_photo_and_fetches_it_through_the_returned_url(alpha, ana, tech_api, media_root):
    # when
    response = tech_api.post(
        f"/api/v1/clients/{ana.pk}/photos/",
        {"image": upload(image_bytes("PNG", (40, 30)), "x.png", "image/png"), "kind": "after", "caption": "Done"},
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    with schema_context(alpha.schema):
        photo = ClientPhoto.objects.get()
    assert body["id"] == photo.pk
    assert (body["kind"], body["caption"], body["width"], body["height"]) == ("after", "Done", 40, 30)
    assert body["content_type"] == "image/png"
    assert body["taken_on"] == days_ago(0).isoformat()
    assert body["url"] == f"http://{alpha.host}/clients/{ana.pk}/photos/{photo.token}/"
    assert body["thumbnail_url"] == f"http://{alpha.host}/clients/{ana.pk}/photos/{photo.token}/thumb/"
    assert "image" not in body and "token" not in body
    # and the URL streams the file to the same token
    streamed = tech_api.get(body["url"].replace(f"http://{alpha.host}", ""))
    assert streamed.status_code == 200
    assert streamed["Content-Type"] == "image/png"
    assert len(stored_files(media_root)) == 2


def test_the_photo_list_is_paginated_newest_first_and_filtered_by_kind(alpha, ana, owner_api):
    older = _photo(alpha, ana, kind="before", taken_on=days_ago(9))
    newer = _photo(alpha, ana, kind="after", taken_on=days_ago(2))
    _photo(alpha, new_client(alpha, "Bo Wang"))
    body = owner_api.get(f"/api/v1/clients/{ana.pk}/photos/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [p["id"] for p in body["results"]] == [newer.pk, older.pk]
    only = owner_api.get(f"/api/v1/clients/{ana.pk}/photos/?kind=before").json()
    assert [p["id"] for p in only["results"]] == [older.pk]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "image"),
        ({"image": upload(b"not an image at all", "a.jpg")}, "image"),
        ({"image": upload(image_bytes("GIF", (10, 10)), "a.gif", "image/gif")}, "image"),
        ({"image": upload(image_bytes()), "kind": "selfie"}, "kind"),
        ({"image": upload(image_bytes()), "taken_on": "tomorrow"}, "taken_on"),
        ({"image": upload(image_bytes()), "taken_on": "2999-01-01"}, "taken_on"),
        ({"image": upload(image_bytes()), "session": "999999"}, "session"),
        ({"image": upload(image_bytes()), "caption": "x" * 201}, "caption"),
    ],
    ids=["no-file", "not-image", "gif", "kind", "date-garbage", "date-future", "session", "caption"],
)
def test_a_bad_upload_is_a_400_on_its_field_and_stores_nothing(alpha, ana, owner_api, media_root, payload, field):
    response = owner_api.post(f"/api/v1/clients/{ana.pk}/photos/", payload)
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    with schema_context(alpha.schema):
        assert ClientPhoto.objects.count() == 0
    assert stored_files(media_root) == []


def test_json_instead_of_a_file_is_a_400(alpha, ana, owner_api):
    response = owner_api.post(
        f"/api/v1/clients/{ana.pk}/photos/", {"image": "aGVsbG8="}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "image" in response.json()


def test_a_technician_cannot_delete_a_photo_but_the_owner_can(
    alpha, ana, owner_api, tech_api, media_root, django_capture_on_commit_callbacks
):
    photo = _photo(alpha, ana)
    url = f"/api/v1/clients/{ana.pk}/photos/{photo.pk}/"
    assert tech_api.get(url).json()["id"] == photo.pk
    assert tech_api.delete(url).status_code == 403
    with schema_context(alpha.schema):
        assert ClientPhoto.objects.filter(pk=photo.pk).exists()
    assert len(stored_files(media_root)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_api.delete(url).status_code == 204
    with schema_context(alpha.schema):
        assert not ClientPhoto.objects.exists()
    assert stored_files(media_root) == []
    assert owner_api.get(url).status_code == 404


def test_a_photo_is_only_found_under_its_own_client(alpha, ana, owner_api):
    photo = _photo(alpha, ana)
    bo = new_client(alpha, "Bo Wang")
    assert owner_api.get(f"/api/v1/clients/{bo.pk}/photos/{photo.pk}/").status_code == 404
    assert owner_api.delete(f"/api/v1/clients/{bo.pk}/photos/{photo.pk}/").status_code == 404
    assert owner_api.get("/api/v1/clients/999999/photos/").status_code == 404
    with schema_context(alpha.schema):
        assert ClientPhoto.objects.filter(pk=photo.pk).exists()


def test_beta_sees_nothing_of_alphas_photos(alpha, beta, ana):
    photo = _photo(alpha, ana)
    beta_api = HttpClient(HTTP_HOST=beta.host, HTTP_AUTHORIZATION=f"Bearer {api_token(beta, beta.owner_username)}")
    assert beta_api.get(f"/api/v1/clients/{ana.pk}/photos/{photo.pk}/").status_code == 404
    listing = beta_api.get(f"/api/v1/clients/{ana.pk}/photos/")
    assert listing.status_code == 404 or listing.json()["count"] == 0


# --- skin records ------------------------------------------------------------------------------


def test_skin_record_flow_with_a_technician_writing_and_the_owner_deleting(alpha, ana, owner_api, tech_api):
    # when a technician records and corrects a diagnosis
    created = tech_api.post(
        f"/api/v1/clients/{ana.pk}/skin-records/",
        {"area": "Cheeks", "symptoms": "Redness", "plan": "Soothing mask", "skin_type": "sensitive"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    record_id = created.json()["id"]
    url = f"/api/v1/clients/{ana.pk}/skin-records/{record_id}/"
    patched = tech_api.patch(url, {"plan": "Mask twice a week"}, content_type="application/json")
    # then
    assert patched.status_code == 200
    body = owner_api.get(url).json()
    assert {k: body[k] for k in ("area", "symptoms", "plan", "skin_type", "recorded_on", "next_review_on")} == {
        "area": "Cheeks",
        "symptoms": "Redness",
        "plan": "Mask twice a week",
        "skin_type": "sensitive",
        "recorded_on": days_ago(0).isoformat(),
        "next_review_on": None,
    }
    assert owner_api.get(f"/api/v1/clients/{ana.pk}/skin-records/").json()["count"] == 1
    # and only the owner deletes it
    assert tech_api.delete(url).status_code == 403
    with schema_context(alpha.schema):
        assert SkinRecord.objects.filter(pk=record_id).exists()
    assert owner_api.delete(url).status_code == 204
    with schema_context(alpha.schema):
        assert not SkinRecord.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"symptoms": "x", "plan": "y"}, "area"),
        ({"area": "a", "symptoms": "x", "plan": "y", "skin_type": "scaly"}, "skin_type"),
        ({"area": "a", "symptoms": "x", "plan": "y", "recorded_on": "2999-01-01"}, "recorded_on"),
        (
            {"area": "a", "symptoms": "x", "plan": "y", "recorded_on": "2020-05-01", "next_review_on": "2020-04-01"},
            None,
        ),
    ],
)
def test_a_bad_skin_record_is_a_400_on_its_field(alpha, ana, owner_api, payload, field):
    response = owner_api.post(f"/api/v1/clients/{ana.pk}/skin-records/", payload, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == [field or "next_review_on"]
    with schema_context(alpha.schema):
        assert not SkinRecord.objects.exists()


# --- courses -----------------------------------------------------------------------------------


def test_course_flow_owner_opens_technician_records_until_full(alpha, ana, owner_api, tech_api):
    # a technician may not open a course
    payload = {"name": "Acne care", "planned_sessions": 2, "goal": "Clear chin"}
    assert (
        tech_api.post(f"/api/v1/clients/{ana.pk}/courses/", payload, content_type="application/json").status_code == 403
    )
    with schema_context(alpha.schema):
        assert not TreatmentCourse.objects.exists()
    # the owner does
    opened = owner_api.post(f"/api/v1/clients/{ana.pk}/courses/", payload, content_type="application/json")
    assert opened.status_code == 201, opened.content
    course = opened.json()
    assert (course["status"], course["sessions_done"], course["started_on"]) == ("active", 0, days_ago(0).isoformat())
    sessions_url = f"/api/v1/clients/{ana.pk}/courses/{course['id']}/sessions/"
    # the technician records the sessions, numbered for them
    numbers = [
        tech_api.post(sessions_url, {"notes": f"peel {i}", "effect": "calmer"}, content_type="application/json").json()[
            "number"
        ]
        for i in (1, 2)
    ]
    assert numbers == [1, 2]
    full = tech_api.post(sessions_url, {}, content_type="application/json")
    assert full.status_code == 400
    assert full.json()["code"] == "course_full"
    detail = owner_api.get(f"/api/v1/clients/{ana.pk}/courses/{course['id']}/").json()
    assert detail["sessions_done"] == 2
    assert [(s["number"], s["notes"]) for s in detail["sessions"]] == [(1, "peel 1"), (2, "peel 2")]
    assert [s["number"] for s in tech_api.get(sessions_url).json()["results"]] == [1, 2]
    listing = owner_api.get(f"/api/v1/clients/{ana.pk}/courses/").json()
    assert [(c["id"], c["sessions_done"]) for c in listing["results"]] == [(course["id"], 2)]


def test_course_status_changes_need_a_manager(alpha, ana, owner_api, tech_api):
    with schema_context(alpha.schema):
        course = treatment_course_create(
            client=ana, name="Lift", planned_sessions=4, started_on=days_ago(3), acting_user=owner_of(alpha)
        )
    url = f"/api/v1/clients/{ana.pk}/courses/{course.pk}/"
    assert tech_api.patch(url, {"status": "stopped"}, content_type="application/json").status_code == 403
    stopped = owner_api.patch(url, {"status": "stopped"}, content_type="application/json")
    assert (stopped.status_code, stopped.json()["status"]) == (200, "stopped")
    closed = tech_api.post(f"{url}sessions/", {}, content_type="application/json")
    assert (closed.status_code, closed.json()["code"]) == (400, "course_closed")
    assert owner_api.patch(url, {"status": "paused"}, content_type="application/json").status_code == 400
    assert owner_api.patch(url, {"status": "active"}, content_type="application/json").json()["status"] == "active"
    with schema_context(alpha.schema):
        assert not TreatmentSession.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"planned_sessions": 3}, "name"),
        ({"name": "X", "planned_sessions": 0}, "planned_sessions"),
        ({"name": "X", "planned_sessions": "many"}, "planned_sessions"),
        ({"name": "X", "planned_sessions": 500}, "planned_sessions"),
        ({"name": "X", "planned_sessions": 3, "started_on": "someday"}, "started_on"),
    ],
)
def test_a_bad_course_is_a_400_on_its_field(alpha, ana, owner_api, payload, field):
    response = owner_api.post(f"/api/v1/clients/{ana.pk}/courses/", payload, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    with schema_context(alpha.schema):
        assert not TreatmentCourse.objects.exists()


def test_a_bad_session_is_a_400_on_its_field(alpha, ana, owner_api):
    with schema_context(alpha.schema):
        course = treatment_course_create(
            client=ana, name="Lift", planned_sessions=4, started_on=days_ago(3), acting_user=owner_of(alpha)
        )
        treatment_session_record(course=course, performed_on=days_ago(1), acting_user=owner_of(alpha))
    url = f"/api/v1/clients/{ana.pk}/courses/{course.pk}/sessions/"
    for payload, field in (({"performed_on": "2999-01-01"}, "performed_on"), ({"staff": 999999}, "staff")):
        response = owner_api.post(url, payload, content_type="application/json")
        assert response.status_code == 400
        assert list(response.json()) == [field]
    with schema_context(alpha.schema):
        assert TreatmentSession.objects.filter(course=course).count() == 1


GARBAGE = ["{not json", "[]", "null", '{"name": ["x"], "planned_sessions": {"a": 1}, "status": 7}']


def test_garbage_to_every_media_route_with_real_ids_is_never_a_500(alpha, ana, owner_api):
    photo = _photo(alpha, ana)
    with schema_context(alpha.schema):
        record = skin_record_create(
            client=ana, recorded_on=days_ago(1), area="a", symptoms="s", plan="p", acting_user=owner_of(alpha)
        )
        course = treatment_course_create(
            client=ana, name="C", planned_sessions=2, started_on=days_ago(1), acting_user=owner_of(alpha)
        )
    base = f"/api/v1/clients/{ana.pk}"
    routes = [
        f"{base}/photos/",
        f"{base}/photos/{photo.pk}/",
        f"{base}/skin-records/",
        f"{base}/skin-records/{record.pk}/",
        f"{base}/courses/",
        f"{base}/courses/{course.pk}/",
        f"{base}/courses/{course.pk}/sessions/",
    ]
    for route in routes:
        for body in GARBAGE:
            for method in ("post", "patch", "put"):
                response = getattr(owner_api, method)(route, body, content_type="application/json")
                assert response.status_code < 500, (method, route, body, response.content[:300])
        multipart = owner_api.post(route, {"image": "not a file", "kind": ["a", "b"]})
        assert multipart.status_code < 500, (route, multipart.content[:300])

"""CRM-7 API: /api/v1/client-imports/ upload → mapping → check → run, and permissions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.crm.models import Client, ImportJob, ImportStatus
from apps.crm.tests.test_imports_services import HEADER, csv_upload, png_bytes
from tests.fixtures import api_token, make_staff


@pytest.fixture(autouse=True)
def _own_media(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.MEDIA_ROOT = str(tmp_path)
    yield


def api(info: Any, username: str) -> HttpClient:
    """An API client of a staff member who reads the app in English."""
    from apps.core.models import User
    from apps.core.services import user_set_language

    with schema_context(info.schema):
        user_set_language(user=User.objects.get(username=username), language="en")
    return HttpClient(HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}")


ROWS = [HEADER, ["张三", "13800138000", "男", "1990-05-20", "", ""], ["李四", "bad", "", "", "", ""]]


def test_upload_map_check_run_and_read_progress(alpha, beta):
    client = api(alpha, alpha.owner_username)
    # upload
    response = client.post("/api/v1/client-imports/", {"file": csv_upload(ROWS)})
    assert response.status_code == 201, response.content
    body = response.json()
    job_id = body["id"]
    assert body["status"] == "uploaded"
    assert body["headers"] == HEADER
    assert body["mapping"] == {"name": 0, "phone": 1, "gender": 2, "birthday": 3, "notes": 5, "tags": 4}
    assert body["total_rows"] == 2
    assert {"name": "phone", "label": "phone", "required": True} in body["available_fields"]
    # mapping and policy
    response = client.patch(
        f"/api/v1/client-imports/{job_id}/",
        {"mapping": {"name": 0, "phone": 1, "birthday": 3}, "duplicate_policy": "update"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["mapping"] == {"name": 0, "phone": 1, "birthday": 3}
    assert response.json()["duplicate_policy"] == "update"
    # run before check is refused
    assert client.post(f"/api/v1/client-imports/{job_id}/run/").status_code == 400
    # check
    response = client.post(f"/api/v1/client-imports/{job_id}/check/")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["created_count"], body["error_count"]) == ("validated", 1, 1)
    assert body["errors"] == [
        {
            "row": 3,
            "column": "手机号",
            "field": "phone",
            "kind": "error",
            "message": "Enter a mainland mobile number (11 digits) or an international number starting with +.",
        }
    ]
    with schema_context(alpha.schema):
        assert Client.objects.count() == 0
    # run
    response = client.post(f"/api/v1/client-imports/{job_id}/run/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["created_count"]) == ("done", 1)
    status = client.get(f"/api/v1/client-imports/{job_id}/").json()
    assert (status["status"], status["processed_rows"], status["total_rows"]) == ("done", 2, 2)
    listing = client.get("/api/v1/client-imports/").json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == job_id
    with schema_context(alpha.schema):
        assert list(Client.objects.values_list("name", flat=True)) == ["张三"]
    # the other salon sees none of it
    other = api(beta, beta.owner_username)
    assert other.get(f"/api/v1/client-imports/{job_id}/").status_code == 404
    assert other.get("/api/v1/client-imports/").json()["count"] == 0


def test_large_file_check_answers_202_and_runs_in_the_background(alpha, settings, django_capture_on_commit_callbacks):
    settings.CLIENT_IMPORT_INLINE_ROWS = 1
    client = api(alpha, alpha.owner_username)
    job_id = client.post("/api/v1/client-imports/", {"file": csv_upload(ROWS)}).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/client-imports/{job_id}/check/")
    assert response.status_code == 202
    assert response.json()["status"] == "validating"
    assert client.get(f"/api/v1/client-imports/{job_id}/").json()["status"] == "validated"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "file"),
        ({"file": "not a file"}, "file"),
    ],
)
def test_upload_without_a_file_is_a_field_error(alpha, body, field):
    response = api(alpha, alpha.owner_username).post("/api/v1/client-imports/", body)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_upload_of_an_image_is_a_translated_field_error_and_nothing_is_kept(alpha):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api(alpha, alpha.owner_username).post(
        "/api/v1/client-imports/", {"file": SimpleUploadedFile("clients.xlsx", png_bytes())}
    )
    assert response.status_code == 400
    assert response.json() == {"file": ["Upload a CSV or Excel (.xlsx) file."]}
    with schema_context(alpha.schema):
        assert ImportJob.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"mapping": {"name": 0}},
        {"mapping": {"name": 0, "phone": 0}},
        {"mapping": {"name": 0, "phone": 1, "nope": 2}},
        {"mapping": "x"},
        {"mapping": {"name": "a", "phone": 1}},
        {"duplicate_policy": "merge"},
    ],
)
def test_bad_mapping_is_a_400_with_field_errors(alpha, body):
    client = api(alpha, alpha.owner_username)
    job_id = client.post("/api/v1/client-imports/", {"file": csv_upload(ROWS)}).json()["id"]
    response = client.patch(f"/api/v1/client-imports/{job_id}/", body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) <= {"mapping", "duplicate_policy"}
    assert client.get(f"/api/v1/client-imports/{job_id}/").json()["status"] == "uploaded"


def test_technician_and_accountant_can_neither_read_nor_write_imports(alpha):
    owner = api(alpha, alpha.owner_username)
    job_id = owner.post("/api/v1/client-imports/", {"file": csv_upload(ROWS)}).json()["id"]
    make_staff(alpha, role="technician", username="tech")
    make_staff(alpha, role="accountant", username="acc")
    for username in ("tech", "acc"):
        client = api(alpha, username)
        assert client.get("/api/v1/client-imports/").status_code == 403
        assert client.get(f"/api/v1/client-imports/{job_id}/").status_code == 403
        assert client.post("/api/v1/client-imports/", {"file": csv_upload(ROWS)}).status_code == 403
        assert client.post(f"/api/v1/client-imports/{job_id}/check/").status_code == 403
        assert client.post(f"/api/v1/client-imports/{job_id}/run/").status_code == 403
    with schema_context(alpha.schema):
        assert ImportJob.objects.count() == 1
        assert ImportJob.objects.get().status == ImportStatus.UPLOADED
        assert Client.objects.count() == 0


def test_front_desk_may_import(alpha):
    make_staff(alpha, role="front_desk", username="desk")
    client = api(alpha, "desk")
    job_id = client.post("/api/v1/client-imports/", {"file": csv_upload(ROWS)}).json()["id"]
    assert client.post(f"/api/v1/client-imports/{job_id}/check/").status_code == 200
    assert client.post(f"/api/v1/client-imports/{job_id}/run/").json()["created_count"] == 1

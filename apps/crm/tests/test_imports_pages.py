"""CRM-7 pages: /clients/import/ upload → mapping → check → report → import → result."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.crm.models import Client, ImportJob, ImportStatus
from apps.crm.services import imports as services
from apps.crm.services.tags import tag_create
from apps.crm.tests.test_imports_services import HEADER, csv_upload, png_bytes, xlsx_upload
from tests.fixtures import logged_in_client, make_staff, owner_of


@pytest.fixture(autouse=True)
def _own_media(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.MEDIA_ROOT = str(tmp_path)
    yield


def english(info: Any, username: str) -> HttpClient:
    client = logged_in_client(info, username)
    client.post("/account/language/", {"language": "en"})
    return client


def mapping_post(job: ImportJob, policy: str = "skip", **overrides: Any) -> dict[str, Any]:
    data = {f"field_{spec.name}": str(job.mapping.get(spec.name, "")) for spec in services.IMPORT_FIELDS}
    data.update({f"field_{k}": v for k, v in overrides.items()})
    data["duplicate_policy"] = policy
    return data


ROWS = [
    HEADER,
    ["张三", "13800138000", "男", "1990/5/20", "VIP", ""],
    ["李四", "13800138000", "女", "", "", ""],
    ["王五", "13800138002", "", "", "金卡", ""],
]


def test_upload_map_check_import_and_report(alpha, beta):
    # given
    with schema_context(alpha.schema):
        tag_create(name="VIP", acting_user=None)
    client = english(alpha, alpha.owner_username)
    page = client.get("/clients/import/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<label for="id_file">Client list</label>' in html
    assert "No imports yet." in html
    # when the file is uploaded
    response = client.post("/clients/import/", {"file": csv_upload(ROWS)})
    with schema_context(alpha.schema):
        job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/clients/import/{job.pk}/"
    # then the mapping form shows the guessed columns, every select with its label
    html = client.get(f"/clients/import/{job.pk}/").content.decode()
    assert '<label for="id_field_phone">Phone *</label>' in html
    assert '<option value="1" selected>B · 手机号</option>' in html
    assert "<legend>Phones that are already clients</legend>" in html
    assert "Check the file" in html
    # when checked
    response = client.post(f"/clients/import/{job.pk}/check/", mapping_post(job))
    assert response.status_code == 302
    html = client.get(f"/clients/import/{job.pk}/").content.decode()
    # then the report lists each bad row and nothing is written
    assert "Check result" in html
    assert '<dd data-count="created">1</dd>' in html
    assert '<dd data-count="errors">2</dd>' in html
    assert "<td>3</td><td>手机号</td>" in html and "The same phone number is already on row 2." in html
    assert "<td>4</td><td>标签</td>" in html and "This tag does not exist. (金卡)" in html
    assert "Import 1 client" in html
    with schema_context(alpha.schema):
        assert Client.objects.count() == 0
    report = client.get(f"/clients/import/{job.pk}/report.csv")
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert report.content.decode("utf-8-sig").splitlines() == [
        "Row,Column,Outcome,Reason",
        "3,手机号,Not imported,The same phone number is already on row 2.",
        "4,标签,Not imported,This tag does not exist. (金卡)",
    ]
    # when imported
    response = client.post(f"/clients/import/{job.pk}/run/")
    assert response.status_code == 302
    html = client.get(f"/clients/import/{job.pk}/").content.decode()
    assert "Import result" in html and '<dd data-count="created">1</dd>' in html
    with schema_context(alpha.schema):
        assert list(Client.objects.values_list("name", flat=True)) == ["张三"]
    listing = client.get("/clients/import/").content.decode()
    assert f'<a href="/clients/import/{job.pk}/">clients.csv</a>' in listing and "Done" in listing
    # and the other salon cannot open it
    other = english(beta, beta.owner_username)
    assert other.get(f"/clients/import/{job.pk}/").status_code == 404


def test_a_refused_file_shows_a_field_error(alpha):
    client = english(alpha, alpha.owner_username)
    response = client.post("/clients/import/", {"file": SimpleUploadedFile("clients.xlsx", png_bytes())})
    assert response.status_code == 400
    assert '<p class="error" role="alert">Upload a CSV or Excel (.xlsx) file.</p>' in response.content.decode()
    with schema_context(alpha.schema):
        assert ImportJob.objects.count() == 0


def test_a_mapping_without_a_phone_is_shown_on_the_form(alpha):
    client = english(alpha, alpha.owner_username)
    client.post("/clients/import/", {"file": xlsx_upload([["姓名", "手机"], ["张三", "13800138000"]])})
    with schema_context(alpha.schema):
        job = ImportJob.objects.get()
    response = client.post(f"/clients/import/{job.pk}/check/", mapping_post(job, phone="0"))
    assert response.status_code == 400
    assert "Map a column to the name and to the phone, and each column at most once." in response.content.decode()
    with schema_context(alpha.schema):
        assert ImportJob.objects.get().status == ImportStatus.UPLOADED


def test_progress_bar_polls_until_done_then_reloads(alpha, settings, django_capture_on_commit_callbacks):
    settings.CLIENT_IMPORT_INLINE_ROWS = 1
    client = english(alpha, alpha.owner_username)
    client.post("/clients/import/", {"file": csv_upload(ROWS)})
    with schema_context(alpha.schema):
        job = ImportJob.objects.get()
    # the check is queued; the page shows a polling progress bar meanwhile
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(f"/clients/import/{job.pk}/check/", mapping_post(job))
    html = client.get(f"/clients/import/{job.pk}/").content.decode()
    assert f'hx-get="/clients/import/{job.pk}/progress/" hx-trigger="every 1s"' in html
    assert '<progress id="import-progress-bar" max="3" value="0">0%</progress>' in html
    fragment = client.get(f"/clients/import/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "0 of 3 rows" in fragment.content.decode()
    # when the task has run, the next poll reloads the page, which shows the report
    queued[0]()
    done = client.get(f"/clients/import/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert done.headers["HX-Refresh"] == "true"
    assert "Check result" in client.get(f"/clients/import/{job.pk}/").content.decode()


def test_import_pages_are_for_staff_who_manage_clients(alpha):
    owner = owner_of(alpha)
    with schema_context(alpha.schema):
        job = services.import_job_create(file=csv_upload(ROWS), acting_user=owner)
    make_staff(alpha, role="technician", username="tech")
    client = english(alpha, "tech")
    for path in ("/clients/import/", f"/clients/import/{job.pk}/", f"/clients/import/{job.pk}/report.csv"):
        assert client.get(path).status_code == 403, path
    assert client.post("/clients/import/", {"file": csv_upload(ROWS)}).status_code == 403
    assert client.post(f"/clients/import/{job.pk}/check/", mapping_post(job)).status_code == 403
    assert client.post(f"/clients/import/{job.pk}/run/").status_code == 403
    with schema_context(alpha.schema):
        assert ImportJob.objects.count() == 1
        assert ImportJob.objects.get().status == ImportStatus.UPLOADED
    anonymous = HttpClient(HTTP_HOST=alpha.host)
    assert anonymous.get("/clients/import/")["Location"].startswith("/login/")


def test_recent_imports_list_keeps_its_query_count(alpha, django_assert_max_num_queries):
    owner = owner_of(alpha)
    with schema_context(alpha.schema):
        for _ in range(5):
            services.import_job_create(file=csv_upload(ROWS), acting_user=owner)
    client = english(alpha, alpha.owner_username)
    with django_assert_max_num_queries(12):
        response = client.get("/clients/import/")
    assert response.content.decode().count("clients.csv</a>") == 5


def test_client_list_offers_import_and_export_to_those_allowed(alpha):
    make_staff(alpha, role="manager", username="boss")
    owner_page = english(alpha, alpha.owner_username).get("/clients/?tag=&source=meituan").content.decode()
    assert '<button type="submit" formaction="/clients/export.xlsx">Export to Excel</button>' in owner_page
    assert '<a href="/clients/import/" >Import</a>' in owner_page
    manager_page = english(alpha, "boss").get("/clients/").content.decode()
    assert "Export to Excel" not in manager_page  # managers may not export (export_data)
    assert '<a href="/clients/import/" >Import</a>' in manager_page
    import_page = english(alpha, "boss").get("/clients/import/").content.decode()
    assert '<a href="/clients/import/" aria-current="page">Import</a>' in import_page

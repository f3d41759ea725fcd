"""CRM-7 export: /clients/export.xlsx and /api/v1/clients/export/ — content, filters, masking, audit."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from apps.core.models import AuditEntry
from apps.crm.selectors_imports import export_queryset
from apps.crm.services.clients import client_create
from apps.crm.services.tags import clients_tag, tag_create, tier_create
from tests.fixtures import api_token, logged_in_client, make_staff, owner_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rows_of(content: bytes) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    try:
        return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def english(info: Any, username: str) -> HttpClient:
    client = logged_in_client(info, username)
    client.post("/account/language/", {"language": "en"})
    return client


@pytest.fixture
def clients(alpha: Any, beta: Any) -> dict[str, Any]:
    owner = owner_of(alpha)
    with schema_context(alpha.schema):
        vip = tag_create(name="VIP", acting_user=None)
        gold = tier_create(name="金卡", rank=3, acting_user=None)
        zhang = client_create(
            name="张三",
            phone="13800138000",
            gender="male",
            birthday=datetime.date(1990, 5, 20),
            card_number="88001",
            tier=gold,
            source="meituan",
            notes='=HYPERLINK("http://evil")',
            tags=[vip],
            acting_user=owner,
        )
        li = client_create(name="李四", phone="13900139000", acting_user=owner)
    with schema_context(beta.schema):
        client_create(name="Beta 客户", phone="13700137000", acting_user=None)
    return {"vip": vip, "gold": gold, "zhang": zhang, "li": li}


def test_owner_exports_every_client_with_full_phones_and_the_export_is_audited(alpha, clients):
    client = english(alpha, alpha.owner_username)
    # when
    response = client.get("/clients/export.xlsx")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="clients-')
    rows = rows_of(b"".join(response.streaming_content))
    assert rows[0][:10] == (
        "Name",
        "Phone",
        "Gender",
        "Birthday",
        "Membership card number",
        "Tier",
        "Tags",
        "WeChat ID",
        "E-mail",
        "Source",
    )
    assert rows[0][-3:] == ("Client since", "Last visit", "Total spend (yuan)")
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"张三", "李四"}  # not beta's client
    assert by_name["李四"][-2:] == (None, 0)
    zhang = by_name["张三"]
    assert zhang[1:7] == ("13800138000", "Male", datetime.datetime(1990, 5, 20), "88001", "金卡", "VIP")
    assert zhang[9] == "Meituan / Dianping"
    assert zhang[15] == '=HYPERLINK("http://evil")'  # kept as text, never a formula
    assert by_name["李四"][1] == "13900139000"
    with schema_context(alpha.schema):
        entry = AuditEntry.objects.get(action="clients.export")
    assert entry.actor_label == alpha.owner_username
    assert entry.data == {"count": 2, "filters": {}, "contact": "full"}


def test_the_formula_cell_is_stored_as_text(alpha, clients):
    content = b"".join(english(alpha, alpha.owner_username).get("/clients/export.xlsx").streaming_content)
    workbook = load_workbook(io.BytesIO(content))
    notes = [cell for cell in workbook.worksheets[0]["P"] if cell.value and "HYPERLINK" in str(cell.value)]
    assert [cell.data_type for cell in notes] == ["s"]


def test_accountant_exports_masked_phones(alpha, clients):
    make_staff(alpha, role="accountant", username="acc")
    response = english(alpha, "acc").get("/clients/export.xlsx")
    assert response.status_code == 200
    phones = {row[0]: row[1] for row in rows_of(b"".join(response.streaming_content))[1:]}
    assert phones == {"张三": "138****8000", "李四": "139****9000"}
    with schema_context(alpha.schema):
        assert AuditEntry.objects.get(action="clients.export").data["contact"] == "masked"


@pytest.mark.parametrize("role", ["manager", "front_desk", "technician"])
def test_staff_without_export_permission_are_refused_and_nothing_is_audited(alpha, clients, role):
    make_staff(alpha, role=role, username="someone")
    assert english(alpha, "someone").get("/clients/export.xlsx").status_code == 403
    token = api_token(alpha, "someone")
    api = HttpClient(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/clients/export/").status_code == 403
    with schema_context(alpha.schema):
        assert not AuditEntry.objects.filter(action="clients.export").exists()


def test_filters_of_the_client_list_apply(alpha, clients):
    client = english(alpha, alpha.owner_username)
    vip, gold = clients["vip"], clients["gold"]
    cases = {
        "?q=张": ["张三"],
        "?q=zs": ["张三"],
        "?q=9000": ["李四"],
        "?q=139 0013 9000": ["李四"],
        "?q=88001": ["张三"],
        f"?tag={vip.pk}": ["张三"],
        f"?tier={gold.pk}": ["张三"],
        "?source=meituan": ["张三"],
        "?source=douyin": [],
        "?tag=abc&tier=": ["张三", "李四"],
    }
    for query, names in cases.items():
        response = client.get(f"/clients/export.xlsx{query}")
        assert sorted(row[0] for row in rows_of(b"".join(response.streaming_content))[1:]) == sorted(names), query
    with schema_context(alpha.schema):
        entry = AuditEntry.objects.filter(action="clients.export").order_by("-id").first()
        assert entry.data["filters"] == {"tag": "abc"}
        first = AuditEntry.objects.filter(action="clients.export").order_by("id").first()
        assert first.data == {"count": 1, "filters": {"q": "张"}, "contact": "full"}


def test_api_export_returns_the_same_workbook(alpha, clients):
    from apps.core.services import user_set_language

    with schema_context(alpha.schema):
        user_set_language(user=owner_of(alpha), language="en")
    token = api_token(alpha, alpha.owner_username)
    api = HttpClient(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.get(f"/api/v1/clients/export/?tag={clients['vip'].pk}", HTTP_ACCEPT=XLSX)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    rows = rows_of(b"".join(response.streaming_content))
    assert [row[0] for row in rows] == ["Name", "张三"]
    with schema_context(alpha.schema):
        assert AuditEntry.objects.get(action="clients.export").data["filters"] == {"tag": str(clients["vip"].pk)}


def test_export_reads_clients_in_chunks(in_alpha, django_assert_max_num_queries):
    """Rows stream from a server-side cursor; tags come in one query per chunk, not one per client."""
    owner = owner_of(in_alpha)
    vip = tag_create(name="VIP", acting_user=None)
    for index in range(30):
        client = client_create(name=f"客户{index}", phone=f"138001380{index:02d}", acting_user=owner)
        clients_tag(client_ids=[client.pk], tag=vip, acting_user=owner)
    from apps.crm.services.exports import clients_export

    with django_assert_max_num_queries(10):  # permissions, cursor, tags, audit, savepoints: not per client
        export = clients_export(params={}, acting_user=owner)
    assert export.count == 30
    assert export_queryset({"q": "客户1"}).count() == 11

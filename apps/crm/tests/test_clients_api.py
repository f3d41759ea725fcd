"""Clients through the REST API (SPEC §4 /api/v1/clients/): CRUD, search, masking, bad input,
bulk tags, merges, personal data."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.core.models import AuditEntry
from apps.crm.models import Client, ClientMerge, ClientTag
from apps.crm.services.clients import client_create
from apps.crm.services.tags import tag_create
from tests.fixtures import api_token, make_staff


def _api(info, username):
    return HttpClient(HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}")


@pytest.fixture
def owner_api(alpha):
    from apps.core.services import user_set_language
    from tests.fixtures import owner_of

    with schema_context(alpha.schema):
        user_set_language(user=owner_of(alpha), language="en")
    return _api(alpha, alpha.owner_username)


def test_create_read_update_and_search(alpha, owner_api):
    # given
    with schema_context(alpha.schema):
        vip = tag_create(name="VIP", acting_user=None)

    # when
    created = owner_api.post(
        "/api/v1/clients/",
        {
            "name": "张三",
            "phone": "13800135678",
            "gender": "male",
            "birthday": "1990-05-20",
            "tags": [vip.pk],
            "allergies": "烫发水过敏",
            "notes": "喜欢安静",
        },
        content_type="application/json",
    )

    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["phone"], body["gender"], body["birthday"]) == (
        "张三",
        "+8613800135678",
        "male",
        "1990-05-20",
    )
    assert body["tags"] == [{"id": vip.pk, "name": "VIP", "color": "#2563eb", "automatic": False}]
    assert body["has_alert"] is True
    assert body["lunar_birthday"] == {"month": 4, "day": 26, "is_leap_month": False}
    pk = body["id"]
    for query in ("zs", "5678", "张", "13800135678"):
        found = owner_api.get("/api/v1/clients/", {"search": query}).json()
        assert [c["id"] for c in found["results"]] == [pk], query
        assert found["count"] == 1
    patched = owner_api.patch(f"/api/v1/clients/{pk}/", {"notes": "改"}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["notes"] == "改"
    assert patched.json()["tags"][0]["name"] == "VIP"
    assert owner_api.get(f"/api/v1/clients/{pk}/summary/").json()["visits"] == 0


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (
            {"name": "甲", "phone": "123"},
            "phone",
            "Enter a mainland mobile number (11 digits) or an international number starting with +.",
        ),
        ({"name": "甲", "birthday": "2999-01-01"}, "birthday", "The birthday cannot be in the future."),
        ({"name": "甲", "birthday": "not a date"}, "birthday", None),
        ({"name": "甲", "tags": [999999]}, "tags", "This tag does not exist."),
        ({"name": "甲", "tags": "VIP"}, "tags", None),
        ({"name": "", "phone": "13800135678"}, "name", None),
        ({"name": "甲", "gender": "robot"}, "gender", None),
    ],
)
def test_bad_input_gives_field_errors_and_writes_nothing(alpha, owner_api, payload, field, message):
    response = owner_api.post("/api/v1/clients/", payload, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert field in response.json()
    if message:
        assert response.json()[field] == [message]
    with schema_context(alpha.schema):
        assert Client.objects.count() == 0


def test_duplicate_phone_is_a_field_error(alpha, owner_api):
    owner_api.post("/api/v1/clients/", {"name": "甲", "phone": "13800135678"}, content_type="application/json")
    response = owner_api.post(
        "/api/v1/clients/", {"name": "乙", "phone": "+8613800135678"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "phone" in response.json()
    with schema_context(alpha.schema):
        assert Client.objects.count() == 1


def test_technician_sees_masked_phones_and_cannot_write(alpha, owner_api):
    # given
    make_staff(alpha, role="technician", username="tech-api")
    with schema_context(alpha.schema):
        client = client_create(name="张三", phone="13800135678", id_number="11010519491231002X", acting_user=None)
    tech = _api(alpha, "tech-api")

    # when
    listed = tech.get("/api/v1/clients/").json()["results"][0]
    detail = tech.get(f"/api/v1/clients/{client.pk}/").json()
    write = tech.patch(f"/api/v1/clients/{client.pk}/", {"name": "改"}, content_type="application/json")
    create = tech.post("/api/v1/clients/", {"name": "新"}, content_type="application/json")

    # then
    assert listed["phone"] == detail["phone"] == "138****5678"
    assert detail["id_number"] == "110***********002X"
    assert (write.status_code, create.status_code) == (403, 403)
    with schema_context(alpha.schema):
        assert Client.objects.get(pk=client.pk).name == "张三"
        assert Client.objects.count() == 1


def test_bulk_tag_merge_undo_and_personal_data(alpha, owner_api):
    with schema_context(alpha.schema):
        vip = tag_create(name="VIP", acting_user=None)
        a = client_create(name="甲", phone="13800000001", acting_user=None)
        b = client_create(name="甲", phone="13800000002", acting_user=None)

    tagged = owner_api.post(
        "/api/v1/clients/bulk-tag/", {"clients": [a.pk, b.pk], "tag": vip.pk}, content_type="application/json"
    )
    assert tagged.json() == {"changed": 2}
    untagged = owner_api.post(
        "/api/v1/clients/bulk-tag/",
        {"clients": [b.pk], "tag": vip.pk, "action": "remove"},
        content_type="application/json",
    )
    assert untagged.json() == {"changed": 1}

    merged = owner_api.post(f"/api/v1/clients/{a.pk}/merge/", {"other": b.pk}, content_type="application/json")
    assert merged.status_code == 201
    assert owner_api.get(f"/api/v1/clients/{b.pk}/").status_code == 404
    undone = owner_api.post(f"/api/v1/client-merges/{merged.json()['id']}/undo/")
    assert undone.status_code == 200 and undone.json()["reversed_at"]
    assert owner_api.get(f"/api/v1/clients/{b.pk}/").status_code == 200

    data = owner_api.get(f"/api/v1/clients/{a.pk}/personal-data/")
    assert data.status_code == 200 and data.json()["profile"]["phone"] == "+8613800000001"
    with schema_context(alpha.schema):
        assert ClientTag.objects.filter(tag=vip).count() == 1
        assert ClientMerge.objects.get().reversed_at is not None
        assert AuditEntry.objects.filter(action="clients.personal_data_export").count() == 1


def test_delete_erases_and_front_desk_cannot_export_personal_data(alpha, owner_api):
    make_staff(alpha, role="front_desk", username="desk-api")
    with schema_context(alpha.schema):
        client = client_create(name="张三", phone="13800135678", acting_user=None)
    desk = _api(alpha, "desk-api")
    assert desk.get(f"/api/v1/clients/{client.pk}/personal-data/").status_code == 403
    response = owner_api.delete(f"/api/v1/clients/{client.pk}/", {"reason": "申请"}, content_type="application/json")
    assert response.status_code == 204
    assert owner_api.get(f"/api/v1/clients/{client.pk}/").status_code == 404
    with schema_context(alpha.schema):
        assert Client.objects.get(pk=client.pk).erased_at is not None


def test_tags_and_tiers_api(alpha, owner_api):
    created = owner_api.post(
        "/api/v1/tags/",
        {"name": "高消费", "rule": "spend_over", "rule_amount": 500000, "rule_months": 12},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["automatic"] is True
    bad = owner_api.post("/api/v1/tags/", {"name": "x", "rule": "spend_over"}, content_type="application/json")
    assert bad.status_code == 400 and list(bad.json()) == ["rule_amount"]
    recomputed = owner_api.post(f"/api/v1/tags/{created.json()['id']}/recompute/")
    assert recomputed.json() == {"added": 0, "removed": 0}
    tier = owner_api.post("/api/v1/tiers/", {"name": "金卡", "rank": 3}, content_type="application/json")
    assert tier.status_code == 201
    assert (
        owner_api.post("/api/v1/tiers/", {"name": "金卡", "rank": 4}, content_type="application/json").status_code
        == 400
    )


def test_other_salons_clients_are_not_reachable(alpha, beta, owner_api):
    with schema_context(beta.schema):
        theirs = client_create(name="别家", acting_user=None)
    assert owner_api.get(f"/api/v1/clients/{theirs.pk}/").status_code == 404
    assert owner_api.get("/api/v1/clients/", {"search": "别家"}).json()["count"] == 0

"""SEC-1 staff and roles: services keep the rules; pages and API go through them."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.core import services
from apps.core.errors import CoreError, ServiceError
from apps.core.models import AuditEntry, Location, User
from apps.core.roles import MATRIX, PERMISSIONS, Role
from tests.fixtures import api_token, logged_in_client, make_staff, owner_of


def test_each_role_has_exactly_the_matrix_permissions(in_alpha):
    owner = owner_of(in_alpha)
    for role in Role:
        user = services.staff_create(name=role.label, role=role, username=f"r-{role.value}", acting_user=owner)
        user = User.objects.get(pk=user.pk)  # fresh permission cache
        granted = {p.split(".", 1)[1] for p in user.get_all_permissions() if p.startswith("core.")}
        assert granted == MATRIX[role] & set(PERMISSIONS), role
        assert [g.name for g in user.groups.all()] == [role.value]


def test_manager_cannot_create_or_promote_owners(in_alpha):
    owner = owner_of(in_alpha)
    manager = services.staff_create(name="M", role=Role.MANAGER, username="mgr", acting_user=owner)
    with pytest.raises(ServiceError) as caught:
        services.staff_create(name="X", role=Role.OWNER, username="x", acting_user=manager)
    assert caught.value.code == CoreError.ROLE_NOT_ASSIGNABLE
    tech = services.staff_create(name="T", role=Role.TECHNICIAN, username="tech", acting_user=manager)
    with pytest.raises(ServiceError):
        services.staff_update(user=tech, role=Role.OWNER, acting_user=manager)
    with pytest.raises(ServiceError):
        services.staff_deactivate(user=owner, acting_user=manager)
    assert not User.objects.filter(username="x").exists()
    assert User.objects.get(pk=tech.pk).role == Role.TECHNICIAN
    assert User.objects.get(pk=owner.pk).is_active


def test_last_owner_keeps_the_role_and_cannot_be_deactivated(in_alpha):
    owner = owner_of(in_alpha)
    second = services.staff_create(name="Co", role=Role.OWNER, username="co-owner", acting_user=owner)
    with pytest.raises(ServiceError) as caught:
        services.staff_deactivate(user=owner, acting_user=owner)
    assert caught.value.code == CoreError.SELF_DEACTIVATION
    services.staff_deactivate(user=second, acting_user=owner)
    with pytest.raises(ServiceError) as caught:
        services.staff_update(user=owner, role=Role.MANAGER, acting_user=owner)
    assert caught.value.code == CoreError.LAST_OWNER
    assert User.objects.get(pk=owner.pk).role == Role.OWNER


def test_duplicate_contacts_are_field_errors(in_alpha):
    owner = owner_of(in_alpha)
    services.staff_create(name="A", role=Role.TECHNICIAN, phone="13711112222", email="a@x.test", acting_user=owner)
    with pytest.raises(ServiceError) as caught:
        services.staff_create(name="B", role=Role.TECHNICIAN, phone="+86 137 1111 2222", acting_user=owner)
    assert caught.value.errors == {"phone": [str(caught.value.message)]}
    with pytest.raises(ServiceError) as caught:
        services.staff_create(name="C", role=Role.TECHNICIAN, email="A@X.test", acting_user=owner)
    assert "email" in caught.value.errors
    with pytest.raises(ServiceError) as caught:
        services.staff_create(name="D", role=Role.TECHNICIAN, phone="555", acting_user=owner)
    assert "phone" in caught.value.errors
    assert User.objects.filter(name__in=["B", "C", "D"]).count() == 0


def test_deactivation_is_audited_and_revokes_tokens(alpha):
    tech = make_staff(alpha, role="technician", username="tess", phone="+8613700000009")
    token = api_token(alpha, "tess")
    with schema_context(alpha.schema):
        services.staff_deactivate(user=tech, acting_user=owner_of(alpha))
        entry = AuditEntry.objects.get(action="staff.deactivated")
        assert entry.target_id == str(tech.pk)
        assert entry.actor_label == alpha.owner_username
    assert Client(HTTP_HOST=alpha.host).get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_audit_entries_cannot_be_changed_or_deleted(in_alpha):
    from django.db import IntegrityError, InternalError, ProgrammingError, transaction

    entry = services.audit_record(action="test.action", actor=owner_of(in_alpha))
    for operation in (
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(action="forged"),
        lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises((InternalError, ProgrammingError, IntegrityError)), transaction.atomic():
            operation()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.action"


def test_staff_pages_create_edit_deactivate(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    with schema_context(alpha.schema):
        location = Location.objects.get()
    response = client.post(
        "/settings/staff/new/",
        {
            "name": "王技师",
            "role": "technician",
            "phone": "13600001111",
            "email": "",
            "password": "Tech-pass-1",
            "locations": [location.pk],
        },
    )
    assert response.status_code == 302
    with schema_context(alpha.schema):
        tech = User.objects.get(phone="+8613600001111")
        assert tech.role == "technician"
        assert list(tech.locations.all()) == [location]
    listing = client.get("/settings/staff/").content.decode()
    assert "王技师" in listing
    edit = client.post(
        f"/settings/staff/{tech.pk}/",
        {"name": "王师傅", "role": "front_desk", "phone": "13600001111", "email": "wang@alpha.test"},
    )
    assert edit.status_code == 302
    deactivate = client.post(f"/settings/staff/{tech.pk}/active/", {"active": "0"})
    assert deactivate.status_code == 302
    with schema_context(alpha.schema):
        tech.refresh_from_db()
        assert (tech.name, tech.role, tech.email, tech.is_active) == ("王师傅", "front_desk", "wang@alpha.test", False)


def test_staff_page_bad_input_shows_errors_and_creates_nothing(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    response = client.post("/settings/staff/new/", {"name": "", "role": "wizard", "phone": "12", "password": "x"})
    assert response.status_code == 200
    assert response.content.decode().count('class="error"') >= 3
    no_contact = client.post("/settings/staff/new/", {"name": "N", "role": "technician", "password": "Tech-pass-1"})
    assert no_contact.status_code == 200
    with schema_context(alpha.schema):
        assert User.objects.count() == 1


def test_technician_cannot_open_staff_settings_or_api(alpha):
    make_staff(alpha, role="technician", username="tek", phone="+8613700000010")
    client = logged_in_client(alpha, "tek")
    assert client.get("/settings/staff/").status_code == 403
    assert client.get("/settings/salon/").status_code == 403
    assert client.get("/").status_code == 200
    token = api_token(alpha, "tek")
    response = Client(HTTP_HOST=alpha.host).post(
        "/api/v1/staff/",
        {"name": "Z", "role": "owner", "username": "z"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 403
    with schema_context(alpha.schema):
        assert not User.objects.filter(name="Z").exists()


def test_staff_api_crud(alpha):
    token = api_token(alpha, alpha.owner_username)
    api = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {token}")
    created = api.post(
        "/api/v1/staff/",
        {"name": "Lily", "role": "front_desk", "phone": "13500002222", "password": "Lily-pass-1"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["role"], body["phone"], body["is_active"]) == (
        "Lily",
        "front_desk",
        "+8613500002222",
        True,
    )
    assert "password" not in body
    listing = api.get("/api/v1/staff/").json()
    assert listing["count"] == 2 and set(listing) == {"count", "next", "previous", "results"}
    patched = api.patch(f"/api/v1/staff/{body['id']}/", {"role": "manager"}, content_type="application/json")
    assert patched.json()["role"] == "manager"
    assert api.delete(f"/api/v1/staff/{body['id']}/").status_code == 204
    assert api.get(f"/api/v1/staff/{body['id']}/").json()["is_active"] is False
    bad = api.post("/api/v1/staff/", {"name": "", "role": "king", "phone": "x"}, content_type="application/json")
    assert bad.status_code == 400 and {"name", "role"} <= set(bad.json())
    dup = api.post(
        "/api/v1/staff/", {"name": "Dup", "role": "technician", "phone": "13500002222"}, content_type="application/json"
    )
    assert dup.status_code == 400 and "phone" in dup.json()
    weak = api.post(
        "/api/v1/staff/",
        {"name": "W", "role": "technician", "phone": "13500003333", "password": "123"},
        content_type="application/json",
    )
    assert weak.status_code == 400 and "password" in weak.json()


def test_staff_list_query_count_does_not_grow_with_staff(alpha, django_assert_max_num_queries):
    client = logged_in_client(alpha, alpha.owner_username)
    client.get("/settings/staff/")
    for i in range(15):
        make_staff(alpha, role="technician", username=f"t{i}", phone=f"+86137100000{i:02d}")
    with django_assert_max_num_queries(12):
        response = client.get("/settings/staff/")
    assert response.status_code == 200


def test_new_staff_form_groups_locations_and_defaults_to_technician(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    client.post("/account/language/", {"language": "en"})
    html = client.get("/settings/staff/new/").content.decode()
    assert "<fieldset><legend>Locations</legend>" in html
    assert '<option value="technician" selected>' in html


def test_a_token_call_reads_the_staff_member_and_permissions_in_one_statement(alpha):
    # given a front-desk member with a token (front desk may not manage staff)
    member = make_staff(alpha, role="front_desk", username="desk", phone="+8613700000020")
    token = api_token(alpha, "desk")
    api = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # when they call an endpoint that checks a permission they lack
    with CaptureQueriesContext(connection) as captured:
        denied = api.post("/api/v1/staff/", {"name": "Z", "role": "technician"}, content_type="application/json")
    # then it is refused after one read of token, user and permissions together
    assert denied.status_code == 403
    reads = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SET search_path")]
    assert len(reads) == 1 and "authtoken_token" in reads[0] and "auth_permission" in reads[0]
    # and a role changed meanwhile counts on the very next call (nothing is cached between requests)
    with schema_context(alpha.schema):
        services.staff_update(user=User.objects.get(pk=member.pk), role="manager", acting_user=owner_of(alpha))
    allowed = api.post(
        "/api/v1/staff/",
        {"name": "Zed", "role": "technician", "phone": "13500004444", "password": "Zed-pass-12"},
        content_type="application/json",
    )
    assert allowed.status_code == 201, allowed.content

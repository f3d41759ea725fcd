"""BIL-2 signup: validation, conflicts, all-or-nothing provisioning, pool and clone paths."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import authenticate
from django.utils import timezone, translation
from django_tenants.utils import schema_context, schema_exists

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry, Location, User
from tenants import provisioning
from tenants.errors import TenantError
from tenants.models import Domain, PoolSchema, Salon
from tenants.services import salon_signup

VALID = {
    "salon_name": "丽人坊",
    "subdomain": "liren",
    "owner_name": "刘丽",
    "owner_email": "Liu@Example.com",
    "owner_phone": "138 0013 8000",
    "password": "Str0ng-pass",
}


def payload(**changes: str) -> dict[str, str]:
    return {**VALID, **changes}


def test_signup_creates_ready_salon_with_owner_location_roles_and_trial(alpha, beta):
    # when
    result = salon_signup(raw=payload())
    # then
    salon = Salon.objects.get(subdomain="liren")
    assert result.salon.pk == salon.pk
    assert salon.status == "trial"
    assert salon.trial_ends == timezone.localdate() + dt.timedelta(days=14)
    assert salon.owner_email == "liu@example.com"
    assert salon.owner_phone == "+8613800138000"
    assert Domain.objects.get(tenant=salon).domain == "liren.localhost"
    assert schema_exists(salon.schema_name)
    with schema_context(salon.schema_name):
        owner = User.objects.get()
        assert owner.role == "owner"
        assert owner.username == "liu@example.com"
        assert [g.name for g in owner.groups.all()] == ["owner"]
        assert owner.has_perm("core.manage_settings")
        assert Location.objects.count() == 1
        assert sorted(g for g in owner.groups.model.objects.values_list("name", flat=True)) == [
            "accountant",
            "front_desk",
            "manager",
            "owner",
            "technician",
        ]
        assert authenticate(username="+8613800138000", password="Str0ng-pass") == owner
        assert authenticate(username="LIU@example.com", password="Str0ng-pass") == owner
        assert AuditEntry.objects.filter(action="salon.created").count() == 1
    # and the other salons are untouched
    with schema_context(alpha.schema):
        assert not User.objects.filter(email="liu@example.com").exists()


def test_signup_takes_a_pool_schema_when_one_is_ready(alpha):
    # given
    provisioning.pool_refill(target=1)
    pooled = PoolSchema.objects.get().schema_name
    # when
    result = salon_signup(raw=payload())
    # then
    assert result.provisioned_by == "pool"
    assert result.salon.schema_name == pooled
    assert PoolSchema.objects.count() == 0


def test_signup_clones_the_template_when_the_pool_is_empty(alpha):
    assert PoolSchema.objects.count() == 0
    result = salon_signup(raw=payload())
    assert result.provisioned_by == "clone"
    assert provisioning.schema_is_current(result.salon.schema_name)


def test_stale_pool_schema_is_never_handed_out(alpha):
    # given a pool schema made for other code (different migrations)
    provisioning.pool_refill(target=1)
    PoolSchema.objects.update(migrations_digest="stale")
    # when
    result = salon_signup(raw=payload())
    # then
    assert result.provisioned_by == "clone"
    assert PoolSchema.objects.filter(migrations_digest="stale").count() == 1


@pytest.mark.parametrize("path", ["pool", "clone"])
def test_failure_inside_provisioning_leaves_nothing_behind(alpha, monkeypatch, path):
    # given
    if path == "pool":
        provisioning.pool_refill(target=1)
    pool_before = list(PoolSchema.objects.values_list("schema_name", flat=True))
    created: list[str] = []
    real_clone = provisioning.schema_clone_from_template

    def tracking_clone(name: str) -> None:
        created.append(name)
        real_clone(name)

    def exploding_staff_create(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(provisioning, "schema_clone_from_template", tracking_clone)
    monkeypatch.setattr("apps.core.services.staff_create", exploding_staff_create)
    salons_before = Salon.objects.count()
    # when
    with pytest.raises(RuntimeError):
        salon_signup(raw=payload())
    # then nothing of the salon exists
    assert Salon.objects.count() == salons_before
    assert not Salon.objects.filter(subdomain="liren").exists()
    assert not Domain.objects.filter(domain="liren.localhost").exists()
    for name in created:
        assert not schema_exists(name)
    # and a pool schema that was claimed went back to the pool, still empty of users
    assert list(PoolSchema.objects.values_list("schema_name", flat=True)) == pool_before
    for name in pool_before:
        with schema_context(name):
            assert User.objects.count() == 0
            assert Location.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message_part"),
    [
        ("subdomain", "ab", "3 to 30"),
        ("subdomain", "a" * 31, "3 to 30"),
        ("subdomain", "bad_name", "lower-case"),
        ("subdomain", "-lead", "lower-case"),
        ("subdomain", "trail-", "lower-case"),
        ("subdomain", "中文名字", "lower-case"),
        ("owner_email", "not-an-email", "valid e-mail"),
        ("owner_phone", "12345", "mainland mobile"),
        ("owner_phone", "+86 12345678901", "not valid"),
        ("owner_phone", "+1 555", "not valid"),
        ("password", "short1", "too short"),
        ("password", "onlyletters", "letters and digits"),
        ("password", "12345678901", "entirely numeric"),
        ("salon_name", "", "required"),
        ("owner_name", "   ", "required"),
    ],
)
def test_signup_rejects_bad_fields_with_field_errors_and_writes_nothing(alpha, field, value, message_part):
    salons_before = Salon.objects.count()
    with translation.override("en"), pytest.raises(ServiceError) as caught:
        salon_signup(raw=payload(**{field: value}))
    assert caught.value.status == 400
    assert field in caught.value.errors
    assert message_part in " ".join(caught.value.errors[field])
    assert Salon.objects.count() == salons_before


def test_signup_accepts_international_e164_phone(alpha):
    result = salon_signup(raw=payload(owner_phone="+44 7911 123456"))
    assert result.salon.owner_phone == "+447911123456"


@pytest.mark.parametrize("subdomain", ["admin", "www", "api", "console", "static", "mail", "Admin"])
def test_reserved_subdomain_is_a_conflict(alpha, subdomain):
    with pytest.raises(ServiceError) as caught:
        salon_signup(raw=payload(subdomain=subdomain))
    assert caught.value.status == 409
    assert caught.value.code == TenantError.SUBDOMAIN_RESERVED
    assert not Salon.objects.filter(subdomain__iexact=subdomain).exists()


def test_taken_subdomain_is_a_conflict_case_insensitively(alpha):
    with pytest.raises(ServiceError) as caught:
        salon_signup(raw=payload(subdomain="ALPHA"))
    assert caught.value.status == 409
    assert caught.value.code == TenantError.SUBDOMAIN_TAKEN
    assert Salon.objects.filter(subdomain="alpha").count() == 1


def test_errors_are_translated(alpha):
    with translation.override("zh-hans"), pytest.raises(ServiceError) as caught:
        salon_signup(raw=payload(subdomain="admin"))
    assert caught.value.message != "This subdomain is reserved. Please choose another."


def test_a_database_failure_mid_signup_is_a_clear_503_and_leaves_nothing(alpha, monkeypatch):
    from django.db import OperationalError

    def broken_location_create(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("apps.core.services.location_create", broken_location_create)
    with translation.override("en"), pytest.raises(ServiceError) as caught:
        salon_signup(raw=payload())
    assert caught.value.status == 503
    assert "Nothing was saved" in caught.value.message
    assert not Salon.objects.filter(subdomain="liren").exists()

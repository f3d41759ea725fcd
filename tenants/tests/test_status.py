"""Salon status enforced by middleware: trial/past_due banners, suspension page and API 402, nothing deleted."""

from __future__ import annotations

from django.utils import translation
from django_tenants.utils import schema_context

from apps.core.models import AuditEntry, User
from tenants.models import Salon, SalonStatus
from tenants.services import salon_resume, salon_set_status, salon_suspend
from tests.fixtures import api_token, logged_in_client, owner_of


def test_trial_banner_shows_days_left(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    with translation.override("en"):
        html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'role="status"' in html


def test_past_due_shows_a_banner_but_keeps_working(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    token = api_token(alpha, alpha.owner_username)
    salon_set_status(salon=alpha.salon, status=SalonStatus.PAST_DUE)
    response = client.get("/")
    assert response.status_code == 200
    assert 'class="banner warn"' in response.content.decode()
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_suspended_salon_shows_a_page_and_api_answers_402_and_keeps_data(alpha, beta):
    # given
    client = logged_in_client(alpha, alpha.owner_username)
    token = api_token(alpha, alpha.owner_username)
    with schema_context(alpha.schema):
        users_before = User.objects.count()
    operator = User.objects.create_superuser("op", "Op-pass-123", name="Op")
    # when
    salon_suspend(salon=alpha.salon, reason="Unpaid invoice 2026-10", actor=operator)
    # then staff see the suspension page with the reason
    page = client.get("/")
    assert page.status_code == 403
    assert "Unpaid invoice 2026-10" in page.content.decode()
    assert client.get("/settings/staff/").status_code == 403
    # and the API answers 402 with a code
    api = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.status_code == 402
    assert api.json()["code"] == "salon_suspended"
    assert api.json()["reason"] == "Unpaid invoice 2026-10"
    # health checks still answer
    assert client.get("/healthz").status_code == 200
    # nothing was deleted
    with schema_context(alpha.schema):
        assert User.objects.count() == users_before
    # another salon is unaffected
    assert logged_in_client(beta, beta.owner_username).get("/").status_code == 200
    # the change is audited in the public schema
    entry = AuditEntry.objects.get(action="salon.status_changed")
    assert entry.actor == operator
    assert entry.data == {"from": "trial", "to": "suspended", "reason": "Unpaid invoice 2026-10"}


def test_resume_restores_access(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    salon_suspend(salon=alpha.salon, reason="Fraud check")
    assert client.get("/").status_code == 403
    salon = salon_resume(salon=Salon.objects.get(pk=alpha.salon.pk))
    assert salon.status == SalonStatus.TRIAL
    assert salon.status_reason == ""
    assert client.get("/").status_code == 200


def test_suspension_needs_a_reason(alpha):
    import pytest

    from apps.core.errors import ServiceError

    with pytest.raises(ServiceError) as caught:
        salon_suspend(salon=alpha.salon, reason="  ")
    assert caught.value.field == "reason"
    assert Salon.objects.get(pk=alpha.salon.pk).status == SalonStatus.TRIAL


def test_unknown_salon_host_is_a_404(db):
    from django.test import Client

    client = Client(HTTP_HOST="nosuch.localhost")
    assert client.get("/").status_code == 404
    api = client.get("/api/v1/meta/")
    assert api.status_code == 404
    assert "detail" in api.json()


def test_console_is_for_superusers_and_suspends_with_audit(alpha, public_client):
    # given an operator and a salon owner (the owner exists only in the salon's schema)
    operator = User.objects.create_superuser("root-op", "Op-pass-123", name="Op")
    owner = owner_of(alpha)
    # a salon owner's credentials do not open the console
    denied = public_client.post("/console/login/", {"username": owner.username, "password": "Passw0rd-x"})
    assert denied.status_code == 200  # login form again
    assert public_client.get("/console/").status_code == 302
    # the operator can sign in and suspend through the action
    public_client.force_login(operator)
    listing = public_client.get("/console/tenants/salon/?q=alpha")
    assert listing.status_code == 200
    assert "alpha" in listing.content.decode()
    response = public_client.post(
        "/console/tenants/salon/",
        {
            "action": "suspend",
            "_selected_action": [alpha.salon.pk],
            "reason": "Chargeback",
        },
    )
    assert response.status_code == 302
    salon = Salon.objects.get(pk=alpha.salon.pk)
    assert salon.status == SalonStatus.SUSPENDED
    assert salon.status_reason == "Chargeback"
    assert AuditEntry.objects.filter(action="salon.status_changed", actor=operator).count() == 1
    # resume
    public_client.post("/console/tenants/salon/", {"action": "resume", "_selected_action": [alpha.salon.pk]})
    assert Salon.objects.get(pk=alpha.salon.pk).status == SalonStatus.TRIAL
    # the console is not served on a salon's domain
    from django.test import Client

    assert Client(HTTP_HOST=alpha.host).get("/console/").status_code == 404

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_context
from PIL import Image

from apps.core import services
from apps.core.errors import CoreError, ServiceError
from apps.core.models import Location
from tenants.models import Salon
from tests.fixtures import api_token, logged_in_client, owner_of


def test_location_rules(in_alpha):
    owner = owner_of(in_alpha)
    main = Location.objects.get()
    shop = services.location_create(name="Nanshan", address="Keyuan Rd 1", acting_user=owner)
    with pytest.raises(ServiceError) as caught:
        services.location_create(name="nanshan", acting_user=owner)
    assert caught.value.code == CoreError.DUPLICATE_LOCATION
    services.location_update(location=shop, is_active=False, acting_user=owner)
    with pytest.raises(ServiceError) as caught:
        services.location_update(location=main, is_active=False, acting_user=owner)
    assert caught.value.code == CoreError.LAST_LOCATION
    assert Location.objects.get(pk=main.pk).is_active


def test_location_pages_and_api(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    assert client.post("/settings/locations/", {"name": "Futian", "address": "", "phone": ""}).status_code == 302
    dup = client.post("/settings/locations/", {"name": "FUTIAN", "address": "", "phone": ""})
    assert dup.status_code == 200 and 'class="error"' in dup.content.decode()
    token = api_token(alpha, alpha.owner_username)
    api = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/locations/").json()["count"] == 2
    created = api.post("/api/v1/locations/", {"name": "Luohu"}, content_type="application/json")
    assert created.status_code == 201
    patched = api.patch(
        f"/api/v1/locations/{created.json()['id']}/", {"is_active": False}, content_type="application/json"
    )
    assert patched.json()["is_active"] is False


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 100)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_salon_profile_page_saves_name_timezone_currency_logo(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = logged_in_client(alpha, alpha.owner_username)
    response = client.post(
        "/settings/salon/",
        {
            "name": "Alpha Beauty",
            "timezone": "Europe/London",
            "currency": "GBP",
            "logo": SimpleUploadedFile("logo.png", _png(), content_type="image/png"),
        },
    )
    assert response.status_code == 302
    salon = Salon.objects.get(pk=alpha.salon.pk)
    assert (salon.name, salon.timezone, salon.currency) == ("Alpha Beauty", "Europe/London", "GBP")
    assert salon.logo.name.startswith(f"logos/{salon.schema_name}/")
    with schema_context(alpha.schema):
        from apps.core.models import AuditEntry

        assert AuditEntry.objects.filter(action="salon.profile_updated").count() == 1


def test_salon_profile_rejects_bad_input_and_changes_nothing(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = logged_in_client(alpha, alpha.owner_username)
    response = client.post(
        "/settings/salon/",
        {
            "name": "Renamed",
            "timezone": "Mars/Olympus",
            "currency": "XXX",
            "logo": SimpleUploadedFile("logo.png", b"not an image at all", content_type="image/png"),
        },
    )
    assert response.status_code == 200
    salon = Salon.objects.get(pk=alpha.salon.pk)
    assert (salon.name, salon.timezone, salon.currency, bool(salon.logo)) == (
        "Alpha Salon",
        "Asia/Shanghai",
        "CNY",
        False,
    )
    token = api_token(alpha, alpha.owner_username)
    api = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {token}")
    bad = api.patch("/api/v1/salon/", {"timezone": "Nowhere/City"}, content_type="application/json")
    assert bad.status_code == 400 and "timezone" in bad.json()
    ok = api.patch("/api/v1/salon/", {"name": "Alpha 2"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["name"] == "Alpha 2"


def test_times_show_in_the_salons_timezone(alpha):
    from django.utils import timezone

    Salon.objects.filter(pk=alpha.salon.pk).update(timezone="Europe/London")
    client = logged_in_client(alpha, alpha.owner_username)
    client.get("/")
    response = client.get("/api/v1/meta/")
    assert response.json()["timezone"] == "Europe/London"
    assert timezone.get_current_timezone_name() in ("Europe/London", "UTC", "Asia/Shanghai")

"""POST /api/v1/signup/ exactly as SPEC §4, and the landing-page form."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tenants.models import Salon

BODY = {
    "salon_name": "云裳美发",
    "subdomain": "yunshang",
    "owner_name": "陈云",
    "owner_email": "chen@example.com",
    "owner_phone": "13912345678",
    "password": "Good-pass-9",
}


def test_signup_api_201_contract(public_client, alpha):
    response = public_client.post("/api/v1/signup/", BODY, content_type="application/json")
    assert response.status_code == 201
    assert response.json() == {
        "tenant": "yunshang",
        "url": "http://yunshang.localhost/",
        "trial_ends": (timezone.localdate() + dt.timedelta(days=14)).isoformat(),
    }


def test_signup_api_url_keeps_the_port(public_client, alpha):
    response = public_client.post("/api/v1/signup/", BODY, content_type="application/json", HTTP_HOST="localhost:8000")
    assert response.json()["url"] == "http://yunshang.localhost:8000/"


def test_signup_api_400_field_errors(public_client, alpha):
    response = public_client.post(
        "/api/v1/signup/", {**BODY, "owner_email": "nope", "subdomain": "x"}, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"owner_email", "subdomain"}
    assert all(isinstance(v, list) and v for v in body.values())
    assert not Salon.objects.filter(subdomain="x").exists()


def test_signup_api_409_taken_and_reserved(public_client, alpha):
    taken = public_client.post("/api/v1/signup/", {**BODY, "subdomain": "alpha"}, content_type="application/json")
    reserved = public_client.post("/api/v1/signup/", {**BODY, "subdomain": "www"}, content_type="application/json")
    assert taken.status_code == 409
    assert "subdomain" in taken.json()
    assert reserved.status_code == 409
    assert "subdomain" in reserved.json()


def test_signup_api_garbage_is_a_400_not_a_500(public_client, alpha):
    for body, content_type in [
        ("{not json", "application/json"),
        ('["a", "list"]', "application/json"),
        ('{"subdomain": 12, "password": null, "owner_phone": []}', "application/json"),
    ]:
        response = public_client.post("/api/v1/signup/", body, content_type=content_type)
        assert response.status_code == 400, (body, response.content)


def test_signup_api_is_not_served_on_a_salon_domain(alpha_client):
    response = alpha_client.post("/api/v1/signup/", BODY, content_type="application/json")
    assert response.status_code == 404
    assert not Salon.objects.filter(subdomain="yunshang").exists()


def test_landing_page_has_product_pricing_and_form(public_client):
    response = public_client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="product"' in html and 'id="pricing"' in html and 'id="signup"' in html
    assert 'name="subdomain"' in html and '<label for="id_subdomain">' in html


def test_landing_form_signup_redirects_to_the_new_salon(public_client, alpha):
    response = public_client.post("/signup/", BODY, HTTP_HOST="localhost:8000")
    assert response.status_code == 302
    assert response["Location"] == "http://yunshang.localhost:8000/login/?welcome=1"
    assert Salon.objects.filter(subdomain="yunshang").exists()


def test_landing_form_shows_field_errors_and_creates_nothing(public_client, alpha):
    response = public_client.post("/signup/", {**BODY, "subdomain": "admin", "password": "x"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error"' in html
    assert not Salon.objects.filter(subdomain="admin").exists()


def test_subdomain_check_api_and_fragment(public_client, alpha):
    from django.utils import translation

    with translation.override("en"):
        cases = {
            "yunshang": (True, "This subdomain is available."),
            "ALPHA": (False, "This subdomain is already taken."),
            "admin": (False, "This subdomain is reserved. Please choose another."),
            "a_b": (False, "Use only lower-case letters"),
            "": (False, "This field is required."),
        }
        for value, (available, reason) in cases.items():
            body = public_client.get(
                "/api/v1/signup/subdomain-check/", {"subdomain": value}, HTTP_COOKIE="salon_language=en"
            ).json()
            assert body["available"] is available, value
            assert body["reason"].startswith(reason), (value, body)
    fragment = public_client.get("/signup/subdomain/", {"subdomain": "yunshang"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "yunshang.localhost" in fragment.content.decode()
    assert 'hx-get="/signup/subdomain/"' in public_client.get("/").content.decode()
    assert not Salon.objects.filter(subdomain="yunshang").exists()

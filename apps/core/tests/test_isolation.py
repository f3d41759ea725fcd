"""SEC-5 / SEC-1: staff, sessions and tokens of one salon are worthless on another."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.fixtures import PASSWORD, api_token, logged_in_client, make_staff

# Routes that any visitor may call (no credentials involved).
OPEN_ROUTES = {"api/v1/auth/token/", "api/v1/meta/", "api/v1/schema/", "api/v1/docs/"}


def _api_routes() -> list[str]:
    """Every API route of the salon URL conf, with sample ids filled in."""
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                routes.append(prefix + str(pattern.pattern))

    walk(get_resolver("salon_platform.urls_tenant").url_patterns, "")
    api = [r for r in routes if r.startswith("api/")]
    return sorted({re.sub(r"<int:\w+>", "1", r) for r in api})


def test_every_api_route_is_covered():
    routes = _api_routes()
    assert "api/v1/staff/" in routes
    assert "api/v1/staff/1/" in routes
    assert len(routes) >= 9


@pytest.mark.parametrize("route", [r for r in _api_routes() if r not in OPEN_ROUTES])
def test_alpha_token_is_rejected_on_beta_for_every_route(alpha, beta, route):
    token = api_token(alpha, alpha.owner_username)
    on_alpha = Client(HTTP_HOST=alpha.host).get(f"/{route}", HTTP_AUTHORIZATION=f"Bearer {token}")
    # valid at home: accepted (a route that needs query parameters answers 400 without them)
    assert on_alpha.status_code in (200, 400, 404, 405), on_alpha.content
    for method in ("get", "post", "patch", "delete"):
        response = getattr(Client(HTTP_HOST=beta.host), method)(
            f"/{route}", HTTP_AUTHORIZATION=f"Bearer {token}", content_type="application/json"
        )
        assert response.status_code == 401, (method, route, response.status_code)


@pytest.mark.parametrize("route", [r for r in _api_routes() if r not in OPEN_ROUTES])
def test_alpha_session_is_rejected_on_beta_for_every_route(alpha, beta, route):
    alpha_client = logged_in_client(alpha, alpha.owner_username)
    session_key = alpha_client.cookies["sessionid"].value
    intruder = Client(HTTP_HOST=beta.host)
    intruder.cookies["sessionid"] = session_key
    response = intruder.get(f"/{route}")
    assert response.status_code in (401, 403), (route, response.status_code)


def test_alpha_staff_cannot_log_in_on_beta(alpha, beta):
    make_staff(alpha, role="front_desk", username="amy", phone="+8613700000001", email="amy@alpha.test")
    for identifier in ("amy", "amy@alpha.test", "13700000001", alpha.owner_username):
        response = Client(HTTP_HOST=beta.host).post("/login/", {"username": identifier, "password": PASSWORD})
        assert response.status_code == 200  # the form again, with an error
        assert "_auth_user_id" not in Client(HTTP_HOST=beta.host).session
        token = Client(HTTP_HOST=beta.host).post(
            "/api/v1/auth/token/", {"username": identifier, "password": PASSWORD}, content_type="application/json"
        )
        assert token.status_code == 400


def test_alpha_session_forged_into_shared_store_is_logged_out(alpha, beta, settings):
    """Even if sessions were stored outside the schemas (cache), a session opened in alpha is refused on beta."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    alpha_client = logged_in_client(alpha, alpha.owner_username)
    intruder = Client(HTTP_HOST=beta.host)
    intruder.cookies["sessionid"] = alpha_client.cookies["sessionid"].value
    response = intruder.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_by_username_email_and_phone(alpha):
    make_staff(alpha, role="technician", username="tina", phone="+8613700000002", email="tina@alpha.test")
    for identifier in ("tina", "TINA@alpha.test", "137 0000 0002", "+8613700000002"):
        client = Client(HTTP_HOST=alpha.host)
        response = client.post("/login/", {"username": identifier, "password": PASSWORD})
        assert response.status_code == 302, identifier


def test_wrong_password_and_deactivated_staff_cannot_sign_in(alpha):
    from django_tenants.utils import schema_context

    from apps.core.services import staff_deactivate
    from tests.fixtures import owner_of

    user = make_staff(alpha, role="technician", username="tom", phone="+8613700000003")
    bad = Client(HTTP_HOST=alpha.host).post("/login/", {"username": "tom", "password": "wrong-pass-1"})
    assert bad.status_code == 200
    token = api_token(alpha, "tom")
    with schema_context(alpha.schema):
        staff_deactivate(user=user, acting_user=owner_of(alpha))
    assert Client(HTTP_HOST=alpha.host).post("/login/", {"username": "tom", "password": PASSWORD}).status_code == 200
    me = Client(HTTP_HOST=alpha.host).get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 401


def test_token_endpoint_contract(alpha):
    response = Client(HTTP_HOST=alpha.host).post(
        "/api/v1/auth/token/", {"username": alpha.owner_username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    me = Client(HTTP_HOST=alpha.host).get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    assert me.status_code == 200
    assert me.json()["role"] == "owner"
    assert "manage_settings" in me.json()["permissions"]
    assert (
        Client(HTTP_HOST=alpha.host).post("/api/v1/auth/token/", {}, content_type="application/json").status_code == 400
    )
    public = Client(HTTP_HOST="localhost").post(
        "/api/v1/auth/token/", {"username": alpha.owner_username, "password": PASSWORD}, content_type="application/json"
    )
    assert public.status_code == 404


def test_token_and_signup_endpoints_are_rate_limited(alpha, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    from tenants.models import Salon

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/minute", "signup": "2/minute"})
    cache.clear()
    try:
        client = Client(HTTP_HOST=alpha.host)
        codes = [
            client.post(
                "/api/v1/auth/token/", {"username": "x", "password": "y"}, content_type="application/json"
            ).status_code
            for _ in range(4)
        ]
        assert codes == [400, 400, 400, 429]
        public = Client(HTTP_HOST="localhost")
        body = {
            "salon_name": "S",
            "subdomain": "ratelimited",
            "owner_name": "O",
            "owner_email": "bad",
            "owner_phone": "1",
            "password": "p",
        }
        codes = [public.post("/api/v1/signup/", body, content_type="application/json").status_code for _ in range(3)]
        assert codes == [400, 400, 429]
        assert not Salon.objects.filter(subdomain="ratelimited").exists()
    finally:
        cache.clear()


GARBAGE = [
    "{not json",
    "[]",
    '"a string"',
    "null",
    '{"name": ["x"], "role": {"a": 1}, "phone": 12, "email": false, "locations": "x", "password": 5}',
    '{"name": "' + "长" * 5000 + '", "timezone": 7, "currency": "¥¥¥", "is_active": "maybe"}',
    '{"locations": [999999, -1, "a"], "role": "owner\\u0000"}',
]


@pytest.mark.parametrize("route", _api_routes())
def test_garbage_to_every_api_route_is_never_a_500(alpha, route):
    token = api_token(alpha, alpha.owner_username)
    client = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {token}")
    for body in GARBAGE:
        for method in ("post", "patch", "put"):
            response = getattr(client, method)(f"/{route}", body, content_type="application/json")
            assert response.status_code < 500, (method, route, body[:40], response.content[:300])
    for query in ("?page=-1", "?page=abc", "?page=99999", "?format=xml"):
        assert client.get(f"/{route}{query}").status_code < 500, (route, query)

"""UX-1: the staff app shell in Chinese by default, English per user, every module reachable."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.core.models import User
from apps.core.navigation import MODULES
from tests.fixtures import logged_in_client


def test_dashboard_is_chinese_by_default_and_english_per_user(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en")
    assert chinese.status_code == 200
    assert '<html lang="zh-hans">' in chinese.content.decode()
    switched = client.post("/account/language/", {"language": "en", "next": "/settings/staff/"})
    assert switched.status_code == 302 and switched["Location"] == "/settings/staff/"
    english = client.get("/")
    assert '<html lang="en">' in english.content.decode()
    assert ">Dashboard<" in english.content.decode()
    with schema_context(alpha.schema):
        assert User.objects.get(username=alpha.owner_username).language == "en"


def test_language_switch_rejects_unknown_language_and_foreign_redirects(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    response = client.post("/account/language/", {"language": "klingon", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
    with schema_context(alpha.schema):
        assert User.objects.get(username=alpha.owner_username).language == "zh-hans"


def test_every_module_in_the_navigation_has_a_page(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    client.post("/account/language/", {"language": "en"})
    dashboard = client.get("/").content.decode()
    for module in MODULES:
        if module.url_name:  # built: the navigation goes straight to it, and its old address follows
            assert f'href="{module.url}"' in dashboard
            assert client.get(f"/m/{module.slug}/")["Location"] == module.url
            assert client.get(module.url).status_code == 200
            continue
        assert f'href="/m/{module.slug}/"' in dashboard
        page = client.get(f"/m/{module.slug}/")
        assert page.status_code == 200
        assert "Coming to this module" in page.content.decode()
    assert client.get("/m/nonsense/").status_code == 404


def test_pages_need_sign_in(alpha_client):
    for path in ("/", "/settings/staff/", "/settings/salon/", "/m/clients/"):
        response = alpha_client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path

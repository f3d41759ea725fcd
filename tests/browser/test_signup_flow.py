"""A new salon owner in a real browser: sign up on the public site, sign in on the salon's own
address, see the staff app in Chinese, switch it to English and keep it (a per-user setting).

Texts asserted here are the zh_Hans catalog's (locale/zh_Hans/LC_MESSAGES/django.po).
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.browser.support import LiveSalonServer, SalonLedger, db_run, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips, or fails under REQUIRE_BROWSER=1
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "Passw0rd-x"
OWNER_NAME = "王芳"
PAGE_BACKGROUND = "rgb(246, 247, 249)"  # --bg in static/css/app.css: the stylesheet was served


def _fresh_subdomain() -> str:
    return f"browser-{secrets.token_hex(3)}"


def _fill_signup(page: Any, *, subdomain: str, password: str = PASSWORD) -> None:
    """Fill the landing page's signup form by its (Chinese) labels and submit it."""
    form = page.locator("#signup form")
    form.get_by_label("门店名称", exact=True).fill("莲花美容 Lotus Spa")
    form.get_by_label("子域名", exact=True).fill(subdomain)
    form.get_by_label("您的姓名", exact=True).fill(OWNER_NAME)
    form.get_by_label("电子邮箱", exact=True).fill(f"owner@{subdomain}.test")
    form.get_by_label("手机号", exact=True).fill("13912345678")
    form.get_by_label("密码", exact=True).fill(password)
    form.get_by_role("button", name="创建我的门店", exact=True).click()


def _owner_language(schema_name: str, email: str) -> str:
    from django_tenants.utils import schema_context

    from apps.core.models import User

    with schema_context(schema_name):
        return User.objects.get(username=email).language


def test_signup_sign_in_and_switch_to_english(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any, browser: Any
) -> None:
    subdomain = _fresh_subdomain()
    email = f"owner@{subdomain}.test"
    html = page.locator("html")

    # The public landing page, in Chinese for a first-time visitor.
    page.goto(salon_server.public_url("/"))
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("一站式管理您的门店")
    expect(page.get_by_role("heading", name="开通您的门店")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == PAGE_BACKGROUND

    # Sign up: the salon's own address opens on its sign-in page with a welcome note.
    _fill_signup(page, subdomain=subdomain)
    expect(page).to_have_url(salon_server.salon_url(subdomain, "/login/?welcome=1"))
    created = salon_ledger.created()
    assert [(s.subdomain, s.domains) for s in created] == [(subdomain, (f"{subdomain}.localhost",))]
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="登录", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("您的门店已创建完成。请使用您设置的电子邮箱和密码登录。")

    # The owner signs in with the e-mail and sees the staff app in Chinese.
    sign_in(page, email, PASSWORD)
    expect(page).to_have_url(salon_server.salon_url(subdomain, "/"))
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"欢迎，{OWNER_NAME}")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="工作台", exact=True)).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="设置", exact=True)).to_be_visible()
    expect(nav).not_to_contain_text("Dashboard")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == PAGE_BACKGROUND

    # The language button in the top bar switches the staff app to English.
    page.locator("header.topbar").get_by_role("button", name="English", exact=True).click()
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(salon_server.salon_url(subdomain, "/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {OWNER_NAME}")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Dashboard", exact=True)).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Settings", exact=True)).to_be_visible()
    expect(page.locator("header.topbar").get_by_role("button", name="中文", exact=True)).to_be_visible()

    # It stays English after a reload, because it is the user's setting (not a cookie).
    page.reload()
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings", exact=True)).to_be_visible()
    assert db_run(_owner_language, created[0].schema_name, email) == "en"
    assert not [c for c in page.context.cookies() if c["name"] == "salon_language"]

    # Signing in again from another device (no cookies at all): Chinese sign-in page, English staff app.
    other = browser.new_context(viewport=page.viewport_size)
    try:
        other_page = other.new_page()
        other_page.goto(salon_server.salon_url(subdomain, "/login/"))
        expect(other_page.locator("html")).to_have_attribute("lang", "zh-hans")
        sign_in(other_page, email, PASSWORD)
        expect(other_page).to_have_url(salon_server.salon_url(subdomain, "/"))
        expect(other_page.locator("html")).to_have_attribute("lang", "en")
        expect(other_page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {OWNER_NAME}")
    finally:
        other.close()


def _too_short_message() -> str:
    """What Django's minimum-length validator says on a Chinese page (the project requires 8)."""
    from django.contrib.auth.password_validation import MinimumLengthValidator
    from django.utils import translation

    with translation.override("zh-hans"):
        return MinimumLengthValidator(min_length=8).get_error_message()


def _submit_bad_signup(page: Any, salon_server: LiveSalonServer, *, subdomain: str, password: str) -> Any:
    """Submit the signup form; it must come back as a 400 with the form and exactly one field in error."""
    page.goto(salon_server.public_url("/"))
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/signup/")) as answer:
        _fill_signup(page, subdomain=subdomain, password=password)
    assert answer.value.status == 400
    expect(page).to_have_url(salon_server.public_url("/signup/"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    errors = page.locator("#signup .field.has-error")
    expect(errors).to_have_count(1)
    return errors


@pytest.mark.parametrize(
    ("subdomain", "password", "field", "message"),
    [
        pytest.param("admin", PASSWORD, "subdomain", "该子域名为系统保留，请选择其他子域名。", id="reserved-subdomain"),
        pytest.param(None, "Zq8x", "password", None, id="short-password"),
    ],
)
def test_signup_with_bad_input_shows_the_field_error_and_creates_nothing(
    salon_ledger: SalonLedger,
    salon_server: LiveSalonServer,
    page: Any,
    subdomain: str | None,
    password: str,
    field: str,
    message: str | None,
) -> None:
    subdomain = subdomain or _fresh_subdomain()
    errors = _submit_bad_signup(page, salon_server, subdomain=subdomain, password=password)
    expect(errors.locator(f"[name={field}]")).to_have_count(1)
    expect(errors.get_by_role("alert")).to_have_text(message or _too_short_message())
    # What the person typed is kept (the password is not sent back).
    expect(page.locator("#signup input[name=subdomain]")).to_have_value(subdomain)
    expect(page.locator("#signup input[name=password]")).to_have_value("")
    assert salon_ledger.created() == []


def test_password_too_short_error_is_in_chinese(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any
) -> None:
    errors = _submit_bad_signup(page, salon_server, subdomain=_fresh_subdomain(), password="Zq8x")
    expect(errors.get_by_role("alert")).to_have_text("密码太短，至少需要 8 个字符。", timeout=1000)


def test_subdomain_availability_shows_while_typing(salon_server: LiveSalonServer, page: Any) -> None:
    page.goto(salon_server.public_url("/"))
    field = page.locator("#signup form").get_by_label("子域名", exact=True)
    status = page.locator("#id_subdomain-status")
    field.fill("admin")
    expect(status).to_have_text("该子域名为系统保留，请选择其他子域名。")
    fresh = _fresh_subdomain()
    field.fill(fresh)
    expect(status).to_contain_text(f"{fresh}.localhost")
    expect(status).to_contain_text("该子域名可以使用。")
    expect(status.locator(".ok")).to_be_visible()

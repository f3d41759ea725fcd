"""A salon's client on a phone (375×812, WeChat's in-app browser): signs in to the member centre with
the phone and the texted code, sees the stored value with principal and bonus apart, points, tier
progress, the card, coupons, course cards and history, and nothing is wider than the screen.

The member centre opens in Chinese; its Chinese catalogue is compiled centrally later, so the test
reads figures (data-figure), element ids and addresses rather than labels, and switches to English
once to read a label."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.browser.support import LiveSalonServer, SalonLedger, db_run

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips, or fails under REQUIRE_BROWSER=1
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PHONE = "13800138000"


def _salon_with_a_member(subdomain: str) -> int:
    """A salon whose client 王芳 holds stored value, points, a tier on the way to the next, coupons
    (one to use, one expired) and a course card with a session used. Returns the course card's id."""
    import datetime

    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.catalog.services.bundles import CourseCardItemSpec, course_card_template_create
    from apps.catalog.services.offerings import service_create
    from apps.core.db import salon_today
    from apps.crm.services.clients import purchase_record
    from apps.crm.services.tags import tier_create
    from apps.loyalty.models import CouponKind, CouponTemplate, TierBenefit
    from apps.loyalty.services import wallets
    from apps.loyalty.tests.helpers import a_client, top_up_rule
    from apps.loyalty.tests.test_member_centre import (
        coupon_issue,
        course_card_sell,
        course_session_use,
        earn_points,
        member_card_issue,
    )
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": "芳华美容",
            "subdomain": subdomain,
            "owner_name": "林芳",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345672",
            "password": "Passw0rd-x",
        }
    ).salon
    with schema_context(salon.schema_name):
        today = salon_today()
        silver = tier_create(name="银卡", rank=1, acting_user=None)
        gold = tier_create(name="金卡", rank=2, acting_user=None)
        TierBenefit.objects.create(tier=silver, min_spend=100000, price_percent=95)
        TierBenefit.objects.create(tier=gold, min_spend=500000, price_percent=90)
        client = a_client(name="王芳", phone=PHONE, tier=silver)
        member_card_issue(client, "VIP00012345")
        top_up_rule(100000, 20000)
        wallets.wallet_top_up(client=client, amount=100000, idempotency_key="bill:1:top-up")
        wallets.wallet_debit(client=client, amount=60000, idempotency_key="bill:2:pay")
        earn_points(client, 1200, key="p1", expires_on=today + datetime.timedelta(days=10))
        purchase_record(
            client=client, occurred_at=timezone.now() - datetime.timedelta(days=30), item_name="烫发", amount=200000
        )
        facial = service_create(name="面部深层清洁护理疗程", duration_minutes=60, price=28800)
        money_off = CouponTemplate.objects.create(
            name="满100减20", kind=CouponKind.MONEY_OFF, value=2000, min_spend=10000
        )
        money_off.eligible_services.add(facial)
        coupon_issue(client, money_off, code="C-SOON", valid_until=today + datetime.timedelta(days=5))
        coupon_issue(client, money_off, code="C-OLD", valid_until=today - datetime.timedelta(days=1))
        series = course_card_template_create(
            name="护理十次卡", price=200000, validity_days=365, items=[CourseCardItemSpec(service=facial, sessions=10)]
        )
        card = course_card_sell(client, series, key="bill:3:card")
        course_session_use(card, facial, key="visit:1")
        return int(card.pk)


def _texted_code(subdomain: str) -> str:
    """The code from the text messages the test backend kept (the live server runs in this process,
    another thread); the delivery log keeps no code once it is sent."""
    from apps.messaging import sms

    body = sms.outbox[-1].body
    match = re.search(r"\b(\d{6})\b", body)
    assert match is not None, body
    return match.group(1)


def _fits_the_screen(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width}px wide"


def _figure(page: Any, name: str) -> Any:
    return page.locator(f'[data-figure="{name}"]')


def test_a_client_signs_in_on_a_phone_and_sees_the_account(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, phone: Any
) -> None:
    subdomain = f"member-{secrets.token_hex(3)}"
    card_id = db_run(_salon_with_a_member, subdomain)

    # An anonymous visitor lands on the member sign-in page (in Chinese), not the staff one.
    phone.goto(salon_server.salon_url(subdomain, "/member/"))
    expect(phone).to_have_url(re.compile(r"/member/login/$"))
    expect(phone.locator("html")).to_have_attribute("lang", "zh-hans")
    _fits_the_screen(phone)

    # Phone, then the texted code.
    phone.locator("#id_phone").fill("138 0013 8000")
    phone.locator("button.m-primary").click()
    expect(phone).to_have_url(re.compile(r"/member/login/code/$"))
    expect(phone.get_by_role("status")).to_contain_text("138****8000")
    _fits_the_screen(phone)
    phone.locator("#id_code").fill(db_run(_texted_code, subdomain))
    phone.locator("button.m-primary").click()
    expect(phone).to_have_url(re.compile(r"/member/$"))

    # Home: stored value with principal and bonus apart, points, tier progress, the masked card.
    expect(_figure(phone, "balance")).to_have_text("¥600.00")
    expect(_figure(phone, "principal")).to_have_text("¥500.00")
    expect(_figure(phone, "bonus")).to_have_text("¥100.00")
    expect(_figure(phone, "points")).to_have_text("1200")
    expect(_figure(phone, "expiring")).to_contain_text("1200")
    expect(_figure(phone, "tier")).to_have_text("银卡")
    progress = _figure(phone, "tier-progress")
    expect(progress.locator("progress")).to_have_attribute("value", "200000")
    expect(progress.locator("progress")).to_have_attribute("max", "500000")
    expect(progress).to_contain_text("¥3,000.00")
    expect(progress).to_contain_text("金卡")
    expect(_figure(phone, "card-number")).to_have_text("*******2345")
    expect(_figure(phone, "coupons")).to_have_text("1")
    expect(_figure(phone, "course-cards")).to_have_text("1")
    _fits_the_screen(phone)

    # Coupons: the one to use is shown with its conditions; the expired one is collapsed.
    phone.locator('.m-tabs a[href="/member/coupons/"]').click()
    expect(phone.locator('[data-coupon="C-SOON"]')).to_be_visible()
    expect(phone.locator('[data-coupon="C-SOON"]')).to_contain_text("¥20.00")
    expect(phone.locator('[data-coupon="C-SOON"]')).to_contain_text("面部深层清洁护理疗程")
    expect(phone.locator('[data-coupon="C-OLD"]')).to_be_hidden()
    phone.locator("details.m-past summary").click()
    expect(phone.locator('[data-coupon="C-OLD"]')).to_be_visible()
    _fits_the_screen(phone)

    # Course cards: sessions left per service, and the card's own page with the session used.
    phone.locator('.m-tabs a[href="/member/course-cards/"]').click()
    card = phone.locator(f'[data-course-card="{card_id}"]')
    expect(card.locator('[data-service="面部深层清洁护理疗程"]')).to_contain_text("9")
    _fits_the_screen(phone)
    card.get_by_role("link").click()
    expect(phone).to_have_url(re.compile(rf"/member/course-cards/{card_id}/$"))
    expect(phone.locator('[data-entry="course"]')).to_have_count(1)
    _fits_the_screen(phone)

    # History: stored value, points and course sessions, newest first.
    phone.locator('.m-tabs a[href="/member/history/"]').click()
    entries = phone.locator('[data-entry="wallet"]')
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("-¥600.00")
    expect(entries.last).to_contain_text("+¥1,000.00")
    _fits_the_screen(phone)
    phone.locator('.m-segments a[href="?kind=points"]').click()
    expect(phone.locator('[data-entry="points"]')).to_have_count(1)
    phone.locator('.m-segments a[href="?kind=courses"]').click()
    expect(phone.locator('[data-entry="course"]')).to_have_count(1)
    _fits_the_screen(phone)

    # English on request, on the same page.
    phone.locator('.m-tabs a[href="/member/"]').click()
    phone.get_by_role("button", name="English").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator(".m-balance")).to_contain_text("Principal (本金)")
    _fits_the_screen(phone)

    # Signing out leads back to the sign-in page; the account is no longer shown.
    phone.get_by_role("button", name="Sign out").click()
    expect(phone).to_have_url(re.compile(r"/member/login/$"))
    phone.goto(salon_server.salon_url(subdomain, "/member/history/"))
    expect(phone).to_have_url(re.compile(r"/member/login/\?next="))

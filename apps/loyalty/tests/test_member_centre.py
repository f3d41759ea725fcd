"""The member centre (LOY-9): sign-in by phone and a texted code, and the client's own pages (balances,
points, tier progress, coupons, course cards, history), isolated per client and per salon."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client as PageClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.catalog.services.bundles import CourseCardItemSpec, course_card_template_create
from apps.catalog.services.offerings import service_create
from apps.core.db import salon_today
from apps.crm.models import Client, PurchaseKind
from apps.crm.services.clients import purchase_record
from apps.crm.services.tags import tier_create
from apps.loyalty.member_auth import CLIENT_KEY, SCHEMA_KEY, SESSION_AGE_SECONDS
from apps.loyalty.models import (
    Coupon,
    CouponKind,
    CouponStatus,
    CouponTemplate,
    CourseCard,
    CourseCardBalance,
    CourseRedemption,
    LoyaltySettings,
    MemberCard,
    PointsEntry,
    PointsEntryKind,
    PointsLot,
    TierBasis,
    TierBenefit,
    Wallet,
)
from apps.loyalty.services import wallets
from apps.loyalty.tests.helpers import a_client, top_up_rule
from apps.messaging import sms
from apps.messaging.models import OneTimeCode
from tests.fixtures import PASSWORD, logged_in_client

PHONE = "13800138000"
E164 = "+8613800138000"


# --- arrangement ---------------------------------------------------------------------------------
# Points, coupons and course cards are written here the way their services write them (lock the
# wallet, ledger row, lot or balance, new figures). Swap these for the services when they land.


@transaction.atomic
def earn_points(client: Client, points: int, *, key: str, expires_on: datetime.date | None = None) -> PointsEntry:
    wallet = wallets.wallet_locked(client)
    wallet.points += points
    wallet.save(update_fields=["points", "updated_at"])
    entry = PointsEntry.objects.create(
        wallet=wallet,
        kind=PointsEntryKind.EARN_SPEND,
        points=points,
        balance_after=wallet.points,
        idempotency_key=key,
    )
    PointsLot.objects.create(
        wallet=wallet, entry=entry, earned_on=salon_today(), expires_on=expires_on, points=points, remaining=points
    )
    return entry


@transaction.atomic
def redeem_points(client: Client, points: int, *, key: str, description: str) -> PointsEntry:
    wallet = wallets.wallet_locked(client)
    left = points
    for lot in PointsLot.objects.filter(wallet=wallet, remaining__gt=0).order_by("earned_on", "id"):
        take = min(left, lot.remaining)
        PointsLot.objects.filter(pk=lot.pk).update(remaining=lot.remaining - take)
        left -= take
        if not left:
            break
    wallet.points -= points
    wallet.save(update_fields=["points", "updated_at"])
    return PointsEntry.objects.create(
        wallet=wallet,
        kind=PointsEntryKind.REDEEM,
        points=-points,
        balance_after=wallet.points,
        description=description,
        idempotency_key=key,
    )


@transaction.atomic
def coupon_issue(client: Client, template: CouponTemplate, *, code: str, **fields: Any) -> Coupon:
    fields.setdefault("valid_from", salon_today())
    return Coupon.objects.create(template=template, client=client, code=code, issue_key=f"issue:{code}", **fields)


@transaction.atomic
def course_card_sell(client: Client, template: Any, *, key: str, days: int = 180) -> CourseCard:
    card = CourseCard.objects.create(
        client=client,
        template=template,
        name=template.name,
        price=template.price,
        expires_on=salon_today() + datetime.timedelta(days=days),
        idempotency_key=key,
    )
    for item in template.items.all():
        CourseCardBalance.objects.create(
            card=card, service=item.service, sessions_total=item.sessions, sessions_left=item.sessions
        )
    return card


@transaction.atomic
def course_session_use(card: CourseCard, service: Any, *, key: str) -> CourseRedemption:
    balance = CourseCardBalance.objects.select_for_update().get(card=card, service=service)
    balance.sessions_left -= 1
    balance.save(update_fields=["sessions_left"])
    return CourseRedemption.objects.create(
        card=card, balance=balance, sessions=1, sessions_left_after=balance.sessions_left, idempotency_key=key
    )


@transaction.atomic
def member_card_issue(client: Client, number: str) -> MemberCard:
    card = MemberCard.objects.create(client=client, number=number)
    Wallet.objects.filter(pk=wallets.wallet_for(client).pk).update(current_card=card)
    return card


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _empty_outbox() -> None:
    sms.outbox.clear()


def _page(info: Any) -> PageClient:
    page = PageClient(HTTP_HOST=info.host)
    page.cookies["salon_language"] = "en"
    return page


def _ask_code(page: PageClient, phone: str, capture: Any) -> Any:
    with capture(execute=True):
        return page.post("/member/login/", {"phone": phone})


def _texted_code() -> str:
    match = re.search(r"\b(\d{6})\b", sms.outbox[-1].body)
    assert match is not None, sms.outbox[-1].body
    return match.group(1)


def _sign_in(info: Any, capture: Any, phone: str = PHONE) -> PageClient:
    page = _page(info)
    _ask_code(page, phone, capture)
    response = page.post("/member/login/code/", {"code": _texted_code()})
    assert response.status_code == 302 and response["Location"] == "/member/", response.content[:500]
    return page


def _figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}"[^>]*>(.*?)<', html, re.S)
    assert match is not None, f"no figure {name}"
    return match.group(1).strip()


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- signing in ----------------------------------------------------------------------------------


def test_sign_in_with_the_texted_code(alpha, django_capture_on_commit_callbacks):
    # given a client of alpha
    with schema_context(alpha.schema):
        a_client(name="王芳", phone=PHONE)
    page = _page(alpha)
    # when an anonymous visitor opens the member centre
    anonymous = page.get("/member/")
    # then the member sign-in page is shown, never the staff one
    assert anonymous.status_code == 302 and anonymous["Location"] == "/member/login/"
    assert "Mobile number" in page.get("/member/login/").content.decode()

    # when they give the phone as typed, with spaces
    asked = _ask_code(page, "138 0013 8000", django_capture_on_commit_callbacks)
    # then one text with a code goes to the phone, and the code page says so without confirming membership
    assert asked.status_code == 302 and asked["Location"] == "/member/login/code/"
    assert [m.to for m in sms.outbox] == [E164]
    assert "Alpha Salon member centre: your sign-in code is" in sms.outbox[0].body
    code_page = _text(page.get("/member/login/code/"))
    assert "If 138****8000 belongs to a member, a code was sent to it." in code_page
    session_before = page.cookies["sessionid"].value

    # when they type the code
    signed_in = page.post("/member/login/code/", {"code": _texted_code()})
    # then they are a member for 30 days, on a new session key, and no staff user is logged in
    assert signed_in.status_code == 302 and signed_in["Location"] == "/member/"
    assert page.cookies["sessionid"].value != session_before
    assert int(signed_in.cookies["sessionid"]["max-age"]) == SESSION_AGE_SECONDS == 30 * 24 * 3600
    with schema_context(alpha.schema):
        session = page.session
        assert session[SCHEMA_KEY] == alpha.schema and "_auth_user_id" not in session
    home = page.get("/member/")
    assert home.status_code == 200 and "Hello, 王芳" in home.content.decode()
    assert home["Cache-Control"].startswith("max-age=0") and "no-store" in home["Cache-Control"]


def test_an_unknown_phone_gets_the_same_answer_and_no_text(alpha, django_capture_on_commit_callbacks):
    with schema_context(alpha.schema):
        a_client(phone=PHONE)
    member, stranger = _page(alpha), _page(alpha)
    # when a member's phone and a stranger's phone ask for a code
    known = _ask_code(member, PHONE, django_capture_on_commit_callbacks)
    unknown = _ask_code(stranger, "13900139000", django_capture_on_commit_callbacks)
    # then both get the same answer, and only the member's phone gets a text
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    known_page = _text(member.get("/member/login/code/")).replace("138****8000", "PHONE")
    unknown_page = _text(stranger.get("/member/login/code/")).replace("139****9000", "PHONE")
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert csrf.sub("", known_page) == csrf.sub("", unknown_page)
    assert [m.to for m in sms.outbox] == [E164]
    # and a guess for the stranger's phone signs nobody in
    guess = stranger.post("/member/login/code/", {"code": "123456"})
    assert guess.status_code == 400 and "This code is wrong or has expired." in guess.content.decode()
    assert stranger.get("/member/").status_code == 302


def test_an_inactive_client_gets_no_text(alpha, django_capture_on_commit_callbacks):
    with schema_context(alpha.schema):
        client = a_client(phone=PHONE)
        Client.objects.filter(pk=client.pk).update(is_active=False)
    answer = _ask_code(_page(alpha), PHONE, django_capture_on_commit_callbacks)
    assert answer.status_code == 302 and sms.outbox == []


def test_a_bad_phone_is_refused_with_a_clear_error(alpha, django_capture_on_commit_callbacks):
    answer = _ask_code(_page(alpha), "12345", django_capture_on_commit_callbacks)
    assert answer.status_code == 200
    assert "Enter a mainland mobile number (11 digits)" in answer.content.decode()
    assert sms.outbox == []


def test_a_wrong_code_is_refused_and_five_wrong_codes_kill_the_code(alpha, django_capture_on_commit_callbacks):
    with schema_context(alpha.schema):
        a_client(phone=PHONE)
    page = _page(alpha)
    _ask_code(page, PHONE, django_capture_on_commit_callbacks)
    right = _texted_code()
    wrong = "000000" if right != "000000" else "111111"
    # when a wrong code is typed
    refused = page.post("/member/login/code/", {"code": wrong})
    # then it is refused, on the code field, and nobody is signed in
    assert refused.status_code == 400
    assert "This code is wrong or has expired." in refused.content.decode()
    assert page.get("/member/").status_code == 302
    # when four more wrong codes are typed, then even the right code no longer works
    for _ in range(4):
        assert page.post("/member/login/code/", {"code": wrong}).status_code == 400
    assert page.post("/member/login/code/", {"code": right}).status_code == 400
    assert page.get("/member/").status_code == 302
    with schema_context(alpha.schema):
        assert OneTimeCode.objects.get().attempts == 5


def test_a_malformed_code_is_refused_without_using_a_guess(alpha, django_capture_on_commit_callbacks):
    with schema_context(alpha.schema):
        a_client(phone=PHONE)
    page = _page(alpha)
    _ask_code(page, PHONE, django_capture_on_commit_callbacks)
    answer = page.post("/member/login/code/", {"code": "12ab"})
    assert answer.status_code == 200 and "Enter the 6-digit code from the text message." in answer.content.decode()
    with schema_context(alpha.schema):
        assert OneTimeCode.objects.get().attempts == 0
    # full-width digits typed with a Chinese keyboard are read as digits
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in _texted_code())
    assert page.post("/member/login/code/", {"code": full_width}).status_code == 302


def test_an_expired_code_is_refused(alpha, django_capture_on_commit_callbacks):
    with schema_context(alpha.schema):
        a_client(phone=PHONE)
    page = _page(alpha)
    _ask_code(page, PHONE, django_capture_on_commit_callbacks)
    with schema_context(alpha.schema):
        OneTimeCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    refused = page.post("/member/login/code/", {"code": _texted_code()})
    assert refused.status_code == 400 and "This code is wrong or has expired." in refused.content.decode()
    assert page.get("/member/").status_code == 302


def test_asking_again_too_soon_is_refused_alike_for_every_number(alpha, django_capture_on_commit_callbacks):
    with schema_context(alpha.schema):
        a_client(phone=PHONE)
    member, stranger = _page(alpha), _page(alpha)
    _ask_code(member, PHONE, django_capture_on_commit_callbacks)
    _ask_code(stranger, "13900139000", django_capture_on_commit_callbacks)
    # when both ask again at once, from the form and with the resend button
    again = _ask_code(member, PHONE, django_capture_on_commit_callbacks)
    again_stranger = _ask_code(stranger, "13900139000", django_capture_on_commit_callbacks)
    resend = member.post("/member/login/code/", {"resend": "1"})
    # then both are told to wait, and no second text is sent
    for answer in (again, again_stranger, resend):
        assert answer.status_code == 429
        assert "A code was just sent. Wait" in answer.content.decode()
    assert len(sms.outbox) == 1
    # when another browser asks for the member's phone within the interval, it gets the usual answer,
    # messaging sends nothing, and the code already sent still works there
    other = _page(alpha)
    assert _ask_code(other, PHONE, django_capture_on_commit_callbacks).status_code == 302
    assert len(sms.outbox) == 1
    assert other.post("/member/login/code/", {"code": _texted_code()}).status_code == 302


def test_a_new_code_after_the_interval_replaces_the_old_one(alpha, settings, django_capture_on_commit_callbacks):
    settings.ONE_TIME_CODE_RESEND_SECONDS = 0
    with schema_context(alpha.schema):
        a_client(phone=PHONE)
    page = _page(alpha)
    _ask_code(page, PHONE, django_capture_on_commit_callbacks)
    old = _texted_code()
    with django_capture_on_commit_callbacks(execute=True):
        resent = page.post("/member/login/code/", {"resend": "1"})
    assert resent.status_code == 200
    assert "If 138****8000 belongs to a member, a new code was sent to it." in _text(resent)
    new = _texted_code()
    assert len(sms.outbox) == 2
    if old != new:
        assert page.post("/member/login/code/", {"code": old}).status_code == 400
    assert page.post("/member/login/code/", {"code": new}).status_code == 302


def test_sign_in_returns_to_the_page_asked_for_but_only_inside_the_member_centre(
    alpha, settings, django_capture_on_commit_callbacks
):
    settings.ONE_TIME_CODE_RESEND_SECONDS = 0
    with schema_context(alpha.schema):
        a_client(phone=PHONE)
    page = _page(alpha)
    asked = page.get("/member/coupons/")
    assert asked["Location"] == "/member/login/?next=%2Fmember%2Fcoupons%2F"
    with django_capture_on_commit_callbacks(execute=True):
        sent = page.post("/member/login/", {"phone": PHONE, "next": "/member/coupons/"})
    assert sent["Location"] == "/member/login/code/?next=%2Fmember%2Fcoupons%2F"
    done = page.post("/member/login/code/", {"code": _texted_code(), "next": "/member/coupons/"})
    assert done["Location"] == "/member/coupons/"
    # an address outside the member centre is ignored
    page.post("/member/logout/")
    with django_capture_on_commit_callbacks(execute=True):
        page.post("/member/login/", {"phone": PHONE})
    done = page.post("/member/login/code/", {"code": _texted_code(), "next": "https://evil.example/member/"})
    assert done["Location"] == "/member/"


def test_sign_out_ends_the_member_session_only(alpha, django_capture_on_commit_callbacks):
    with schema_context(alpha.schema):
        a_client(phone=PHONE)
    page = _sign_in(alpha, django_capture_on_commit_callbacks)
    assert page.get("/member/logout/").status_code == 405
    out = page.post("/member/logout/")
    assert out.status_code == 302 and out["Location"] == "/member/login/"
    assert page.get("/member/").status_code == 302


# --- isolation -----------------------------------------------------------------------------------


def test_a_member_session_is_worthless_in_another_salon(alpha, beta, django_capture_on_commit_callbacks):
    # given the same phone is a client of both salons, signed in at alpha
    with schema_context(alpha.schema):
        a_client(name="Alpha client", phone=PHONE)
    with schema_context(beta.schema):
        a_client(name="Beta client", phone=PHONE)
    page = _sign_in(alpha, django_capture_on_commit_callbacks)
    # when the same session cookie is sent to beta
    at_beta = _page(beta)
    at_beta.cookies["sessionid"] = page.cookies["sessionid"].value
    # then beta knows no member
    assert at_beta.get("/member/").status_code == 302
    # and a session whose salon was altered is refused in alpha
    with schema_context(alpha.schema):
        session = page.session
        session[SCHEMA_KEY] = beta.schema
        session.save()
    assert page.get("/member/").status_code == 302
    with schema_context(alpha.schema):
        assert CLIENT_KEY not in page.session


def test_staff_and_member_sessions_give_no_access_to_each_other(alpha, django_capture_on_commit_callbacks):
    with schema_context(alpha.schema):
        a_client(phone=PHONE)
    # a signed-in owner is not a member
    staff = logged_in_client(alpha, alpha.owner_username)
    assert staff.get("/member/")["Location"] == "/member/login/"
    # a signed-in member is not staff
    member = _sign_in(alpha, django_capture_on_commit_callbacks)
    clients = member.get("/clients/")
    assert clients.status_code == 302 and clients["Location"].startswith("/login/")
    assert member.get("/members/").status_code == 302


def test_one_browser_is_one_person_staff_or_member(alpha, django_capture_on_commit_callbacks):
    from django.conf import settings

    from apps.loyalty.member_auth import CLIENT_KEY

    def session():  # sessions are stored in the salon's schema
        with schema_context(alpha.schema):
            store = browser.session
            return dict(store.items()), store.get_expiry_age()

    with schema_context(alpha.schema):
        a_client(phone=PHONE)
    # a member signing in where the owner was signed in signs the owner out
    browser = logged_in_client(alpha, alpha.owner_username)
    _ask_code(browser, PHONE, django_capture_on_commit_callbacks)
    assert browser.post("/member/login/code/", {"code": _texted_code()})["Location"] == "/member/"
    data, age = session()
    assert CLIENT_KEY in data and "_auth_user_id" not in data and age == 30 * 24 * 3600
    assert browser.get("/members/")["Location"].startswith("/login/")
    # and the owner signing in again ends the member session, with the staff expiry back
    assert browser.post("/login/", {"username": alpha.owner_username, "password": PASSWORD}).status_code == 302
    data, age = session()
    assert CLIENT_KEY not in data and "_auth_user_id" in data and age == settings.SESSION_COOKIE_AGE
    assert browser.get("/member/")["Location"] == "/member/login/"


def test_a_client_merged_away_loses_the_member_centre(alpha, django_capture_on_commit_callbacks):
    with schema_context(alpha.schema):
        client = a_client(phone=PHONE)
    page = _sign_in(alpha, django_capture_on_commit_callbacks)
    with schema_context(alpha.schema):
        Client.objects.filter(pk=client.pk).update(is_active=False)
    assert page.get("/member/")["Location"] == "/member/login/"


def test_a_suspended_salon_shows_members_a_friendly_page(alpha, django_capture_on_commit_callbacks):
    from tenants.middleware import tenant_cache_clear
    from tenants.models import Salon

    with schema_context(alpha.schema):
        a_client(phone=PHONE)
    page = _sign_in(alpha, django_capture_on_commit_callbacks)
    Salon.objects.filter(pk=alpha.salon.pk).update(status="suspended", status_reason="Unpaid invoice 42")
    tenant_cache_clear()
    for path in ("/member/", "/member/login/", "/member/coupons/"):
        answer = page.get(path)
        text = answer.content.decode()
        assert answer.status_code == 503
        assert "The member centre is temporarily unavailable" in text and "Unpaid invoice 42" not in text
    assert _page(alpha).get("/login/").status_code == 403  # staff still see the staff page


# --- pages ---------------------------------------------------------------------------------------


def _rich_member(alpha: Any, *, basis: str = TierBasis.SPEND) -> dict[str, Any]:
    """王芳 in tier Silver, with stored value, points, coupons, course cards and spend; and another
    client with a course card of their own."""
    with schema_context(alpha.schema):
        today = salon_today()
        LoyaltySettings.objects.update_or_create(id=1, defaults={"tier_basis": basis})
        silver = tier_create(name="Silver", rank=1, acting_user=None)
        gold = tier_create(name="Gold", rank=2, acting_user=None)
        TierBenefit.objects.create(tier=silver, min_spend=100000, min_points=500, price_percent=95, perks="生日礼物")
        TierBenefit.objects.create(tier=gold, min_spend=500000, min_points=2000, price_percent=90)
        client = a_client(name="王芳", phone=PHONE, tier=silver)
        other = a_client(name="李四", phone="13900139000")
        member_card_issue(client, "VIP00012345")
        # stored value: pay ¥1,000 get ¥200, then pay ¥600 (proportional: ¥500 principal, ¥100 bonus)
        top_up_rule(100000, 20000)
        wallets.wallet_top_up(client=client, amount=100000, idempotency_key="bill:1:top-up")
        wallets.wallet_debit(client=client, amount=60000, idempotency_key="bill:2:pay")
        # points: 900 for two years, 300 expiring in 10 days, 200 redeemed
        earn_points(client, 900, key="p1", expires_on=today + datetime.timedelta(days=700))
        earn_points(client, 300, key="p2", expires_on=today + datetime.timedelta(days=10))
        redeem_points(client, 200, key="p3", description="护手霜")
        # spend: ¥2,000 this year; ¥500 thirteen months ago and a top-up do not count
        now = timezone.now()
        purchase_record(client=client, occurred_at=now - datetime.timedelta(days=30), item_name="烫发", amount=200000)
        purchase_record(client=client, occurred_at=now - datetime.timedelta(days=395), item_name="剪发", amount=50000)
        purchase_record(client=client, occurred_at=now, item_name="充值", amount=100000, kind=PurchaseKind.TOP_UP)
        # coupons
        cut = service_create(name="剪发", duration_minutes=30, price=8800)
        facial = service_create(name="面部护理", duration_minutes=60, price=28800)
        money_off = CouponTemplate.objects.create(
            name="满100减20", kind=CouponKind.MONEY_OFF, value=2000, min_spend=10000
        )
        money_off.eligible_services.add(cut)
        eighty = CouponTemplate.objects.create(
            name="八折券", kind=CouponKind.PERCENTAGE, value=20, max_discount=5000, one_per_bill=False, stackable=True
        )
        coupon_issue(client, money_off, code="C-SOON", valid_until=today + datetime.timedelta(days=5))
        coupon_issue(client, eighty, code="C-OPEN")
        coupon_issue(client, money_off, code="C-OLD", valid_until=today - datetime.timedelta(days=1))
        coupon_issue(
            client,
            eighty,
            code="C-USED",
            status=CouponStatus.REDEEMED,
            redeemed_at=now,
            redeemed_reference="bill:3",
        )
        coupon_issue(other, money_off, code="C-OTHER")
        # course cards
        series = course_card_template_create(
            name="护理十次卡",
            price=200000,
            validity_days=365,
            items=[CourseCardItemSpec(service=facial, sessions=10), CourseCardItemSpec(service=cut, sessions=5)],
        )
        card = course_card_sell(client, series, key="bill:4:card")
        course_session_use(card, facial, key="visit:1")
        others_card = course_card_sell(other, series, key="bill:5:card")
    return {"client": client, "card": card, "others_card": others_card}


def test_home_shows_balances_points_tier_progress_and_card(alpha, django_capture_on_commit_callbacks):
    _rich_member(alpha)
    page = _sign_in(alpha, django_capture_on_commit_callbacks)
    html = page.get("/member/").content.decode()
    assert _figure(html, "balance") == "¥600.00"
    assert _figure(html, "principal") == "¥500.00"
    assert _figure(html, "bonus") == "¥100.00"
    assert _figure(html, "points") == "1000"
    assert _figure(html, "expiring").startswith("300 points expire soon")
    assert _figure(html, "tier") == "Silver"
    assert "You pay 95% of the price." in html and "生日礼物" in html
    assert '<progress value="200000" max="500000"' in html
    text = re.sub(r"\s+", " ", html)
    assert "Spent in the last 12 months: ¥2,000.00 of ¥5,000.00." in text
    assert "Spend ¥3,000.00 more to reach Gold." in text
    assert _figure(html, "card-number") == "*******2345"
    assert _figure(html, "card-status") == "Active"
    assert _figure(html, "coupons") == "2"
    assert _figure(html, "course-cards") == "1"


def test_tier_progress_by_points(alpha, django_capture_on_commit_callbacks):
    _rich_member(alpha, basis=TierBasis.POINTS)
    page = _sign_in(alpha, django_capture_on_commit_callbacks)
    text = _text(page.get("/member/"))
    # earned 1,200 in 12 months (the 200 redeemed do not lower what was earned)
    assert '<progress value="1200" max="2000"' in text
    assert "Points earned in the last 12 months: 1200 of 2000." in text
    assert "Earn 800 more points to reach Gold." in text


def test_home_of_a_new_member_shows_zeros_and_the_first_tier(alpha, django_capture_on_commit_callbacks):
    with schema_context(alpha.schema):
        silver = tier_create(name="Silver", rank=1, acting_user=None)
        TierBenefit.objects.create(tier=silver, min_spend=100000)
        a_client(phone=PHONE)
    page = _sign_in(alpha, django_capture_on_commit_callbacks)
    html = page.get("/member/").content.decode()
    assert (_figure(html, "balance"), _figure(html, "principal"), _figure(html, "bonus")) == ("¥0.00",) * 3
    assert _figure(html, "points") == "0" and _figure(html, "tier") == "No tier yet"
    assert "Spend ¥1,000.00 more to reach Silver." in _text(page.get("/member/"))
    assert "You have no member card yet." in html
    with schema_context(alpha.schema):
        assert not Wallet.objects.exists()  # reading opened no wallet


def test_coupons_show_conditions_and_expiry_with_past_ones_collapsed(alpha, django_capture_on_commit_callbacks):
    _rich_member(alpha)
    page = _sign_in(alpha, django_capture_on_commit_callbacks)
    text = _text(page.get("/member/coupons/"))
    today = salon_in(alpha)
    usable, past = text.split("<details", 1)
    # to use: the one expiring soonest first, with what it gives and its conditions
    assert usable.index('data-coupon="C-SOON"') < usable.index('data-coupon="C-OPEN"')
    assert "¥20.00 off" in usable and "On a bill of ¥100.00 or more" in usable and "For: 剪发" in usable
    soon = (today + datetime.timedelta(days=5)).isoformat()
    assert f"Valid until {soon}" in usable
    assert "20% off, up to ¥50.00" in usable and "No expiry" in usable
    assert "C-OLD" not in usable and "C-USED" not in usable
    # used or expired: collapsed, with why
    assert "Used or expired (2)" in past
    assert f"Expired on {(today - datetime.timedelta(days=1)).isoformat()}" in past and "Used on" in past
    # another client's coupon is nowhere
    assert "C-OTHER" not in text


def salon_in(info: Any) -> datetime.date:
    with schema_context(info.schema):
        return salon_today()


def test_course_cards_show_sessions_left_and_another_clients_card_is_not_found(
    alpha, django_capture_on_commit_callbacks
):
    made = _rich_member(alpha)
    page = _sign_in(alpha, django_capture_on_commit_callbacks)
    text = _text(page.get("/member/course-cards/"))
    expires = (salon_in(alpha) + datetime.timedelta(days=180)).isoformat()
    assert f'data-course-card="{made["card"].pk}"' in text and f"Valid until {expires}" in text
    assert re.search(r'data-service="面部护理"><span>面部护理</span> <span class="m-count">9 of 10 left', text)
    assert re.search(r'data-service="剪发"><span>剪发</span> <span class="m-count">5 of 5 left', text)
    assert f'data-course-card="{made["others_card"].pk}"' not in text
    # the card's page lists its sessions
    detail = _text(page.get(f"/member/course-cards/{made['card'].pk}/"))
    assert "1 session used" in detail and "9 left" in detail
    # another client's card, and a card that does not exist, are not found
    for pk in (made["others_card"].pk, made["others_card"].pk + 1000):
        answer = page.get(f"/member/course-cards/{pk}/")
        assert answer.status_code == 404 and "护理十次卡" not in answer.content.decode()


def test_history_lists_each_ledger_newest_first_twenty_a_page(alpha, django_capture_on_commit_callbacks):
    made = _rich_member(alpha)
    with schema_context(alpha.schema):
        for n in range(20):
            wallets.wallet_top_up(client=made["client"], amount=100 + n, idempotency_key=f"small:{n}")
    page = _sign_in(alpha, django_capture_on_commit_callbacks)
    first = _text(page.get("/member/history/"))
    # 22 stored-value entries: 20 on the first page, newest first
    assert first.count('data-entry="wallet"') == 20
    assert first.index("+¥1.19") < first.index("+¥1.18")
    assert "Page 1 of 2" in first
    second = _text(page.get("/member/history/?kind=wallet&page=2"))
    assert second.count('data-entry="wallet"') == 2
    assert "Payment" in second and "-¥600.00" in second and "Principal -¥500.00 · Bonus -¥100.00" in second
    assert "Top-up" in second and "Principal +¥1,000.00 · Bonus +¥200.00" in second
    points = _text(page.get("/member/history/?kind=points"))
    assert points.count('data-entry="points"') == 3
    assert points.index("Redeemed · 护手霜") < points.index("+300") < points.index("+900")
    courses = _text(page.get("/member/history/?kind=courses"))
    assert courses.count('data-entry="course"') == 1 and "面部护理" in courses
    # a page number past the end shows the last page, not an error
    assert page.get("/member/history/?kind=wallet&page=99").status_code == 200


def test_pages_cost_a_fixed_number_of_queries(alpha, django_capture_on_commit_callbacks, django_assert_max_num_queries):
    made = _rich_member(alpha)
    page = _sign_in(alpha, django_capture_on_commit_callbacks)
    paths = [
        "/member/",
        "/member/coupons/",
        "/member/course-cards/",
        f"/member/course-cards/{made['card'].pk}/",
        "/member/history/?kind=wallet",
        "/member/history/?kind=points",
        "/member/history/?kind=courses",
    ]

    def counts() -> list[int]:
        measured = []
        for path in paths:
            with CaptureQueriesContext(connection) as ctx:
                assert page.get(path).status_code == 200
            # django-tenants sets the search path before each statement in tests; count the reads
            measured.append(sum(1 for q in ctx.captured_queries if not q["sql"].startswith("SET search_path")))
        return measured

    # given the query counts with a little data
    before = counts()
    # when the member holds much more
    with schema_context(alpha.schema):
        client, card = made["client"], made["card"]
        for n in range(30):
            wallets.wallet_top_up(client=client, amount=100 + n, idempotency_key=f"many:{n}")
            earn_points(client, 10 + n, key=f"many-points:{n}")
        template = CouponTemplate.objects.get(name="满100减20")
        for n in range(10):
            coupon_issue(client, template, code=f"MANY-{n}")
        facial = CourseCardBalance.objects.get(card=card, service__name="面部护理").service
        for n in range(5):
            course_session_use(card, facial, key=f"many-visit:{n}")
            course_card_sell(client, card.template, key=f"many-cards:{n}")
    # then every page costs the same, and never more than 11 reads (each with its search path: 22)
    after = counts()
    assert after == before and max(after) <= 11, (before, after)
    for path in paths:
        with django_assert_max_num_queries(22):
            page.get(path)


def test_the_member_centre_opens_in_chinese_unless_english_is_chosen(alpha):
    chinese = PageClient(HTTP_HOST=alpha.host).get("/member/login/")
    assert chinese["Content-Language"] == "zh-hans" and '<html lang="zh-hans">' in chinese.content.decode()
    english = _page(alpha).get("/member/login/")
    assert english["Content-Language"] == "en" and '<html lang="en">' in english.content.decode()


def test_the_members_home_gives_staff_the_address_to_share(alpha):
    from apps.core.services import user_set_language
    from tests.fixtures import owner_of

    with schema_context(alpha.schema):
        user_set_language(user=owner_of(alpha), language="en")
    page = logged_in_client(alpha, alpha.owner_username).get("/members/").content.decode()
    assert 'value="http://alpha.localhost/member/"' in page

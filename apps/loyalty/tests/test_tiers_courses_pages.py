"""Tier and course-card pages under /members/: they render with labelled inputs, their forms work through
the services, refusals show on the form, roles without the permission get 403, lists keep their queries."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.catalog import services as catalog
from apps.core.db import salon_today
from apps.crm.models import Client, PurchaseSource
from apps.crm.services.clients import client_update, purchase_record
from apps.crm.services.tags import tier_create
from apps.loyalty.models import (
    CourseCard,
    CourseCardBalance,
    CourseCardStatus,
    CourseRedemption,
    LoyaltySettings,
    TierBenefit,
    TierChange,
)
from apps.loyalty.services import courses, tiers
from apps.loyalty.tests.helpers import a_client
from tests.fixtures import logged_in_client, make_staff


@pytest.fixture
def owner(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    client.post("/account/language/", {"language": "en"})
    return client


@pytest.fixture
def desk(alpha):
    make_staff(alpha, role="front_desk", username="desk")
    client = logged_in_client(alpha, "desk")
    client.post("/account/language/", {"language": "en"})
    return client


@pytest.fixture
def ladder(alpha):
    with schema_context(alpha.schema):
        silver = tier_create(name="银卡", rank=1, acting_user=None)
        gold = tier_create(name="金卡", rank=2, acting_user=None)
        tiers.tier_benefit_set(
            tier=silver, price_percent=95, points_multiplier=1, perks="Free wash", min_spend=100000, acting_user=None
        )
        tiers.tier_benefit_set(tier=gold, price_percent=90, points_multiplier=2, min_spend=500000, acting_user=None)
        tier_create(name="VIP", rank=9, acting_user=None)
        return silver, gold


@pytest.fixture
def member(alpha):
    with schema_context(alpha.schema):
        return a_client()


@pytest.fixture
def facial(alpha):
    with schema_context(alpha.schema):
        return catalog.service_create(name="Facial", duration_minutes=60, price=19800)


@pytest.fixture
def template(alpha, facial):
    with schema_context(alpha.schema):
        return catalog.course_card_template_create(
            name="面部护理3次卡",
            price=50000,
            validity_days=90,
            items=[catalog.CourseCardItemSpec(service=facial, sessions=3)],
        )


@pytest.fixture
def card(alpha, member, template):
    with schema_context(alpha.schema):
        return courses.course_card_sell(client=member, template=template, idempotency_key="bill:1:1")


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def unlabelled_inputs(page: str) -> list[str]:
    """Ids of visible inputs, selects and textareas that no <label for> names nor a <label> wraps."""
    labelled = set(re.findall(r'<label for="([^"]+)"', page)) | set(
        re.findall(r'<label>\s*<input[^>]*\bid="([^"]+)"', page)
    )
    fields = re.findall(r'<(?:input|select|textarea)\b(?![^>]*type="(?:hidden|submit)")[^>]*\bid="([^"]+)"', page)
    return [field for field in fields if field not in labelled]


def test_every_page_renders_with_labelled_inputs(owner, ladder, member, card):
    silver, _gold = ladder
    for url in (
        "/members/tiers/",
        f"/members/tiers/{silver.pk}/",
        f"/members/clients/{member.pk}/tier/",
        f"/members/clients/{member.pk}/course-cards/",
        "/members/course-cards/",
        "/members/course-cards/?show=expiring",
    ):
        page = html(owner.get(url))
        assert 'aria-label="Members"' in page, url
        assert unlabelled_inputs(page) == [], url


# --- tiers ---------------------------------------------------------------------------------------


def test_the_tier_list_shows_benefits_and_thresholds(owner, alpha, ladder, member):
    silver, _gold = ladder
    with schema_context(alpha.schema):
        client_update(client=member, tier=silver, acting_user=None)
    page = html(owner.get("/members/tiers/"))
    assert page.index("VIP") < page.index("金卡") < page.index("银卡")  # best first
    assert "¥1,000.00 spent in 12 months" in page
    assert "¥5,000.00 spent in 12 months" in page
    assert "Not reached automatically" in page  # VIP has no benefits set
    assert "Free wash" in page
    assert f'href="/members/tiers/{silver.pk}/"' in page


def test_editing_benefits(owner, alpha, ladder):
    _silver, gold = ladder
    url = f"/members/tiers/{gold.pk}/"
    # the form starts from the stored benefits, in yuan
    assert 'value="5000.00"' in html(owner.get(url))
    response = owner.post(
        url,
        {"price_percent": 88, "points_multiplier": "1.5", "perks": "Parking", "min_spend": "3000", "min_points": 0},
    )
    assert response.status_code == 302
    with schema_context(alpha.schema):
        benefit = TierBenefit.objects.get(tier=gold)
        assert (benefit.price_percent, str(benefit.points_multiplier), benefit.min_spend, benefit.is_automatic) == (
            88,
            "1.50",
            300000,
            False,
        )
    # a bad value shows on the form and changes nothing
    page = html(owner.post(url, {"price_percent": 0, "points_multiplier": "1", "min_spend": "0", "min_points": 0}))
    assert 'class="error"' in page
    with schema_context(alpha.schema):
        assert TierBenefit.objects.get(tier=gold).price_percent == 88


def test_the_front_desk_cannot_set_up_tiers(desk, ladder):
    silver, _gold = ladder
    assert desk.get("/members/tiers/").status_code == 403
    assert desk.get(f"/members/tiers/{silver.pk}/").status_code == 403
    assert desk.post("/members/tiers/").status_code == 403


def test_re_evaluating_every_client_now(owner, alpha, ladder, member):
    silver, _gold = ladder
    with schema_context(alpha.schema):
        purchase_record(
            client=member,
            occurred_at=timezone.now(),
            item_name="Cut",
            amount=120000,
            source=PurchaseSource.IMPORT,  # history brought in: the page evaluates it
        )
    response = owner.post("/members/tiers/", follow=True)
    assert "1 clients evaluated: 1 upgraded, 0 downgraded." in html(response)
    with schema_context(alpha.schema):
        assert Client.objects.get(pk=member.pk).tier == silver


def test_a_clients_tier_page_shows_progress_and_history(owner, alpha, ladder, member):
    _silver, _gold = ladder
    with schema_context(alpha.schema):
        purchase_record(
            client=member,
            occurred_at=timezone.now(),
            item_name="Cut",
            amount=150000,
            source=PurchaseSource.IMPORT,  # history brought in: the page evaluates it
        )
        tiers.tier_evaluate(client=member)
    page = html(owner.get(f"/members/clients/{member.pk}/tier/"))
    assert '<dd data-figure="figure">¥1,500.00</dd>' in page
    assert '<dd data-figure="remaining">¥3,500.00</dd>' in page
    assert 'value="30"' in page and "Progress to 金卡" in page
    assert "Upgraded automatically" in page
    assert "Pays 95% · points ×1.00" in page


def test_changing_a_tier_by_hand(owner, desk, alpha, ladder, member):
    _silver, gold = ladder
    url = f"/members/clients/{member.pk}/tier/"
    # the front desk sees the page but not the form, and may not post it
    assert "Change the tier by hand" not in html(desk.get(url))
    assert desk.post(url, {"tier": gold.pk, "reason": "VIP"}).status_code == 403
    # a missing reason is a form error
    assert 'class="error"' in html(owner.post(url, {"tier": gold.pk, "reason": ""}))
    with schema_context(alpha.schema):
        assert not TierChange.objects.exists()
    # the owner changes it
    assert owner.post(url, {"tier": gold.pk, "reason": "Opening offer"}).status_code == 302
    with schema_context(alpha.schema):
        assert Client.objects.get(pk=member.pk).tier == gold
        assert TierChange.objects.get().note == "Opening offer"
    # the same tier again shows the refusal on the form
    assert "The client is already in this tier." in html(owner.post(url, {"tier": gold.pk, "reason": "Again"}))


def test_the_front_desk_may_evaluate_a_client(desk, alpha, ladder, member):
    _silver, _gold = ladder
    with schema_context(alpha.schema):
        purchase_record(
            client=member,
            occurred_at=timezone.now(),
            item_name="Cut",
            amount=100000,
            source=PurchaseSource.IMPORT,  # history brought in: the page evaluates it
        )
    page = html(desk.post(f"/members/clients/{member.pk}/tier/", {"action": "evaluate"}, follow=True))
    assert "The client is now in 银卡." in page
    page = html(desk.post(f"/members/clients/{member.pk}/tier/", {"action": "evaluate"}, follow=True))
    assert "The tier stays as it is." in page


# --- course cards --------------------------------------------------------------------------------


def test_selling_a_card_on_the_page(desk, alpha, member, template):
    url = f"/members/clients/{member.pk}/course-cards/"
    page = html(desk.get(url))
    key = re.search(r'name="sell-idempotency_key" value="([0-9a-f]+)"', page).group(1)
    body = {
        "sell": "1",
        "sell-template": template.pk,
        "sell-price": "",
        "sell-reference": "bill:8",
        "sell-idempotency_key": key,
    }
    assert desk.post(url, body).status_code == 302
    assert desk.post(url, body).status_code == 302  # a double submit is the same sale
    with schema_context(alpha.schema):
        card = CourseCard.objects.get()
        assert (card.client_id, card.price, card.reference, card.status) == (member.pk, 50000, "bill:8", "active")
    page = html(desk.get(url))
    assert "面部护理3次卡" in page and "3 / 3" in page


def test_redeeming_a_session_on_the_page(desk, alpha, member, card, facial):
    url = f"/members/clients/{member.pk}/course-cards/"
    with schema_context(alpha.schema):
        balance = CourseCardBalance.objects.get(card=card)
    page = html(desk.get(url))
    key = re.search(rf'name="redeem-{balance.pk}-idempotency_key" value="([0-9a-f]+)"', page).group(1)
    body = {
        "redeem": balance.pk,
        f"redeem-{balance.pk}-idempotency_key": key,
        f"redeem-{balance.pk}-reference": "appt:4",
    }
    response = desk.post(url, body, follow=True)
    assert "One session of Facial was used; 2 left." in html(response)
    desk.post(url, body)  # a double submit uses no second session
    with schema_context(alpha.schema):
        assert CourseCardBalance.objects.get(pk=balance.pk).sessions_left == 2
        assert CourseRedemption.objects.get().reference == "appt:4"


def test_the_code_fields_show_when_codes_are_required(owner, desk, alpha, member, card):
    with schema_context(alpha.schema):
        LoyaltySettings.objects.update_or_create(id=1, defaults={"require_redemption_code": True})
        balance = CourseCardBalance.objects.get(card=card)
    url = f"/members/clients/{member.pk}/course-cards/"
    page = html(desk.get(url))
    assert "Code from the client&#x27;s phone" in page and "Text the client a code" in page
    prefix = f"redeem-{balance.pk}"
    # no code: the refusal shows on the form and nothing is used
    page = html(desk.post(url, {"redeem": balance.pk, f"{prefix}-idempotency_key": "a1"}))
    assert "Enter the code sent to the client&#x27;s phone." in page
    # the front desk may not skip it
    page = html(
        desk.post(url, {"redeem": balance.pk, f"{prefix}-idempotency_key": "a1", f"{prefix}-override_reason": "x"})
    )
    assert "You do not have permission to do this." in page
    with schema_context(alpha.schema):
        assert CourseCardBalance.objects.get(pk=balance.pk).sessions_left == 3
    # the owner may, with a reason
    response = owner.post(
        url, {"redeem": balance.pk, f"{prefix}-idempotency_key": "a1", f"{prefix}-override_reason": "Phone flat"}
    )
    assert response.status_code == 302
    # the code is sent on request
    assert "A code was sent to the client&#x27;s phone." in html(desk.post(url, {"send_code": "1"}, follow=True))
    with schema_context(alpha.schema):
        assert CourseCardBalance.objects.get(pk=balance.pk).sessions_left == 2


def test_giving_back_voiding_and_extending_on_the_page(owner, desk, alpha, member, card, facial):
    url = f"/members/clients/{member.pk}/course-cards/"
    with schema_context(alpha.schema):
        used = courses.course_session_redeem(card=card, service=facial, idempotency_key="k1")
    # the front desk sees no give-back, extend or void, and may not post them
    page = html(desk.get(url))
    assert "Give back" not in page and "Void the card" not in page
    assert desk.post(url, {"reverse": used.pk}).status_code == 403
    assert desk.post(url, {"void": card.pk, f"void-{card.pk}-reason": "x"}).status_code == 403
    # the owner gives the session back, once
    assert "The session was given back to the card." in html(owner.post(url, {"reverse": used.pk}, follow=True))
    assert "Given back" in html(owner.post(url, {"reverse": used.pk}, follow=True))
    # extends the card (an earlier date is refused on the form)
    earlier = (card.expires_on - datetime.timedelta(days=1)).isoformat()
    page = html(
        owner.post(url, {"extend": card.pk, f"extend-{card.pk}-expires_on": earlier, f"extend-{card.pk}-reason": "Ill"})
    )
    assert "The new expiry date must be later than the current one." in page
    later = card.expires_on + datetime.timedelta(days=30)
    owner.post(
        url, {"extend": card.pk, f"extend-{card.pk}-expires_on": later.isoformat(), f"extend-{card.pk}-reason": "Ill"}
    )
    # and voids it
    owner.post(url, {"void": card.pk, f"void-{card.pk}-reason": "Refunded"})
    with schema_context(alpha.schema):
        stored = CourseCard.objects.get(pk=card.pk)
        assert (stored.expires_on, stored.status) == (later, CourseCardStatus.VOIDED)
        assert CourseCardBalance.objects.get(card=card).sessions_left == 3


def test_a_card_of_another_client_is_not_found(owner, alpha, member, card):
    with schema_context(alpha.schema):
        other = a_client(name="李", phone="13900139000")
        balance = CourseCardBalance.objects.get(card=card)
    url = f"/members/clients/{other.pk}/course-cards/"
    assert owner.post(url, {"redeem": balance.pk, f"redeem-{balance.pk}-idempotency_key": "x"}).status_code == 404
    assert owner.post(url, {"void": card.pk, f"void-{card.pk}-reason": "x"}).status_code == 404
    with schema_context(alpha.schema):
        assert not CourseRedemption.objects.exists()


def test_the_list_of_cards_filters_and_keeps_its_queries(
    owner, alpha, member, template, facial, django_assert_max_num_queries
):
    # given an active card, one expiring in 10 days, one used up, one expired
    with schema_context(alpha.schema):
        names = {}
        for index, state in enumerate(["active", "expiring", "used_up", "expired"]):
            sold = courses.course_card_sell(client=member, template=template, idempotency_key=f"sale:{index}")
            names[state] = sold.pk
        CourseCard.objects.filter(pk=names["expiring"]).update(expires_on=salon_today() + datetime.timedelta(days=10))
        CourseCard.objects.filter(pk=names["expired"]).update(expires_on=salon_today() - datetime.timedelta(days=1))
        for session in range(3):
            courses.course_session_redeem(
                card=CourseCard(pk=names["used_up"]), service=facial, idempotency_key=f"use:{session}"
            )

    def shown(show: str) -> int:
        return html(owner.get(f"/members/course-cards/?show={show}")).count("面部护理3次卡")

    assert (shown(""), shown("active"), shown("expiring"), shown("used_up"), shown("expired"), shown("voided")) == (
        4,
        2,
        1,
        1,
        1,
        0,
    )
    with django_assert_max_num_queries(20):
        owner.get("/members/course-cards/")


def test_the_account_page_reads_a_fixed_number_of_queries(owner, alpha, member, facial):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with schema_context(alpha.schema):
        massage = catalog.service_create(name="Massage", duration_minutes=60, price=100)
        two = catalog.course_card_template_create(
            name="Two services",
            price=100,
            validity_days=30,
            items=[
                catalog.CourseCardItemSpec(service=facial, sessions=2),
                catalog.CourseCardItemSpec(service=massage, sessions=2),
            ],
        )
        first = courses.course_card_sell(client=member, template=two, idempotency_key="s0")
        courses.course_session_redeem(card=first, service=facial, idempotency_key="u0")
    url = f"/members/clients/{member.pk}/course-cards/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            html(owner.get(url))
        return len(captured)

    html(owner.get(url))  # the first request after signing in also saves the session
    one_card = queries()
    # when the client holds four cards with sessions used on each
    with schema_context(alpha.schema):
        for index in range(1, 4):
            card = courses.course_card_sell(client=member, template=two, idempotency_key=f"s{index}")
            courses.course_session_redeem(card=card, service=massage, idempotency_key=f"u{index}")
    # then the page reads no more
    assert queries() == one_card

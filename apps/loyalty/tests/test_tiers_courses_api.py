"""Tiers and course cards through the API: exact bodies, permissions, refusals that change nothing,
idempotent redemption with the client's code, and isolation between salons (another salon's ids 404)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.catalog import services as catalog
from apps.core.db import salon_today
from apps.crm.models import Client, PurchaseSource
from apps.crm.services.clients import client_update, purchase_record
from apps.crm.services.tags import tier_create
from apps.loyalty.models import (
    CourseCard,
    CourseCardBalance,
    CourseRedemption,
    LoyaltySettings,
    TierBenefit,
    TierChange,
)
from apps.loyalty.services import courses, tiers
from apps.loyalty.services._common import redemption_code_send
from apps.loyalty.tests.helpers import a_client, api_client
from tests.fixtures import make_staff


@pytest.fixture
def owner_api(alpha) -> HttpClient:
    return api_client(alpha, alpha.owner_username)


@pytest.fixture
def desk_api(alpha) -> HttpClient:
    make_staff(alpha, role="front_desk", username="desk")
    return api_client(alpha, "desk")


@pytest.fixture
def tech_api(alpha) -> HttpClient:
    make_staff(alpha, role="technician", username="tech")
    return api_client(alpha, "tech")


@pytest.fixture
def gold(alpha):
    with schema_context(alpha.schema):
        silver = tier_create(name="银卡", rank=1, acting_user=None)
        gold = tier_create(name="金卡", rank=2, acting_user=None)
        tiers.tier_benefit_set(tier=silver, price_percent=95, points_multiplier=1, min_spend=100000, acting_user=None)
        tiers.tier_benefit_set(tier=gold, price_percent=90, points_multiplier=2, min_spend=500000, acting_user=None)
        return gold


def post(http: HttpClient, url: str, body: dict):
    return http.post(url, body, content_type="application/json")


# --- tiers ---------------------------------------------------------------------------------------


def test_tier_benefits_read_and_set(alpha, owner_api, desk_api):
    with schema_context(alpha.schema):
        tier = tier_create(name="钻石", rank=3, acting_user=None)
    url = f"/api/v1/tiers/{tier.pk}/benefits/"
    # a tier never set up shows the defaults
    assert desk_api.get(url).json() == {
        "tier": tier.pk,
        "tier_name": "钻石",
        "price_percent": 100,
        "points_multiplier": "1.00",
        "perks": "",
        "min_spend": 0,
        "min_points": 0,
        "is_automatic": True,
    }
    body = {"price_percent": 85, "points_multiplier": "1.5", "perks": "Free wash", "min_spend": 800000}
    # the front desk may not set them
    assert desk_api.put(url, body, content_type="application/json").status_code == 403
    # the owner may
    response = owner_api.put(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "tier": tier.pk,
        "tier_name": "钻石",
        "price_percent": 85,
        "points_multiplier": "1.50",
        "perks": "Free wash",
        "min_spend": 800000,
        "min_points": 0,
        "is_automatic": True,
    }
    with schema_context(alpha.schema):
        assert TierBenefit.objects.get(tier=tier).points_multiplier == Decimal("1.50")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"price_percent": 0, "points_multiplier": "1"}, "price_percent"),
        ({"price_percent": 90, "points_multiplier": "25"}, "points_multiplier"),
        ({"price_percent": 90, "points_multiplier": "1", "min_spend": -5}, "min_spend"),
        ({"price_percent": 90, "points_multiplier": "1", "min_points": -5}, "min_points"),
        ({"price_percent": "ninety", "points_multiplier": "1"}, "price_percent"),
    ],
)
def test_bad_benefits_are_field_errors(alpha, owner_api, body, field):
    with schema_context(alpha.schema):
        tier = tier_create(name="钻石", rank=3, acting_user=None)
    response = owner_api.put(f"/api/v1/tiers/{tier.pk}/benefits/", body, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    with schema_context(alpha.schema):
        assert not TierBenefit.objects.exists()


def test_client_tier_progress_and_history(alpha, owner_api, desk_api, gold):
    with schema_context(alpha.schema):
        client = a_client()
        purchase_record(
            client=client,
            occurred_at=datetime.datetime.now(datetime.UTC),
            item_name="Cut",
            amount=150000,
            source=PurchaseSource.IMPORT,  # history brought in: evaluated by the API call below
        )
    # when the client is evaluated
    evaluated = post(desk_api, f"/api/v1/clients/{client.pk}/tier/evaluate/", {})
    assert evaluated.status_code == 200, evaluated.content
    body = evaluated.json()
    assert body["tier"]["name"] == "银卡"
    assert (body["change"]["reason"], body["change"]["basis_value"], body["change"]["to_name"]) == (
        "upgrade",
        150000,
        "银卡",
    )
    # and again: nothing changes
    assert post(desk_api, f"/api/v1/clients/{client.pk}/tier/evaluate/", {}).json()["change"] is None
    # then
    response = desk_api.get(f"/api/v1/clients/{client.pk}/tier/")
    assert response.status_code == 200
    body = response.json()
    assert body["tier"] == {"id": body["tier"]["id"], "name": "银卡", "rank": 1, "color": "#8c6d1f"}
    assert body["progress"] == {
        "basis": "spend",
        "figure": 150000,
        "next_tier": {"id": gold.pk, "name": "金卡", "rank": 2, "color": "#8c6d1f"},
        "next_threshold": 500000,
        "remaining": 350000,
        "percent": 30,
    }
    assert [(h["reason"], h["from_name"], h["to_name"]) for h in body["history"]] == [("upgrade", "", "银卡")]


def test_manual_tier_change(alpha, owner_api, desk_api, gold):
    with schema_context(alpha.schema):
        client = a_client()
    url = f"/api/v1/clients/{client.pk}/tier/"
    # the front desk may read but not change
    assert post(desk_api, url, {"tier": gold.pk, "reason": "VIP"}).status_code == 403
    # missing reason, unknown tier
    assert list(post(owner_api, url, {"tier": gold.pk}).json()) == ["reason"]
    assert list(post(owner_api, url, {"tier": 999999, "reason": "VIP"}).json()) == ["tier"]
    with schema_context(alpha.schema):
        assert not TierChange.objects.exists()
    # when
    response = post(owner_api, url, {"tier": gold.pk, "reason": "VIP"})
    # then
    assert response.status_code == 201, response.content
    assert (response.json()["reason"], response.json()["to_name"], response.json()["note"]) == ("manual", "金卡", "VIP")
    with schema_context(alpha.schema):
        assert Client.objects.get(pk=client.pk).tier_id == gold.pk
    # the same tier again is a field error; null takes the tier away
    again = post(owner_api, url, {"tier": gold.pk, "reason": "VIP"})
    assert (again.status_code, list(again.json())) == (400, ["tier"])
    assert post(owner_api, url, {"tier": None, "reason": "Left"}).json()["to_name"] == ""


# --- course cards --------------------------------------------------------------------------------


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
def card(alpha, template):
    with schema_context(alpha.schema):
        return courses.course_card_sell(client=a_client(), template=template, idempotency_key="bill:1:1")


def test_selling_and_listing_course_cards(alpha, desk_api, tech_api, template, facial):
    with schema_context(alpha.schema):
        client = a_client()
    url = f"/api/v1/clients/{client.pk}/course-cards/"
    body = {"template": template.pk, "idempotency_key": "bill:5:1", "reference": "bill:5"}
    # a technician may neither sell nor read
    assert post(tech_api, url, body).status_code == 403
    assert tech_api.get(url).status_code == 403
    # when the front desk sells one (twice, the same sale)
    sold = post(desk_api, url, body)
    again = post(desk_api, url, body)
    # then
    assert sold.status_code == 201, sold.content
    card = sold.json()
    assert again.json()["id"] == card["id"]
    assert card == {
        "id": card["id"],
        "client": client.pk,
        "template": template.pk,
        "package": None,
        "name": "面部护理3次卡",
        "price": 50000,
        "sold_at": card["sold_at"],
        "expires_on": (salon_today() + datetime.timedelta(days=90)).isoformat(),
        "status": "active",
        "reference": "bill:5",
        "balances": [{"service": facial.pk, "service_name": "Facial", "sessions_total": 3, "sessions_left": 3}],
    }
    listing = desk_api.get(url).json()
    assert (listing["count"], listing["results"][0]["id"]) == (1, card["id"])


def test_selling_an_inactive_template_is_refused(alpha, desk_api, template):
    with schema_context(alpha.schema):
        client = a_client()
        catalog.course_card_template_deactivate(template=template, acting_user=None)
    response = post(
        desk_api, f"/api/v1/clients/{client.pk}/course-cards/", {"template": template.pk, "idempotency_key": "k"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "template_inactive"
    with schema_context(alpha.schema):
        assert not CourseCard.objects.exists()


def test_redeeming_reversing_and_the_history(alpha, owner_api, desk_api, card, facial):
    url = f"/api/v1/course-cards/{card.pk}/redeem/"
    body = {"service": facial.pk, "idempotency_key": "appt:1", "reference": "bill:2"}
    # when
    used = post(desk_api, url, body)
    replay = post(desk_api, url, body)
    # then
    assert used.status_code == 201, used.content
    assert replay.json()["id"] == used.json()["id"]
    assert (used.json()["sessions"], used.json()["sessions_left_after"], used.json()["service_name"]) == (
        1,
        2,
        "Facial",
    )
    # a session is given back by a manager only, once
    reverse_url = f"/api/v1/course-redemptions/{used.json()['id']}/reverse/"
    assert post(desk_api, reverse_url, {"idempotency_key": "r1"}).status_code == 403
    reversed_ = post(owner_api, reverse_url, {"idempotency_key": "r1"})
    assert (reversed_.status_code, reversed_.json()["sessions"], reversed_.json()["reverses"]) == (
        201,
        -1,
        used.json()["id"],
    )
    twice = post(owner_api, reverse_url, {"idempotency_key": "r2"})
    assert (twice.status_code, twice.json()["code"]) == (409, "already_reversed")
    # the card shows the balance and both rows, newest first
    detail = desk_api.get(f"/api/v1/course-cards/{card.pk}/").json()
    assert detail["balances"][0]["sessions_left"] == 3
    assert [(r["sessions"], r["sessions_left_after"]) for r in detail["redemptions"]] == [(-1, 3), (1, 2)]


def test_redeem_refusals_are_named(alpha, desk_api, card, facial):
    with schema_context(alpha.schema):
        other = catalog.service_create(name="Massage", duration_minutes=60, price=100)
    url = f"/api/v1/course-cards/{card.pk}/redeem/"
    not_on_card = post(desk_api, url, {"service": other.pk, "idempotency_key": "k1"})
    assert (not_on_card.status_code, not_on_card.json()) == (
        400,
        {"service": ["This service is not on the course card."]},
    )
    unknown = post(desk_api, url, {"service": 999999, "idempotency_key": "k1"})
    assert (unknown.status_code, list(unknown.json())) == (400, ["service"])
    with schema_context(alpha.schema):
        CourseCard.objects.filter(pk=card.pk).update(expires_on=salon_today() - datetime.timedelta(days=1))
    expired = post(desk_api, url, {"service": facial.pk, "idempotency_key": "k1"})
    assert (expired.status_code, expired.json()["code"]) == (400, "course_card_expired")
    with schema_context(alpha.schema):
        assert not CourseRedemption.objects.exists()
        assert CourseCardBalance.objects.get(card=card).sessions_left == 3


class TestCodeRequired:
    @pytest.fixture(autouse=True)
    def _codes(self, alpha):
        with schema_context(alpha.schema):
            LoyaltySettings.objects.update_or_create(id=1, defaults={"require_redemption_code": True})

    def test_the_client_code_is_checked_before_the_session_is_taken(self, alpha, desk_api, card, facial):
        url = f"/api/v1/course-cards/{card.pk}/redeem/"
        body = {"service": facial.pk, "idempotency_key": "appt:1"}
        # no code, a wrong code
        missing = post(desk_api, url, body)
        assert (missing.status_code, list(missing.json())) == (400, ["code"])
        wrong = post(desk_api, url, {**body, "code": "000000"})
        assert (wrong.status_code, wrong.json()) == (
            400,
            {"code": ["This code is wrong or has expired; send a new one."]},
        )
        with schema_context(alpha.schema):
            assert CourseCardBalance.objects.get(card=card).sessions_left == 3
            otp = redemption_code_send(client=card.client)
            code = re.search(r"\b(\d{6})\b", otp.delivery.body).group(1)
        # the right code: one session; the replay needs no second code
        used = post(desk_api, url, {**body, "code": code})
        assert used.status_code == 201, used.content
        assert post(desk_api, url, {**body, "code": code}).json()["id"] == used.json()["id"]
        with schema_context(alpha.schema):
            assert CourseCardBalance.objects.get(card=card).sessions_left == 2

    def test_only_a_manager_may_skip_the_code(self, alpha, owner_api, desk_api, card, facial):
        url = f"/api/v1/course-cards/{card.pk}/redeem/"
        body = {"service": facial.pk, "idempotency_key": "appt:1", "override_reason": "Phone flat"}
        assert post(desk_api, url, body).status_code == 403
        assert post(owner_api, url, body).status_code == 201


def test_void_and_extend(alpha, owner_api, desk_api, card, facial):
    extend_url = f"/api/v1/course-cards/{card.pk}/extend/"
    later = (card.expires_on + datetime.timedelta(days=30)).isoformat()
    assert post(desk_api, extend_url, {"expires_on": later, "reason": "Ill"}).status_code == 403
    bad = post(owner_api, extend_url, {"expires_on": card.expires_on.isoformat(), "reason": "Ill"})
    assert (bad.status_code, list(bad.json())) == (400, ["expires_on"])
    assert list(post(owner_api, extend_url, {"expires_on": "tomorrow", "reason": "Ill"}).json()) == ["expires_on"]
    extended = post(owner_api, extend_url, {"expires_on": later, "reason": "Ill"})
    assert (extended.status_code, extended.json()["expires_on"]) == (200, later)
    void_url = f"/api/v1/course-cards/{card.pk}/void/"
    assert post(desk_api, void_url, {"reason": "Refund"}).status_code == 403
    voided = post(owner_api, void_url, {"reason": "Refund"})
    assert (voided.status_code, voided.json()["status"]) == (200, "voided")
    again = post(owner_api, void_url, {"reason": "Refund"})
    assert (again.status_code, again.json()["code"]) == (409, "course_card_voided")
    redeem = post(desk_api, f"/api/v1/course-cards/{card.pk}/redeem/", {"service": facial.pk, "idempotency_key": "k"})
    assert redeem.json()["code"] == "course_card_not_active"


def test_another_salons_ids_are_not_found(alpha, beta, card, facial, gold):
    # given beta's owner, and alpha's client, tier, card and a redemption
    with schema_context(alpha.schema):
        used = courses.course_session_redeem(card=card, service=facial, idempotency_key="k1")
        client_update(client=card.client, tier=gold, acting_user=None)
    beta_api = api_client(beta, beta.owner_username)
    for url in (
        f"/api/v1/clients/{card.client_id}/tier/",
        f"/api/v1/clients/{card.client_id}/course-cards/",
        f"/api/v1/course-cards/{card.pk}/",
        f"/api/v1/tiers/{gold.pk}/benefits/",
    ):
        assert beta_api.get(url).status_code == 404, url
    for url, body in (
        (f"/api/v1/course-cards/{card.pk}/redeem/", {"service": facial.pk, "idempotency_key": "k2"}),
        (f"/api/v1/course-redemptions/{used.pk}/reverse/", {"idempotency_key": "r"}),
        (f"/api/v1/course-cards/{card.pk}/void/", {"reason": "x"}),
        (f"/api/v1/clients/{card.client_id}/tier/evaluate/", {}),
    ):
        assert post(beta_api, url, body).status_code == 404, url
    with schema_context(alpha.schema):
        assert CourseCardBalance.objects.get(card=card).sessions_left == 2
        assert CourseCard.objects.get(pk=card.pk).status == "active"

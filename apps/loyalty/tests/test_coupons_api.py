"""Coupons through the API: templates, statistics, bulk issue, rules, a client's coupons, the best
combination for a draft bill, redemption and void; permissions and salon isolation."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.core.models import AuditEntry
from apps.crm.services.tags import clients_tag, tag_create, tier_create
from apps.loyalty.models import Coupon, CouponIssueRule, CouponKind, CouponStatus, CouponTemplate
from apps.loyalty.services.coupon_rules import coupon_rule_create
from apps.loyalty.tests.coupon_helpers import (
    TODAY,
    a_service,
    a_template,
    give,
    salon_day_fixture,  # noqa: F401  (registers the salon_day fixture)
)
from apps.loyalty.tests.helpers import a_client, api_client
from tests.fixtures import make_staff

pytestmark = pytest.mark.usefixtures("salon_day")
JSON = "application/json"


@pytest.fixture
def owner_api(alpha) -> Client:
    return api_client(alpha, alpha.owner_username)


@pytest.fixture
def desk_api(alpha) -> Client:
    make_staff(alpha, role="front_desk", username="desk")
    return api_client(alpha, "desk")


@pytest.fixture
def tech_api(alpha) -> Client:
    make_staff(alpha, role="technician", username="tech")
    return api_client(alpha, "tech")


def test_template_crud(alpha, owner_api, tech_api):
    with schema_context(alpha.schema):
        cut = a_service()
    # when
    created = owner_api.post(
        "/api/v1/coupon-templates/",
        {
            "name": "Trial cut",
            "kind": "service_trial",
            "value": 990,
            "eligible_services": [cut.pk],
            "valid_days": 14,
            "max_issued": 100,
        },
        content_type=JSON,
    )
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "Trial cut",
        "kind": "service_trial",
        "value": 990,
        "gift": "",
        "min_spend": 0,
        "max_discount": None,
        "eligible_services": [cut.pk],
        "eligible_products": [],
        "valid_from": None,
        "valid_until": None,
        "valid_days": 14,
        "one_per_bill": True,
        "stackable": False,
        "max_issued": 100,
        "issued_count": 0,
        "is_active": True,
        "description": "",
    }
    url = f"/api/v1/coupon-templates/{body['id']}/"
    assert tech_api.get("/api/v1/coupon-templates/").json()["count"] == 1  # anyone signed in reads
    patched = owner_api.patch(url, {"value": 0, "stackable": True}, content_type=JSON)
    assert (patched.status_code, patched.json()["value"], patched.json()["stackable"]) == (200, 0, True)
    assert owner_api.delete(url).status_code == 204
    assert owner_api.get(url).json()["is_active"] is False
    assert owner_api.get("/api/v1/coupon-templates/?is_active=true").json()["count"] == 0


def test_template_writes_are_checked_and_need_manage_loyalty(alpha, owner_api, tech_api):
    bad = owner_api.post(
        "/api/v1/coupon-templates/",
        {"name": "八折", "kind": "percentage", "value": 120, "valid_days": 30},
        content_type=JSON,
    )
    assert (bad.status_code, bad.json()) == (400, {"value": ["Enter the percentage off: a whole number from 1 to 99."]})
    no_dates = owner_api.post(
        "/api/v1/coupon-templates/", {"name": "¥10 off", "kind": "money_off", "value": 1000}, content_type=JSON
    )
    assert no_dates.status_code == 400 and list(no_dates.json()) == ["valid_until"]
    denied = tech_api.post(
        "/api/v1/coupon-templates/",
        {"name": "¥10 off", "kind": "money_off", "value": 1000, "valid_days": 30},
        content_type=JSON,
    )
    assert denied.status_code == 403
    with schema_context(alpha.schema):
        assert CouponTemplate.objects.count() == 0


def test_bulk_issue_by_tag_or_list_and_statistics(alpha, owner_api):
    with schema_context(alpha.schema):
        template = a_template(value=5000)
        vip = tag_create(name="VIP", acting_user=None)
        first, second = a_client("A", "13800000001"), a_client("B", "13800000002")
        clients_tag(client_ids=[first.pk], tag=vip, acting_user=None)
    url = f"/api/v1/coupon-templates/{template.pk}/issue/"
    # when
    by_tag = owner_api.post(url, {"tag": vip.pk, "batch_key": "spring"}, content_type=JSON)
    by_list = owner_api.post(url, {"clients": [first.pk, second.pk], "batch_key": "spring"}, content_type=JSON)
    # then the tagged client got one, the list added the other
    assert (by_tag.status_code, by_tag.json()) == (200, {"issued": 1, "skipped": 0})
    assert by_list.json() == {"issued": 1, "skipped": 1}
    both = owner_api.post(url, {"clients": [first.pk], "tag": vip.pk, "batch_key": "x"}, content_type=JSON)
    assert both.status_code == 400
    nobody = owner_api.post(url, {"clients": [], "batch_key": "x"}, content_type=JSON)
    assert (nobody.status_code, nobody.json()) == (400, {"clients": ["Choose at least one client."]})
    stats = owner_api.get(f"/api/v1/coupon-templates/{template.pk}/stats/")
    assert stats.json() == {
        "issued": 2,
        "redeemed": 0,
        "voided": 0,
        "expired_unused": 0,
        "redemption_rate": "0.0",
        "total_discount": 0,
    }


def test_rule_crud(alpha, owner_api):
    with schema_context(alpha.schema):
        template = a_template()
        gold = tier_create(name="Gold", rank=1, acting_user=None)
    missing_tier = owner_api.post(
        "/api/v1/coupon-rules/", {"template": template.pk, "trigger": "tier_reached"}, content_type=JSON
    )
    assert (missing_tier.status_code, missing_tier.json()) == (
        400,
        {"tier": ["Choose the tier that issues the coupon."]},
    )
    created = owner_api.post(
        "/api/v1/coupon-rules/",
        {"template": template.pk, "trigger": "tier_reached", "tier": gold.pk},
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule == {
        "id": rule["id"],
        "template": template.pk,
        "trigger": "tier_reached",
        "tier": gold.pk,
        "min_top_up": 0,
        "is_active": True,
    }
    assert owner_api.get(f"/api/v1/coupon-rules/?template={template.pk}").json()["count"] == 1
    changed = owner_api.patch(
        f"/api/v1/coupon-rules/{rule['id']}/", {"trigger": "top_up", "min_top_up": 100000}, content_type=JSON
    )
    assert changed.json() | {"id": 0} == {
        "id": 0,
        "template": template.pk,
        "trigger": "top_up",
        "tier": None,
        "min_top_up": 100000,
        "is_active": True,
    }
    assert owner_api.delete(f"/api/v1/coupon-rules/{rule['id']}/").status_code == 204
    with schema_context(alpha.schema):
        assert CouponIssueRule.objects.get().is_active is False


def test_the_till_lists_quotes_and_redeems_a_clients_coupons(alpha, owner_api, desk_api):
    with schema_context(alpha.schema):
        client = a_client()
        cut = a_service("Women's cut", 12800)
        plain = give(a_template(value=5000, min_spend=10000, name="满100减50"), client)
        percent = give(a_template(CouponKind.PERCENTAGE, value=20, name="八折"), client)
        big = give(a_template(value=9000, min_spend=50000, name="满500减90"), client)
    # the client's coupons
    listed = desk_api.get(f"/api/v1/clients/{client.pk}/coupons/?status=available").json()
    assert [c["id"] for c in listed["results"]] == [plain.pk, percent.pk, big.pk]
    assert listed["results"][0] | {"issued_at": None} == {
        "id": plain.pk,
        "code": plain.code,
        "client": client.pk,
        "template": plain.template_id,
        "template_name": "满100减50",
        "kind": "money_off",
        "gift": "",
        "status": "available",
        "source": "manual",
        "valid_from": TODAY.isoformat(),
        "valid_until": "2025-04-08",
        "issued_at": None,
        "redeemed_at": None,
        "redeemed_reference": "",
        "discount": 0,
    }
    assert desk_api.get(f"/api/v1/clients/{client.pk}/coupons/?status=lost").status_code == 400
    # the best coupons for a bill of a cut and ¥30 of something else
    bill = {"lines": [{"service": cut.pk, "amount": 12800}, {"amount": 3000, "quantity": 2}]}
    best = desk_api.post(f"/api/v1/clients/{client.pk}/coupons/best/", bill, content_type=JSON)
    assert best.status_code == 200, best.content
    body = best.json()
    assert body["subtotal"] == 15800
    assert [(o["coupon"]["id"], o["discount"], o["applicable"]) for o in body["options"]] == [
        (plain.pk, 5000, True),
        (percent.pk, 3160, True),
        (big.pk, 0, False),
    ]
    assert body["options"][2]["reason"] == {
        "code": "coupon_min_spend",
        "message": "The bill does not reach this coupon's minimum spend.",
    }
    assert body["best"] == {"coupons": [plain.pk], "discount": 5000}
    # redeeming it, twice with the same bill, then on another bill
    redeem = {"client": client.pk, "reference": "bill:1", **bill}
    url = f"/api/v1/coupons/{plain.pk}/redeem/"
    first = desk_api.post(url, redeem, content_type=JSON)
    again = desk_api.post(url, redeem, content_type=JSON)
    assert (first.status_code, first.json()["status"], first.json()["discount"]) == (200, "redeemed", 5000)
    assert again.json() == first.json()
    other_bill = desk_api.post(url, {**redeem, "reference": "bill:2"}, content_type=JSON)
    assert (other_bill.status_code, other_bill.json()) == (
        400,
        {"detail": "This coupon has already been used or was voided.", "code": "coupon_not_available"},
    )
    # voiding needs manage_loyalty
    void_url = f"/api/v1/coupons/{percent.pk}/void/"
    assert desk_api.post(void_url, {"reason": "Mistake"}, content_type=JSON).status_code == 403
    voided = owner_api.post(void_url, {"reason": "Mistake"}, content_type=JSON)
    assert (voided.status_code, voided.json()["status"]) == (200, "voided")
    with schema_context(alpha.schema):
        assert AuditEntry.objects.filter(action="loyalty.coupon.voided").count() == 1
        assert Coupon.objects.get(pk=big.pk).status == CouponStatus.AVAILABLE


def test_staff_issue_one_coupon_to_a_client(alpha, owner_api, desk_api):
    with schema_context(alpha.schema):
        client = a_client()
        template = a_template()
    url = f"/api/v1/clients/{client.pk}/coupons/"
    data = {"template": template.pk, "issue_key": "apology-1"}
    assert desk_api.post(url, data, content_type=JSON).status_code == 403
    first = owner_api.post(url, data, content_type=JSON)
    again = owner_api.post(url, data, content_type=JSON)
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    with schema_context(alpha.schema):
        assert Coupon.objects.count() == 1


def test_a_malformed_bill_is_refused_clearly(alpha, desk_api):
    with schema_context(alpha.schema):
        client = a_client()
    url = f"/api/v1/clients/{client.pk}/coupons/best/"
    negative = desk_api.post(url, {"lines": [{"amount": -1}]}, content_type=JSON)
    both = desk_api.post(url, {"lines": [{"service": 1, "product": 2, "amount": 1}]}, content_type=JSON)
    assert (negative.status_code, both.status_code) == (400, 400)
    assert "lines" in negative.json() and "lines" in both.json()


def test_another_salon_cannot_reach_these_coupons(alpha, beta, desk_api):
    with schema_context(alpha.schema):
        client = a_client()
        template = a_template()
        coupon = give(template, client)
        rule = coupon_rule_create(template=template, trigger="birthday", acting_user=None)
    beta_api = api_client(beta, beta.owner_username)
    assert beta_api.get(f"/api/v1/coupon-templates/{template.pk}/").status_code == 404
    assert beta_api.get(f"/api/v1/coupon-templates/{template.pk}/stats/").status_code == 404
    assert beta_api.get(f"/api/v1/coupon-rules/{rule.pk}/").status_code == 404
    assert beta_api.get(f"/api/v1/clients/{client.pk}/coupons/").status_code == 404
    assert beta_api.post(f"/api/v1/coupons/{coupon.pk}/void/", {"reason": "x"}, content_type=JSON).status_code == 404
    redeem = {"client": client.pk, "reference": "b", "lines": [{"amount": 10000}]}
    assert beta_api.post(f"/api/v1/coupons/{coupon.pk}/redeem/", redeem, content_type=JSON).status_code == 404
    assert beta_api.get("/api/v1/coupon-templates/").json()["count"] == 0
    with schema_context(alpha.schema):
        assert Coupon.objects.get().status == CouponStatus.AVAILABLE

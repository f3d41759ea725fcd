"""Coupon pages: the list with its figures, adding and editing a coupon, issuing it to many clients,
its rules, a client's coupons with manual issue and void; permissions; fixed query counts."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.crm.services.tags import clients_tag, tag_create, tier_create
from apps.loyalty.models import Coupon, CouponIssueRule, CouponKind, CouponStatus, CouponTemplate
from apps.loyalty.services import coupons
from apps.loyalty.tests.coupon_helpers import (
    a_service,
    a_template,
    give,
    other_line,
    salon_day_fixture,  # noqa: F401  (registers the salon_day fixture)
)
from apps.loyalty.tests.helpers import a_client
from tests.fixtures import logged_in_client, make_staff, owner_of

pytestmark = pytest.mark.usefixtures("salon_day")


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


def html(response) -> str:
    return response.content.decode()


def test_the_pages_render(alpha, owner):
    with schema_context(alpha.schema):
        template = a_template(value=5000, min_spend=30000, name="满300减50")
        client = a_client()
        give(template, client)
    for url in ("/members/coupons/", "/members/coupons/new/", f"/members/coupons/{template.pk}/"):
        response = owner.get(url)
        assert response.status_code == 200, url
        assert 'aria-label="Members"' in html(response)
    listing = html(owner.get("/members/coupons/"))
    assert "满300减50" in listing and "¥50.00 off from ¥300.00" in listing
    account = html(owner.get(f"/members/clients/{client.pk}/coupons/"))
    assert "Give a coupon" in account and "满300减50" in account and 'aria-current="page">Coupons' in account


def test_adding_a_coupon_through_the_form(alpha, owner):
    with schema_context(alpha.schema):
        cut = a_service()
    # a percentage without its percent is refused on that field
    missing = owner.post(
        "/members/coupons/new/",
        {"name": "八折", "kind": "percentage", "min_spend": "0", "valid_days": "30", "one_per_bill": "on"},
    )
    assert missing.status_code == 200
    assert "Enter the percentage off: a whole number from 1 to 99." in html(missing)
    # a trial of the cut at ¥9.90
    created = owner.post(
        "/members/coupons/new/",
        {
            "name": "Trial cut",
            "kind": "service_trial",
            "money_value": "9.90",
            "min_spend": "0",
            "eligible_services": [cut.pk],
            "valid_days": "14",
            "one_per_bill": "on",
            "is_active": "on",
        },
    )
    assert created.status_code == 302
    with schema_context(alpha.schema):
        template = CouponTemplate.objects.get()
        assert (template.kind, template.value, template.valid_days, template.is_active) == (
            CouponKind.SERVICE_TRIAL,
            990,
            14,
            True,
        )
        assert list(template.eligible_services.all()) == [cut]
    assert created["Location"] == f"/members/coupons/{template.pk}/"
    # editing it
    edited = owner.post(
        f"/members/coupons/{template.pk}/",
        {
            "name": "Trial cut",
            "kind": "service_trial",
            "money_value": "0",
            "min_spend": "0",
            "eligible_services": [cut.pk],
            "valid_days": "7",
            "is_active": "on",
        },
    )
    assert edited.status_code == 302
    with schema_context(alpha.schema):
        template.refresh_from_db()
        assert (template.value, template.valid_days, template.one_per_bill) == (0, 7, False)


def test_issuing_to_a_tag_ticked_and_pasted_clients(alpha, owner):
    with schema_context(alpha.schema):
        template = a_template(value=5000)
        vip = tag_create(name="VIP", acting_user=None)
        tagged = a_client("A", "13800000001")
        clients_tag(client_ids=[tagged.pk], tag=vip, acting_user=None)
        ticked = a_client("B", "13800000002")
        pasted = a_client("C", "13800000003")
    url = f"/members/coupons/{template.pk}/issue/"
    form = {"tag": vip.pk, "clients": [ticked.pk, tagged.pk], "numbers": "13800000003\n", "batch_key": "k1"}
    # when
    response = owner.post(url, form)
    # then each once
    assert response.status_code == 302
    with schema_context(alpha.schema):
        assert sorted(Coupon.objects.values_list("client_id", flat=True)) == sorted([tagged.pk, ticked.pk, pasted.pk])
    # and the same form again issues nothing
    owner.post(url, form)
    with schema_context(alpha.schema):
        assert Coupon.objects.count() == 3
    # a number nobody has is named, and nothing is issued
    unknown = owner.post(url, {"numbers": "13899999999", "clients": [ticked.pk], "batch_key": "k2"})
    assert unknown.status_code == 200
    assert "No single client has these numbers: 13899999999" in html(unknown)
    assert f'value="{ticked.pk}" checked' in html(unknown)  # the ticked client stays ticked
    nobody = owner.post(url, {"batch_key": "k3"})
    assert "Choose at least one client." in html(nobody)
    with schema_context(alpha.schema):
        assert Coupon.objects.count() == 3


def test_the_client_search_keeps_ticked_clients(alpha, owner):
    with schema_context(alpha.schema):
        wang = a_client("王芳", "13800000001")
        li = a_client("李娜", "13800000002")
    response = owner.get("/members/coupons/pick-clients/", {"q": "王", "clients": [li.pk]}, HTTP_HX_REQUEST="true")
    fragment = html(response)
    assert f'value="{li.pk}" checked' in fragment
    assert f'value="{wang.pk}">' in fragment
    assert "<html" not in fragment


def test_rules_are_added_and_changed_on_their_pages(alpha, owner):
    with schema_context(alpha.schema):
        template = a_template()
        gold = tier_create(name="Gold", rank=1, acting_user=None)
    missing = owner.post(f"/members/coupons/{template.pk}/rules/new/", {"trigger": "tier_reached", "min_top_up": "0"})
    assert "Choose the tier that issues the coupon." in html(missing)
    added = owner.post(
        f"/members/coupons/{template.pk}/rules/new/",
        {"trigger": "tier_reached", "tier": gold.pk, "min_top_up": "0", "is_active": "on"},
    )
    assert added.status_code == 302
    with schema_context(alpha.schema):
        rule = CouponIssueRule.objects.get()
    assert "Gold" in html(owner.get(f"/members/coupons/{template.pk}/"))
    changed = owner.post(f"/members/coupons/rules/{rule.pk}/", {"trigger": "top_up", "min_top_up": "500"})
    assert changed.status_code == 302
    with schema_context(alpha.schema):
        rule.refresh_from_db()
        assert (rule.trigger, rule.min_top_up, rule.tier, rule.is_active) == ("top_up", 50000, None, False)


def test_a_clients_coupons_issue_and_void(alpha, owner, desk):
    with schema_context(alpha.schema):
        client = a_client()
        template = a_template(value=5000, name="¥50 off")
        used = give(template, client, key="used")
        coupons.coupon_redeem(
            coupon=used, client=client, lines=[other_line(9000)], reference="bill:1", acting_user=owner_of(alpha)
        )
    page = f"/members/clients/{client.pk}/coupons/"
    # when a manager gives one
    issued = owner.post(f"{page}issue/", {"template": template.pk, "issue_key": "x1"})
    assert issued.status_code == 302
    with schema_context(alpha.schema):
        coupon = Coupon.objects.get(status=CouponStatus.AVAILABLE)
    listing = html(owner.get(page))
    assert coupon.code in listing and "bill:1" in listing and "¥50.00" in listing
    # and voids it without a reason, then with one
    owner.post(f"{page}{coupon.pk}/void/", {"reason": ""})
    with schema_context(alpha.schema):
        assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.AVAILABLE
    owner.post(f"{page}{coupon.pk}/void/", {"reason": "Given twice"})
    with schema_context(alpha.schema):
        assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.VOIDED
    # the front desk reads the coupons but neither issues nor voids
    desk_page = desk.get(page)
    assert desk_page.status_code == 200 and "Give a coupon" not in html(desk_page)
    assert desk.post(f"{page}issue/", {"template": template.pk, "issue_key": "x2"}).status_code == 403
    assert desk.get("/members/coupons/").status_code == 403
    with schema_context(alpha.schema):
        assert Coupon.objects.count() == 2


def test_a_refused_manual_issue_shows_why(alpha, owner):
    with schema_context(alpha.schema):
        client = a_client()
        template = a_template(max_issued=1)
        give(template, a_client("李娜", "13900139000"))
    response = owner.post(f"/members/clients/{client.pk}/coupons/issue/", {"template": template.pk, "issue_key": "k"})
    assert response.status_code == 400
    assert "All coupons of this kind have been issued." in html(response)


def test_list_pages_use_a_fixed_number_of_queries(alpha, owner, django_assert_max_num_queries):
    with schema_context(alpha.schema):
        client = a_client()
        for i in range(6):
            give(a_template(value=1000 + i, name=f"Coupon {i}"), client)
    owner.get("/members/coupons/")
    with django_assert_max_num_queries(16):
        assert owner.get("/members/coupons/").status_code == 200
    with django_assert_max_num_queries(20):
        assert owner.get(f"/members/clients/{client.pk}/coupons/").status_code == 200

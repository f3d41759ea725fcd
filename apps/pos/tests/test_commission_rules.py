"""Commission rules (POS-6): writing them through the service, the API and the pages; bad input refused with
nothing written; one active rule per target and level on any day; who may change them."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.pos.models import CommissionRule, CommissionTier
from apps.pos.services.commission import (
    commission_rule_create,
    commission_rule_deactivate,
    commission_rule_update,
)
from apps.pos.tests.factories_commission import (
    level_make,
    product_make,
    service_category_make,
    service_make,
    technician_make,
)
from tests.fixtures import api_token, logged_in_client, make_staff

MARCH = datetime.date(2026, 3, 1)
APRIL = datetime.date(2026, 4, 1)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def catalogue(in_alpha):
    hair = service_category_make("Hair")
    return SimpleNamespace(
        hair=hair,
        cut=service_make("Cut", category=hair),
        shampoo=product_make("Shampoo"),
        senior=level_make("Senior", 30),
    )


def rule(**values):
    values.setdefault("acting_user", None)
    return commission_rule_create(**values)


# --- the service ---------------------------------------------------------------------------------------


def test_rules_for_every_scope_and_method(catalogue):
    # when
    cut = rule(
        scope="service",
        service=catalogue.cut,
        staff_level=catalogue.senior,
        method="percentage",
        rate_bp=1250,
        requested_bonus_bp=300,
    )
    hair = rule(scope="service_category", service_category=catalogue.hair, method="fixed", fixed_amount=800)
    tiered = rule(
        scope="kind",
        line_kind="service",
        method="tiered",
        tiers=[(5_000_000, 2000), (0, 1000), (2_000_000, 1500)],
        valid_from=MARCH,
    )
    default = rule(scope="default", method="percentage", rate_bp=0, name="Nothing by default")
    # then
    assert (cut.scope, cut.service_id, cut.staff_level_id, cut.rate_bp, cut.fixed_amount, cut.requested_bonus_bp) == (
        "service",
        catalogue.cut.pk,
        catalogue.senior.pk,
        1250,
        None,
        300,
    )
    assert (hair.service_category_id, hair.fixed_amount, hair.rate_bp) == (catalogue.hair.pk, 800, None)
    assert list(tiered.tiers.values_list("from_volume", "rate_bp")) == [(0, 1000), (2_000_000, 1500), (5_000_000, 2000)]
    assert (tiered.line_kind, tiered.valid_from, tiered.rate_bp) == ("service", MARCH, None)
    assert (default.name, default.rate_bp) == ("Nothing by default", 0)
    created = AuditEntry.objects.filter(action="pos.commission_rule.created").order_by("id")
    assert [entry.data["scope"] for entry in created] == ["service", "service_category", "kind", "default"]
    assert created[2].data["tiers"] == [[0, 1000], [2_000_000, 1500], [5_000_000, 2000]]


def test_targets_and_figures_the_rule_does_not_use_are_cleared(catalogue):
    made = rule(
        scope="kind",
        line_kind="product",
        service=catalogue.cut,
        method="fixed",
        fixed_amount=500,
        rate_bp=1000,
        tiers=[(0, 100)],
    )
    assert (made.service_id, made.rate_bp, made.fixed_amount, made.tiers.count()) == (None, None, 500, 0)


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"scope": "everything", "method": "percentage", "rate_bp": 100}, "commission_scope_invalid", "scope"),
        ({"scope": "service", "method": "percentage", "rate_bp": 100}, "commission_target_required", "service"),
        (
            {"scope": "kind", "line_kind": "gift", "method": "fixed", "fixed_amount": 1},
            "commission_target_required",
            "line_kind",
        ),
        ({"scope": "default", "method": "bonus"}, "commission_method_invalid", "method"),
        ({"scope": "default", "method": "percentage"}, "commission_rate_invalid", "rate_bp"),
        ({"scope": "default", "method": "percentage", "rate_bp": 10_001}, "commission_rate_invalid", "rate_bp"),
        ({"scope": "default", "method": "percentage", "rate_bp": -1}, "commission_rate_invalid", "rate_bp"),
        ({"scope": "default", "method": "percentage", "rate_bp": True}, "commission_rate_invalid", "rate_bp"),
        ({"scope": "default", "method": "percentage", "rate_bp": 12.5}, "commission_rate_invalid", "rate_bp"),
        ({"scope": "default", "method": "fixed"}, "commission_amount_invalid", "fixed_amount"),
        ({"scope": "default", "method": "fixed", "fixed_amount": -5}, "commission_amount_invalid", "fixed_amount"),
        ({"scope": "default", "method": "tiered"}, "commission_tiers_invalid", "tiers"),
        ({"scope": "default", "method": "tiered", "tiers": [(100, 1000)]}, "commission_tiers_invalid", "tiers"),
        ({"scope": "default", "method": "tiered", "tiers": [(0, 10), (0, 20)]}, "commission_tiers_invalid", "tiers"),
        ({"scope": "default", "method": "tiered", "tiers": [(0, 10_001)]}, "commission_tiers_invalid", "tiers"),
        ({"scope": "default", "method": "tiered", "tiers": [(0, 1)] * 11}, "commission_tiers_invalid", "tiers"),
        ({"scope": "default", "method": "tiered", "tiers": [(0,)]}, "commission_tiers_invalid", "tiers"),
        (
            {"scope": "default", "method": "percentage", "rate_bp": 100, "requested_bonus_bp": 20_000},
            "commission_rate_invalid",
            "requested_bonus_bp",
        ),
        (
            {"scope": "default", "method": "percentage", "rate_bp": 100, "valid_from": APRIL, "valid_until": MARCH},
            "commission_window_invalid",
            "valid_until",
        ),
        (
            {"scope": "default", "method": "percentage", "rate_bp": 100, "name": "x" * 101},
            "commission_text_too_long",
            "name",
        ),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_written(catalogue, values, code, field):
    with pytest.raises(ServiceError) as refused:
        rule(**values)
    assert (refused.value.code.value, refused.value.status, list(refused.value.errors)) == (code, 400, [field])
    assert CommissionRule.objects.count() == 0
    assert CommissionTier.objects.count() == 0
    assert not AuditEntry.objects.filter(action__startswith="pos.commission_rule").exists()


def test_one_active_rule_per_target_and_level_on_any_day(catalogue):
    # given 10 % on the cut for March onwards
    rule(scope="service", service=catalogue.cut, method="percentage", rate_bp=1000, valid_from=MARCH)
    # when another for April onwards is added
    with pytest.raises(ServiceError) as refused:
        rule(scope="service", service=catalogue.cut, method="fixed", fixed_amount=100, valid_from=APRIL)
    # then it is refused: which would apply in April?
    assert (refused.value.code.value, refused.value.status) == ("commission_rule_overlap", 409)
    assert (
        refused.value.message == "Another active rule for the same item and staff level is valid on some of these days."
    )
    assert CommissionRule.objects.count() == 1
    # but one for February, one for the senior level, one for another item and an inactive one are fine
    rule(
        scope="service",
        service=catalogue.cut,
        method="percentage",
        rate_bp=900,
        valid_from=datetime.date(2026, 2, 1),
        valid_until=datetime.date(2026, 2, 28),
    )
    rule(scope="service", service=catalogue.cut, staff_level=catalogue.senior, method="percentage", rate_bp=1500)
    rule(scope="product", product=catalogue.shampoo, method="percentage", rate_bp=1000)
    rule(scope="service", service=catalogue.cut, method="percentage", rate_bp=1, is_active=False)
    assert CommissionRule.objects.count() == 5
    # and two salon defaults may not overlap either (no target at all is a target too)
    rule(scope="default", method="percentage", rate_bp=100)
    with pytest.raises(ServiceError):
        rule(scope="default", method="percentage", rate_bp=200, valid_from=APRIL)


def test_changing_a_rule(catalogue):
    # given a tiered rule
    made = rule(scope="kind", line_kind="service", method="tiered", tiers=[(0, 1000), (100_000, 1500)])
    # when its tiers change, then it becomes a percentage, then it is deactivated
    commission_rule_update(rule=made, acting_user=None, tiers=[(0, 1200)], name="Services")
    assert list(made.tiers.values_list("from_volume", "rate_bp")) == [(0, 1200)]
    commission_rule_update(rule=made, acting_user=None, method="percentage", rate_bp=1100)
    made.refresh_from_db()
    assert (made.name, made.method, made.rate_bp, made.tiers.count()) == ("Services", "percentage", 1100, 0)
    commission_rule_deactivate(rule=made, acting_user=None)
    made.refresh_from_db()
    assert made.is_active is False
    assert AuditEntry.objects.filter(action="pos.commission_rule.updated", target_id=str(made.pk)).count() == 3


def test_a_change_that_would_overlap_is_refused(catalogue):
    rule(scope="default", method="percentage", rate_bp=100, valid_until=datetime.date(2026, 3, 31))
    april = rule(scope="default", method="percentage", rate_bp=200, valid_from=APRIL)
    with pytest.raises(ServiceError) as refused:
        commission_rule_update(rule=april, acting_user=None, valid_from=MARCH)
    assert refused.value.code.value == "commission_rule_overlap"
    april.refresh_from_db()
    assert april.valid_from == APRIL


def test_the_database_keeps_the_shape_of_a_rule(catalogue):
    with pytest.raises(IntegrityError, match="commission_rule_target_matches_scope"), transaction.atomic():
        CommissionRule.objects.create(scope="service", method="percentage", rate_bp=100)
    with pytest.raises(IntegrityError, match="commission_rule_figures_match_method"), transaction.atomic():
        CommissionRule.objects.create(scope="default", method="fixed", rate_bp=100)
    with pytest.raises(IntegrityError, match="commission_rule_rate_range"), transaction.atomic():
        CommissionRule.objects.create(scope="default", method="percentage", rate_bp=10_001)
    CommissionRule.objects.create(scope="kind", line_kind="product", method="percentage", rate_bp=100)
    with pytest.raises(IntegrityError, match="commission_rule_no_overlap"), transaction.atomic():
        CommissionRule.objects.create(scope="kind", line_kind="product", method="percentage", rate_bp=200)


def test_only_staff_managers_change_rules(catalogue):
    desk = technician_make("Desk", role="front_desk")
    with pytest.raises(ServiceError) as refused:
        rule(scope="default", method="percentage", rate_bp=100, acting_user=desk)
    assert (refused.value.code.value, refused.value.status) == ("commission_permission_denied", 403)
    assert CommissionRule.objects.count() == 0
    manager = technician_make("Boss", role="manager")
    assert rule(scope="default", method="percentage", rate_bp=100, acting_user=manager).pk


# --- the API -------------------------------------------------------------------------------------------


def api(info, username):
    from django.test import Client

    return Client(
        HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}", HTTP_ACCEPT_LANGUAGE="en"
    )


@pytest.fixture
def owner_api(alpha):
    return api(alpha, alpha.owner_username)


@pytest.fixture
def listed(alpha):
    with schema_context(alpha.schema):
        hair = service_category_make("Hair")
        cut = service_make("Cut", category=hair)
    return SimpleNamespace(hair=hair, cut=cut)


def test_api_writes_and_reads_rules(alpha, owner_api, listed):
    # when a tiered rule is created
    created = owner_api.post(
        "/api/v1/commission-rules/",
        {
            "scope": "service_category",
            "service_category": listed.hair.pk,
            "method": "tiered",
            "tiers": [{"from_volume": 0, "rate_bp": 1000}, {"from_volume": 3_000_000, "rate_bp": 1500}],
            "requested_bonus_amount": 500,
            "valid_from": "2026-03-01",
        },
        content_type="application/json",
    )
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "",
        "scope": "service_category",
        "service": None,
        "product": None,
        "service_category": listed.hair.pk,
        "product_category": None,
        "line_kind": "",
        "staff_level": None,
        "method": "tiered",
        "rate_bp": None,
        "fixed_amount": None,
        "tiers": [{"from_volume": 0, "rate_bp": 1000}, {"from_volume": 3_000_000, "rate_bp": 1500}],
        "requested_bonus_bp": 0,
        "requested_bonus_amount": 500,
        "valid_from": "2026-03-01",
        "valid_until": None,
        "is_active": True,
    }
    # and a service rule and a default are listed, most specific first; filters narrow the list
    owner_api.post(
        "/api/v1/commission-rules/",
        {"scope": "default", "method": "percentage", "rate_bp": 500},
        content_type="application/json",
    )
    owner_api.post(
        "/api/v1/commission-rules/",
        {"scope": "service", "service": listed.cut.pk, "method": "fixed", "fixed_amount": 1000},
        content_type="application/json",
    )
    listing = owner_api.get("/api/v1/commission-rules/").json()
    assert listing["count"] == 3
    assert [r["scope"] for r in listing["results"]] == ["service", "service_category", "default"]
    assert [r["scope"] for r in owner_api.get("/api/v1/commission-rules/?scope=default").json()["results"]] == [
        "default"
    ]
    # when the tiered rule changes and then is deactivated
    url = f"/api/v1/commission-rules/{body['id']}/"
    changed = owner_api.patch(url, {"tiers": [{"from_volume": 0, "rate_bp": 1100}]}, content_type="application/json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["tiers"] == [{"from_volume": 0, "rate_bp": 1100}]
    assert changed.json()["requested_bonus_amount"] == 500
    assert owner_api.delete(url).status_code == 204
    assert owner_api.get(url).json()["is_active"] is False
    assert owner_api.get("/api/v1/commission-rules/?is_active=false").json()["count"] == 1


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            {"scope": "default", "method": "percentage", "rate_bp": 12_000},
            {"rate_bp": ["Enter a rate from 0 to 100 %."]},
        ),
        (
            {"scope": "service", "method": "percentage", "rate_bp": 100},
            {"service": ["Choose the item, category or kind the rule applies to."]},
        ),
        (
            {"scope": "default", "method": "tiered", "tiers": [{"from_volume": 500, "rate_bp": 100}]},
            {
                "tiers": [
                    "Give up to ten tiers with different volumes; the first starts at ¥0 and each rate is 0 to 100 %."
                ]
            },
        ),
        (
            {"scope": "default", "method": "fixed", "fixed_amount": "five"},
            {"fixed_amount": ["A valid integer is required."]},
        ),
        ({"scope": "nowhere", "method": "fixed", "fixed_amount": 5}, {"scope": ['"nowhere" is not a valid choice.']}),
        (
            {"scope": "service", "service": 999_999, "method": "fixed", "fixed_amount": 5},
            {"service": ['Invalid pk "999999" - object does not exist.']},
        ),
    ],
)
def test_api_refuses_bad_rules_and_writes_nothing(alpha, owner_api, payload, errors):
    response = owner_api.post("/api/v1/commission-rules/", payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == errors
    with schema_context(alpha.schema):
        assert CommissionRule.objects.count() == 0


def test_api_overlap_is_a_conflict(alpha, owner_api):
    payload = {"scope": "kind", "line_kind": "top_up", "method": "percentage", "rate_bp": 100}
    assert owner_api.post("/api/v1/commission-rules/", payload, content_type="application/json").status_code == 201
    again = owner_api.post("/api/v1/commission-rules/", payload, content_type="application/json")
    assert again.status_code == 409
    assert again.json() == {
        "detail": "Another active rule for the same item and staff level is valid on some of these days.",
        "code": "commission_rule_overlap",
    }
    with schema_context(alpha.schema):
        assert CommissionRule.objects.count() == 1


def test_api_rules_need_manage_staff_and_stay_in_their_salon(alpha, beta, owner_api):
    # given a rule in alpha
    made = owner_api.post(
        "/api/v1/commission-rules/",
        {"scope": "default", "method": "percentage", "rate_bp": 100},
        content_type="application/json",
    ).json()
    make_staff(alpha, role="technician", username="tech")
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="manager", username="boss")
    # then technicians and the front desk neither read nor write rules; a manager does both
    for username in ("tech", "desk"):
        client = api(alpha, username)
        assert client.get("/api/v1/commission-rules/").status_code == 403
        refused = client.post(
            "/api/v1/commission-rules/",
            {"scope": "kind", "line_kind": "product", "method": "percentage", "rate_bp": 100},
            content_type="application/json",
        )
        assert refused.status_code == 403
        assert client.delete(f"/api/v1/commission-rules/{made['id']}/").status_code == 403
    boss = api(alpha, "boss")
    assert boss.get("/api/v1/commission-rules/").json()["count"] == 1
    with schema_context(alpha.schema):
        assert CommissionRule.objects.count() == 1
        assert CommissionRule.objects.get().is_active is True
    # and beta sees none of alpha's rules
    beta_api = api(beta, beta.owner_username)
    assert beta_api.get("/api/v1/commission-rules/").json()["count"] == 0
    assert beta_api.get(f"/api/v1/commission-rules/{made['id']}/").status_code == 404


# --- the pages -----------------------------------------------------------------------------------------


def english(info, username):
    client = logged_in_client(info, username)
    client.post("/account/language/", {"language": "en"})
    return client


def test_rule_pages_add_change_and_deactivate(alpha, listed):
    owner = english(alpha, alpha.owner_username)
    # the form
    form = owner.get("/till/commission/rules/new/")
    assert form.status_code == 200
    html = form.content.decode()
    for label in (
        "Applies to",
        "Staff level",
        "Commission",
        "Rate (%)",
        "Amount per unit (¥)",
        "Tier 1: from monthly volume (¥)",
    ):
        assert f">{label}</label>" in html
    assert f'<option value="service:{listed.cut.pk}">Cut</option>' in html
    # when 12.5 % on the cut is added
    added = owner.post(
        "/till/commission/rules/new/",
        {"applies_to": f"service:{listed.cut.pk}", "method": "percentage", "rate_bp": "12.5", "is_active": "on"},
    )
    assert added.status_code == 302 and added["Location"] == "/till/commission/rules/"
    with schema_context(alpha.schema):
        made = CommissionRule.objects.get()
        assert (made.scope, made.service_id, made.rate_bp, made.is_active) == ("service", listed.cut.pk, 1250, True)
    listing = owner.get("/till/commission/rules/").content.decode()
    assert "Cut</a>" in listing and "<td>12.5 %</td>" in listing
    # when it becomes tiers by monthly volume for the hair category
    changed = owner.post(
        f"/till/commission/rules/{made.pk}/",
        {
            "applies_to": f"service_category:{listed.hair.pk}",
            "method": "tiered",
            "tier_1_from": "0",
            "tier_1_rate": "10",
            "tier_2_from": "20000",
            "tier_2_rate": "15",
            "requested_bonus_bp": "2",
            "is_active": "on",
        },
    )
    assert changed.status_code == 302
    with schema_context(alpha.schema):
        made.refresh_from_db()
        assert (made.scope, made.service_id, made.service_category_id, made.requested_bonus_bp) == (
            "service_category",
            None,
            listed.hair.pk,
            200,
        )
        assert list(made.tiers.values_list("from_volume", "rate_bp")) == [(0, 1000), (2_000_000, 1500)]
    listing = owner.get("/till/commission/rules/").content.decode()
    assert "<td>10 % from ¥0.00 · 15 % from ¥20,000.00</td>" in listing and "<td>+2 %</td>" in listing
    edit = owner.get(f"/till/commission/rules/{made.pk}/").content.decode()
    assert 'name="tier_2_from" value="20000.00"' in edit and 'name="tier_2_rate" value="15"' in edit
    # when it is deactivated
    assert owner.post(f"/till/commission/rules/{made.pk}/deactivate/").status_code == 302
    with schema_context(alpha.schema):
        made.refresh_from_db()
        assert made.is_active is False


def test_rule_page_shows_what_is_wrong_and_writes_nothing(alpha, listed):
    owner = english(alpha, alpha.owner_username)
    page = owner.post("/till/commission/rules/new/", {"applies_to": "default", "method": "percentage"})
    assert page.status_code == 200
    assert "Enter a rate from 0 to 100 %." in page.content.decode()
    page = owner.post(
        "/till/commission/rules/new/",
        {"applies_to": "default", "method": "tiered", "tier_1_from": "100", "tier_1_rate": "5"},
    )
    assert "the first starts at ¥0" in page.content.decode()
    with schema_context(alpha.schema):
        assert CommissionRule.objects.count() == 0


def test_rule_pages_need_manage_staff(alpha):
    make_staff(alpha, role="technician", username="tech")
    make_staff(alpha, role="accountant", username="books")
    for username in ("tech", "books"):
        client = logged_in_client(alpha, username)
        assert client.get("/till/commission/rules/").status_code == 403
        assert client.post("/till/commission/rules/new/", {"applies_to": "default"}).status_code == 403
    with schema_context(alpha.schema):
        assert CommissionRule.objects.count() == 0


def test_the_rule_list_costs_the_same_queries_for_3_and_12_rules(alpha):
    # given three rules of every shape, then nine more
    with schema_context(alpha.schema):
        level = level_make("Senior", 30)
        hair = service_category_make("Hair")
        services = [service_make(f"Cut {n}", category=hair) for n in range(4)]
        products = [product_make(f"Shampoo {n}") for n in range(4)]

        def add(n: int) -> None:
            rule(scope="service", service=services[n], staff_level=level, method="percentage", rate_bp=1000)
            rule(scope="product", product=products[n], method="tiered", tiers=[(0, 100), (10_000, 200)])
            rule(
                scope="service_category",
                service_category=hair,
                method="fixed",
                fixed_amount=100 * (n + 1),
                valid_from=datetime.date(2026, n + 1, 1),
                valid_until=datetime.date(2026, n + 1, 28),
            )

        add(0)
    owner = logged_in_client(alpha, alpha.owner_username)
    owner.get("/till/commission/rules/")
    with CaptureQueriesContext(connection) as few:
        assert owner.get("/till/commission/rules/").status_code == 200
    with schema_context(alpha.schema):
        for n in range(1, 4):
            add(n)
    # when
    with CaptureQueriesContext(connection) as many:
        page = owner.get("/till/commission/rules/")
    # then
    assert page.content.decode().count("/deactivate/") == 12
    assert len(many.captured_queries) == len(few.captured_queries)

"""CAT-4 price rules: which price applies for a membership tier and a technician's level."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.catalog import selectors, services
from apps.catalog.errors import CatalogError
from apps.catalog.models import PriceRule
from apps.catalog.tests.helpers import haircut, level, tier
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from tests.fixtures import owner_of


@pytest.fixture
def grid(in_alpha):
    """A cut at ¥128 with: gold+director ¥268, director (any tier) ¥238, gold (any level) ¥108."""
    owner = owner_of(in_alpha)
    cut = haircut(actor=owner, price=12800)
    gold, silver = tier("Gold", 30), tier("Silver", 20)
    stylist, director = level("Stylist", 10), level("Director", 40)
    services.price_rule_create(service=cut, tier=gold, staff_level=director, price=26800, acting_user=owner)
    services.price_rule_create(service=cut, staff_level=director, price=23800, acting_user=owner)
    services.price_rule_create(service=cut, tier=gold, price=10800, acting_user=owner)
    return {"cut": cut, "gold": gold, "silver": silver, "stylist": stylist, "director": director, "owner": owner}


def test_no_tier_and_no_level_is_the_base_price(grid, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.service_price(service=grid["cut"]) == 12800


def test_exact_tier_and_level_rule_wins(grid):
    with CaptureQueriesContext(connection) as queries:
        price = selectors.service_price(service=grid["cut"], tier=grid["gold"], staff_level=grid["director"])
    assert price == 26800
    assert [q["sql"].split()[0] for q in queries.captured_queries if not q["sql"].startswith("SET search_path")] == [
        "SELECT"
    ]


def test_level_rule_applies_to_any_tier(grid):
    assert selectors.service_price(service=grid["cut"], tier=grid["silver"], staff_level=grid["director"]) == 23800
    assert selectors.service_price(service=grid["cut"], staff_level=grid["director"]) == 23800


def test_level_rule_wins_over_tier_rule(grid):
    # given only the two single-condition rules apply (the pair rule is removed)
    pair = PriceRule.objects.get(tier=grid["gold"], staff_level=grid["director"])
    services.price_rule_delete(rule=pair, acting_user=grid["owner"])
    # then the technician's level sets the price, not the client's tier
    assert selectors.service_price(service=grid["cut"], tier=grid["gold"], staff_level=grid["director"]) == 23800


def test_tier_rule_applies_when_the_level_has_none(grid):
    assert selectors.service_price(service=grid["cut"], tier=grid["gold"], staff_level=grid["stylist"]) == 10800
    assert selectors.service_price(service=grid["cut"], tier=grid["gold"]) == 10800


def test_base_price_when_no_rule_applies(grid):
    assert selectors.service_price(service=grid["cut"], tier=grid["silver"], staff_level=grid["stylist"]) == 12800
    assert selectors.service_price(service=grid["cut"], tier=grid["silver"]) == 12800
    assert selectors.service_price(service=haircut(name="Other cut", price=5000), tier=grid["gold"]) == 5000


def test_rules_of_another_service_never_apply(grid):
    other = haircut(name="Kids cut", price=4800)
    assert selectors.service_price(service=other, tier=grid["gold"], staff_level=grid["director"]) == 4800


def test_price_rule_bad_input_writes_nothing(grid):
    # given
    cut, gold, director = grid["cut"], grid["gold"], grid["director"]
    before = list(PriceRule.objects.order_by("pk").values_list("tier_id", "staff_level_id", "price"))
    audits = AuditEntry.objects.count()
    # when / then
    for kwargs, code, field in (
        ({}, CatalogError.PRICE_RULE_NEEDS_CONDITION, "staff_level"),
        ({"tier": gold, "staff_level": director}, CatalogError.DUPLICATE_PRICE_RULE, "staff_level"),
        ({"staff_level": director}, CatalogError.DUPLICATE_PRICE_RULE, "staff_level"),
        ({"tier": gold}, CatalogError.DUPLICATE_PRICE_RULE, "staff_level"),
        ({"tier": grid["silver"], "price": -1}, CatalogError.INVALID_AMOUNT, "price"),
    ):
        with pytest.raises(ServiceError) as caught:
            services.price_rule_create(service=cut, **({"price": 100} | kwargs))
        assert (caught.value.code, caught.value.errors) == (code, {field: [str(caught.value.message)]})
    with pytest.raises(ServiceError):
        services.price_rule_update(rule=PriceRule.objects.first(), price=-1, acting_user=grid["owner"])
    assert list(PriceRule.objects.order_by("pk").values_list("tier_id", "staff_level_id", "price")) == before
    assert AuditEntry.objects.count() == audits


def test_price_rule_changes_are_audited(grid):
    rule = PriceRule.objects.get(tier=grid["gold"], staff_level__isnull=True)
    services.price_rule_update(rule=rule, price=9800, acting_user=grid["owner"])
    services.price_rule_delete(rule=rule, acting_user=grid["owner"])
    updated = AuditEntry.objects.get(action="catalog.price_rule.updated")
    deleted = AuditEntry.objects.get(action="catalog.price_rule.deleted")
    assert updated.data == {
        "service": grid["cut"].pk,
        "tier": grid["gold"].pk,
        "staff_level": None,
        "price": 9800,
        "from": 10800,
    }
    assert deleted.data["price"] == 9800
    assert AuditEntry.objects.filter(action="catalog.price_rule.created").count() == 3


def test_grid_sets_adds_changes_and_removes_rules(grid):
    # given
    cut, gold, silver, stylist, director = (grid[k] for k in ("cut", "gold", "silver", "stylist", "director"))
    # when
    rules = services.service_price_rules_set(
        service=cut,
        prices={(gold, director): 28800, (None, director): None, (silver, stylist): 11800, (gold, None): 10800},
        acting_user=grid["owner"],
    )
    # then
    assert {(r.tier_id, r.staff_level_id, r.price) for r in rules} == {
        (gold.pk, director.pk, 28800),
        (silver.pk, stylist.pk, 11800),
        (gold.pk, None, 10800),
    }
    assert selectors.service_price(service=cut, tier=silver, staff_level=director) == 12800


def test_grid_refuses_the_base_cell_and_bad_prices_all_or_nothing(grid):
    cut, gold, director = grid["cut"], grid["gold"], grid["director"]
    before = set(PriceRule.objects.values_list("tier_id", "staff_level_id", "price"))
    for prices in ({(gold, director): 1, (None, None): 5}, {(gold, None): 1, (None, director): -1}):
        with pytest.raises(ServiceError):
            services.service_price_rules_set(service=cut, prices=prices, acting_user=grid["owner"])
    assert set(PriceRule.objects.values_list("tier_id", "staff_level_id", "price")) == before


def test_price_rules_stay_in_their_salon(alpha, beta):
    with schema_context(beta.schema):
        beta_cut = haircut(price=9900)
        services.price_rule_create(service=beta_cut, staff_level=level("Director", 40), price=19900)
    with schema_context(alpha.schema):
        cut = haircut(price=12800)
        director = level("Director", 40)
        assert selectors.service_price(service=cut, staff_level=director) == 12800
        assert list(selectors.price_rule_list()) == []


def test_deleting_a_tier_removes_its_rules(grid):
    from apps.crm.services.tags import tier_delete

    # when the gold tier (held by no client) is deleted
    tier_delete(tier=grid["gold"], acting_user=grid["owner"])
    # then its rules went with it; the level rule stays
    assert list(PriceRule.objects.values_list("tier_id", "staff_level_id", "price")) == [
        (None, grid["director"].pk, 23800)
    ]


def test_the_quote_names_the_rule_that_set_the_price(grid):
    cut = grid["cut"]
    quote = selectors.service_price_quote
    assert quote(service=cut) == (12800, "base")
    assert quote(service=cut, tier=grid["gold"], staff_level=grid["director"]) == (26800, "tier_level")
    assert quote(service=cut, tier=grid["silver"], staff_level=grid["director"]) == (23800, "level")
    assert quote(service=cut, tier=grid["gold"], staff_level=grid["stylist"]) == (10800, "tier")
    assert quote(service=cut, tier=grid["gold"]) == (10800, "tier")
    assert quote(service=cut, staff_level=grid["director"]) == (23800, "level")
    assert quote(service=cut, tier=grid["silver"], staff_level=grid["stylist"]) == (12800, "base")

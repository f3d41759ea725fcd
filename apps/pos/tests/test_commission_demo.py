"""The demo salon's commission rules: created through the services after the catalogue's demo, safe to seed
twice."""

from __future__ import annotations

from apps.catalog import demo as catalog_demo
from apps.pos import demo_commission as demo
from apps.pos.models import CommissionRule
from tests.fixtures import owner_of


def test_demo_rules_seed_once(in_alpha):
    owner = owner_of(in_alpha)
    catalog_demo.seed(acting_user=owner)
    demo.seed(acting_user=owner)
    demo.seed(acting_user=owner)

    rules = {rule.name: rule for rule in CommissionRule.objects.all()}
    assert len(rules) == len(demo.RULES) == 6
    services = rules["服务提成 12%（点钟 +3%）"]
    assert (services.scope, services.line_kind, services.method, services.rate_bp, services.requested_bonus_bp) == (
        "kind",
        "service",
        "percentage",
        1200,
        300,
    )
    products = rules["产品提成 每件 ¥5"]
    assert (products.line_kind, products.method, products.fixed_amount) == ("product", "fixed", 500)
    colour = rules["染烫阶梯提成"]
    assert (colour.scope, colour.service_category.name) == ("service_category", "染烫")
    assert list(colour.tiers.values_list("from_volume", "rate_bp")) == [(0, 1500), (3_000_000, 1800), (6_000_000, 2000)]
    assert rules["总监剪发 18%"].staff_level.name == "总监"
